"""Where the funnel breaks: each step measured against a reference rate, ranked by deals lost.

The references: the team's own best quarter (the default: it sees a weakness the whole team
shares once the team has done better), the team's best quartile of reps (each rep's rate shrunk
toward the team's first), the same filters over the previous period, or target rates typed in.
A step loses ``entered × (reference − actual)`` deals against its reference, valued at what they
would have become (conversion from the next stage to Won × the average won deal), but only when
the shortfall is beyond chance for the deals behind it (a 95% score test): smaller differences
read as noise and are not priced. The weakest step (the lowest conversion) is named beside, among
the steps with enough deals where a deal has been seen to stop (not only deals still open).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from diagnostics import stats
from diagnostics.dataset import Dataset, Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import format_amount, format_count, format_rate
from diagnostics.funnel import (
    MIN_STEP_DEALS,
    NO_DEALS,
    PROVISIONAL_OPEN_SHARE,
    FunnelResult,
    Rule,
    StageCount,
    compute_funnel,
    headline_metrics,
    quarter_number,
    quarterly_stages,
    rep_transitions,
)

__all__ = [
    "MIN_KNOWN_LOST_SHARE",
    "MIN_QUARTER_DEALS",
    "MIN_WEAKEST_DEALS",
    "NOISE_CONFIDENCE",
    "PRIOR_DEALS",
    "REFERENCES",
    "Breakage",
    "BreakageReport",
    "Reference",
    "best_quarter_rates",
    "best_rep_rates",
    "find_breakages",
    "rank_breakages",
    "starting_targets",
]

Reference = Literal["history", "previous", "targets", "best_reps"]

REFERENCES: dict[str, str] = {
    "history": "the team's own best quarter",
    "best_reps": "the team's best quartile of reps",
    "previous": "the previous period",
    "targets": "your target rates",
}
# A quartile of fewer reps than this says nothing.
_MIN_REPS_FOR_QUARTILE = 4
# Before ranking reps, each rate is pulled toward the team's as if the rep had this many more
# deals converting at the team rate: a 5-for-5 streak should not set the bar for everyone.
PRIOR_DEALS = 10
# A gap smaller than this (0.05 points) is not a breakage: targets are typed to 0.1 point and
# pre-filled with the actual rates rounded that way, which must not read as "1 more deal lost".
_MIN_RATE_GAP = 0.0005
# A step is priced in money only when it falls short of its reference beyond chance: the score
# test at this confidence on the deals that entered it (see stats.side_of_line).
NOISE_CONFIDENCE = 0.95
# A quarter in which fewer deals than this entered a step does not set the team's best rate.
MIN_QUARTER_DEALS = 20
# "Where it breaks" names a step only when at least this share of the lost deals in scope have a
# known stage: otherwise the unplaced ones could have dropped out at any step.
MIN_KNOWN_LOST_SHARE = 0.8
# The weakest step is named among steps that at least this many deals entered: one deal at a
# step converts 0% or 100%, which says nothing about the step. The same bound flags a step rate
# as resting on few deals on the Funnel and in the planner.
MIN_WEAKEST_DEALS = MIN_STEP_DEALS


def best_rep_rates(reps: pd.DataFrame, prior_deals: int = PRIOR_DEALS) -> list[float | None]:
    """Return, per step, the 75th percentile of rep rates (reps with enough deals at the step).

    Each rep's rate is first shrunk toward the team's: (advanced + k × team rate) ÷ (entered + k)
    with k = ``prior_deals``, so that small samples do not set the bar. None for a step with
    fewer than four such reps (a quartile of fewer says nothing).
    """
    if reps.empty:
        return []
    out: list[float | None] = []
    for _, part in reps.sort_values("order").groupby("order", sort=True):
        ok = part[part["enough"] & part["rate"].notna() & part["team_rate"].notna()]
        if len(ok) < _MIN_REPS_FOR_QUARTILE:
            out.append(None)
            continue
        team = ok["team_rate"].astype(float)
        shrunk = (ok["advanced"] + prior_deals * team) / (ok["entered"] + prior_deals)
        out.append(float(shrunk.quantile(0.75)))
    return out


@dataclass(frozen=True)
class Breakage:
    """One funnel step measured against a reference rate.

    ``lost_opportunities`` = opportunities entering the step × (reference − actual rate): how many
    more left the funnel here than the reference would lose (negative = better than reference).
    ``lost_revenue`` values them at what they would have become: the conversion from the next
    stage to Won times the average won deal size.
    """

    from_stage: str
    to_stage: str
    entered: int
    actual_rate: float | None
    reference_rate: float | None
    lost_opportunities: float | None
    lost_revenue: float | None
    beyond_noise: bool = True
    # Deals still open at the step's first stage; ``pending`` when, had they all moved on, the
    # shortfall would be within chance: then it may only be deals that have not moved yet.
    open_here: int = 0
    pending: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the breakage as a JSON-ready dict (lost opportunities rounded)."""
        lost = self.lost_opportunities
        return {
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "lost_opportunities": round(lost) if lost is not None else None,
            "lost_revenue": self.lost_revenue,
            "actual_rate": self.actual_rate,
            "reference_rate": self.reference_rate,
            "beyond_noise": self.beyond_noise,
            "pending": self.pending,
        }


