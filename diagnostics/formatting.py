"""How numbers, money, rates and dates read everywhere: pages, CLI text, charts and reports.

Every formatter returns "—" (:data:`DASH`) for a value that is undefined: None, NaN or infinite.
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = [
    "DASH",
    "format_amount",
    "format_count",
    "format_date",
    "format_days",
    "format_number",
    "format_per_day",
    "format_period",
    "format_rate",
]

DASH = "—"


def _undefined(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def format_rate(value: float | None, digits: int = 0) -> str:
    """Return a share as a percentage such as "35%", or "—" when the rate is undefined."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value * 100:.{digits}f}%"


def format_count(value: float | None) -> str:
    """Return a whole number with thousands separators ("1,234"), or "—" when undefined.

    Also the exact form of a money amount, where rounding to "1.2M" would hide the figure.
    """
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:,.0f}"


def format_amount(value: float | None) -> str:
    """Return a money amount ("1,234", "85k", "1.2M"), or "—" when undefined."""
    if value is None or not math.isfinite(value):
        return DASH
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if size >= 10_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


def format_days(value: float | None) -> str:
    """Return a number of days ("42 days"), or "—" when undefined."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:,.0f} days"


def format_number(value: float | None, spec: str = ".1f") -> str:
    """Return a score, mean or spread in the format ``spec`` ("3.4"), or "—" when undefined."""
    if _undefined(value):
        return DASH
    return format(value, spec)


def format_per_day(value: float | None) -> str:
    """Return a per-rep-per-day figure ("1.25"), or "—" when reps or days are unknown."""
    return format_number(value, ",.2f")


def none_has_amount(count: int, noun: str) -> str:
    """Return "none of the 3 open deals has an amount" ("the one open deal has no amount")."""
    return (f"the one {noun} has no amount" if count == 1
            else f"none of the {count:,} {noun}s has an amount")


def format_date(day: dt.date) -> str:
    """Return a date as "01 Apr 2026": day first and the month spelt, unambiguous everywhere."""
    return f"{day:%d %b %Y}"


def format_period(start: dt.date | None, end: dt.date | None) -> str:
    """Return a period as "01 Apr 2026 – 30 Jun 2026", "any date" at an open end."""
    if start is None and end is None:
        return "any date"
    first = "any date" if start is None else format_date(start)
    last = "any date" if end is None else format_date(end)
    return f"{first} – {last}"
