"""How good the forecast has been: rerun as of the middle of each past quarter, against actuals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from diagnostics.forecast._deals import LOST, NO_DATE, WON, Deals, day_number, pipeline_amounts
from diagnostics.forecast._model import (
    learn_history,
    new_pipeline_wins,
    open_probabilities,
    open_view_at,
)

# A quarter is checked only when this many deals had closed by its middle: fewer teach nothing.
MIN_CLOSED = 30
# ... and when the data had begun at least this many days before it.
MIN_HISTORY_DAYS = 90


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the calendar quarter holding ``day``."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    after = dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(
        day.year, first_month + 3, 1)
    return start, after - dt.timedelta(days=1)


@dataclass(frozen=True)
class BacktestPoint:
    """One past quarter: the forecast made at its middle and what was actually booked."""

    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    forecast: float
    actual: float

    @property
    def error(self) -> float | None:
        """Return |forecast − actual| ÷ actual, or None when nothing was booked."""
        return abs(self.forecast - self.actual) / self.actual if self.actual > 0 else None

    def to_json(self) -> dict[str, Any]:
        """Return the point as a JSON-ready dict."""
        return {"as_of": self.as_of.isoformat(), "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(), "forecast": self.forecast,
                "actual": self.actual}


@dataclass(frozen=True)
class Backtest:
    """The forecast's record on past quarters, and why there is none when there is none."""

    points: tuple[BacktestPoint, ...]
    note: str

    @property
    def mean_abs_pct_error(self) -> float | None:
        """Return the mean of |forecast − actual| ÷ actual over quarters that booked anything."""
        errors = [p.error for p in self.points if p.error is not None]
        return float(np.mean(errors)) if errors else None

    def to_json(self) -> dict[str, Any]:
        """Return the backtest as the command line prints it."""
        return {"points": [p.to_json() for p in self.points],
                "mean_abs_pct_error": self.mean_abs_pct_error}


def _quarters(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date, dt.date]]:
    """Return (middle, start, end) of every quarter that starts on or after ``first``'s quarter
    and ends on or before ``last``."""
    out = []
    start, end = quarter_of(first)
    while end <= last:
        out.append((start + (end - start) / 2, start, end))
        start, end = quarter_of(end + dt.timedelta(days=1))
    return out


def forecast_mean(deals: Deals, as_of: int, start: int, end: int) -> float:
    """Return the expected bookings of [start, end] as the model saw them on ``as_of``."""
    evidence = deals.evidence()
    known = (deals.created <= as_of) & (deals.created < NO_DATE)
    history = learn_history(deals, evidence, as_of, known)
    window = (start - 1, end)
    view = open_view_at(deals, evidence, as_of)
    probabilities = open_probabilities(history, view, as_of, window)
    amounts = pipeline_amounts(deals, view.index)  # as the forecast itself counts them
    won = deals.status == WON
    closed = won & (deals.closed >= start) & (deals.closed <= min(as_of, end))
    new = new_pipeline_wins(history, as_of, window)
    new_value = new * float(history.won_amounts.mean()) if history.won_amounts.size else 0.0
    return float(np.nan_to_num(deals.amount[closed]).sum() + (amounts * probabilities).sum()
                 + new_value)


def run_backtest(deals: Deals, as_of: dt.date) -> Backtest:
    """Return the forecast rerun as of the middle of every past quarter the data allows.

    Each run sees only what was known on its date: deals created by then, outcomes closed by
    then, and (with a stage history) the stage each open deal had reached by then.
    """
    created = deals.created[deals.created < NO_DATE]
    if created.size == 0:
        return Backtest((), "The data has no creation dates: the forecast cannot be checked.")
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(created.min()))
    closed_days = np.sort(deals.closed[(deals.status == WON) | (deals.status == LOST)])
    points = []
    for middle, start, end in _quarters(first, as_of):
        m = day_number(middle)
        if (middle - first).days < MIN_HISTORY_DAYS:
            continue
        if int(np.searchsorted(closed_days, m, side="right")) < MIN_CLOSED:
            continue
        won = (deals.status == WON) & (deals.closed >= day_number(start)) & (
            deals.closed <= day_number(end))
        actual = float(np.nan_to_num(deals.amount[won]).sum())
        forecast = forecast_mean(deals, m, day_number(start), day_number(end))
        points.append(BacktestPoint(middle, start, end, forecast, actual))
    return Backtest(tuple(points), _note(points, deals, first, as_of))


def _note(points: list[BacktestPoint], deals: Deals, first: dt.date, as_of: dt.date) -> str:
    span = f"The data runs from {first:%d %b %Y} to {as_of:%d %b %Y}"
    if not points:
        return (f"{span}: too short to check the forecast. A check needs a finished quarter "
                f"whose middle falls at least {MIN_HISTORY_DAYS} days after the first deal, "
                f"with {MIN_CLOSED} deals closed by then.")
    evidence = deals.evidence()
    text = (f"{span}: the forecast was rerun as of the middle of {len(points)} past "
            f"quarter{'s' if len(points) > 1 else ''}, each time with only what was known then.")
    if evidence != "history":
        text += (" Without a stage history the stage each open deal had then is not known: "
                 "these reruns treat every open deal alike, from its creation date.")
    return text