@dataclass(frozen=True)
class BreakageReport:
    """Every step ranked by opportunities lost against a reference, worst first."""

    reference: str
    breakages: tuple[Breakage, ...]
    note: str = ""
    weakest: Breakage | None = None
    # Why no step is named the weakest although the funnel has steps ("" when one is named).
    weakest_note: str = ""

    @property
    def biggest(self) -> Breakage | None:
        """Return the step losing the most opportunities against the reference, if any loses."""
        for b in self.breakages:
            if b.lost_opportunities is None or round(b.lost_opportunities) <= 0:
                continue
            if not b.beyond_noise or b.pending:
                continue
            if b.actual_rate is not None and b.reference_rate is not None and (
                b.reference_rate - b.actual_rate < _MIN_RATE_GAP
            ):
                continue
            return b
        return None

    @property
    def is_measured(self) -> bool:
        """Return True when at least one step has both a rate and a reference to measure it by.

        Without one, a chart or table of the steps would show nothing but dashes and an empty
        axis; the sentence says why instead.
        """
        return any(b.lost_opportunities is not None for b in self.breakages)

    def sentence(self) -> str:
        """Return one sentence naming the biggest breakage (or why there is none)."""
        b = self.biggest
        pending = [x for x in self.breakages if x.pending]
        if b is None and not self.note and pending:
            p = pending[0]  # ranked: the largest shortfall first
            return (f"No step is named yet: {p.from_stage} → {p.to_stage} converts "
                    f"{format_rate(p.actual_rate)} against {format_rate(p.reference_rate)} for "
                    f"{self.reference}, but {p.open_here:,} deals still open at {p.from_stage} "
                    "could close that gap as they move on, so it is neither named nor priced "
                    "until they do.")
        if b is None and not self.note and any(_is_noise(x) for x in self.breakages):
            return (f"No step falls short of {self.reference} by more than chance explains: "
                    "the gaps are small for the deals behind them.")
        if b is None:
            return self.note or f"No step loses more deals than {self.reference} would."
        lost = round(b.lost_opportunities or 0)
        worth = (
            f"; worth about {format_amount(b.lost_revenue)} in bookings"
            if b.lost_revenue is not None
            else ""
        )
        # Whole percents unless they would read the same ("49% instead of 49%").
        digits = 0 if format_rate(b.actual_rate) != format_rate(b.reference_rate) else 1
        return (
            f"{b.from_stage} → {b.to_stage} loses {lost:,} more deal{'s' if lost != 1 else ''} "
            f"than {self.reference} would ({format_rate(b.actual_rate, digits)} converting "
            f"instead of {format_rate(b.reference_rate, digits)}){worth}."
        )

    def weakest_sentence(self) -> str:
        """Return the step with the lowest conversion, in plain words ("" without one).

        Every reference compares the team with itself or a target; this names the step that
        loses the largest share of its deals, whatever any reference says.
        """
        w = self.weakest
        if w is None or w.actual_rate is None:
            return self.weakest_note
        stop = 1 - w.actual_rate
        return (f"Weakest step: {w.from_stage} → {w.to_stage}. Of the {w.entered:,} deals that "
                f"reach {w.from_stage}, {format_rate(w.actual_rate)} get to {w.to_stage} and "
                f"{format_rate(stop)} do not (or not yet), the lowest conversion of any step.")

    def to_frame(self) -> pd.DataFrame:
        """Return the ranked steps as a display table."""
        return pd.DataFrame(
            {
                "Step": [f"{b.from_stage} → {b.to_stage}" for b in self.breakages],
                "Entered": [b.entered for b in self.breakages],
                "Actual": [format_rate(b.actual_rate) for b in self.breakages],
                "Reference": [format_rate(b.reference_rate) for b in self.breakages],
                "Deals lost vs reference": [
                    format_count(b.lost_opportunities) for b in self.breakages
                ],
                "Bookings lost vs reference": [
                    format_amount(b.lost_revenue) for b in self.breakages
                ],
                "Beyond noise": [_noise_label(b) for b in self.breakages],
            }
        )


