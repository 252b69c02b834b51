"""Command ``forecast``: expected bookings of a period, its range, the odds of the target, backtest.

Example::

    python -m diagnostics forecast sample_data/opportunities.csv sample_data/stage_history.csv \\
        --target 4000000 --period-start 2026-07-01 --period-end 2026-09-30 --json
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from diagnostics.cli import add_currency_argument, add_pipeline_argument, emit
from diagnostics.forecast import forecast_bookings, load_deals, run_backtest

__all__ = ["register", "run"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _amount(text: str) -> float:
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from exc


def register(sub: Any) -> None:
    """Add the ``forecast`` command to the python -m diagnostics parser."""
    cmd = sub.add_parser(
        "forecast",
        help="expected bookings of a period, its range and the odds of the target",
        description="Forecast a period's bookings from the deals' own history, with a backtest.",
    )
    cmd.add_argument("files", nargs="+", metavar="FILE",
                     help="deals export, and optionally a stage history (CSV, XLSX, Parquet)")
    cmd.add_argument("--target", type=_amount, required=True, metavar="AMOUNT")
    cmd.add_argument("--period-start", type=_date, required=True, metavar="DATE")
    cmd.add_argument("--period-end", type=_date, required=True, metavar="DATE")
    cmd.add_argument("--as-of", type=_date, metavar="DATE",
                     help="forecast as of this date (default: the data's latest date)")
    cmd.add_argument("--mapping", metavar="MAPPING.json", help="saved column and stage mapping")
    add_pipeline_argument(cmd)
    add_currency_argument(cmd)
    cmd.add_argument("--json", action="store_true", help="print one line of JSON")
    cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the forecast and its backtest; exit 2 (DiagnosticsError) when it cannot be made."""
    from diagnostics.mapping import read_mapping
    from diagnostics.uploads import load_dataset_from_paths

    mapping = read_mapping(Path(args.mapping)) if args.mapping else None
    dataset = load_dataset_from_paths([Path(f) for f in args.files], mapping, args.pipeline_name,
                                      args.currency)
    deals = load_deals(dataset)
    result = forecast_bookings(dataset, args.target, args.period_start, args.period_end,
                               args.as_of, deals=deals)
    emit({**result.to_json(run_backtest(deals, result.as_of)), "data_notes": list(dataset.notes)},
         args.json)
    return 0
