"""Numbers, money, rates and dates read the same everywhere, with "—" for anything undefined."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import pytest

from diagnostics import formatting as fmt

D = dt.date


@pytest.mark.parametrize(
    ("value", "rate", "amount", "count"),
    [(None, "—", "—", "—"), (math.nan, "—", "—", "—"), (math.inf, "—", "—", "—"),
     (0.355, "36%", "0", "0"), (9_999.4, "999940%", "9,999", "9,999"),
     (1_234_567.0, "123456700%", "1.2M", "1,234,567"), (45_000.0, "4500000%", "45k", "45,000"),
     (-45_000.0, "-4500000%", "-45k", "-45,000")],
)
def test_rates_amounts_and_counts(value: float | None, rate: str, amount: str, count: str) -> None:
    assert (fmt.format_rate(value), fmt.format_amount(value), fmt.format_count(value)) == (
        rate, amount, count)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.4861, 0, "49%"), (0.4861, 1, "48.6%"), (1.0, 0, "100%"), (0.0, 1, "0.0%")],
)
def test_rate_digits(value: float, digits: int, expected: str) -> None:
    assert fmt.format_rate(value, digits) == expected


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: fmt.format_days(41.6), "42 days"),
        (lambda: fmt.format_days(None), "—"),
        (lambda: fmt.format_number(3.456), "3.5"),
        (lambda: fmt.format_number(3.456, ".2f"), "3.46"),
        (lambda: fmt.format_number(72.5, ".0f"), "72"),  # round half to even, as format() does
        (lambda: fmt.format_number(math.nan), "—"),
        (lambda: fmt.format_per_day(1234.567), "1,234.57"),
        (lambda: fmt.format_per_day(None), "—"),
    ],
)
def test_days_scores_and_per_day_figures(call: Callable[[], str], expected: str) -> None:
    assert call() == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 4, 1), D(2026, 6, 30), "01 Apr 2026 – 30 Jun 2026"),
        (None, D(2026, 6, 30), "any date – 30 Jun 2026"),
        (D(2026, 4, 1), None, "01 Apr 2026 – any date"),
        (None, None, "any date"),
    ],
)
def test_periods(start: dt.date | None, end: dt.date | None, expected: str) -> None:
    assert fmt.format_period(start, end) == expected


def test_dates_put_the_day_first_and_spell_the_month() -> None:
    assert fmt.format_date(D(2026, 3, 9)) == "09 Mar 2026"
