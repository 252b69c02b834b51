"""Command-line entry for workshops (registered by diagnostics.cli).

``python -m diagnostics workshop create --client NAME --title TITLE --json`` prints code and key;
``workshop import CODE --key KEY RESPONSES.csv`` adds one participant per valid row;
``workshop export CODE --key KEY [--format csv|json|xlsx] [--output FILE]`` writes every response;
``workshop summary CODE --key KEY --json`` prints the facilitator summary;
``workshop count CODE --key KEY N [--out]`` leaves participant N out of the results (or counts
them again).

The commands use the store the app uses (``$MYN_WORKSHOP_DB``: a ``postgresql://`` URL or a file,
default ``./data/workshops.duckdb``). With PostgreSQL they work while the app runs; DuckDB lets one
process open a file at a time, so with a file run them while the app is stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics import workshop as ws
from diagnostics.cli import emit, finite
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes, to_excel_bytes
from diagnostics.workshop_store import WorkshopStore, open_store


def register(sub: Any) -> None:
    """Add the ``workshop`` command and its subcommands to the python -m diagnostics parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "workshop",
        help="run a workshop headless: create, import responses, export, summary",
        description=(
            "Workshops live in the store named by MYN_WORKSHOP_DB, shared with the app: a "
            "postgresql:// URL (usable while the app runs) or a DuckDB file (default "
            "./data/workshops.duckdb; stop the app first)."
        ),
    )
    commands = parser.add_subparsers(dest="workshop_command", required=True, metavar="ACTION")

    create = commands.add_parser("create", help="create a workshop; prints its code and key")
    create.add_argument("--client", required=True, help="client name")
    create.add_argument("--title", required=True, help="workshop title")
    create.add_argument(
        "--instruments",
        default=",".join(ws.INSTRUMENTS),
        help=f"comma-separated, from: {', '.join(ws.INSTRUMENTS)} (default: both)",
    )
    create.add_argument("--json", action="store_true", help="print compact JSON")
    create.set_defaults(func=run_create)

    def with_key(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> Any:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("code", help="workshop code (dashes and case do not matter)")
        command.add_argument("--key", required=True, help="the facilitator key")
        command.set_defaults(func=func)
        return command

    imp = with_key("import", "add responses collected elsewhere (CSV)", run_import)
    imp.add_argument("responses", type=Path,
                     help="CSV: name, role, then one column per question id")
    imp.add_argument("--json", action="store_true", help="print compact JSON")

    exp = with_key("export", "write every response (formulas neutralised)", run_export)
    exp.add_argument("--format", choices=("csv", "json", "xlsx"), default="csv")
    exp.add_argument("--output", type=Path, help="file to write (default: standard output)")

    summary = with_key("summary", "print the facilitator summary", run_summary)
    summary.add_argument("--json", action="store_true", help="print compact JSON")

    count = with_key("count", "leave a participant out of the results, or count them again",
                     run_count)
    count.add_argument("participant", type=int,
                       help="the participant's number in joining order (Participant N)")
    count.add_argument("--out", action="store_true",
                       help="leave them out (a second device, a test join); without it: count")
    count.add_argument("--json", action="store_true", help="print compact JSON")


def _store() -> WorkshopStore:
    return open_store()


def run_create(args: argparse.Namespace) -> int:
    """Create a workshop and print ``{code, key, participant_path, facilitator_path}``."""
    instruments = [i.strip() for i in str(args.instruments).split(",") if i.strip()]
    store = _store()
    try:
        created = ws.create_workshop(store, args.client, args.title, instruments)
    finally:
        store.close()
    emit(
        {
            "code": created.code,
            "key": created.key,
            "participant_path": ws.participant_path(created.code),
            "facilitator_path": ws.facilitator_path(created.code, created.key),
        },
        args.json,
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import a responses CSV; print the report; exit 2 when no row could be used."""
    content = ws.load_content()
    store = _store()
    try:
        report = ws.import_responses(store, content, args.code, args.key, Path(args.responses))
    finally:
        store.close()
    emit(report.to_json(), args.json)
    return 0 if report.imported or not report.rejected else 2


def run_export(args: argparse.Namespace) -> int:
    """Write every response as CSV, JSON or Excel (to a file or standard output)."""
    content = ws.load_content()
    store = _store()
    try:
        if args.format == "json":
            records = ws.export_records(store, content, args.code, args.key)
            data = None
        else:
            frame = ws.export_frame(store, content, args.code, args.key)
            data = to_csv_bytes(frame) if args.format == "csv" else to_excel_bytes(
                frame, "Responses"
            )
    finally:
        store.close()
    if data is None:
        if args.output:
            args.output.write_text(json.dumps(finite(records), ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
        else:
            emit(records, False)
        return 0
    if args.output:
        args.output.write_bytes(data)
    elif args.format == "xlsx":
        raise DiagnosticsError("Excel output needs a file.", "Add --output responses.xlsx.")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def run_summary(args: argparse.Namespace) -> int:
    """Print the facilitator summary (responses, by_role, verdict, dimensions, widest_gaps)."""
    content = ws.load_content()
    store = _store()
    try:
        summary = ws.summarise(store, content, args.code, args.key)
    finally:
        store.close()
    emit(summary.to_json(), args.json)
    return 0


def run_count(args: argparse.Namespace) -> int:
    """Count participant N in the results again, or leave them out (``--out``)."""
    store = _store()
    try:
        label = ws.set_counted(store, args.code, args.key, args.participant, not args.out)
    finally:
        store.close()
    emit({"participant": label, "counted": not args.out}, args.json)
    return 0
