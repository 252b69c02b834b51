"""The ``score`` and ``questions`` commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from diagnostics.cli import score as score_cli
from diagnostics.errors import DiagnosticsError
from diagnostics.questionnaire import load_bank


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    score_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_score_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = load_bank()
    data = {
        "role": "cro",
        "answers": {q.id: 5 for q in bank.questions},
        "numbers": {"target": 1000, "closed_so_far": 0, "open_pipeline": 1000, "win_rate": 0.2},
    }
    assert _run(["score", str(_write(tmp_path, data)), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "unlikely" and out["decided_by"] == "coverage"
    assert out["score"] == 100.0 and out["band"] == "strong"
    assert len(out["dimensions"]) == 8
    assert set(out["dimensions"][0]) >= {"id", "name", "score", "answered", "weight"}
    assert out["binding_constraint"] is None and out["unanswered"] == []
    # Every statement is at 5: the only action is the coverage gap, with the figure it needs
    # (5,000 of pipeline at a 20% win rate to expect the 1,000 left: 4,000 more).
    assert [a["source"] for a in out["actions"]] == ["coverage"]
    assert out["actions"][0]["action"].startswith("Add 4,000 of open pipeline")


def test_score_with_own_bank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_questionnaire import TINY

    bank_path = tmp_path / "bank.toml"
    bank_path.write_text(TINY, encoding="utf-8")
    answers = _write(tmp_path, {"answers": {"a1": 1, "a2": 3, "b1": 2}})
    assert _run(["score", str(answers), "--bank", str(bank_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 25.0 and out["verdict"] == "unlikely"
    assert [a["question_id"] for a in out["actions"]] == ["a1", "b1", "a2"]
    assert out["actions"][0]["dimension"] == "a"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"answers": {"nope": 3}}', "Unknown question id 'nope'"),
        ('{"answers": {}}', "No statement is answered"),
    ],
)
def test_score_invalid_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DiagnosticsError, match=message):
        _run(["score", str(path)])


def test_questions_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["questions", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    bank = load_bank()
    assert [q["id"] for q in out["questions"]] == [q.id for q in bank.questions]
    first = out["questions"][0]
    assert set(first) == {"id", "dimension", "statement", "levels"} and len(first["levels"]) == 5


def test_main_exits_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from diagnostics.cli import main

    path = _write(tmp_path, {"answers": {"ops_trust": 9}})
    assert main(["score", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Answer to 'ops_trust' is 9") and "Traceback" not in err


def test_json_output_never_holds_nan_or_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from diagnostics.cli import emit, finite

    assert finite({"a": [float("nan"), 1.5, (float("inf"),)], "b": -float("inf")}) == {
        "a": [None, 1.5, [None]], "b": None}
    emit({"rate": float("inf"), "n": 2}, as_json=True)
    assert json.loads(capsys.readouterr().out) == {"rate": None, "n": 2}
