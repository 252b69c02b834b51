"""``inspect``: how a CRM export is read (kind, mapping, stages, rejected rows, problems)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from diagnostics.cli import add_currency_argument, add_pipeline_argument, emit
from diagnostics.errors import DiagnosticsError


def register(sub: Any) -> None:
    """Add the ``inspect`` command."""
    parser = sub.add_parser("inspect", help="show how a CRM export is read and what is wrong")
    parser.add_argument("file", type=Path, help="CSV, TSV, .xlsx or Parquet export")
    parser.add_argument("--mapping", type=Path, help="saved mapping JSON to apply")
    add_pipeline_argument(parser)
    add_currency_argument(parser)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(func=run)


def inspect_file(
    path: Path, mapping: Path | None = None, pipeline: str | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """Return the inspection report of one file; raise DiagnosticsError when it is unusable.

    ``amounts`` says, per amount column, the currencies and number formats found (counted),
    the currency kept and the amounts left out for being in another one.
    """
    from diagnostics.mapping import read_mapping
    from diagnostics.uploads import UploadWorkspace, currency_not_found

    saved = read_mapping(mapping) if mapping else None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DiagnosticsError(f"Cannot read {path}: {exc.strerror}.") from exc
    # As the Data page reads it.
    uploads = UploadWorkspace.read([(path.name, data)], saved, pipeline=pipeline,
                                   currency=currency)
    result = uploads.rebuild()
    state = uploads.files[path.name]
    if state.problem is not None or state.loaded is None or state.mapping is None:
        raise state.problem or DiagnosticsError(f"{path.name} cannot be read.")
    if currency is not None and (absent := currency_not_found([state])) is not None:
        if result is not None:
            result.dataset.con.close()
        raise absent
    loaded, table_mapping, kind = state.loaded, state.mapping, state.mapping.kind
    stages: list[str] = []
    won: list[str] = []
    lost: list[str] = []
    data_notes: list[str] = []
    pipelines = None
    if result is not None:
        data_notes, pipelines = list(result.dataset.notes), result.pipelines
        config = result.stages
        stages, won, lost = list(config.funnel), list(config.won), list(config.lost)
        result.dataset.con.close()
    elif kind == "stage_history":
        stages = sorted({s for s in loaded.table.column("stage").to_pylist() if s})
    report = loaded.report
    return {
        "file": path.name,
        "kind": kind,
        "rows": report.rows_kept,
        "rows_read": report.rows_read,
        "rejected": report.rows_rejected,
        "rejected_examples": [{"line": r.line, "reason": r.reason} for r in report.rejected],
        "mapping": dict(table_mapping.columns),
        "stages": stages,
        "won_stages": won,
        "lost_stages": lost,
        "date_format": dict(table_mapping.date_orders),
        "encoding": loaded.raw.encoding,
        "notes": list(report.notes) + data_notes,
        "pipelines": pipelines.to_dict() if pipelines is not None else None,
        "amounts": [amounts.to_dict() for amounts in report.amounts],
        "product_lines": (report.product_lines.to_dict()
                          if report.product_lines is not None else None),
        "problems": report.problems() + [
            f"Dates in “{table_mapping.columns[f]}” fit both month/day and day/month orders."
            for f in loaded.ambiguous_dates
        ],
    }


def run(args: argparse.Namespace) -> int:
    """Print the inspection report; exit 2 (via DiagnosticsError) when the file is unusable."""
    emit(inspect_file(args.file, args.mapping, args.pipeline_name, args.currency), args.json)
    return 0
