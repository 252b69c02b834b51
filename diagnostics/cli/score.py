"""Commands ``score`` (verdict for an answers file) and ``questions`` (list a question bank)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from diagnostics.cli import emit
from diagnostics.errors import DiagnosticsError
from diagnostics.questionnaire import load_bank, parse_answers_file, score_answers

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``score`` and ``questions`` commands to the python -m diagnostics parser."""
    score = sub.add_parser(
        "score",
        help="verdict (likely / at risk / unlikely) for a make-your-number answers file",
        description=(
            "Score an answers file {\"role\": ..., \"answers\": {id: 1..5 or null}, "
            "\"numbers\": {...}} and print the verdict, score, dimensions, constraint and actions."
        ),
    )
    score.add_argument("answers", type=Path, help="answers JSON file")
    score.add_argument("--bank", type=Path, help="own question bank (TOML); built-in when absent")
    score.add_argument("--json", action="store_true", help="print one line of JSON")
    score.set_defaults(func=run_score)

    questions = sub.add_parser(
        "questions",
        help="list the statements of a question bank (to write an answers file by hand)",
    )
    questions.add_argument("--bank", type=Path, help="own question bank (TOML)")
    questions.add_argument("--json", action="store_true", help="print one line of JSON")
    questions.set_defaults(func=run_questions)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DiagnosticsError(f"{path.name} is not valid JSON: {exc}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticsError(f"Cannot read {path}: {exc}.") from exc


def run_score(args: argparse.Namespace) -> int:
    """Print the score result for an answers file; return 0."""
    bank = load_bank(args.bank)
    answers = parse_answers_file(_read_json(args.answers), bank)
    result = score_answers(bank, answers.answers, answers.numbers, role=answers.role)
    emit(result.to_dict(), args.json)
    return 0


def run_questions(args: argparse.Namespace) -> int:
    """Print every question of the bank (id, dimension, statement, levels); return 0."""
    bank = load_bank(args.bank)
    payload = {
        "title": bank.title,
        "dimensions": [
            {"id": d.id, "name": d.name, "weight": d.weight} for d in bank.dimensions
        ],
        "roles": [{"id": r.id, "label": r.label} for r in bank.roles],
        "questions": [
            {
                "id": q.id,
                "dimension": q.dimension,
                "statement": q.statement,
                "levels": list(q.levels),
            }
            for q in bank.questions
        ],
    }
    emit(payload, args.json)
    return 0
