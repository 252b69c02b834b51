"""Commands ``funnel`` (funnel, headlines, biggest breakage) and ``plan`` (the reverse funnel).

Examples::

    python -m diagnostics funnel sample_data/hubspot_deals.csv \\
        --from 2026-04-01 --to 2026-06-30 --json
    python -m diagnostics plan --target 140000 --deal-size 10000 \\
        --stages "Calls,First meeting,Meeting,Proposal,Won" --rates 0.10,0.35,0.50,0.40 --json
    python -m diagnostics plan --target 2000000 --from-file sample_data/opportunities.csv \\
        --reps 40 --working-days 63
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from diagnostics.breakage import Reference, find_breakages
from diagnostics.cli import add_currency_argument, add_pipeline_argument, emit
from diagnostics.dataset import Dataset, Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.funnel import (
    RULES,
    counting_caveat,
    funnel_with_metrics,
    provisional_note,
    small_sample_note,
    thin_steps_note,
)
from diagnostics.planner import aged_pipeline_warning, plan_inputs_from_data, plan_reverse_funnel

__all__ = ["register"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _rates(text: str) -> list[float]:
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            out.append(float(part[:-1]) / 100 if part.endswith("%") else float(part))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a rate: {part!r}") from exc
    return out


def _stages(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if len(names) < 2:
        raise argparse.ArgumentTypeError("give at least two stages, separated by commas")
    return names


def _add_data_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--mapping", metavar="MAPPING.json", help="saved column and stage mapping")
    add_pipeline_argument(cmd)
    add_currency_argument(cmd)
    cmd.add_argument("--from", dest="start", type=_date, metavar="DATE", help="first day")
    cmd.add_argument("--to", dest="end", type=_date, metavar="DATE", help="last day")
    cmd.add_argument(
        "--cohort",
        choices=("created", "closed"),
        default="created",
        help="deals created in the period (default) or won/lost in it",
    )
    for name in ("segment", "product", "region", "team", "rep"):
        cmd.add_argument(
            f"--{name}", action="append", default=[], metavar="VALUE",
            help=f"keep only this {name} (repeat for several)",
        )


def register(sub: Any) -> None:
    """Add the ``funnel`` and ``plan`` commands to the python -m diagnostics parser."""
    funnel = sub.add_parser(
        "funnel",
        help="funnel, headline metrics and the biggest breakage of a CRM export",
        description="Count the funnel of a CRM export and name the step that loses most.",
    )
    funnel.add_argument("files", nargs="+", metavar="FILE",
                        help="deals export, and optionally a stage history or activities "
                             "(CSV, XLSX or Parquet), as on the Data page")
    _add_data_arguments(funnel)
    funnel.add_argument("--rule", choices=tuple(RULES), default="furthest", help="counting rule")
    funnel.add_argument("--stale-days", type=int, default=60, help="days without change (60)")
    funnel.add_argument(
        "--reference",
        choices=("history", "previous", "best_reps"),
        help="breakage reference: the team's best quarter (default), the previous period or the "
             "best reps",
    )
    funnel.add_argument("--json", action="store_true", help="print one line of JSON")
    funnel.set_defaults(func=run_funnel)

    plan = sub.add_parser(
        "plan",
        help="reverse funnel: what it takes to make a revenue target",
        description="Work back from a revenue target to the deals, stages and activities needed.",
    )
    plan.add_argument("--target", type=float, required=True, metavar="AMOUNT")
    plan.add_argument("--from-file", nargs="+", metavar="FILE",
                      help="take rates and deal size from data (deals, and optionally a stage "
                           "history or activities)")
    _add_data_arguments(plan)
    plan.add_argument("--deal-size", type=float, metavar="N", help="average won deal size")
    plan.add_argument("--stages", type=_stages, help='e.g. "Calls,Meeting,Proposal,Won"')
    plan.add_argument("--rates", type=_rates, help="conversion of each step, e.g. 0.10,0.35")
    plan.add_argument("--reps", type=int, metavar="N", help="reps sharing the target")
    plan.add_argument("--working-days", type=int, metavar="D", help="working days in the period")
    plan.add_argument("--pipeline", type=float, metavar="AMOUNT",
                      help="open pipeline (every open deal, or qualified ones with their own "
                           "--win-rate)")
    plan.add_argument("--win-rate", type=float, metavar="RATE", help="win rate of that pipeline")
    plan.add_argument("--booked", type=float, default=0.0, metavar="AMOUNT",
                      help="already booked in the period")
    plan.add_argument("--json", action="store_true", help="print one line of JSON")
    plan.set_defaults(func=run_plan)


def _load(files: list[str], args: argparse.Namespace) -> Dataset:
    from diagnostics.mapping import read_mapping
    from diagnostics.uploads import load_dataset_from_paths

    mapping = read_mapping(Path(args.mapping)) if args.mapping else None
    return load_dataset_from_paths([Path(f) for f in files], mapping, args.pipeline_name,
                                   args.currency)


def _filters(args: argparse.Namespace) -> Filters:
    if args.start and args.end and args.end < args.start:
        raise DiagnosticsError("--to is before --from.", "Swap the two dates.")
    return Filters(
        start=args.start,
        end=args.end,
        cohort=args.cohort,
        segment=tuple(args.segment),
        product=tuple(args.product),
        region=tuple(args.region),
        team=tuple(args.team),
        rep=tuple(args.rep),
    )


def run_funnel(args: argparse.Namespace) -> int:
    """Print the funnel, headline metrics and biggest breakage; return the exit code."""
    dataset = _load(args.files, args)
    filters = _filters(args)
    result, metrics = funnel_with_metrics(dataset, filters, args.rule, args.stale_days)
    reference: Reference = args.reference or "history"
    report = find_breakages(dataset, filters, args.rule, reference, result=result)
    biggest = report.biggest
    payload: dict[str, Any] = {
        "stages": result.to_json(),
        "lost_stage_unknown": result.lost_stage_unknown,
        **metrics.to_json(),
        "biggest_breakage": biggest.to_json() if biggest else None,
        "breakage_reference": report.reference,
        "weakest_step": report.weakest_sentence() or None,
        "breakage_sentence": report.sentence(),
        "caveat": counting_caveat(dataset, filters, result),
        "provisional": provisional_note(metrics, filters),
        "small_sample": small_sample_note(metrics),
        "data_notes": list(dataset.notes),
        "few_deals": thin_steps_note(result),
        "rule": {
            "counting": args.rule,
            "cohort": filters.cohort,
            "from": filters.start,
            "to": filters.end,
            "description": result.description,
        },
    }
    emit(payload, args.json)
    return 0


def run_plan(args: argparse.Namespace) -> int:
    """Print the reverse funnel and the pipeline verdict; return the exit code."""
    activity_rate = None
    rates_from: str | None = None
    basis: tuple[int, int] | None = None
    if args.from_file:
        if args.stages or args.rates:
            raise DiagnosticsError(
                "--stages and --rates come from the data when --from-file is given.",
                "Drop them, or drop --from-file.",
            )
        inputs = plan_inputs_from_data(_load(args.from_file, args), _filters(args))
        missing = [f"{a} → {b}" for a, b, r in zip(inputs.stages, inputs.stages[1:], inputs.rates,
                                                   strict=False) if r is None]
        if missing:
            raise DiagnosticsError(
                f"The data has no deals entering {', '.join(missing)}.",
                "Widen the dates or filters, or give --stages and --rates instead of --from-file.",
            )
        stages = list(inputs.stages)
        rates = [float(r or 0) for r in inputs.rates]
        deal_size = args.deal_size or inputs.deal_size
        win_rate = args.win_rate if args.win_rate is not None else inputs.win_rate
        basis = inputs.win_rate_basis if args.win_rate is None else None
        pipeline = args.pipeline if args.pipeline is not None else inputs.pipeline
        reps = args.reps or inputs.reps or None
        activity_rate = inputs.activity_rate
        rates_from = inputs.rates_caption()  # the sentence the Funnel page's planner shows
        if deal_size is None:
            raise DiagnosticsError(inputs.missing_deal_size(), "Give --deal-size.")
    else:
        if args.deal_size is None or args.stages is None or args.rates is None:
            raise DiagnosticsError(
                "Give --from-file FILE, or --deal-size, --stages and --rates together."
            )
        stages, rates, deal_size = args.stages, args.rates, args.deal_size
        win_rate, pipeline, reps = args.win_rate, args.pipeline, args.reps
    plan = plan_reverse_funnel(
        args.target,
        deal_size,
        stages,
        rates,
        activity_rate=activity_rate,
        reps=reps,
        working_days=args.working_days,
        pipeline=pipeline,
        win_rate=win_rate,
        booked=args.booked,
        win_rate_basis=basis,
    )
    payload = plan.to_json()
    if rates_from is not None:
        payload["rates_from"] = rates_from
        payload["aged_pipeline"] = aged_pipeline_warning(inputs, plan)
        payload["thin_steps"] = inputs.thin_steps_note()
    emit(payload, args.json)
    return 0
