"""The Data page's chart: deals by the month they were created, by where they stand now."""

from __future__ import annotations

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE

__all__ = ["deals_by_month_chart"]

_STATUSES = ["won", "lost", "open", "parked"]
_COLOURS = [PALETTE["won"], PALETTE["lost_here"], PALETTE["open_here"], PALETTE["too_few"]]


def deals_by_month_chart(frame: pd.DataFrame) -> alt.Chart:
    """Return stacked bars of deals per created month (``diagnostics.dataset.deals_by_month``).

    Each bar splits into won, lost, still open and parked (open in an excluded stage, out of the
    funnel); a month with no deal has no bar, so a gap in an export shows as one.
    """
    totals = frame.groupby("month", sort=True)["deals"].sum()
    stamps = [pd.Timestamp(m) for m in totals.index]
    months = [f"{m:%b %Y} {int(n):,}" for m, n in zip(stamps, totals, strict=True)]
    span = f" from {stamps[0]:%b %Y} to {stamps[-1]:%b %Y}" if stamps else ""
    description = (f"Deals by the month they were created{span}, split into won, lost, open and "
                   f"parked: {listing(months)}.")
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            alt.X("month", type="temporal", timeUnit="yearmonth", title="Month created"),
            alt.Y("deals", type="quantitative", stack="zero", title="Deals"),
            alt.Color("status", type="nominal", title="Now",
                      scale=alt.Scale(domain=_STATUSES, range=_COLOURS)),
            alt.Order("status_order", type="quantitative"),
            tooltip=[alt.Tooltip("month", type="temporal", timeUnit="yearmonth", title="Month"),
                     alt.Tooltip("status", type="nominal", title="Now"),
                     alt.Tooltip("deals", type="quantitative", title="Deals", format=",")],
        )
        .transform_calculate(status_order=f"indexof({_STATUSES}, datum.status)")
        .properties(height=160, title="Deals by month created", description=description)
    )
    return chart
