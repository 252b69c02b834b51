"""The room's view beside the data: what a CRM export says about statements the data can check.

Each finding comes from the app's own analyses (the funnel, its breakages, the headline numbers),
never from a second implementation here. Statements the data cannot check get no evidence.
The period is the last full calendar quarter of the data (deals closed in it), compared with the
quarter before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diagnostics.breakage import find_breakages
from diagnostics.dataset import Dataset, Filters
from diagnostics.formatting import format_amount, format_rate
from diagnostics.funnel import compute_funnel
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
    """Return the step whose conversion moved most between the quarter and the one before."""
    before = quarter.previous_period()
    if before is None:
        return None
    now, then = compute_funnel(dataset, quarter), compute_funnel(dataset, before)
    moves = []
    for s_now, s_then, nxt in zip(now.stages, then.stages, now.stages[1:], strict=False):
        a, b = s_now.next_step_conversion, s_then.next_step_conversion
        if a is not None and b is not None:
            moves.append((abs(a - b), s_now.stage, nxt.stage, a, b))
    if not moves:
        return None
    _, frm, to, a, b = max(moves)
    verb = "fell" if a < b else "rose" if a > b else "held at"
    points = abs(a - b) * 100
    period = f"{quarter.start:%b}–{quarter.end:%b %Y}"
    return (f"{frm} → {to} {verb} {points:.0f} points for deals closed in {period} "
            f"({format_rate(b)} → {format_rate(a)}), the largest move of any step.")


def _biggest_breakage(dataset: Dataset, quarter: Filters) -> str | None:
    report = find_breakages(dataset, quarter, reference="best_reps")
    return report.sentence() if report.biggest is not None else None


def _pipeline(dataset: Dataset) -> str | None:
    numbers = numbers_from_dataset(dataset)
    pipeline, win = numbers.get("open_pipeline"), numbers.get("win_rate")
    if pipeline is None:
        return None
    tail = (f"; at the data's win rate of {format_rate(win)} it would bring about "
            f"{format_amount(pipeline * win)}" if win is not None else "")
    return f"Open pipeline is {format_amount(pipeline)}{tail}."


def _win_rate(dataset: Dataset) -> str | None:
    win = numbers_from_dataset(dataset).get("win_rate")
    return None if win is None else f"The data's win rate is {format_rate(win)}."


# statement id -> (source shown to people, the analysis that checks it)
_CHECKS: dict[str, tuple[str, Callable[[Dataset, Filters], str | None]]] = {
    "fun_conversion": ("Funnel, quarter on quarter", _conversion_change),
    "fun_fix_one": ("Funnel breakages against the best reps", _biggest_breakage),
    "plan_coverage": ("Headline numbers", lambda d, _: _pipeline(d)),
    "plan_forecast": ("Headline numbers", lambda d, _: _win_rate(d)),
}


def evidence_for(dataset: Dataset) -> tuple[Evidence, ...]:
    """Return what the data says about each statement it can check (none when it cannot)."""
    start, end = last_full_quarter(dataset.as_of)
    quarter = Filters(cohort="closed").with_period(start, end)  # settled deals only
    found = []
    for qid, (source, check) in _CHECKS.items():
        finding = check(dataset, quarter)
        if finding:
            found.append(Evidence(qid, finding, source))
    return tuple(found)
