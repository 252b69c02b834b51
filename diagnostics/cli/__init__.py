"""Headless interface: ``python -m diagnostics COMMAND ...`` (every analysis, with ``--json``).

Each command lives in its own module with a ``register(subparsers)`` function; the UI and these
commands call the same diagnostics functions. Problems the user can fix exit with code 2 and a
plain message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from diagnostics.errors import DiagnosticsError

__all__ = ["add_currency_argument", "add_pipeline_argument", "currency_code", "emit", "finite",
           "main"]


def add_pipeline_argument(cmd: argparse.ArgumentParser) -> None:
    """Add ``--pipeline-name``: which pipeline to read when the deals span several."""
    cmd.add_argument(
        "--pipeline-name", dest="pipeline_name", metavar="NAME",
        help="when the deals belong to several pipelines (each with its own stages), read this "
             "one; default: the one with most deals (the others are left out and counted)")


def finite(value: Any) -> Any:
    """Return ``value`` with every NaN or infinite number replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def currency_code(text: str) -> str:
    """Return a currency as given on the command line: a code (EUR), a sign (€), or "none"
    for the amounts without a currency mark."""
    from diagnostics.ingest import CURRENCIES

    cleaned = text.strip()
    if cleaned.lower() == "none":
        return ""
    return CURRENCIES.get(cleaned.upper(), cleaned.upper())


def add_currency_argument(cmd: argparse.ArgumentParser) -> None:
    """Add ``--currency``: the amounts kept when an amount column holds several currencies."""
    cmd.add_argument(
        "--currency", type=currency_code, metavar="CODE",
        help="when an amount column mixes currencies, keep this one (EUR, USD, €, or 'none' "
             "for amounts without a mark); the others count as deals without an amount. "
             "Default: the most common")


def emit(payload: Any, as_json: bool) -> None:
    """Print ``payload`` as JSON (machine) or as indented JSON-ish text (person).

    The output is strict JSON: a rate with nothing to divide by is null, never NaN or Infinity.
    """
    text = json.dumps(finite(payload), default=str, ensure_ascii=False, allow_nan=False,
                      indent=None if as_json else 2)
    print(text)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every command registered."""
    from diagnostics.cli import (
        forecast,
        funnel,
        inspect_file,
        leadership,
        quadrant,
        score,
        workshop,
    )

    parser = argparse.ArgumentParser(
        prog="python -m diagnostics",
        description="Make Your Number: revenue-growth diagnostics from the command line.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (inspect_file, funnel, quadrant, score, leadership, workshop, forecast):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code (0 ok, 2 unusable input)."""
    from diagnostics.memory import use_system_allocator

    use_system_allocator()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except DiagnosticsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code
