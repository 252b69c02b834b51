"""Forecast charts: the spread of bookings with the target marked, and the backtest record.

Both take a handful of aggregate rows: 60 bars for the spread, one point per past quarter.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.forecast import Backtest, Forecast
from diagnostics.formatting import format_amount, format_rate

__all__ = ["BARS", "backtest_chart", "backtest_rows", "distribution_chart", "distribution_rows"]

BARS = 60
TARGET_COLOUR = PALETTE["lost_here"]
REACHED = PALETTE["won"]
SHORT = PALETTE["short"]


def distribution_rows(forecast: Forecast, bars: int = BARS) -> pd.DataFrame:
    """Return one row per bar: its amount range, probability and whether it reaches the target."""
    lower, upper, mass = forecast.distribution.histogram(bars)
    return pd.DataFrame({
        "from": lower,
        "to": upper,
        "probability": mass,
        "outcome": ["Reaches the target" if lo >= forecast.target else "Short of the target"
                    for lo in lower],
        "range": [f"{format_amount(lo)} – {format_amount(hi)}" for lo, hi in
                  zip(lower, upper, strict=True)],
    })


def distribution_chart(forecast: Forecast) -> alt.LayerChart:
    """Return bars of how likely each total of bookings is, with P10/P50/P90 and the target."""
    bars = alt.Chart(distribution_rows(forecast)).mark_bar().encode(
        x=alt.X("from:Q", title="Bookings in the period", axis=alt.Axis(format="~s")),
        x2="to:Q",
        y=alt.Y("probability:Q", title="Probability", axis=alt.Axis(format="%")),
        y2=alt.datum(0),  # bars stand on the axis (x2 alone would draw thin ranged bars)
        color=alt.Color(
            "outcome:N", title=None, legend=alt.Legend(orient="top"),
            scale=alt.Scale(domain=["Short of the target", "Reaches the target"],
                            range=[SHORT, REACHED]),
        ),
        tooltip=[alt.Tooltip("range:N", title="Bookings"),
                 alt.Tooltip("probability:Q", title="Probability", format=".1%")],
    )
    marks = pd.DataFrame({
        "amount": [forecast.percentile(q) for q in (0.1, 0.5, 0.9)] + [forecast.target],
        "label": ["P10", "P50", "P90", "Target"],
    })
    percentiles = alt.Chart(marks.iloc[:3]).mark_rule(
        strokeDash=[4, 3], color=PALETTE["line"]).encode(
        x="amount:Q", tooltip=["label:N", alt.Tooltip("amount:Q", format=",.0f")])
    labels = alt.Chart(marks).mark_text(dy=-6, align="left", dx=3, baseline="bottom").encode(
        x="amount:Q", y=alt.value(0), text="label:N",
        color=alt.condition(alt.datum.label == "Target", alt.value(TARGET_COLOUR),
                            alt.value(PALETTE["line"])))
    target = alt.Chart(marks.iloc[3:]).mark_rule(color=TARGET_COLOUR, size=2).encode(
        x="amount:Q", tooltip=["label:N", alt.Tooltip("amount:Q", format=",.0f")])
    description = (
        f"Likely bookings in the period: P10 {format_amount(forecast.percentile(0.1))}, "
        f"P50 {format_amount(forecast.percentile(0.5))}, "
        f"P90 {format_amount(forecast.percentile(0.9))}; target {format_amount(forecast.target)}, "
        f"reached with a {format_rate(forecast.p_target)} chance."
    )
    return alt.LayerChart(layer=[bars, percentiles, target, labels]).properties(
        height=260, description=description)


def backtest_rows(backtest: Backtest) -> pd.DataFrame:
    """Return two rows per past quarter: what was forecast at its middle, and what was booked."""
    rows = []
    for point in backtest.points:
        quarter = f"Q{(point.period_start.month - 1) // 3 + 1} {point.period_start.year}"
        rows.append({"quarter": quarter, "series": "Forecast at mid-quarter",
                     "amount": point.forecast, "as_of": point.as_of.isoformat()})
        rows.append({"quarter": quarter, "series": "Actually booked", "amount": point.actual,
                     "as_of": point.as_of.isoformat()})
    return pd.DataFrame(rows, columns=["quarter", "series", "amount", "as_of"])


def backtest_chart(backtest: Backtest) -> alt.Chart:
    """Return forecast and actual bookings side by side for each past quarter."""
    rows = backtest_rows(backtest)
    chart: alt.Chart = alt.Chart(rows).mark_bar().encode(
        x=alt.X("quarter:N", title=None, sort=list(dict.fromkeys(rows["quarter"]))),
        xOffset=alt.XOffset("series:N", sort=["Forecast at mid-quarter", "Actually booked"]),
        y=alt.Y("amount:Q", title="Bookings in the quarter", axis=alt.Axis(format="~s")),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top"),
                        sort=["Forecast at mid-quarter", "Actually booked"],
                        scale=alt.Scale(range=[PALETTE["moved_on"], PALETTE["won"]])),
        tooltip=["quarter:N", "series:N", alt.Tooltip("amount:Q", format=",.0f"),
                 alt.Tooltip("as_of:N", title="Forecast as of")],
    ).properties(height=240, description=(
        "Forecast at mid-quarter against what was booked: " + listing([
            f"{q} forecast {format_amount(f)}, booked {format_amount(a)}"
            for q, f, a in zip(rows["quarter"][::2], rows["amount"][::2], rows["amount"][1::2],
                               strict=True)
        ]) + "."))
    return chart
