"""The forecast of one period: closed so far, what open and new pipeline should add, the range."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from diagnostics.cohorts import rate_rests_on
from diagnostics.dataset import Dataset
from diagnostics.errors import DiagnosticsError
from diagnostics.forecast._backtest import Backtest, quarter_of
from diagnostics.forecast._deals import (
    LOST,
    NO_DATE,
    OPEN,
    PARKED,
    WON,
    AmountGaps,
    Deals,
    Evidence,
    FloatArray,
    IntArray,
    day_number,
    load_deals,
    pipeline_amounts,
)
from diagnostics.forecast._distribution import Distribution, bookings_distribution
from diagnostics.forecast._model import (
    CREATION_WINDOW,
    PRIOR_DEALS,
    History,
    OpenView,
    learn_history,
    new_pipeline_wins,
    open_probabilities,
    open_view_at,
    open_view_now,
)
from diagnostics.formatting import format_amount, format_rate

# Deals listed under "the deals that matter most" and "slipped".
TOP_DEALS = 10
# A lever whose deals would each have less than this chance of landing in time is not offered.
_MIN_LEVER_CHANCE = 0.01


@dataclass(frozen=True)
class StageLine:
    """Open deals now at one stage and what they should bring in the period."""

    stage: str
    open_deals: int
    open_amount: float
    win_probability: float
    expected: float
    closed_deals: int

    def to_json(self) -> dict[str, Any]:
        """Return the line with the keys the command line prints."""
        return {"stage": self.stage, "open_deals": self.open_deals,
                "open_amount": self.open_amount, "win_probability": self.win_probability,
                "expected": self.expected}


@dataclass(frozen=True)
class DealLine:
    """One open deal: its chance of closing won in the period and what that is worth."""

    opp_id: str
    rep: str | None
    stage: str | None
    amount: float
    close_date: dt.date | None
    probability: float
    expected: float


def deals_frame(lines: Sequence[DealLine]) -> pd.DataFrame:
    """Return listed deals as a display table."""
    return pd.DataFrame({
        "Deal": [line.opp_id for line in lines],
        "Rep": [line.rep or "" for line in lines],
        "Stage": [line.stage or "" for line in lines],
        "Amount": [format_amount(line.amount) for line in lines],
        "Close date": [line.close_date.isoformat() if line.close_date else "" for line in lines],
        "Chance in period": [format_rate(line.probability) for line in lines],
        "Expected": [format_amount(line.expected) for line in lines],
    })


@dataclass(frozen=True)
class Lever:
    """One way to close the gap: what it takes, in a sentence."""

    kind: str  # "pipeline" | "conversion" | "new_pipeline"
    label: str
    needed: float
    sentence: str


@dataclass(frozen=True)
class LeftOut:
    """Deals whose amount the forecast left out (counted as 0), for each part they would be in."""

    open_pipeline: AmountGaps = AmountGaps()  # open deals: the open pipeline and the range
    closed_so_far: AmountGaps = AmountGaps()  # won deals of the period up to the as-of date
    average_won: AmountGaps = AmountGaps()  # won deals behind new pipeline's average amount

    @property
    def deals(self) -> int:
        """Return how many open or won deals of the period count as 0 in expected bookings."""
        return self.open_pipeline.total + self.closed_so_far.total

    def notes(self) -> list[str]:
        """Return one sentence per part that left deals out: how many, and why."""
        parts = [
            (self.open_pipeline, "open deal{}", "the open pipeline and the range"),
            (self.closed_so_far, "won deal{} of the period", "closed so far"),
            (self.average_won, "won deal{}", "the average won amount (what a new deal won adds)"),
        ]
        return [f"{gaps.total:,} {what.format('' if gaps.total == 1 else 's')} "
                f"{'is' if gaps.total == 1 else 'are'} left out of {where}: {gaps.reasons()}."
                for gaps, what, where in parts if gaps.total]

    def to_json(self) -> dict[str, dict[str, int]]:
        """Return the counts with the command line's keys."""
        return {"open_pipeline": self.open_pipeline.to_json(),
                "closed_so_far": self.closed_so_far.to_json(),
                "average_won": self.average_won.to_json()}


