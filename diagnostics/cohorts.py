"""Which deals to take planning rates from: cohorts that have had time to close.

Deals created in the last weeks are mostly still open. The ones already closed are the quick
ones, and quick deals are more often lost, while the open ones sit at early stages: a young
cohort's win rate and step rates read far lower than they will end up (right-censoring). A plan
built on them asks for far more pipeline than the team needs.

The rule, for a cohort of deals created in a period:

1. The maturity age is how long won deals take to close: the age by which 4 in 5 of them
   (``MATURITY_QUANTILE``) were won, over every won deal with both dates (same segment, rep…
   filters, any period). A deal created at least that long before the data's as-of date has
   had time to close.
2. Rates come from the deals of the period created before that cut-off (the matured part of
   the period) when it holds at least ``MIN_CLOSED`` closed deals.
3. Otherwise from every matured deal, whatever its created date, when that holds enough.
4. Otherwise from the deals won or lost in the period ("Closed in period": none still open).
5. When no view holds enough closed deals, the first of them (in that order) holding any closed
   deal is used, and the rates are said to be rough.

A cohort of deals closed in a period has no open deal and is used as it is (said to be rough
below ``MIN_CLOSED`` closed deals).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from diagnostics.dataset import Dataset, Filters, opportunity_filter_sql
from diagnostics.formatting import format_date, format_rate
from diagnostics.stats import wilson_interval

__all__ = [
    "MATURITY_QUANTILE",
    "MIN_CLOSED",
    "RateCohort",
    "maturity_days",
    "rate_cohort",
    "rough_rate_range",
    "rate_rests_on",
]

# The share of won deals that closed within the maturity age: a cohort that old has had time
# for most of its wins to land (the median would leave half of them still open).
MATURITY_QUANTILE = 0.8
# Fewer closed deals than this make a win rate that moves by several points with one deal.
MIN_CLOSED = 20

Kind = Literal["matured", "closed", "shown"]


def rough_rate_range(won: int, closed: int) -> tuple[float, float] | None:
    """Return the 95% range of rates ``won`` of ``closed`` deals fit (Wilson), when ``closed``
    is fewer than MIN_CLOSED; None with enough closed deals, or none. A verdict on such a rate
    gives the range of outcomes this allows (the planner's and the questionnaire's coverage)."""
    if not 0 < closed < MIN_CLOSED:
        return None
    low, high = wilson_interval(won, closed)
    if low is None or high is None:
        return None
    return low, high


def rate_rests_on(won: int, closed: int) -> str:
    """Return what a rate of ``won`` of ``closed`` deals rests on, for a sentence.

    "on 1,234 closed deals" with enough of them; below MIN_CLOSED, "on only 5 closed deals
    (few deals: any rate from 12% to 77% fits them, 95% interval)", the range of
    :func:`rough_rate_range`.
    """
    deals = f"{closed:,} closed deal{'s' if closed != 1 else ''}"
    band = rough_rate_range(won, closed)
    if band is None:
        return f"on {deals}"
    return (f"on only {deals} (few deals: any rate from {format_rate(band[0])} to "
            f"{format_rate(band[1])} fits them, 95% interval)")


@dataclass(frozen=True)
class RateCohort:
    """The deals planning rates come from, how many they are, and why they were chosen.

    ``kind`` is "matured" (created before ``cutoff``), "closed" (won or lost in the period) or
    "shown" (the view on screen, when nothing better holds closed deals). ``reason`` says why
    the period on screen was not used as it is (None when it was).
    """

    kind: Kind
    filters: Filters
    deals: int
    closed: int
    still_open: int
    cutoff: dt.date | None
    maturity_days: int | None
    reason: str | None = None
    enough: bool = True
    min_closed: int = MIN_CLOSED

    def sentence(self, rates: str = "Win rate and step rates") -> str:
        """Return the caption naming the cohort window, its size and, if any, the fallback."""
        text = (f"{rates} from {self.filters.describe()}: {self.deals:,} deals, "
                f"{self.closed:,} of them closed.")
        if self.kind == "matured":
            text += (f" Each was created at least {self.maturity_days} days before the data's "
                     f"last date (4 in 5 won deals closed within {self.maturity_days} days), so "
                     "it has had time to close.")
        elif self.kind == "closed":
            text += " None is still open, so no young deal pulls the rates down."
        if self.reason:
            text += f" {self.reason}"
        if not self.enough:
            text += (f" Fewer than {self.min_closed} closed deals: treat these rates as rough "
                     "and edit them if you know better.")
        return text


def maturity_days(dataset: Dataset, filters: Filters) -> int | None:
    """Return the age (days) by which 4 in 5 won deals were won, or None without a won deal.

    Only the category filters (segment, rep…) apply: the period does not, since how long deals
    take is learnt from every won deal.
    """
    where, params = opportunity_filter_sql(replace(filters, start=None, end=None,
                                                   cohort="created"), "o")
    row = dataset.con.execute(
        f"""SELECT quantile_disc(date_diff('day', o.created_date, o.close_date), ?)
            FROM opportunities o
            WHERE o.status = 'won' AND o.close_date >= o.created_date AND {where}""",
        [MATURITY_QUANTILE, *params],
    ).fetchall()[0]
    return None if row[0] is None else max(int(row[0]), 1)


def _counts(dataset: Dataset, filters: Filters) -> tuple[int, int, int]:
    """Return (deals, closed, open) of the filtered deals."""
    where, params = opportunity_filter_sql(filters, "o")
    row = dataset.con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE o.status IN ('won', 'lost')),
                   count(*) FILTER (WHERE o.status = 'open')
            FROM opportunities o WHERE {where}""",
        params,
    ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def _cohort(
    dataset: Dataset, kind: Kind, filters: Filters, cutoff: dt.date | None, days: int | None
) -> RateCohort:
    deals, closed, still_open = _counts(dataset, filters)
    return RateCohort(kind, filters, deals, closed, still_open, cutoff, days)