def rank_breakages(
    result: FunnelResult,
    reference_rates: Sequence[float | None],
    avg_won_amount: float | None,
    reference: str,
    note: str = "",
) -> BreakageReport:
    """Return the funnel's steps measured against reference rates, ranked by deals lost.

    Steps without a reference rate (or without an actual rate) come last, unranked. A step
    whose shortfall is within chance (:func:`stats.side_of_line` at :data:`NOISE_CONFIDENCE`,
    on the deals that entered it) is marked ``beyond_noise=False`` and not priced.
    """
    stages = result.stages
    steps = len(stages) - 1
    if len(reference_rates) != steps:
        raise DiagnosticsError(
            f"Expected {steps} reference rates (one per step), got {len(reference_rates)}."
        )
    won = stages[-1].reached if stages else 0
    # Only in a cohort still largely open can open deals stand for moves not made yet: in an old
    # one, a deal open at a stage for months is no promise that it will move on.
    young = result.filters.cohort == "created" and result.total > 0 and (
        sum(s.open_here for s in stages) / result.total > PROVISIONAL_OPEN_SHARE)
    items: list[Breakage] = []
    for i in range(steps):
        actual = stages[i].next_step_conversion
        ref = reference_rates[i]
        lost = None if ref is None or actual is None else stages[i].reached * (ref - actual)
        beyond = _beyond_noise(stages[i].reached, actual, ref)
        pending = young and beyond and _pending(stages[i].reached, stages[i].open_here, actual,
                                                 ref)
        after = stages[i + 1].reached
        downstream = won / after if after else None
        if downstream is None:
            downstream = _product(reference_rates[i + 1 :])
        revenue = (
            lost * downstream * avg_won_amount
            if lost is not None and downstream is not None and avg_won_amount is not None
            and beyond and not pending
            else None
        )
        items.append(
            Breakage(stages[i].stage, stages[i + 1].stage, stages[i].reached, actual, ref, lost,
                     revenue, beyond, stages[i].open_here, pending)
        )
    weakest, weakest_note = _weakest(items, stages)
    items.sort(key=lambda b: math.inf if b.lost_opportunities is None else -b.lost_opportunities)
    return BreakageReport(reference=reference, breakages=tuple(items), note=note,
                          weakest=weakest, weakest_note=weakest_note)


def _weakest(items: Sequence[Breakage],
             stages: Sequence[StageCount]) -> tuple[Breakage | None, str]:
    """Return the step converting least among those the data can judge, or why there is none.

    A step is judged when at least :data:`MIN_WEAKEST_DEALS` deals entered it and at least one
    of those that did not move on has stopped there (lost or won at the stage), not merely
    still open: a step whose "losses" are all deals still open has not been seen to lose any.
    """
    rated = [b for b in items if b.actual_rate is not None and b.entered > 0]
    if not rated:
        return None, ""
    sized = [b for b in rated if b.entered >= MIN_WEAKEST_DEALS]
    judged = [b for b, here, after in zip(items, stages, stages[1:], strict=False)
              if b.actual_rate is not None and b.entered >= MIN_WEAKEST_DEALS
              and here.reached - after.reached - here.open_here > 0]
    if judged:
        return min(judged, key=lambda b: b.actual_rate or 0.0), ""
    if not sized:
        return None, (f"No step is named the weakest: none has {MIN_WEAKEST_DEALS} or more deals "
                      "entering it, too few to compare conversions.")
    return None, (f"No step is named the weakest: at every step with {MIN_WEAKEST_DEALS} or more "
                  "deals, those that did not move on are all still open, so none has been seen "
                  "to stop there yet.")


