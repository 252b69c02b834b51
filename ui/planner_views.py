"""The planner part of the Funnel page: inputs from the data, the reverse funnel, what-if."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, MutableMapping
from typing import Any

import streamlit as st

from diagnostics import funnel as fn
from diagnostics import planner as pl
from diagnostics.charts import funnel as charts
from diagnostics.dataset import Dataset, Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import format_amount, format_rate
from diagnostics.funnel import FunnelResult, HeadlineMetrics, Rule
from ui import state
from ui.errors import show_error
from ui.text import escape_markdown

__all__ = ["PLAN_FROM_DATA", "render"]

# Planner inputs read from the data: they follow the period and filters (reset when those change).
PLAN_FROM_DATA = ("reps", "deal_size", "pipeline", "win_rate", "plan_rates")


def _follow_the_data(inputs: pl.PlanInputs, settings: MutableMapping[str, Any]) -> None:
    """Forget the inputs read from the data when the period or filters give other values."""
    if settings.get("plan_source") == inputs.source_key():
        return
    settings["plan_source"] = inputs.source_key()
    for name in PLAN_FROM_DATA:
        settings.pop(name, None)
        st.session_state.pop(state.FUNNEL_WIDGET_PREFIX + name, None)


def _forecast_gap(dataset: Dataset, target: float, period: tuple[dt.date, dt.date]) -> None:
    """Show the Forecast of the plan period beside the reverse funnel: expected, chance, gap."""
    from diagnostics.forecast import forecast_check
    from ui.forecast_views import prepared

    try:
        check = forecast_check(dataset, target, period, deals=prepared(dataset)[0])
    except DiagnosticsError as err:
        st.caption(f"No forecast for this period: {escape_markdown(err)}")
        return
    expected, chance, gap = st.columns(3)
    expected.metric("Forecast for the period", format_amount(check.expected_bookings),
                    help="Closed so far + each open deal's chance of closing won in time + new "
                         "pipeline, learned from all your closed deals (see the Forecast page)")
    chance.metric("Chance of the target (forecast)", format_rate(check.p_target))
    gap.metric("Forecast gap", format_amount(max(check.target - check.expected_bookings, 0)),
               help="Target − forecast: what the plan above has to find on top of the forecast")
    st.caption(f"{escape_markdown(check.sentence())} All deals, whatever the filters above.")


def render(
    dataset: Dataset,
    filters: Filters,
    rule: Rule,
    result: FunnelResult,
    metrics: HeadlineMetrics,
    settings: MutableMapping[str, Any],
    seeded: Callable[..., dict[str, Any]],
) -> None:
    """Render the planner: inputs (following the period), verdict, reverse funnel and what-if.

    ``seeded(name, default[, options])`` returns widget kwargs whose value survives page
    switches (the Funnel page's settings store).
    """
    _seeded = seeded
    inputs = pl.plan_inputs_from_data(dataset, filters, rule, result, metrics)
    _follow_the_data(inputs, settings)
    st.caption(escape_markdown(inputs.rates_caption()))
    p1, p2, p3, p4 = st.columns(4)
    money = {"step": 1000.0, "format": "%.0f"}
    target = p1.number_input("Revenue target", 1.0, None, **money, **_seeded("target", 1e6))
    plan_period = p2.date_input(
        "Plan period", **_seeded("plan_period", pl.next_quarter(dataset.as_of))
    )
    days = pl.working_days_between(*plan_period) if len(plan_period) == 2 else None
    n_reps = p3.number_input("Reps", 1, None, **_seeded("reps", max(inputs.reps, 1)))
    # No invented figure: without a won deal that has an amount the field starts empty.
    size = p4.number_input(
        "Average deal size", 1.0, None, **money, **_seeded("deal_size", inputs.deal_size)
    )
    q1, q2, q3 = st.columns(3)
    pipeline = q1.number_input("Open pipeline", 0.0, None, **money,
                               **_seeded("pipeline", inputs.pipeline))
    data_pct = None if inputs.win_rate is None else round(inputs.win_rate * 100, 1)
    win_pct = q2.number_input("Win rate (%)", 0.0, 100.0, **_seeded("win_rate", data_pct))
    # The closed deals behind the data's win rate judge the verdict's certainty, until typed over.
    basis = inputs.win_rate_basis if win_pct is not None and win_pct == data_pct else None
    booked = q3.number_input("Already booked", 0.0, None, **money, **_seeded("booked", 0.0))
    rates = st.data_editor(
        fn.rates_frame(inputs.step_labels(), inputs.rates, "Conversion (%)"),
        disabled=["Step"], hide_index=True, key=state.FUNNEL_WIDGET_PREFIX + "plan_rates",
    )
    if size is None:
        st.info(f"{escape_markdown(inputs.missing_deal_size())} Type an average deal size to "
                "work back from the target.")
        return
    try:
        win_rate, reread = (None, None) if win_pct is None else pl.read_win_rate(win_pct)
        typed = fn.rates_from_frame(rates, "Conversion (%)")
        doubts = pl.implausible_rates(inputs.step_labels(), typed)
        plan = pl.plan_reverse_funnel(
            target, size, inputs.stages, typed,
            activity_rate=inputs.activity_rate, reps=int(n_reps), working_days=days,
            pipeline=pipeline, win_rate=win_rate, booked=booked, win_rate_basis=basis,
        )
    except DiagnosticsError as err:
        show_error(err)
        return
    if reread:
        q2.caption(escape_markdown(reread))
    if thin := inputs.thin_steps_note():
        st.warning(escape_markdown(thin))
    for doubt in doubts:
        st.warning(escape_markdown(doubt))
    show = {"likely": st.success, "at_risk": st.warning, "unlikely": st.error}
    show.get(plan.verdict_level, st.info)(escape_markdown(plan.verdict))
    if aged := pl.aged_pipeline_warning(inputs, plan):
        st.warning(escape_markdown(aged), icon=":material/hourglass_bottom:")
    for col, (label, value, note) in zip([*st.columns(3), *st.columns(3)], plan.display_items(),
                                         strict=True):
        col.metric(escape_markdown(label), value, help=escape_markdown(note))
    if standard := plan.meeting_standard():
        st.caption(escape_markdown(standard))
    if len(plan_period) == 2:
        _forecast_gap(dataset, target, (plan_period[0], plan_period[1]))
    st.altair_chart(charts.plan_chart(plan), width="stretch")
    st.dataframe(plan.to_frame(), hide_index=True, width="stretch")
    st.subheader("What if")
    labels = plan.step_labels()
    if not labels:
        st.info("The data has no steps between stages to improve: check the stage settings on "
                "the Data page.")
        return
    w1, w2, w3 = st.columns(3)
    step = w1.selectbox("Improve step", labels, **_seeded("wi_step", labels[-1], labels))
    points = w2.slider("by points", 0, 30, **_seeded("wi_points", 5))
    pct = w3.slider("Deal size up (%)", 0, 50, **_seeded("wi_size", 0))
    change = pl.what_if(plan, labels.index(step), points, pct)
    show.get(change.verdict_level, st.info)(
        f"With this change — {escape_markdown(change.verdict)}")
    st.metric(escape_markdown(change.label), format_amount(change.bookings_after),
              delta=format_amount(change.change))
    st.caption(escape_markdown(change.sentence()))