def _candidates(dataset: Dataset, filters: Filters) -> list[tuple[RateCohort, str | None]]:
    """Return the cohorts to try, best first, each with the reason it replaces the period."""
    closed_view = replace(filters, cohort="closed")
    days = maturity_days(dataset, filters)
    if days is None:
        no_cycle = ("No won deal has both a created and a close date, so how long deals take "
                    "to close is unknown: deals won or lost in the period stand in.")
        return [(_cohort(dataset, "closed", closed_view, None, None), no_cycle)]
    cutoff = dataset.as_of - dt.timedelta(days=days)
    out: list[tuple[RateCohort, str | None]] = []
    if filters.start is None or filters.start <= cutoff:
        end = cutoff if filters.end is None else min(filters.end, cutoff)
        matured = replace(filters, end=end)
        reason = None if matured == filters else (
            f"Deals created after {format_date(cutoff)} are left out: too young to have "
            "closed.")
        out.append((_cohort(dataset, "matured", matured, cutoff, days), reason))
    if filters.start is not None:
        everything = replace(filters, start=None, end=cutoff)
        out.append((_cohort(dataset, "matured", everything, cutoff, days),
                     f"The period holds too few deals created by {format_date(cutoff)} to "
                     "have closed: every older deal stands in."))
    out.append((_cohort(dataset, "closed", closed_view, cutoff, days),
                f"Too few deals created by {format_date(cutoff)} have closed: deals won or "
                "lost in the period stand in."))
    return out


def rate_cohort(dataset: Dataset, filters: Filters, min_closed: int = MIN_CLOSED) -> RateCohort:
    """Return the cohort planning rates should come from for the view ``filters`` shows.

    See the module docstring for the rule. A closed-in-period view is returned as it is.
    """
    if filters.cohort == "closed":
        closed = _cohort(dataset, "closed", filters, None, None)
        # Nothing better to take: the view is used, but a handful of deals is said to be rough.
        return closed if closed.closed >= min_closed else replace(
            closed, enough=False, min_closed=min_closed)
    candidates = _candidates(dataset, filters)
    for cohort, reason in candidates:
        if cohort.closed >= min_closed:
            return replace(cohort, reason=reason)
    best, reason = next((pair for pair in candidates if pair[0].closed), candidates[0])
    if best.closed == 0:
        shown = _cohort(dataset, "shown", filters, best.cutoff, best.maturity_days)
        return replace(shown, enough=False, min_closed=min_closed, reason=(
            "No deal that had time to close is closed yet: the rates are those of the view "
            "shown and will move as its deals close."))
    return replace(best, reason=reason, enough=False, min_closed=min_closed)
