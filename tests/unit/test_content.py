"""Every content file under diagnostics/content loads through its loader and is consistent."""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from pathlib import Path

import pytest

from diagnostics.questionnaire import load_bank, score_answers

CONTENT = Path(__file__).resolve().parents[2] / "diagnostics" / "content"


def test_every_content_file_is_valid_toml() -> None:
    files = sorted(CONTENT.glob("*.toml"))
    assert any(f.name == "questions.toml" for f in files)
    for path in files:
        tomllib.loads(path.read_text(encoding="utf-8"))


# Every content file and the loader that validates it; a new file must be added here.
LOADERS = {
    "fields.toml": ("diagnostics.mapping", "field_specs"),
    "leadership.toml": ("diagnostics.leadership", "load_content"),
    "quadrant.toml": ("diagnostics.quadrant", "load_content"),
    "questions.toml": ("diagnostics.questionnaire", "load_bank"),
    "roles.toml": ("diagnostics.roles", "load_roles"),
}


def test_every_content_file_has_a_loader() -> None:
    assert sorted(p.name for p in CONTENT.glob("*.toml")) == sorted(LOADERS)


@pytest.mark.parametrize(("file", "module", "loader"), [(f, *ml) for f, ml in LOADERS.items()])
def test_loaders_of_content_files(file: str, module: str, loader: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, loader), f"{module} has no {loader}() for {file}"
    loaded = getattr(mod, loader)()
    # What comes back holds the file's content: a model, a dataclass or a mapping, not empty.
    if hasattr(loaded, "model_dump"):
        fields = loaded.model_dump()
    elif dataclasses.is_dataclass(loaded):
        fields = dataclasses.asdict(loaded)
    else:
        fields = dict(loaded)
    assert fields and all(value not in (None, (), [], {}, "") for value in fields.values()), file


def test_question_bank_is_complete() -> None:
    bank = load_bank()
    dims = {d.id for d in bank.dimensions}
    for q in bank.questions:
        assert q.dimension in dims
        assert len(q.levels) == 5 and all(level.strip() for level in q.levels)
        assert q.why.strip() and q.action.strip() and q.weight > 0
    assert all(d.weight > 0 for d in bank.dimensions)
    assert len({level for q in bank.questions for level in q.levels}) == 5 * len(bank.questions)


def test_every_question_affects_the_score() -> None:
    bank = load_bank()
    base = {q.id: 3 for q in bank.questions}
    neutral = score_answers(bank, base).score
    for q in bank.questions:
        assert score_answers(bank, {**base, q.id: 5}).score > neutral, q.id
        assert score_answers(bank, {**base, q.id: 1}).score < neutral, q.id


def test_every_band_and_verdict_is_reachable() -> None:
    bank = load_bank()
    seen_bands, seen_verdicts = set(), set()
    for value in (1, 2, 3, 4, 5):
        result = score_answers(bank, {q.id: value for q in bank.questions})
        seen_bands.add(result.band)
        seen_verdicts.add(result.verdict)
    assert seen_bands == {b.id for b in bank.bands}
    assert seen_verdicts == {"likely", "at_risk", "unlikely"}


def _content_texts() -> list[str]:
    """Return every statement, level, why and action of the bank and the planner's help texts."""
    from diagnostics import planner

    bank = load_bank()
    texts = [t for q in bank.questions for t in (q.statement, *q.levels, q.why, q.action)]
    source = Path(planner.__file__).read_text(encoding="utf-8")
    return texts + [source]


@pytest.mark.parametrize("norm", ["meeting a day", "meeting per rep per", "meetings held"])
def test_startup_norms_are_labelled_where_they_appear(norm: str) -> None:
    """The one-meeting-a-day standard and pay on activities are norms for startup sales teams."""
    bank = load_bank()
    for q in bank.questions:
        text = " ".join((q.statement, q.why, q.action))
        if norm in text and ("one" in text or "pay" in text):
            assert "startup" in text, q.id
    assert "norm for startup sales teams" in _content_texts()[-1]


def test_seed_ideas_have_statements() -> None:
    bank = load_bank()
    ids = {q.id for q in bank.questions}
    # The sales leader's instinct against sales ops' analysis; how the head of sales splits time;
    # where a good sales-ops leader comes from; explaining process changes to calm the team.
    assert {"ops_instinct_data", "tal_leader_time", "ops_leader_background",
            "rep_change_explained"} <= ids
    assert "startup" in bank.question("rep_pay_control").why
