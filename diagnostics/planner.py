"""The make-your-number planner: a reverse funnel from a revenue target, plus pipeline coverage.

Deals needed = target ÷ average won deal size; every earlier stage needs the next stage's number
divided by its conversion (rounded up: half a meeting cannot be held). Coverage = open pipeline ÷
the target still to book, against the 1 ÷ win rate the team's own win rate requires; expected
bookings = pipeline × win rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from diagnostics.breakage import MIN_KNOWN_LOST_SHARE
from diagnostics.cohorts import (
    RateCohort,
    maturity_days,
    rate_cohort,
    rough_rate_range,
)
from diagnostics.dataset import MEETING_WORDS, Dataset, Filters, opportunity_filter_sql
from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import DASH, format_amount, format_per_day, format_rate, none_has_amount
from diagnostics.funnel import (
    FunnelResult,
    HeadlineMetrics,
    Rule,
    compute_funnel,
    few_deals_sentence,
    headline_metrics,
)

__all__ = [
    "AT_RISK_SHARE",
    "Plan",
    "PlanInputs",
    "PlanStage",
    "Verdict",
    "WhatIf",
    "aged_pipeline_warning",
    "plan_inputs_from_data",
    "plan_reverse_funnel",
    "format_per_day",
    "implausible_rates",
    "read_win_rate",
    "next_quarter",
    "what_if",
    "working_days_between",
]

# "uncertain": the win rate rests on too few closed deals to tell whether the pipeline makes it.
Verdict = Literal["likely", "at_risk", "unlikely", "made", "unknown", "uncertain"]
# Expected bookings covering at least this share of the remaining target read as "at risk"
# rather than "unlikely": a gap a good quarter can still close.
AT_RISK_SHARE = 0.75
# Floating-point slack before rounding up (14 / 0.4 is 35.000000000000004, not 36 proposals).
_ROUND_DIGITS = 9


def _ceil(value: float) -> int:
    return math.ceil(round(value, _ROUND_DIGITS))


@dataclass(frozen=True)
class PlanStage:
    """One stage of the reverse funnel: how many are needed and the conversion to the next."""

    stage: str
    needed: int
    rate_to_next: float | None
    per_rep_per_day: float | None


@dataclass(frozen=True)
class Plan:
    """The reverse funnel (top of funnel first, deals last) and the pipeline check."""

    target: float
    deal_size: float
    stages: tuple[PlanStage, ...]
    deals_needed: int
    activities_needed: int
    reps: int | None
    working_days: int | None
    meeting_stage: str | None
    meetings_per_rep_per_day: float | None
    pipeline: float | None
    booked: float
    win_rate: float | None
    coverage: float | None
    required_coverage: float | None
    expected_bookings: float | None
    verdict_level: Verdict
    verdict: str
    # (won, closed) deals the win rate was measured on; None when typed or not from the data.
    win_rate_basis: tuple[int, int] | None = None

    @property
    def win_rate_range(self) -> tuple[float, float] | None:
        """Return the 95% range of win rates its few closed deals fit (None: enough, or typed)."""
        return _rate_band(self.win_rate_basis)

    @property
    def expected_range(self) -> tuple[float, float] | None:
        """Return the expected bookings at the two ends of :attr:`win_rate_range`, else None."""
        band = self.win_rate_range
        if band is None or self.pipeline is None:
            return None
        return self.pipeline * band[0], self.pipeline * band[1]

    @property
    def remaining(self) -> float:
        """Return the part of the target not booked yet."""
        return max(self.target - self.booked, 0.0)

    def step_labels(self) -> list[str]:
        """Return "From → To" for every step of the plan, top first."""
        names = [s.stage for s in self.stages]
        return [f"{a} → {b}" for a, b in zip(names, names[1:], strict=False)]

    @property
    def rates(self) -> list[float]:
        """Return the conversion of every step, top first."""
        return [s.rate_to_next for s in self.stages if s.rate_to_next is not None]

    def display_items(self) -> list[tuple[str, str, str]]:
        """Return (label, value, help) for the plan's headline figures."""
        top = self.stages[0].stage
        meeting = self.meeting_stage or "Meetings"
        return [
            ("Deals needed", f"{self.deals_needed:,}", "target ÷ average deal size"),
            (f"{top} needed", f"{self.activities_needed:,}", "top of the reverse funnel"),
            (
                f"{meeting} per rep per day",
                format_per_day(self.meetings_per_rep_per_day),
                "One meeting per rep per working day is a norm for startup sales teams, not a "
                "universal standard: compare with your own history.",
            ),
            (
                "Coverage",
                DASH if self.coverage is None else f"{self.coverage:.1f}×",
                "open pipeline ÷ target still to book",
            ),
            (
                "Coverage needed",
                DASH if self.required_coverage is None else f"{self.required_coverage:.1f}×",
                "1 ÷ win rate",
            ),
            ("Expected bookings", format_amount(self.expected_bookings), self._expected_help()),
        ]

    def _expected_help(self) -> str:
        spread = self.expected_range
        if spread is None or self.win_rate_basis is None:
            return "open pipeline × win rate"
        return (f"open pipeline × win rate; from {format_amount(spread[0])} to "
                f"{format_amount(spread[1])} over the win rates its "
                f"{_deals(self.win_rate_basis[1])} fit")

    def meeting_standard(self) -> str | None:
        """Return a sentence comparing the meetings each rep needs a day with one a day."""
        per_day = self.meetings_per_rep_per_day
        if per_day is None or self.meeting_stage is None:
            return None
        if per_day > 1.05:
            verdict = (f"above one meeting a day: the plan asks {per_day:.1f}× that norm")
        elif per_day >= 0.95:
            verdict = "right at one meeting a day"
        else:
            verdict = "within one meeting a day"
        return (f"Each rep needs {format_per_day(per_day)} “{self.meeting_stage}” per working "
                f"day: {verdict}. One meeting a day is a norm for startup sales teams, not a "
                "universal standard; your own history is the better yardstick.")

    def to_frame(self) -> pd.DataFrame:
        """Return the reverse funnel as a display table (top of funnel first)."""
        return pd.DataFrame(
            {
                "Stage": [s.stage for s in self.stages],
                "Needed": [s.needed for s in self.stages],
                "Conversion to next": [format_rate(s.rate_to_next, 1) for s in self.stages],
                "Per rep per working day": [
                    format_per_day(s.per_rep_per_day) for s in self.stages
                ],
            }
        )

    def to_json(self) -> dict[str, Any]:
        """Return the plan as a JSON-ready dict."""
        return {
            "target": self.target,
            "deal_size": self.deal_size,
            "stages": [{"stage": s.stage, "needed": s.needed} for s in self.stages],
            "deals_needed": self.deals_needed,
            "activities_needed": self.activities_needed,
            "per_rep_per_day": (
                None
                if self.reps is None or self.working_days is None
                else [
                    {"stage": s.stage, "per_rep_per_day": s.per_rep_per_day} for s in self.stages
                ]
            ),
            "meeting_stage": self.meeting_stage,
            "meetings_per_rep_per_day": self.meetings_per_rep_per_day,
            "pipeline": self.pipeline,
            "booked": self.booked,
            "win_rate": self.win_rate,
            "coverage": self.coverage,
            "required_coverage": self.required_coverage,
            "expected_bookings": self.expected_bookings,
            "verdict_level": self.verdict_level,
            "verdict": self.verdict,
            "win_rate_closed_deals": (None if self.win_rate_basis is None
                                      else self.win_rate_basis[1]),
            "win_rate_range": None if self.win_rate_range is None else list(self.win_rate_range),
            "expected_bookings_range": (None if self.expected_range is None
                                        else list(self.expected_range)),
        }


