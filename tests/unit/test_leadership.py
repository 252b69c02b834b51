"""Leadership-model selector: content validation, archetypes, fits, drivers, flips, CLI."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.cli import leadership as cli
from diagnostics.errors import DiagnosticsError
from diagnostics.leadership import (
    CONTENT_PATH,
    MODELS,
    describe_flip,
    leadership_report_section,
    load_content,
    load_profiles,
    load_questions,
    model_fits,
    myn_structure_notes,
    parse_answers,
    questions_payload,
    recommend_model,
    structure_notes,
)

CONTENT = load_content()
QUESTIONS = load_questions()
SCALE = 16  # the largest absolute raw score of any model with the built-in weights

# Archetypes: answers, expected recommendation, hand-summed raw scores (tsar, federation, CoS).
ARCHETYPES = [
    pytest.param(
        {
            "growth_pressure": "intense",
            "leader_trust": "low",
            "change_tolerance": "high",
            "broad_leader": "yes",
        },
        "tsar",
        (9, -5, 2),
        id="pressure+low-trust+tolerance+broad-leader->tsar",
    ),
    pytest.param(
        {"leader_trust": "strong", "change_tolerance": "little"},
        "federation",
        (-3, 5, -1),
        id="trusted-peers+low-tolerance->federation",
    ),
    pytest.param(
        {"main_pain": "operations", "leader_trust": "workable"},
        "chief_of_staff",
        (0, -1, 4),
        id="fragmented-ops+moderate-trust->chief-of-staff",
    ),
    pytest.param(
        {
            "growth_pressure": "intense",
            "leader_trust": "low",
            "change_tolerance": "high",
            "broad_leader": "yes",
            "complexity": "moderate",
            "main_pain": "strategy",
            "consensus_time": "little",
            "ops_standing": "service",
            "company_stage": "turnaround",
            "forums": "weak",
        },
        "tsar",
        (16, -7, 0),
        id="full-tsar",
    ),
    pytest.param(
        {
            "growth_pressure": "steady",
            "leader_trust": "strong",
            "change_tolerance": "little",
            "broad_leader": "partly",
            "complexity": "simple",
            "main_pain": "handoffs",
            "consensus_time": "ample",
            "ops_standing": "growing",
            "company_stage": "established",
            "forums": "working",
        },
        "federation",
        (-3, 12, -1),
        id="full-federation",
    ),
    pytest.param(
        {
            "growth_pressure": "high",
            "leader_trust": "workable",
            "change_tolerance": "some",
            "broad_leader": "no",
            "complexity": "high",
            "main_pain": "operations",
            "consensus_time": "some",
            "ops_standing": "strong",
            "company_stage": "scaling",
            "forums": "none",
        },
        "chief_of_staff",
        (-3, 0, 16),
        id="full-chief-of-staff",
    ),
]


def _fit(raw: int) -> float:
    return 50 + 50 * raw / SCALE


# Content ---------------------------------------------------------------------------------------


def test_content_has_baseline_three_models_and_8_to_12_questions() -> None:
    assert [p.id for p in load_profiles()] == ["functional", "tsar", "federation", "chief_of_staff"]
    assert 8 <= len(QUESTIONS) <= 12
    assert CONTENT.scale() == SCALE
    for profile in load_profiles()[1:]:
        assert profile.examples, f"{profile.id} has no company example"
        assert profile.risks and profile.guardrails


@pytest.mark.parametrize(
    ("question", "option"),
    [pytest.param(q.id, o.id, id=f"{q.id}={o.id}") for q in QUESTIONS for o in q.options],
)
def test_every_option_affects_at_least_one_model(question: str, option: str) -> None:
    neutral = recommend_model({}).fit
    fit = recommend_model({question: option}).fit
    assert any(fit[m] != neutral[m] for m in MODELS)


def test_every_model_can_be_recommended_and_pushed_up_and_down() -> None:
    for model in MODELS:
        effects = [o.effects.of(model) for q in QUESTIONS for o in q.options]
        assert max(effects) > 0 and min(effects) < 0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leadership.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("tie_break = [", 'colour = "red"\ntie_break = [', "colour: Extra inputs are not"),
        (
            "effects = { federation = 1 }\n",
            "effects = { federation = 0 }\n",
            "does not affect any model",
        ),
        ("effects = { tsar = 3 }", "effects = { tsar = 4 }", "less than or equal to 3"),
        ("effects = { tsar = 3 }", "effects = { tsr = 3 }", "tsr: Extra inputs"),
        ('id = "forums"', 'id = "growth_pressure"', "question ids must be unique"),
        ('"federation", "chief_of_staff", "tsar"]', '"federation", "tsar"]', "tie_break"),
    ],
)
def test_invalid_content_is_rejected_with_a_clear_message(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = CONTENT_PATH.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(DiagnosticsError, match=message):
        load_content(_write(tmp_path, text.replace(old, new, 1)))


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticsError, match="not valid TOML"):
        load_content(_write(tmp_path, "questions = [\n"))


# Scoring ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "expected", "raw"), ARCHETYPES)
def test_archetypes(answers: dict[str, str], expected: str, raw: tuple[int, int, int]) -> None:
    result = recommend_model(answers)
    assert result.recommended == expected
    for model, value in zip(MODELS, raw, strict=True):
        assert result.fit[model] == pytest.approx(_fit(value), abs=0.051)
    assert result.answered == len(answers) and result.total == len(QUESTIONS)


def test_no_answers_is_neutral_and_prefers_the_least_disruptive_model() -> None:
    result = recommend_model({})
    assert result.fit == dict.fromkeys(MODELS, 50.0)
    assert result.recommended == "federation"
    assert result.is_close_call and result.margin == 0
    assert all(not d for d in result.drivers.values())


def test_drivers_list_the_answers_that_moved_each_model_largest_first() -> None:
    result = recommend_model(ARCHETYPES[0].values[0])
    tsar = [(d.question, d.answer, d.effect) for d in result.drivers["tsar"]]
    assert tsar[0] == ("broad_leader", "yes", 3)
    assert sorted(e for _, _, e in tsar) == [2, 2, 2, 3]
    federation = {d.question: d.effect for d in result.drivers["federation"]}
    assert federation == {"leader_trust": -3, "growth_pressure": -1, "change_tolerance": -1}
    # broad_leader=yes does not move the Chief of Staff, so it is not one of its drivers
    assert "broad_leader" not in {d.question for d in result.drivers["chief_of_staff"]}


def test_close_call_and_runner_up() -> None:
    result = recommend_model({"leader_trust": "workable"})  # CoS +1, others 0
    assert result.recommended == "chief_of_staff"
    assert result.runner_up == "federation"  # tied with the Tsar; the tie goes to less disruption
    assert result.margin == pytest.approx(3.1, abs=0.051)
    assert result.is_close_call


_answers = st.fixed_dictionaries(
    {},
    optional={q.id: st.sampled_from([o.id for o in q.options]) for q in QUESTIONS},
)


@settings(max_examples=150, deadline=None)
@given(_answers)
def test_fits_stay_in_range_and_agree_with_drivers(answers: dict[str, str]) -> None:
    result = recommend_model(answers)
    for model in MODELS:
        assert 0.0 <= result.fit[model] <= 100.0
        raw = sum(d.effect for d in result.drivers[model])
        assert result.fit[model] == pytest.approx(_fit(raw), abs=0.051)
    assert result.fit[result.recommended] == max(result.fit.values())
    assert model_fits(answers) == result.fit


@settings(max_examples=80, deadline=None)
@given(_answers)
def test_the_flip_really_flips_and_no_smaller_change_does(answers: dict[str, str]) -> None:
    result = recommend_model(answers)
    assert result.flip is not None
    flipped = recommend_model({**answers, **result.flip.answers})
    assert flipped.recommended == result.flip.recommended != result.recommended
    for model, flip in result.flips.items():
        if flip is not None:
            assert recommend_model({**answers, **flip.answers}).recommended == model
    if len(result.flip.answers) > 1:  # then no single answer change may flip it
        for q in QUESTIONS:
            for o in q.options:
                assert recommend_model({**answers, q.id: o.id}).recommended == result.recommended


def test_flip_of_the_tsar_archetype_is_hand_checked() -> None:
    # Without the broad leader (tsar 9-6=3, federation -5+1=-4, CoS 2+1=3) the tie goes to CoS.
    flip = recommend_model(ARCHETYPES[0].values[0]).flip
    assert flip is not None and flip.to_dict() == {
        "answers": {"broad_leader": "no"},
        "recommended": "chief_of_staff",
    }
    sentence = describe_flip(flip)
    assert "No such leader today" in sentence and "Chief of Staff" in sentence


# Answers files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object with an \"answers\" key"),
        ({"leader_trust": "low"}, "JSON object with an \"answers\" key"),
        ({"answers": ["low"]}, "must map question ids"),
        ({"answers": {"nope": "low"}}, "Unknown question 'nope'"),
        ({"answers": {"leader_trust": "meh"}}, "Question 'leader_trust' has no option 'meh'"),
        ({"answers": {"leader_trust": 3}}, "has no option 3"),
    ],
)
def test_parse_answers_names_the_problem(data: Any, message: str) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        parse_answers(data)


def test_parse_answers_treats_null_as_unanswered() -> None:
    assert parse_answers({"answers": None}) == {}
    assert parse_answers({"answers": {"leader_trust": None, "forums": "none"}}) == {
        "forums": "none"
    }


def test_recommend_model_rejects_unknown_options() -> None:
    with pytest.raises(DiagnosticsError, match="Choose one of: strong, workable, low"):
        recommend_model({"leader_trust": "fine"})


# Make-your-number dimensions and the report ----------------------------------------------------


@dataclass(frozen=True)
class _Dim:
    id: str
    name: str
    score: float | None


def test_structure_notes_pick_the_weakest_dimensions_below_the_weak_line() -> None:
    dims = [
        _Dim("tools_data", "Tools and data", 20.0),
        _Dim("planning", "Planning", None),
        _Dim("marketing_alignment", "Sales and marketing", 35.0),
        _Dim("funnel", "Funnel", 10.0),
        _Dim("custom", "A consultant's own", 5.0),
        _Dim("leadership", "Leadership", 90.0),
    ]
    notes = structure_notes(dims, count=3)
    assert [n.dimension for n in notes] == ["custom", "funnel", "tools_data"]
    assert notes[0].implication == CONTENT.dimension_notes.default
    assert "Chief of Staff" in notes[2].implication
    assert structure_notes([_Dim("leadership", "Leadership", 75.0)]) == []


def test_myn_notes_come_from_the_real_questionnaire() -> None:
    from diagnostics.questionnaire import load_bank

    bank = load_bank()
    answers = {q.id: (1 if q.dimension == "marketing_alignment" else 5) for q in bank.questions}
    notes = myn_structure_notes(answers)
    assert [n.dimension for n in notes] == ["marketing_alignment"]
    assert "alliance" in notes[0].implication
    assert myn_structure_notes({}) == []


def test_report_section_holds_the_fit_flip_risks_and_caveat() -> None:
    result = recommend_model(ARCHETYPES[1].values[0])
    section = leadership_report_section(result)
    assert section.title == "Leadership model: Federation"
    assert [(b.label, b.highlight) for b in section.bars] == [
        ("Tsar", False),
        ("Federation", True),
        ("Chief of Staff", False),
    ]
    assert section.bars[1].value == pytest.approx(65.6, abs=0.051)
    assert section.paragraphs[-1] == result.caveat
    assert any("trust" in b for b in section.bullets)


# Command line ----------------------------------------------------------------------------------


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_cli_prints_the_questions(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["leadership", "--questions", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload == questions_payload()
    assert [q["id"] for q in payload["questions"]] == [q.id for q in QUESTIONS]
    assert set(payload["questions"][0]) == {"id", "text", "options"}
    assert set(payload["questions"][0]["options"][0]) == {"id", "label"}


def test_cli_scores_an_answers_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": ARCHETYPES[2].values[0]}), encoding="utf-8")
    assert _run(["leadership", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"recommended", "fit", "drivers", "flip", "caveat"}
    assert payload["recommended"] == "chief_of_staff"
    assert payload["fit"] == {"tsar": 50.0, "federation": 46.9, "chief_of_staff": 62.5}
    assert {"question": "main_pain", "answer": "operations", "effect": 3} in payload["drivers"][
        "chief_of_staff"
    ]
    assert set(payload["flip"]) == {"answers", "recommended"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"answers": {"x": "y"}}', "Unknown question 'x'"),
        ('{"questions": {}}', "\"answers\" key"),
    ],
)
def test_cli_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DiagnosticsError, match=message):
        _run(["leadership", str(path)])


def test_cli_needs_a_file_or_questions() -> None:
    with pytest.raises(DiagnosticsError, match="Give an answers file"):
        _run(["leadership"])


def test_the_real_entry_point_exits_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from diagnostics.cli import main

    path = tmp_path / "answers.json"
    path.write_text('{"answers": {"leader_trust": "meh"}}', encoding="utf-8")
    assert main(["leadership", str(path), "--json"]) == 2
    assert "error: Question 'leader_trust' has no option 'meh'." in capsys.readouterr().err
    path.write_text('{"answers": {"leader_trust": "low"}}', encoding="utf-8")
    assert main(["leadership", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recommended"] == "tsar"


def test_disruption_follows_the_chapter() -> None:
    """The chapter: the Federation is the least disruptive, the Chief of Staff the most visible."""
    profiles = {p.id: p for p in load_profiles()}
    levels = {m: profiles[m].disruption_level for m in ("tsar", "federation", "chief_of_staff")}
    assert levels["federation"] < min(levels["tsar"], levels["chief_of_staff"])
    assert levels["chief_of_staff"] >= levels["tsar"]
    assert "most visible" in profiles["chief_of_staff"].disruption
    assert "app's own reading" in profiles["chief_of_staff"].disruption


def test_complexity_does_not_count_against_the_federation() -> None:
    """The chapter's Federation examples are large firms serving many markets."""
    high = recommend_model({"complexity": "high"})
    simple = recommend_model({"complexity": "simple"})
    assert high.fit["federation"] > simple.fit["federation"]
