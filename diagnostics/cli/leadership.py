"""Command-line entry for the leadership-model selector (registered by diagnostics.cli).

``python -m diagnostics leadership ANSWERS.json --json`` prints the fit of each model;
``python -m diagnostics leadership --questions --json`` prints the questions and their options.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from diagnostics.cli import emit
from diagnostics.errors import DiagnosticsError
from diagnostics.leadership import parse_answers, questions_payload, recommend_model


def register(sub: Any) -> None:
    """Add the ``leadership`` command to the python -m diagnostics parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "leadership",
        help="fit of the Tsar, Federation and Chief of Staff leadership models to your answers",
        description=(
            "Score an answers file ({\"answers\": {question_id: option_id}}; unanswered "
            "questions count as neutral) or list the questions with --questions."
        ),
    )
    parser.add_argument("answers", nargs="?", type=Path, help="answers file (JSON)")
    parser.add_argument(
        "--questions", action="store_true", help="print the questions and their options"
    )
    parser.add_argument("--json", action="store_true", help="print compact JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the questions or the fit for an answers file; return the exit code."""
    if args.questions:
        emit(questions_payload(), args.json)
        return 0
    if args.answers is None:
        raise DiagnosticsError(
            "Give an answers file, or --questions to list the questions.",
            "Example: python -m diagnostics leadership answers.json --json",
        )
    path: Path = args.answers
    data = json.loads(path.read_text(encoding="utf-8"))
    emit(recommend_model(parse_answers(data)).to_dict(), args.json)
    return 0
