"""The room's view beside the data: what a CRM export says about statements the data can check.

Each finding comes from the app's own analyses (the funnel, its breakages, the headline numbers),
never from a second implementation here. Statements the data cannot check get no evidence.
The period is the last full calendar quarter of the data (deals closed in it), compared with the
quarter before. A finding says how many deals it rests on, and below the app's small-sample
rules (a win rate on fewer than 20 closed deals, a step rate on fewer than 5 deals) says "few
deals" with the counts and the range the rate's deals fit, as the Funnel and the planner do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from diagnostics.breakage import find_breakages
from diagnostics.cohorts import rate_rests_on, rough_rate_range
from diagnostics.dataset import Dataset, Filters
from diagnostics.formatting import format_amount, format_rate
from diagnostics.funnel import MIN_STEP_DEALS, StageCount, compute_funnel
from diagnostics.questionnaire import numbers_from_dataset


@dataclass(frozen=True)
class Evidence:
    """What the data says about one statement, to show beside the room's average rating."""

    question_id: str
    finding: str
    source: str  # which analysis it comes from, as shown to people

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: question_id, finding, source."""
        return {"question_id": self.question_id, "finding": self.finding, "source": self.source}


def last_full_quarter(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the last calendar quarter ending on or before ``as_of``."""
    first_month = (as_of.month - 1) // 3 * 3 + 1
    start = dt.date(as_of.year, first_month, 1)
    this_end = dt.date(as_of.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    if this_end - dt.timedelta(days=1) <= as_of:  # as_of is a quarter's last day
        return start, this_end - dt.timedelta(days=1)
    prev_start_month = first_month - 3 if first_month > 3 else 10
    prev_start = dt.date(as_of.year - (first_month == 1), prev_start_month, 1)
    return prev_start, start - dt.timedelta(days=1)


def _conversion_change(dataset: Dataset, quarter: Filters) -> str | None:
    """Return the step whose conversion moved most between the quarter and the one before.

    Steps resting on at least MIN_STEP_DEALS deals in both quarters are compared first; a move
    on fewer (one deal moves such a rate by 25 points or more) is named only when no other step
    can be compared, and says "few deals". Each rate carries the deals it rests on.
    """
    before = quarter.previous_period()
    if before is None:
        return None
    now, then = compute_funnel(dataset, quarter), compute_funnel(dataset, before)
    moves = []
    for s_now, s_then, nxt in zip(now.stages, then.stages, now.stages[1:], strict=False):
        a, b = s_now.next_step_conversion, s_then.next_step_conversion
        if a is not None and b is not None:
            thin = s_now.is_thin or s_then.is_thin
            moves.append((not thin, abs(a - b), s_now.stage, nxt.stage, s_now, s_then))
    if not moves:
        return None
    enough, _, frm, to, s_now, s_then = max(moves, key=lambda m: m[:2])
    a, b = s_now.next_step_conversion or 0.0, s_then.next_step_conversion or 0.0
    verb = "fell" if a < b else "rose" if a > b else "held at"
    points = abs(a - b) * 100
    period = f"{quarter.start:%b}–{quarter.end:%b %Y}"
    which = "the largest move of any step"
    if not enough:
        which += (f", but on few deals: fewer than {MIN_STEP_DEALS} entered it in a quarter, "
                  "and one deal going the other way moves such a rate by 25 points or more")
    elif not all(m[0] for m in moves):
        which += f" resting on {MIN_STEP_DEALS} or more deals in both quarters"
    return (f"{frm} → {to} {verb} {points:.0f} points for deals closed in {period} "
            f"({_rate_of(s_then)} → {_rate_of(s_now)}), {which}.")


def _rate_of(stage: StageCount) -> str:
    """Return "40% (2 of 5 deals)": a step rate with the deals it rests on."""
    return (f"{format_rate(stage.next_step_conversion)} ({stage.advanced:,} of "
            f"{stage.reached:,} deals)")


def _biggest_breakage(dataset: Dataset, quarter: Filters) -> str | None:
    report = find_breakages(dataset, quarter, reference="best_reps")
    return report.sentence() if report.biggest is not None else None


def _win_rate_basis(numbers: Mapping[str, float]) -> tuple[int, int] | None:
    """Return (won, closed) deals behind the data's win rate (None without a count)."""
    win, closed = numbers.get("win_rate"), numbers.get("win_rate_closed_deals")
    if win is None or closed is None:
        return None
    count = int(closed)
    return min(round(win * count), count), count


def _pipeline(numbers: Mapping[str, float]) -> str | None:
    pipeline, win = numbers.get("open_pipeline"), numbers.get("win_rate")
    if pipeline is None:
        return None
    if win is None:
        return f"Open pipeline is {format_amount(pipeline)}."
    basis = _win_rate_basis(numbers)
    rests = "" if basis is None else f", {rate_rests_on(*basis)},"
    band = None if basis is None else rough_rate_range(*basis)
    spread = ("" if band is None else
              f", anywhere from {format_amount(pipeline * band[0])} to "
              f"{format_amount(pipeline * band[1])} at the rates those deals fit")
    return (f"Open pipeline is {format_amount(pipeline)}; at the data's win rate of "
            f"{format_rate(win)}{rests} it would bring about {format_amount(pipeline * win)}"
            f"{spread}.")


def _win_rate(numbers: Mapping[str, float]) -> str | None:
    win = numbers.get("win_rate")
    if win is None:
        return None
    basis = _win_rate_basis(numbers)
    rests = "" if basis is None else f", {rate_rests_on(*basis)}"
    return f"The data's win rate is {format_rate(win)}{rests}."


_Finding = Callable[[Dataset, Filters, Mapping[str, float]], str | None]
# statement id -> (source shown to people, the analysis that checks it)
_CHECKS: dict[str, tuple[str, _Finding]] = {
    "fun_conversion": ("Funnel, quarter on quarter", lambda d, q, _: _conversion_change(d, q)),
    "fun_fix_one": ("Funnel breakages against the best reps",
                    lambda d, q, _: _biggest_breakage(d, q)),
    "plan_coverage": ("Headline numbers", lambda _d, _q, n: _pipeline(n)),
    "plan_forecast": ("Headline numbers", lambda _d, _q, n: _win_rate(n)),
}


def evidence_for(dataset: Dataset) -> tuple[Evidence, ...]:
    """Return what the data says about each statement it can check (none when it cannot)."""
    start, end = last_full_quarter(dataset.as_of)
    quarter = Filters(cohort="closed").with_period(start, end)  # settled deals only
    numbers = numbers_from_dataset(dataset)  # once: it runs the forecast too
    found = []
    for qid, (source, check) in _CHECKS.items():
        finding = check(dataset, quarter, numbers)
        if finding:
            found.append(Evidence(qid, finding, source))
    return tuple(found)