def _is_noise(b: Breakage) -> bool:
    """Return True for a real shortfall (not a rounding one) that chance could explain."""
    if b.beyond_noise or round(b.lost_opportunities or 0) <= 0:
        return False
    assert b.actual_rate is not None and b.reference_rate is not None  # lost is set
    return b.reference_rate - b.actual_rate >= _MIN_RATE_GAP


def _noise_label(b: Breakage) -> str:
    if b.pending:
        return f"not yet: {b.open_here:,} still open could close it"
    return "yes" if b.beyond_noise else "no: within chance"


def _pending(entered: int, open_here: int, actual: float | None, reference: float | None) -> bool:
    """Return True when the deals still open at the step could explain its shortfall.

    A young cohort counts a deal still open at the step as not converting. Had every one of
    them moved on, would the step still fall short beyond chance? If not, the gap may only be
    deals that have not moved yet (right-censoring), and it is not named or priced.
    """
    if actual is None or entered <= 0 or open_here <= 0:
        return False
    upper = min(1.0, (round(actual * entered) + open_here) / entered)
    return not _beyond_noise(entered, upper, reference)


def _beyond_noise(entered: int, actual: float | None, reference: float | None) -> bool:
    """Return True when ``actual`` on ``entered`` deals is below ``reference`` beyond chance."""
    if actual is None or reference is None or entered <= 0 or not 0 <= reference <= 1:
        return False
    advanced = round(actual * entered)
    return stats.side_of_line(advanced, entered, reference, NOISE_CONFIDENCE) == -1