@dataclass(frozen=True)
class Forecast:
    """The forecast of bookings in [period_start, period_end] as of a date."""

    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    target: float
    closed_so_far: float
    from_open_pipeline: float
    from_new_pipeline: float
    distribution: Distribution
    by_stage: tuple[StageLine, ...]
    slipped: tuple[int, float, float]  # deals past their close date: count, amount, expected
    new_pipeline: tuple[float, float, float]  # deals created a day, expected won, average won
    top_deals: tuple[DealLine, ...]
    slipped_deals: tuple[DealLine, ...]
    levers: tuple[Lever, ...]
    evidence: Evidence
    method: str
    notes: tuple[str, ...] = field(default=())
    left_out: LeftOut = LeftOut()
    closed_deals: int = 0  # the closed deals it learned from (won + lost by the as-of date)
    won_deals: int = 0  # how many of them were won

    @property
    def expected_bookings(self) -> float:
        """Return the expected total of the period, closed so far included."""
        return self.closed_so_far + self.from_open_pipeline + self.from_new_pipeline

    def percentile(self, q: float) -> float:
        """Return the total the period reaches with probability 1 − q (P10 → q = 0.1)."""
        return self.distribution.quantile(q)

    @property
    def p_target(self) -> float:
        """Return the probability that the period's bookings reach the target."""
        return self.distribution.probability_at_least(self.target)

    @property
    def gap(self) -> float:
        """Return how far the expected bookings fall short of the target (0 when they do not)."""
        return max(self.target - self.expected_bookings, 0.0)

    def to_json(self, backtest: Backtest) -> dict[str, Any]:
        """Return the forecast and its backtest with the command line's keys."""
        return {
            "as_of": self.as_of.isoformat(),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "target": self.target,
            "closed_so_far": self.closed_so_far,
            "expected_bookings": self.expected_bookings,
            "p10": self.percentile(0.1),
            "p50": self.percentile(0.5),
            "p90": self.percentile(0.9),
            "p_target": self.p_target,
            "from_open_pipeline": self.from_open_pipeline,
            "from_new_pipeline": self.from_new_pipeline,
            "by_stage": [line.to_json() for line in self.by_stage],
            "backtest": backtest.to_json(),
            "method": self.method,
            "closed_deals": self.closed_deals,
            "won_deals": self.won_deals,
            "left_out": self.left_out.to_json(),
            "notes": list(self.notes),
        }

    def stage_frame(self) -> pd.DataFrame:
        """Return the open pipeline by stage as a display table."""
        return pd.DataFrame({
            "Stage": [line.stage for line in self.by_stage],
            "Open deals": [line.open_deals for line in self.by_stage],
            "Open amount": [format_amount(line.open_amount) for line in self.by_stage],
            "Won eventually": [format_rate(line.win_probability) for line in self.by_stage],
            "Expected in period": [format_amount(line.expected) for line in self.by_stage],
            "Closed deals behind the rate": [line.closed_deals for line in self.by_stage],
        })

    def sources(self) -> list[tuple[str, str, str]]:
        """Return (label, amount, explanation) for each part of the expected bookings."""
        count, amount, expected = self.slipped
        rate, wins, average = self.new_pipeline
        return [
            ("Closed so far", format_amount(self.closed_so_far),
             "won deals closed in the period up to the as-of date"),
            ("Open pipeline", format_amount(self.from_open_pipeline),
             "each open deal's amount × its chance of closing won in the period"),
            ("… of which past their close date", format_amount(expected),
             f"{count:,} open deals worth {format_amount(amount)} are past their close date"),
            ("New pipeline", format_amount(self.from_new_pipeline),
             f"{rate:,.1f} deals created a day lately; about {wins:,.1f} of the deals not yet "
             f"created should close won in time, at {format_amount(average)} each on average"),
        ]

    def levers_frame(self) -> pd.DataFrame:
        """Return what would close the gap as a display table."""
        return pd.DataFrame({"Lever": [lever.label for lever in self.levers],
                             "What it takes": [lever.sentence for lever in self.levers]})

    def headline(self) -> str:
        """Return one sentence: expected bookings, range and the chance of the target."""
        return (
            f"Expected bookings {format_amount(self.expected_bookings)} "
            f"(P10 {format_amount(self.percentile(0.1))} – P90 "
            f"{format_amount(self.percentile(0.9))}): a {format_rate(self.p_target)} chance of "
            f"reaching the {format_amount(self.target)} target."
        )