def _check_positive(name: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise DiagnosticsError(f"The {name} must be a positive number, got {value}.")


def _meeting_stage(stages: Sequence[str]) -> str | None:
    """Return the first stage whose name says it is a meeting (or a demo, a visit…)."""
    for stage in stages:
        if any(word in stage.lower() for word in MEETING_WORDS):
            return stage
    return None


def _verdict(
    remaining: float, pipeline: float | None, win_rate: float | None
) -> tuple[Verdict, str, float | None, float | None, float | None]:
    """Return (level, sentence, coverage, required coverage, expected bookings)."""
    coverage = pipeline / remaining if pipeline is not None and remaining > 0 else None
    required = 1 / win_rate if win_rate else None
    expected = pipeline * win_rate if pipeline is not None and win_rate is not None else None
    if remaining <= 0:
        return "made", "The target is already booked.", coverage, required, expected
    if pipeline is None or win_rate is None or expected is None or coverage is None:
        text = "Enter the open pipeline and a win rate to judge whether it can make the number."
        return "unknown", text, coverage, required, expected
    if required is None:
        text = "Unlikely: at a 0% win rate no amount of pipeline makes the number."
        return "unlikely", text, coverage, required, expected
    lands = (
        f"the open pipeline of {format_amount(pipeline)} at a {format_rate(win_rate)} win rate "
        f"should bring about {format_amount(expected)}, {expected / remaining:.0%} of the "
        f"{format_amount(remaining)} still to book (coverage {coverage:.1f}× against the "
        f"{required:.1f}× this win rate needs)"
    )
    if expected >= remaining:
        return "likely", f"Likely: {lands}.", coverage, required, expected
    gap = f" About {format_amount(remaining * required - pipeline)} more pipeline would close it."
    if expected >= AT_RISK_SHARE * remaining:
        return "at_risk", f"At risk: {lands}.{gap}", coverage, required, expected
    return "unlikely", f"Unlikely: {lands}.{gap}", coverage, required, expected


def _deals(closed: int) -> str:
    return f"{closed:,} closed deal{'s' if closed != 1 else ''}"


def _rate_band(basis: tuple[int, int] | None, scale: float = 1.0) -> tuple[float, float] | None:
    """Return the 95% range of win rates ``basis`` = (won, closed) fits, when it holds fewer than
    MIN_CLOSED closed deals (None otherwise): the funnel's small-sample rule. ``scale`` moves
    the range with a what-if's change of the win rate (capped at 100%)."""
    band = None if basis is None else rough_rate_range(*basis)
    if band is None:
        return None
    return min(band[0] * scale, 1.0), min(band[1] * scale, 1.0)


def _judge(
    remaining: float, pipeline: float | None, win_rate: float | None,
    basis: tuple[int, int] | None = None, scale: float = 1.0,
) -> tuple[Verdict, str, float | None, float | None, float | None]:
    """Return :func:`_verdict`, said with the range of outcomes when the win rate rests on few
    closed deals, and "uncertain" (no firm verdict) when that range straddles the target."""
    level, text, coverage, required, expected = _verdict(remaining, pipeline, win_rate)
    band = _rate_band(basis, scale)
    if band is None or basis is None or pipeline is None or level in ("made", "unknown"):
        return level, text, coverage, required, expected
    low, high = pipeline * band[0], pipeline * band[1]
    moved = "" if scale == 1.0 else ", moved with this change"
    fits = (f"the win rate rests on {_deals(basis[1])}, which fit any rate from "
            f"{format_rate(band[0])} to {format_rate(band[1])} (95% interval{moved}), and the "
            f"open pipeline would then bring from {format_amount(low)} to {format_amount(high)}")
    if low < remaining <= high:
        return "uncertain", (
            f"Cannot tell on {_deals(basis[1])}: at a {format_rate(win_rate)} win rate the open "
            f"pipeline of {format_amount(pipeline)} should bring about "
            f"{format_amount(expected)} against the {format_amount(remaining)} still to book, "
            f"but {fits}, either side of the target. More closed deals, or a win rate you "
            "know, would settle it."), coverage, required, expected
    side = "short of" if high < remaining else "above"
    head, _, rest = text.partition(":")
    return level, (f"{head} (win rate from only {_deals(basis[1])}):{rest} Rough: {fits}, "
                   f"{side} the {format_amount(remaining)} still to book either way."
                   ), coverage, required, expected


def plan_reverse_funnel(
    target: float,
    deal_size: float,
    stages: Sequence[str],
    rates: Sequence[float | None],
    *,
    activity_rate: float | None = None,
    activity_label: str = "Activities",
    reps: int | None = None,
    working_days: int | None = None,
    pipeline: float | None = None,
    win_rate: float | None = None,
    booked: float = 0.0,
    win_rate_basis: tuple[int, int] | None = None,
) -> Plan:
    """Return the reverse funnel that makes ``target`` and whether the pipeline can make it.

    ``stages`` run from the top of the funnel to the won deal; ``rates[i]`` converts
    ``stages[i]`` into ``stages[i + 1]``. Without ``activity_rate`` the top stage counts as the
    activity (e.g. calls); with it, an ``activity_label`` step is added on top, ``activity_rate``
    being first-stage records per activity. ``win_rate_basis`` = (won, closed) deals behind a
    win rate read from the data: below MIN_CLOSED closed deals the verdict gives the range of
    outcomes the range of rates allows, or none when it straddles the target. Raises
    DiagnosticsError on unusable numbers.
    """
    _check_positive("revenue target", target)
    _check_positive("average deal size", deal_size)
    _check_positive("activity conversion", activity_rate)
    if len(stages) < 1:
        raise DiagnosticsError("The plan needs at least one stage (the won deal).")
    if len(rates) != len(stages) - 1:
        raise DiagnosticsError(
            f"Give one conversion rate per step: {len(stages)} stages need {len(stages) - 1} "
            f"rates, got {len(rates)}."
        )
    for i, rate in enumerate(rates):
        if rate is None:
            raise DiagnosticsError(
                f"The conversion from {stages[i]} to {stages[i + 1]} is blank.",
                "Type a rate: the data has no deals entering that step with these filters.",
            )
        if not math.isfinite(rate) or not 0 < rate <= 1:
            raise DiagnosticsError(
                f"The conversion from {stages[i]} to {stages[i + 1]} must be above 0% and at most "
                f"100% to plan backwards (got {format_rate(rate, 1)}).",
                "Edit the rate: at 0% no volume at the earlier stage produces a deal.",
            )
    if reps is not None and reps <= 0:
        raise DiagnosticsError(f"The number of reps must be positive, got {reps}.")
    if working_days is not None and working_days <= 0:
        raise DiagnosticsError(f"The number of working days must be positive, got {working_days}.")
    if win_rate is not None and not 0 <= win_rate <= 1:
        raise DiagnosticsError(f"The win rate must be between 0 and 1, got {win_rate}.")
    if pipeline is not None and pipeline < 0:
        raise DiagnosticsError(f"The open pipeline cannot be negative, got {pipeline}.")

    names = list(stages)
    all_rates = [float(r) for r in rates if r is not None]
    if activity_rate is not None:
        names.insert(0, activity_label)
        all_rates.insert(0, activity_rate)
    needed = [0] * len(names)
    needed[-1] = _ceil(target / deal_size)
    for i in range(len(names) - 2, -1, -1):
        needed[i] = _ceil(needed[i + 1] / all_rates[i])
    capacity = reps * working_days if reps is not None and working_days is not None else None
    plan_stages = tuple(
        PlanStage(
            stage=name,
            needed=n,
            rate_to_next=all_rates[i] if i < len(all_rates) else None,
            per_rep_per_day=n / capacity if capacity else None,
        )
        for i, (name, n) in enumerate(zip(names, needed, strict=True))
    )
    meeting = _meeting_stage(names)
    per_day = {s.stage: s.per_rep_per_day for s in plan_stages}
    remaining = max(target - booked, 0.0)
    level, sentence, coverage, required, expected = _judge(remaining, pipeline, win_rate,
                                                           win_rate_basis)
    return Plan(
        target=target,
        deal_size=deal_size,
        stages=plan_stages,
        deals_needed=needed[-1],
        activities_needed=needed[0],
        reps=reps,
        working_days=working_days,
        meeting_stage=meeting,
        meetings_per_rep_per_day=per_day.get(meeting) if meeting else None,
        pipeline=pipeline,
        booked=booked,
        win_rate=win_rate,
        coverage=coverage,
        required_coverage=required,
        expected_bookings=expected,
        verdict_level=level,
        verdict=sentence,
        win_rate_basis=win_rate_basis,
    )


@dataclass(frozen=True)
class WhatIf:
    """The effect of a better step or a bigger deal on the bookings of the same top-of-funnel.

    ``verdict_level`` and ``verdict`` are the plan's coverage verdict after the change: the open
    deals are assumed to pass through the improved step, so the win rate grows in proportion to
    the product of the step rates, and the pipeline's value with the deal size.
    """

    bookings_before: float
    bookings_after: float
    activities_needed_after: int
    expected_bookings_after: float | None
    top_stage: str = ""
    activities_needed_before: int = 0
    win_rate_after: float | None = None
    verdict_level: Verdict = "unknown"
    verdict: str = ""

    @property
    def change(self) -> float:
        """Return the change in bookings (after − before)."""
        return self.bookings_after - self.bookings_before

    @property
    def label(self) -> str:
        """Return the caption of the bookings figure ("Bookings from the same 2,000 at Calls")."""
        return f"Bookings from the same {self.activities_needed_before:,} at {self.top_stage}"

    def sentence(self) -> str:
        """Return what the target would then need, and what the pipeline would then bring."""
        return (
            f"The target would then need {self.activities_needed_after:,} at {self.top_stage} "
            f"instead of {self.activities_needed_before:,}; expected bookings from the open "
            f"pipeline: {format_amount(self.expected_bookings_after)}."
        )


def what_if(
    plan: Plan, step: int | None = None, points: float = 0.0, deal_size_pct: float = 0.0
) -> WhatIf:
    """Return the bookings the plan's top-of-funnel volume brings before and after a change.

    ``step`` (0 = top step) gains ``points`` percentage points of conversion (capped at 100%);
    the deal size grows by ``deal_size_pct`` percent, which also lifts the pipeline's expected
    bookings. Also returns the top-of-funnel volume the target would then need.
    """
    rates = plan.rates
    if step is not None and not 0 <= step < len(rates):
        raise DiagnosticsError(f"There is no step {step}; the plan has {len(rates)} steps.")
    if deal_size_pct <= -100:
        raise DiagnosticsError("The deal size cannot shrink by 100% or more.")
    new_rates = list(rates)
    if step is not None:
        new_rates[step] = min(max(new_rates[step] + points / 100, 1e-9), 1.0)
    new_size = plan.deal_size * (1 + deal_size_pct / 100)
    top = plan.activities_needed
    before = top * float(np.prod(rates)) * plan.deal_size
    after = top * float(np.prod(new_rates)) * new_size
    names = [s.stage for s in plan.stages]
    replanned = plan_reverse_funnel(plan.target, new_size, names, new_rates)
    win_rate = plan.win_rate
    scale = float(np.prod(new_rates)) / float(np.prod(rates)) if rates else 1.0
    if win_rate is not None:
        win_rate = min(1.0, win_rate * scale)
    pipeline = None if plan.pipeline is None else plan.pipeline * (1 + deal_size_pct / 100)
    level, sentence, _, _, expected = _judge(plan.remaining, pipeline, win_rate,
                                             plan.win_rate_basis, scale)
    return WhatIf(
        bookings_before=before,
        bookings_after=after,
        activities_needed_after=replanned.activities_needed,
        expected_bookings_after=expected,
        top_stage=plan.stages[0].stage,
        activities_needed_before=plan.activities_needed,
        win_rate_after=win_rate,
        verdict_level=level,
        verdict=sentence,
    )


def read_win_rate(percent: float) -> tuple[float, str | None]:
    """Return the win rate typed in a percent field as a share, and a note when it was reread.

    A value above 0 and below 1 is read as a share (0.25 → 25%): nobody plans on a win rate
    under 1%, while typing the share into a percent field is a common slip. Values above 100
    are refused with a DiagnosticsError.
    """
    if not math.isfinite(percent) or percent < 0 or percent > 100:
        raise DiagnosticsError(
            f"A win rate of {percent:g}% is not possible.",
            "Type a percentage from 0 to 100 (25 for 25%).",
        )
    if 0 < percent < 1:
        return percent, f"Read {percent:g} as {percent:.0%} (a share, not {percent:g}%)."
    return percent / 100, None


def implausible_rates(labels: Sequence[str], rates: Sequence[float | None]) -> list[str]:
    """Return a question for each step typed below 1% (perhaps a share typed as a percent).

    Raises DiagnosticsError for a rate above 100%.
    """
    questions = []
    for label, rate in zip(labels, rates, strict=False):
        if rate is None:
            continue
        if rate > 1:
            raise DiagnosticsError(
                f"The conversion of {label} is {rate:.0%}: a step cannot convert more than 100%.",
                "Type a percentage from 0 to 100.",
            )
        if 0 < rate < 0.01:
            questions.append(f"{label} is {rate * 100:g}%: did you mean {rate * 10_000:g}%? "
                             f"Type {rate * 10_000:g} in the percent column if so.")
    return questions


def next_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the calendar quarter after the one holding ``day``."""
    index = (day.year * 12 + day.month - 1) // 3 + 1  # quarters since year 0
    year, quarter = divmod(index, 4)
    start = dt.date(year, quarter * 3 + 1, 1)
    after = dt.date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Return the number of Monday-to-Friday days from start to end, both included."""
    if end < start:
        return 0
    return int(np.busday_count(start, end + dt.timedelta(days=1)))


@dataclass(frozen=True)
class PlanInputs:
    """Planner inputs read from the data (each one editable before planning)."""

    stages: tuple[str, ...]
    rates: tuple[float | None, ...]
    deal_size: float | None
    win_rate: float | None
    # None when open deals exist but none carries an amount: unknown, not 0.
    pipeline: float | None
    reps: int
    activity_rate: float | None
    description: str
    # The deals the win rate and step rates come from (cohorts that have had time to close).
    rate_cohort: RateCohort | None = None
    # Why the steps between the first stage and the won deal were left out (None when kept).
    steps_note: str | None = None
    # The deals behind the deal size and the pipeline (None: not counted).
    won: int | None = None
    won_with_amount: int | None = None
    open_deals: int | None = None
    open_with_amount: int | None = None
    # Open deals created longer ago than 4 in 5 won deals took to close (``aged_days``), and
    # their amounts: the pipeline counts them, though few of them will close.
    aged_deals: int = 0
    aged_pipeline: float = 0.0
    aged_days: int | None = None
    # Steps whose rate rests on fewer than MIN_STEP_DEALS deals: (label, entered, advanced).
    thin_steps: tuple[tuple[str, int, int], ...] = ()
    # (won, closed) deals of the rate cohort behind ``win_rate`` (None: not counted).
    win_rate_basis: tuple[int, int] | None = None

    def thin_steps_note(self) -> str | None:
        """Return a warning naming the step rates that rest on too few deals, else None.

        The Funnel flags the same steps (:func:`diagnostics.funnel.thin_steps_note`).
        """
        sentence = few_deals_sentence(self.thin_steps)
        return None if sentence is None else f"{sentence}: edit it if you know better."

    def rates_caption(self) -> str:
        """Return the sentence naming where the rates, deal size and pipeline come from."""
        if self.rate_cohort is None:
            caption = f"Rates, deal size, win rate and pipeline come from: {self.description}"
        else:
            caption = (f"{self.rate_cohort.sentence()} Deal size and open pipeline: "
                       f"{self.description}")
        notes = [caption, *self.amount_notes(), self.steps_note or ""]
        return " ".join(n for n in notes if n)

    def amount_notes(self) -> list[str]:
        """Return how many deals the deal size and the pipeline rest on, where it is not all.

        Says so when no won deal has an amount (the deal size must be typed) and when no open
        deal has one (the pipeline is unknown, not 0).
        """
        notes = []
        won, priced = self.won, self.won_with_amount
        if self.deal_size is None:
            notes.append(self.missing_deal_size())
        elif won and priced is not None and priced < won:
            notes.append(f"Average deal size from the {priced:,} of {won:,} won deals that "
                         "have an amount.")
        open_, known = self.open_deals, self.open_with_amount
        if open_ and known is not None and known < open_:
            notes.append(
                f"{none_has_amount(open_, 'open deal').capitalize()}, so the open pipeline is "
                "unknown (not 0): type it to check coverage." if not known else
                f"Open pipeline sums the {known:,} of {open_:,} open deals that have an amount; "
                "the others add nothing to it, so it reads low.")
        return notes

    def missing_deal_size(self) -> str:
        """Return why the data gives no average deal size (only meaningful when it gives none)."""
        if self.won:
            return (f"{none_has_amount(self.won, 'won deal').capitalize()}, so the data gives "
                    "no deal size.")
        return "No deal is won here, so the data gives no deal size."

    def step_labels(self) -> list[str]:
        """Return "From → To" for every step, top first."""
        return [f"{a} → {b}" for a, b in zip(self.stages, self.stages[1:], strict=False)]

    def with_changes(self, **changes: Any) -> PlanInputs:
        """Return a copy with the given fields replaced."""
        return replace(self, **changes)

    def source_key(self) -> tuple[Any, ...]:
        """Return what the inputs were read from and their values: it changes with the period.

        A page keeps the user's edits while this stays the same, and resets every input to the
        data's values when it changes, so no input shows an old period's figure.
        """
        return (self.description, self.stages, self.rates, self.deal_size, self.win_rate,
                self.pipeline, self.reps, self.activity_rate, self.rate_cohort)


def plan_inputs_from_data(
    dataset: Dataset,
    filters: Filters,
    rule: Rule = "furthest",
    result: FunnelResult | None = None,
    metrics: HeadlineMetrics | None = None,
) -> PlanInputs:
    """Return the stages, conversions, deal size, win rate, pipeline and reps of the filtered data.

    The win rate and the step conversions come from the deals that have had time to close
    (:func:`diagnostics.cohorts.rate_cohort`), not from a cohort still largely open. The
    activity conversion is first-stage opportunities per activity logged by the same reps in the
    same dates (None without activities). ``result`` and ``metrics`` may be passed when already
    computed for the same filters and rule.
    """
    result = result or compute_funnel(dataset, filters, rule)
    metrics = metrics or headline_metrics(dataset, filters)
    where, params = opportunity_filter_sql(filters, "o")
    reps = int(
        dataset.con.execute(
            f"SELECT count(DISTINCT rep) FROM opportunities o WHERE {where}", params
        ).fetchall()[0][0]
    )
    activity_rate = None
    if dataset.has_activities and result.stages:
        clauses, act_params = ["a.rep IN (SELECT DISTINCT o.rep FROM opportunities o WHERE "
                               f"{where})"], list(params)
        if filters.start is not None:
            clauses.append("a.activity_date >= ?")
            act_params.append(filters.start)
        if filters.end is not None:
            clauses.append("a.activity_date <= ?")
            act_params.append(filters.end)
        act_row = dataset.con.execute(
            f"SELECT count(*) FROM activities a WHERE {' AND '.join(clauses)}", act_params
        ).fetchall()[0]
        activities = int(act_row[0])
        if activities and result.stages[0].reached:
            activity_rate = result.stages[0].reached / activities
    cohort = rate_cohort(dataset, filters)
    aged_days, aged_deals, aged_pipeline = _aged_open_deals(dataset, filters,
                                                            cohort.maturity_days)
    rated, rated_metrics = result, metrics
    if cohort.filters != filters:
        rated = compute_funnel(dataset, cohort.filters, rule)
        rated_metrics = headline_metrics(dataset, cohort.filters)
    stages = tuple(s.stage for s in result.stages)
    rates = tuple(rated.next_rates())
    steps_note = _unplaced_steps_note(rated, rated_metrics.win_rate)
    thin = rated.thin_steps() if steps_note is None else ()
    if steps_note is not None:
        stages, rates = (stages[0], stages[-1]), (rated_metrics.win_rate,)
    return PlanInputs(
        stages=stages,
        rates=rates,
        deal_size=metrics.avg_won_amount,
        win_rate=rated_metrics.win_rate,
        pipeline=metrics.pipeline_known,
        reps=reps,
        activity_rate=activity_rate,
        description=result.description,
        rate_cohort=cohort,
        steps_note=steps_note,
        won=metrics.won,
        won_with_amount=metrics.won_with_amount,
        open_deals=metrics.open,
        open_with_amount=metrics.open_with_amount,
        aged_deals=aged_deals,
        aged_pipeline=aged_pipeline,
        aged_days=aged_days,
        thin_steps=thin,
        win_rate_basis=(rated_metrics.won, rated_metrics.won + rated_metrics.lost),
    )


def _aged_open_deals(
    dataset: Dataset, filters: Filters, days: int | None
) -> tuple[int | None, int, float]:
    """Return (maturity age, open deals older than it, their amounts) among the open deals.

    The open deals are those the headline pipeline sums: in the funnel, in the filters' cohort
    (open today for a closed-in-period view). A deal without a created date has no known age.
    ``days`` is the rate cohort's maturity age, worked out once; a closed-in-period cohort does
    not carry one, and it is worked out here.
    """
    if days is None and filters.cohort == "closed":
        days = maturity_days(dataset, filters)
    if days is None:
        return None, 0, 0.0
    if filters.cohort == "closed":
        filters = replace(filters, start=None, end=None, cohort="created")
    where, params = opportunity_filter_sql(filters, "o")
    row = dataset.con.execute(
        f"""SELECT count(*), coalesce(sum(o.amount), 0) FROM opportunities o
            WHERE o.status = 'open' AND o.reached_rank IS NOT NULL
              AND o.created_date < CAST(? AS DATE) - ?::INTEGER AND {where}""",
        [dataset.as_of, days, *params],
    ).fetchall()[0]
    return days, int(row[0]), float(row[1])


def aged_pipeline_warning(inputs: PlanInputs, plan: Plan) -> str | None:
    """Return a warning when the plan's verdict rests on open deals older than won deals take.

    An open deal created longer ago than 4 in 5 won deals took to close is past the age by
    which deals are usually won, yet the coverage check counts it at the full win rate. Only
    said when the plan uses the data's pipeline and the verdict would differ without those
    deals; the warning then gives that verdict too.
    """
    if (not inputs.aged_deals or not inputs.aged_pipeline or inputs.aged_days is None
            or plan.pipeline is None or plan.pipeline != inputs.pipeline
            or plan.verdict_level in ("made", "unknown", "uncertain")):
        return None
    rest = max(plan.pipeline - inputs.aged_pipeline, 0.0)
    level, sentence, _, _, _ = _judge(plan.remaining, rest, plan.win_rate, plan.win_rate_basis)
    if level == plan.verdict_level:
        return None
    return (
        f"{inputs.aged_deals:,} of the {inputs.open_deals or inputs.aged_deals:,} open deals, "
        f"{format_amount(inputs.aged_pipeline)} of the {format_amount(plan.pipeline)} pipeline, "
        f"were created more than {inputs.aged_days:,} days ago and are still open; only 1 in 5 "
        "won deals took that long to close, yet the check above counts them at the full win "
        f"rate. Without them — {sentence}"
    )


def _unplaced_steps_note(rated: FunnelResult, win_rate: float | None) -> str | None:
    """Return why the plan skips the steps when too few lost deals have a known stage.

    A lost deal with no record of how far it got is charged to no step, so every step's
    conversion then counts the deals that moved on and few of those that stopped: each reads far
    too high (on an export without stage history, 94% at every step beside a 16% win rate). The
    plan then works from the first stage straight to the won deal at the win rate, which is
    measured. None when at least :data:`MIN_KNOWN_LOST_SHARE` of the lost deals are placed.
    """
    share = rated.lost_stage_known_share
    if share is None or share >= MIN_KNOWN_LOST_SHARE or len(rated.stages) < 3 or not win_rate:
        return None
    known = sum(s.lost_here for s in rated.stages)
    lost = known + rated.lost_stage_unknown
    return (
        f"Only {known:,} of {lost:,} lost deals ({format_rate(share)}) have a known stage, so the "
        "step conversions would count the deals that moved on and not those that stopped: the "
        f"plan goes from {rated.stages[0].stage} straight to {rated.stages[-1].stage} at the win "
        "rate. Stage history or “Date entered” columns on the Data page would give every step."
    )