def _quarters(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Return the calendar quarters from the one holding ``first`` to the one holding ``last``."""
    out = []
    year, q = first.year, (first.month - 1) // 3
    while dt.date(year, q * 3 + 1, 1) <= last:
        start = dt.date(year, q * 3 + 1, 1)
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
        out.append((start, dt.date(year, q * 3 + 1, 1) - dt.timedelta(days=1)))
    return out


def best_quarter_rates(
    dataset: Dataset, filters: Filters, rule: Rule = "furthest",
    min_deals: int = MIN_QUARTER_DEALS,
) -> list[float | None]:
    """Return, per step, the team's best rate in any calendar quarter up to the period's end.

    Same filters and counting rule, one quarter at a time from the first quarter of the data; a
    quarter counts for a step only when at least ``min_deals`` deals entered the step in it. None
    for a step no quarter qualifies for. This is the reference that sees a weakness the whole team
    shares, as soon as the team has done better at that step before.
    """
    first, last = dataset.date_range()
    end = min(filters.end or last, last)
    quarters = _quarters(first, end)
    best: dict[str, float] = {}
    # One query counts every quarter (the cohort's dates from the first quarter to the last).
    period = filters.with_period(quarters[0][0], quarters[-1][1]) if quarters else filters
    names, by_quarter = quarterly_stages(dataset, period, rule)
    for start, _stop in quarters:
        for stage in by_quarter.get(quarter_number(start), ()):
            rate = stage.next_step_conversion
            if rate is not None and stage.reached >= min_deals:
                best[stage.stage] = max(rate, best.get(stage.stage, 0.0))
    return [best.get(name) for name in names[:-1]]


def starting_targets(
    dataset: Dataset, filters: Filters, rule: Rule, result: FunnelResult, min_count: int = 5,
    reps: pd.DataFrame | None = None,
) -> list[float | None]:
    """Return target rates to start editing from: the team's best quarter, else its best reps.

    A step with neither keeps its actual rate. Starting from the actual rates would only chart
    rounding noise; these start from what the team has shown it can do.
    """
    history = best_quarter_rates(dataset, filters, rule)
    if reps is None:
        reps = rep_transitions(dataset, filters, rule, min_count)
    best = best_rep_rates(reps)
    actual = result.next_rates()
    out: list[float | None] = []
    for i, rate in enumerate(actual):
        candidates = [r for r in (history[i] if i < len(history) else None,
                                  best[i] if i < len(best) else None) if r is not None]
        out.append(round(candidates[0], 3) if candidates else rate)
    return out


def _product(rates: Sequence[float | None]) -> float | None:
    out = 1.0
    for r in rates:
        if r is None:
            return None
        out *= r
    return out


def find_breakages(
    dataset: Dataset,
    filters: Filters,
    rule: Rule = "furthest",
    reference: Reference = "history",
    targets: Sequence[float | None] | None = None,
    min_count: int = 5,
    result: FunnelResult | None = None,
    reps: pd.DataFrame | None = None,
    avg_won_amount: float | None = None,
) -> BreakageReport:
    """Return the funnel's steps ranked by deals lost against the chosen reference.

    ``history`` (the default) compares with the team's best quarter (see
    :func:`best_quarter_rates`), ``previous`` with the period of equal length just before (dates
    needed), ``targets`` with the rates typed in (one per step, None to skip a step),
    ``best_reps`` with the 75th percentile of reps having at least ``min_count`` deals at a step
    (see :func:`best_rep_rates`). ``result``, ``reps`` and ``avg_won_amount`` may be passed
    when already computed for the same filters and rule, to save the queries.
    """
    result = result or compute_funnel(dataset, filters, rule)
    steps = max(len(result.stages) - 1, 0)
    label = REFERENCES.get(reference)
    if label is None:
        raise DiagnosticsError(
            f"Unknown reference {reference!r}.", f"Use one of {', '.join(REFERENCES)}."
        )
    note = ""
    if reference == "targets":
        rates = _checked_targets(targets, steps)
    elif reference == "history":
        rates = best_quarter_rates(dataset, filters, rule)
        if all(r is None for r in rates):
            note = (f"No quarter has {MIN_QUARTER_DEALS} or more deals at a step to set the "
                    "team's best: compare with the best reps or type targets.")
    elif reference == "previous":
        before = filters.previous_period()
        if before is None:
            rates = [None] * steps
            note = "Pick a start and an end date to compare with the previous period."
        else:
            rates = compute_funnel(dataset, before, rule).next_rates()
            label = f"the previous period ({before.describe_period()})"
            if all(r is None for r in rates):
                note = (
                    f"There are no deals in {label} to compare with: pick a period that has "
                    "data before it (a quarter, say)."
                )
    else:
        if reps is None:
            reps = rep_transitions(dataset, filters, rule, min_count)
        rates = best_rep_rates(reps) or [None] * steps
        if all(r is None for r in rates):
            note = (
                f"Too few reps have {min_count} or more deals at a step to find a best quartile."
            )
    if result.total == 0:
        note = NO_DEALS
    elif (unknown := _unplaced_note(result)) is not None:
        return BreakageReport(reference=label, breakages=(), note=unknown)
    if avg_won_amount is None:
        avg_won_amount = headline_metrics(dataset, filters).avg_won_amount
    return rank_breakages(result, rates, avg_won_amount, label, note)


def _checked_targets(targets: Sequence[float | None] | None, steps: int) -> list[float | None]:
    """Return the typed target rates; raises DiagnosticsError unless one per step, in [0, 1]."""
    rates = list(targets or [])
    if len(rates) != steps:
        raise DiagnosticsError(f"Give one target rate per step ({steps}), got {len(rates)}.")
    for r in rates:
        if r is not None and not 0 <= r <= 1:
            raise DiagnosticsError(f"A target rate must be between 0 and 1, got {r}.")
    return rates


def _unplaced_note(result: FunnelResult) -> str | None:
    """Return why no step can be named when too few lost deals have a known stage, else None."""
    share = result.lost_stage_known_share
    if share is None or share >= MIN_KNOWN_LOST_SHARE:
        return None
    known = sum(s.lost_here for s in result.stages)
    lost = known + result.lost_stage_unknown
    return (
        f"This data cannot tell where deals are lost: only {known:,} of {lost:,} lost deals "
        f"({format_rate(share)}) have a known stage, and naming a step needs "
        f"{format_rate(MIN_KNOWN_LOST_SHARE)}. A stage history file, HubSpot “Date entered” "
        "columns, date columns named after stages (“Demo date”) or a column with the stage each "
        "deal was lost at would tell."
    )