def default_period(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """Return the quarter still being played on ``as_of``.

    That is the quarter holding ``as_of``, or the next one when ``as_of`` is its last day (an
    export taken at the end of a quarter asks about the next).
    """
    start, end = quarter_of(as_of)
    return quarter_of(end + dt.timedelta(days=1)) if as_of >= end else (start, end)


def _method(evidence: Evidence, history: History) -> str:
    base = {
        "history": (f"learned from the stage history of {history.closed_deals:,} closed deals: "
                    "per stage, the share won, the days deals stayed before moving on and the "
                    "days from entering the stage to closing"),
        "stages": (f"learned from {history.closed_deals:,} closed deals: per stage, the share "
                   "won (from the stage lost deals were lost at), and the days from creation to "
                   "closing (no stage dates)"),
        "none": (f"learned from {history.closed_deals:,} closed deals without stage evidence: "
                 "one overall win rate and the days from creation to closing, whatever the stage"),
    }[evidence]
    return (
        "Each open deal counts its amount times the chance that a deal like it (same stage, "
        f"there as long) is won by the period end, {base}; deals not yet created add the last "
        f"{history.creation_days} days' creation rate times the chance a new deal is won in the "
        "time left; the range comes from which deals close, not from a fixed band."
    )


def method_explained(forecast: Forecast, backtest: Backtest) -> list[str]:
    """Return the method in plain words, one paragraph per step, saying what it assumes."""
    learned = {
        "history": ("**What history says.** From every closed deal and its stage history: for "
                    "each stage, the share of deals that reached it and were eventually won, and "
                    "how many days won and lost deals took from entering that stage to closing. "
                    "Deals still open count too (they tell that a deal can take that long), so "
                    "slow deals are not forgotten."),
        "stages": ("**What history says.** From every closed deal: for each stage, the share of "
                   "deals that reached it (known from the stage lost deals were lost at) and "
                   "were won. The data has no stage dates, so timing runs from each deal's "
                   "creation date."),
        "none": ("**What history says.** The data holds no stage evidence (no stage history, "
                 "no stage for lost deals), so every open deal is treated alike: the overall "
                 "win rate and the days deals took from creation to closing, whatever stage "
                 "the deal is at now."),
    }[forecast.evidence]
    return [
        learned,
        (f"**Few deals, careful rates.** A stage's rate is pulled toward the overall rate as if "
         f"it had {PRIOR_DEALS} more deals at that rate: a stage seen 5 times does not get 100%."),
        ("**Each open deal.** Its amount times the chance that it is won *by the period end*. "
         + ("With a stage history, a deal still in its stage must first move on, as often and "
            "as fast as deals that had stayed that long did, then be won from the next stage "
            "in the time left. " if forecast.evidence == "history" else
            "That chance is the one of deals open as long as it has been. ")
         + "An early-stage deal that usually needs five months counts for little in a quarter; "
         "a deal stuck far longer than deals that went on to win counts for little too. Deals "
         "past their close date are judged the same way, by how long they have been where they "
         "are. The close date typed in the CRM is not used to time deals (only its latest "
         "value is kept, so history cannot say how reliable it is)."),
        (f"**New pipeline.** Deals not created yet: the last {CREATION_WINDOW} days' creation "
         "rate, times the chance a new deal is won in the time left, at the average won amount."),
        ("**The range.** P10, P50 and P90 and the chance of the target come from which deals "
         "close, each with its own chance and amount, and how many new deals are won — not "
         "from a fixed ± band. It assumes deals close independently of each other and that "
         "the coming months behave like the past ones."),
        f"**How good it has been.** {backtest.note}",
    ]


def _check(target: float, start: dt.date, end: dt.date) -> None:
    if not math.isfinite(target) or target <= 0:
        raise DiagnosticsError(f"The target must be a positive amount, got {target}.")
    if end < start:
        raise DiagnosticsError("The period ends before it starts.", "Swap the two dates.")


def _learned(deals: Deals, as_of: int) -> History:
    evidence = deals.evidence()
    known = (deals.created <= as_of) | (deals.created >= NO_DATE)
    history = learn_history(deals, evidence, as_of, known)
    if history.overall.won == 0:
        raise DiagnosticsError(
            "The data has no won deal with a close date by the as-of date: there is nothing to "
            "learn how deals are won from.",
            "Load an export that includes closed deals (won and lost), with their close dates.",
        )
    return history


def _stage_lines(
    deals: Deals, history: History, view: OpenView, amounts: FloatArray, expected: FloatArray
) -> tuple[StageLine, ...]:
    lines = []
    for rank, name in enumerate(deals.stages, start=1):
        rows = view.rank == rank
        model = history.model(rank)
        lines.append(StageLine(name, int(rows.sum()), float(amounts[rows].sum()),
                               model.win_probability, float(expected[rows].sum()), model.closed))
    return tuple(lines)


def _deal_lines(dataset: Dataset, deals: Deals, rows: IntArray, probabilities: FloatArray,
                amounts: FloatArray, picked: IntArray) -> tuple[DealLine, ...]:
    """Return listing lines for positions ``picked`` of the open view."""
    if picked.size == 0:
        return ()
    found = deals.details(rows[picked], dataset)
    return tuple(
        DealLine(str(row.get("opp_id", "?")), _text(row.get("rep")), _text(row.get("stage")),
                 float(amounts[i]), _date(row.get("close_date")), float(probabilities[i]),
                 float(amounts[i] * probabilities[i]))
        for row, i in zip(found, picked, strict=True)
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _date(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _levers(fc_gap: float, deals: Deals, history: History, view: OpenView,
            expected: FloatArray, as_of: int, window: tuple[int, int],
            new_per_rate: float) -> tuple[Lever, ...]:
    """Return what would close the gap: more pipeline at a stage, a better step, more new deals."""
    if fc_gap <= 0:
        return ()
    out: list[Lever] = []
    lo, hi = max(window[0], as_of), window[1]
    ranks = range(1, len(deals.stages) + 1) if history.evidence != "none" else [0]
    zero = np.zeros(1, dtype=np.int64)
    for rank in ranks:
        model = history.model(rank)
        chance = float(model.window_probability(zero, zero + lo - as_of, zero + hi - as_of)[0])
        if chance < _MIN_LEVER_CHANCE:
            continue
        where = f"at {model.name}" if rank else "at any stage"
        needed = fc_gap / chance
        out.append(Lever("pipeline", f"More pipeline {where}", needed,
                         f"{format_amount(needed)} more open pipeline {where} today (each "
                         f"deal there has a {format_rate(chance)} chance of closing won in time)."))
    if history.evidence != "none":
        names = (*deals.stages, "Won")
        for r, rate in enumerate(history.next_rates, start=1):
            upstream = float(expected[(view.rank >= 1) & (view.rank <= r)].sum())
            if not rate or upstream <= 0:
                continue
            better = rate * (1 + fc_gap / upstream)
            if better > 1:
                continue
            label = f"{names[r - 1]} → {names[r]}"
            out.append(Lever("conversion", f"Better {label}", better,
                             f"{label} converting {format_rate(better)} instead of "
                             f"{format_rate(rate)} for the deals now at or before "
                             f"{names[r - 1]}."))
    if new_per_rate > 0:
        per_week = 7 * fc_gap / new_per_rate
        out.append(Lever("new_pipeline", "More new deals", per_week,
                         f"{per_week:,.0f} more new deals created a week from today, on top of "
                         f"the {7 * history.created_per_day:,.0f} a week of late."))
    return tuple(out)


def _notes(deals: Deals, history: History, view: OpenView, left_out: LeftOut
           ) -> tuple[str, ...]:
    notes = []
    parked = deals.status == PARKED
    if parked.any():
        worth = format_amount(float(np.nansum(deals.amount[parked])))
        notes.append(f"{int(parked.sum()):,} open deals parked in an excluded stage (on hold…), "
                     f"worth {worth}, are left out.")
    notes += left_out.notes()
    closed = (deals.status == WON) | (deals.status == LOST)
    undated = int((closed & (deals.closed >= NO_DATE)).sum())
    if undated:
        notes.append(f"{undated:,} closed deals have no close date: they are in no period and "
                     "teach no timing.")
    if view.timed_from_creation:
        notes.append(f"{view.timed_from_creation:,} open deals have no date for entering their "
                     "stage: their time in it is counted from their last known step.")
    borrowed = [m.name for m in history.stages if m.borrowed_timing]
    if borrowed:
        notes.append(f"Fewer than 5 won or lost deals passed through {', '.join(borrowed)}: "
                     "their timing is that of all deals.")
    if history.evidence == "none":
        notes.append("No stage evidence (no stage history, no stage for lost deals): every open "
                     "deal gets the overall win rate and the overall days from creation to "
                     "close, whatever its stage.")
    elif history.evidence == "stages":
        notes.append("No stage dates: win rates are per stage, timing runs from creation.")
    return tuple(notes)


def forecast_bookings(
    dataset: Dataset,
    target: float,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date | None = None,
    *,
    deals: Deals | None = None,
) -> Forecast:
    """Return the forecast of bookings in the period, as of ``as_of`` (default: the data's).

    Raises DiagnosticsError when the data cannot support a forecast (no won deal to learn from)
    or the inputs are unusable. ``deals`` may be passed when already loaded from ``dataset``.
    """
    _check(target, period_start, period_end)
    deals = deals or load_deals(dataset)
    as_of = as_of or dataset.as_of
    today = day_number(as_of)
    history = _learned(deals, today)
    if as_of >= dataset.as_of:
        view = open_view_now(deals, history.evidence)
    else:
        view = open_view_at(deals, history.evidence, today)
    window = (day_number(period_start) - 1, day_number(period_end))
    probabilities = open_probabilities(history, view, today, window)
    amounts = pipeline_amounts(deals, view.index)
    expected = amounts * probabilities
    won = (deals.status == WON) & (deals.closed >= window[0] + 1) & (
        deals.closed <= min(today, window[1]))
    closed_so_far = float(np.nansum(deals.amount[won]))
    left_out = LeftOut(deals.amount_gaps(view.index, negative=True), deals.amount_gaps(won),
                       history.won_amount_gaps)
    new_wins = new_pipeline_wins(history, today, window)
    average_won = float(history.won_amounts.mean()) if history.won_amounts.size else 0.0
    distribution = bookings_distribution(amounts, probabilities, new_wins, history.won_amounts)
    slipped = (deals.closed[view.index] < today) & (deals.status[view.index] == OPEN)
    slipped_pos = np.flatnonzero(slipped)
    slipped_pos = slipped_pos[np.argsort(-amounts[slipped_pos], kind="stable")][:TOP_DEALS]
    top = np.argsort(-expected, kind="stable")[:TOP_DEALS]
    top = top[expected[top] > 0]
    rate = history.created_per_day
    return Forecast(
        as_of=as_of,
        period_start=period_start,
        period_end=period_end,
        target=float(target),
        closed_so_far=closed_so_far,
        from_open_pipeline=float(expected.sum()),
        from_new_pipeline=new_wins * average_won,
        distribution=distribution.shifted(closed_so_far),
        by_stage=_stage_lines(deals, history, view, amounts, expected),
        slipped=(int(slipped.sum()), float(amounts[slipped].sum()),
                 float(expected[slipped].sum())),
        new_pipeline=(rate, new_wins, average_won),
        top_deals=_deal_lines(dataset, deals, view.index, probabilities, amounts, top),
        slipped_deals=_deal_lines(dataset, deals, view.index, probabilities, amounts, slipped_pos),
        levers=_levers(
            max(target - closed_so_far - float(expected.sum()) - new_wins * average_won, 0.0),
            deals, history, view, expected, today, window,
            new_wins * average_won / rate if rate > 0 else 0.0,
        ),
        evidence=history.evidence,
        method=_method(history.evidence, history),
        notes=_notes(deals, history, view, left_out),
        left_out=left_out,
        closed_deals=history.closed_deals,
        won_deals=history.overall.won,
    )


__all__ = ["CREATION_WINDOW", "DealLine", "Forecast", "ForecastCheck", "Lever", "StageLine",
           "deals_frame", "forecast_check",
           "default_period", "forecast_bookings", "method_explained", "suggested_target"]


def suggested_target(deals: Deals, period_start: dt.date, period_end: dt.date) -> float:
    """Return a starting target: what was won in the period just before, to two figures.

    Falls back to 1,000,000 when nothing was won then. The user is expected to type their own.
    """
    length = (period_end - period_start).days + 1
    start = day_number(period_start) - length
    won = (deals.status == WON) & (deals.closed >= start) & (deals.closed < start + length)
    total = float(np.nansum(deals.amount[won]))
    if total <= 0:
        return 1_000_000.0
    digits = 1 - int(math.floor(math.log10(total)))
    return float(round(total, digits))


@dataclass(frozen=True)
class ForecastCheck:
    """The forecast reduced to what another page's verdict needs (make your number, workshop)."""

    period_start: dt.date
    period_end: dt.date
    target: float
    closed_so_far: float
    expected_bookings: float
    p_target: float
    evidence: Evidence
    left_out: int = 0  # open or won deals of the period whose amount counts as 0
    closed_deals: int = 0  # the closed deals the forecast learned from
    won_deals: int = 0  # how many of them were won
    p10: float | None = None  # the range of bookings: reached 9 times in 10
    p90: float | None = None  # ... and once in 10

    @property
    def numbers(self) -> dict[str, float]:
        """Return the numbers a questionnaire takes from it, with the deals it learned from."""
        return {"target": self.target, "closed_so_far": self.closed_so_far,
                "expected_bookings": round(self.expected_bookings, 2),
                "p_target": round(self.p_target, 4),
                "forecast_closed_deals": float(self.closed_deals),
                "forecast_won_deals": float(self.won_deals)}

    def sentence(self) -> str:
        """Return one sentence naming the period, the forecast, its range and the chance of the
        target, and the closed deals it learned from ("few deals" with the range of win rates
        they fit, below the planner's small-sample rule)."""
        when = f"{self.period_start:%d %b} – {self.period_end:%d %b %Y}"
        spread = ("" if self.p10 is None or self.p90 is None else
                  f" (P10 {format_amount(self.p10)} – P90 {format_amount(self.p90)})")
        return (f"Forecast from the data for {when}: expected bookings "
                f"{format_amount(self.expected_bookings)}{spread} against a "
                f"{format_amount(self.target)} target, a {format_rate(self.p_target)} chance of "
                f"reaching it. It learned from a win rate of "
                f"{format_rate(self.won_deals / self.closed_deals if self.closed_deals else None)}"
                f" {rate_rests_on(self.won_deals, self.closed_deals)}."
                + self._left_out_clause())

    def _left_out_clause(self) -> str:
        n = self.left_out
        if not n:
            return ""
        return (f" {n:,} deal{' has' if n == 1 else 's have'} no usable amount and "
                f"count{'s' if n == 1 else ''} as 0 (the Forecast page says why).")


def forecast_check(
    dataset: Dataset,
    target: float | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    *,
    deals: Deals | None = None,
) -> ForecastCheck:
    """Return the forecast of ``period`` (default: the quarter still being played) for a target.

    Without a target, the bookings of the period before stand in (see :func:`suggested_target`).
    Raises DiagnosticsError when the data cannot support a forecast.
    """
    deals = deals or load_deals(dataset)
    start, end = period or default_period(dataset.as_of)
    goal = target if target is not None and target > 0 else suggested_target(deals, start, end)
    fc = forecast_bookings(dataset, goal, start, end, deals=deals)
    return ForecastCheck(start, end, goal, fc.closed_so_far, fc.expected_bookings, fc.p_target,
                         fc.evidence, fc.left_out.deals, fc.closed_deals, fc.won_deals,
                         fc.percentile(0.1), fc.percentile(0.9))
