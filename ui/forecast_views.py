"""Streamlit side of the Forecast page: per-session deal arrays, settings and the sections."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from diagnostics.charts import forecast as charts
from diagnostics.dataset import Dataset
from diagnostics.forecast import (
    Backtest,
    Deals,
    Forecast,
    deals_frame,
    default_period,
    forecast_bookings,
    load_deals,
    run_backtest,
    suggested_target,
)
from diagnostics.formatting import format_amount, format_rate
from ui import state
from ui.charts import show_chart
from ui.memo import remembered
from ui.tables import show_table
from ui.text import escape_markdown
from ui.widgets import KeptWidgets


def prepared(dataset: Dataset) -> tuple[Deals, Backtest]:
    """Return the dataset's deal arrays and backtest, read once per dataset (see ui.memo).

    Both depend on the data only (not on the target or period): a rerun reuses them.
    """
    def read() -> tuple[Deals, Backtest]:
        deals = load_deals(dataset)
        return deals, run_backtest(deals, dataset.as_of)

    return remembered(dataset, ("forecast_deals",), read)


def forecast(dataset: Dataset, deals: Deals, target: float,
             period: tuple[dt.date, dt.date]) -> Forecast:
    """Return the forecast of ``period`` against ``target``, worked out once per setting."""
    return remembered(dataset, ("forecast", float(target), period),
                      lambda: forecast_bookings(dataset, float(target), *period, deals=deals))


def settings_for(dataset: Dataset, deals: Deals) -> tuple[KeptWidgets, dict[str, Any]]:
    """Return the page's kept widgets (reset for new data) and their defaults for this data."""
    keep = KeptWidgets(state.FORECAST_SETTINGS, state.FORECAST_WIDGET, dataset)

    def defaults() -> dict[str, Any]:
        period = default_period(dataset.as_of)
        return {"period": period, "target": suggested_target(deals, *period)}

    return keep, keep.once("defaults", defaults)


def period_of(value: Any) -> tuple[dt.date, dt.date] | None:
    """Return (start, end) from a date-range widget value, None while only a start is picked."""
    return (value[0], value[1]) if isinstance(value, tuple | list) and len(value) == 2 else None


def render_headline(dataset: Dataset, fc: Forecast) -> None:
    """Show closed so far, expected bookings, the range and the chance of the target."""
    a, b, c, d = st.columns(4)
    a.metric("Closed so far", format_amount(fc.closed_so_far),
             help=f"Won deals closed from {fc.period_start:%d %b} to {fc.as_of:%d %b %Y}")
    b.metric("Expected bookings", format_amount(fc.expected_bookings),
             help="Closed so far + open pipeline + new pipeline, each as history says")
    c.metric("Range (P10 – P90)", f"{format_amount(fc.percentile(0.1))} – "
             f"{format_amount(fc.percentile(0.9))}",
             help=f"P50 {format_amount(fc.percentile(0.5))}: 8 periods in 10 land in this range")
    d.metric("Chance of the target", format_rate(fc.p_target),
             help=f"P(bookings ≥ {format_amount(fc.target)})")
    show_chart(dataset, ("forecast_distribution", fc.target, fc.period_start, fc.period_end),
               lambda: charts.distribution_chart(fc), width="stretch")
    st.caption(escape_markdown(fc.headline()))


def render_sources(fc: Forecast) -> None:
    """Show where the expected bookings come from: parts, stages, slipped and new pipeline."""
    st.subheader("Where it comes from")
    for label, amount, why in fc.sources():
        st.markdown(f"**{escape_markdown(label)}: {amount}** — {escape_markdown(why)}")
    show_table(fc.stage_frame())
    st.caption("Won eventually: the share of closed deals that reached the stage and were won "
               "(pulled toward the overall rate when few deals). Expected in period: what the "
               "open deals there should bring by the period end.")


def render_deals(fc: Forecast) -> None:
    """Show the deals that matter most, slipped deals and what would close the gap."""
    st.subheader("The deals that matter most")
    if fc.top_deals:
        show_table(deals_frame(fc.top_deals))
    else:
        st.info("No open deal has a chance of closing won in this period.")
    if fc.slipped_deals:
        st.markdown("**Past their close date** (largest first)")
        show_table(deals_frame(fc.slipped_deals))
    st.subheader("What would close the gap")
    if fc.gap <= 0:
        st.success(f"Expected bookings cover the target: no gap to close "
                   f"(the chance of making it is {format_rate(fc.p_target)}).")
    elif fc.levers:
        st.markdown(f"The gap: **{format_amount(fc.gap)}**. Any one of these would close it, "
                    "all else equal:")
        show_table(fc.levers_frame())
    else:
        st.warning(f"The gap of {format_amount(fc.gap)} cannot be closed in this period by "
                   "pipeline or conversion as history runs.")


def render_backtest(dataset: Dataset, backtest: Backtest) -> None:
    """Show how good the forecast has been on this data."""
    st.subheader("How good this forecast has been on your data")
    if backtest.points:
        error = backtest.mean_abs_pct_error
        st.metric("Mean absolute percentage error", format_rate(error),
                  help="Average of |forecast − actual| ÷ actual over the quarters checked")
        show_chart(dataset, ("forecast_backtest",), lambda: charts.backtest_chart(backtest),
                   width="stretch")
    st.caption(escape_markdown(backtest.note))
