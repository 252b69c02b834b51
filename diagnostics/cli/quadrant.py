"""Command ``quadrant``: every rep's engagement, close ratio, interval and quadrant.

Examples::

    python -m diagnostics quadrant sample_data/opportunities.csv \\
        --activities sample_data/activities.csv --json
    python -m diagnostics quadrant deals.csv --from 2026-01-01 --to 2026-03-31 \\
        --engagement opportunities --min-deals 8 --close-target 0.25 --json
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from diagnostics.cli import add_currency_argument, add_pipeline_argument, emit
from diagnostics.dataset import Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.quadrant import ENGAGEMENTS, classify_reps

__all__ = ["register", "run_quadrant"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _ratio(text: str) -> float:
    """Accept 0.25 or 25%."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a ratio: {text!r}") from exc


def register(sub: Any) -> None:
    """Add the ``quadrant`` command to the python -m diagnostics parser."""
    cmd = sub.add_parser(
        "quadrant",
        help="rep quadrant: engagement × close ratio, with intervals and actions",
        description=(
            "Place every rep by engagement and close ratio (won ÷ closed in the period). Split "
            "lines sit at the team median engagement and the team's close ratio unless targets "
            "are given; reps with fewer closed deals than --min-deals are reported as "
            "not_enough_data. needs_coaching and performance_plan need the whole interval of "
            "the close ratio below its line, at 95%% confidence for the team as a whole (with k "
            "reps compared each interval is at 0.95^(1/k)); below the line (or with low "
            "engagement) an interval that reaches the line is too_close (watch, no plan yet). "
            "The JSON's rule says the line, the confidence and the reps compared."
        ),
    )
    cmd.add_argument("file", metavar="FILE", help="opportunities export (CSV, XLSX or Parquet)")
    cmd.add_argument("--activities", metavar="FILE", help="activities export")
    cmd.add_argument("--mapping", metavar="MAPPING.json", help="saved column and stage mapping")
    add_pipeline_argument(cmd)
    add_currency_argument(cmd)
    cmd.add_argument("--from", dest="start", type=_date, metavar="DATE", help="first day")
    cmd.add_argument("--to", dest="end", type=_date, metavar="DATE", help="last day")
    cmd.add_argument("--min-deals", type=int, default=5, metavar="N",
                     help="closed deals a rep needs to be placed (default 5)")
    cmd.add_argument("--engagement", choices=ENGAGEMENTS,
                     help="activities or meetings per working day, or opportunities worked per "
                          "week (default: activities when an activity file is given)")
    cmd.add_argument("--engagement-target", type=float, metavar="X",
                     help="engagement split line instead of the team median")
    cmd.add_argument("--close-target", type=_ratio, metavar="Y",
                     help="close-ratio split line instead of the team's close ratio (0.25 or 25%%)")
    for name in ("segment", "product", "region", "team"):
        cmd.add_argument(f"--{name}", action="append", default=[], metavar="VALUE",
                         help=f"keep only this {name} (repeat for several)")
    cmd.add_argument("--json", action="store_true", help="print one line of JSON")
    cmd.set_defaults(func=run_quadrant)


def run_quadrant(args: argparse.Namespace) -> int:
    """Print the thresholds and one row per rep; return the exit code."""
    from diagnostics.mapping import read_mapping
    from diagnostics.uploads import load_dataset_from_paths

    if args.start and args.end and args.end < args.start:
        raise DiagnosticsError("--to is before --from.", "Swap the two dates.")
    mapping = read_mapping(Path(args.mapping)) if args.mapping else None
    paths = [Path(args.file), *([Path(args.activities)] if args.activities else [])]
    dataset = load_dataset_from_paths(paths, mapping, args.pipeline_name, args.currency)
    if args.activities and not dataset.has_activities:
        raise DiagnosticsError(
            f"No activity was read from {args.activities}.",
            "Check that it has a rep and a date column (or pass a --mapping).",
        )
    filters = Filters(
        start=args.start, end=args.end, segment=tuple(args.segment),
        product=tuple(args.product), region=tuple(args.region), team=tuple(args.team),
    )
    result = classify_reps(
        dataset, filters, min_deals=args.min_deals, engagement=args.engagement,
        engagement_target=args.engagement_target, close_target=args.close_target,
    )
    emit({**result.to_dict(), "data_notes": list(dataset.notes)}, args.json)
    return 0
