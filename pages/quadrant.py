"""Rep quadrant: engagement × close ratio per rep, with intervals, movement and drill-down."""

from __future__ import annotations

import weakref
from typing import Any

import streamlit as st

from diagnostics import quadrant as q
from diagnostics.charts import quadrant as charts
from diagnostics.dataset import Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes, to_excel_bytes
from ui.frame import require_router
from ui.state import QUADRANT_SETTINGS, QUADRANT_WIDGET, active_dataset, session_dict

require_router()
st.title("Rep quadrant")
st.caption(
    "Every rep by engagement and close ratio (won ÷ deals closed in the period). Reps with too "
    "few closed deals are drawn hollow and not put in a quadrant: a ratio on three deals is noise. "
    "Below the engagement line, a rep goes on a performance plan only when the whole 95% interval "
    "of the close ratio is below the close-ratio line; an interval that reaches the line is "
    "*too close to call* (open diamond): watch, no plan yet."
)
dataset = active_dataset()
content = q.content()
saved = session_dict(QUADRANT_SETTINGS)


def _keep(name: str) -> None:
    saved[name] = st.session_state[QUADRANT_WIDGET + name]


def _w(name: str, default: Any, arg: str = "value", options: list[Any] | None = None,
       ok: Any = None) -> dict[str, Any]:
    """Return widget kwargs: a key, the remembered value and a callback that remembers it.

    A remembered value that no longer fits (new data, other options) falls back to the default.
    """
    value = saved.get(name, default)
    if (options is not None and value not in options) or (ok is not None and not ok(value)):
        value = default
    if options is not None:
        arg, value = "index", options.index(value)
    return {"key": QUADRANT_WIDGET + name, arg: value, "on_change": _keep, "args": (name,)}


def _choices() -> dict[str, Any]:
    """Return the date range and filter values of the active data, read once per dataset."""
    held = saved.get("_choices")
    if held is None or held[0]() is not dataset:
        values = {n: dataset.filter_values(n) for n in ("team", "segment", "product", "region")}
        held = (weakref.ref(dataset), {"first": dataset.date_range()[0], **values})
        saved["_choices"] = held
    choices: dict[str, Any] = held[1]
    return choices


choices = _choices()
first_day, last_day = choices["first"], dataset.as_of
measures = [m for m in q.ENGAGEMENTS
            if dataset.has_activities or not content.engagement[m].needs_activities]
top = st.columns([2, 2, 1])
period = top[0].date_input("Period", min_value=first_day, max_value=last_day, **_w(
    "period", (first_day, last_day), ok=lambda v: all(first_day <= d <= last_day for d in v)))
measure = top[1].selectbox("Engagement", measures, format_func=lambda m: content.engagement[
    m].label, **_w("engagement", measures[0], options=measures))
min_deals = top[2].number_input("Minimum closed deals", min_value=1, max_value=1000, step=1,
                                **_w("min_deals", content.defaults.min_deals))
cols = st.columns(4)
chosen: dict[str, list[str]] = {}
for col, name in zip(cols, ("team", "segment", "product", "region"), strict=True):
    values = choices[name]
    chosen[name] = col.multiselect(name.title(), values, **_w(
        name, [], "default", ok=lambda v, values=values: set(v) <= set(values)))
opts = st.columns([2, 1, 1, 2])
splits = ["Team medians", "Targets"]
split = opts[0].radio("Split lines at", splits, horizontal=True,
                      **_w("split", splits[0], options=splits))
targets: dict[str, float | None] = {"engagement_target": None, "close_target": None}
if split == "Targets":
    targets["engagement_target"] = opts[1].number_input(
        "Engagement target", min_value=0.0, step=0.1, **_w("engagement_target", 1.0))
    targets["close_target"] = opts[2].number_input(
        "Close target %", min_value=0.0, max_value=100.0, step=5.0,
        **_w("close_target", 25.0)) / 100
y_names = {"close_ratio": "As observed", "shrunk_close_ratio": "Shrunk toward team"}
y_field = opts[3].radio("Plot close ratio", list(y_names), format_func=y_names.get,
                        horizontal=True, **_w("y_field", "close_ratio", options=list(y_names)))

start, end = (period[0], period[1]) if len(period) == 2 else (first_day, last_day)
filters = Filters(start=start, end=end, team=tuple(chosen["team"]),
                  segment=tuple(chosen["segment"]), product=tuple(chosen["product"]),
                  region=tuple(chosen["region"]))
options = {"min_deals": int(min_deals), "engagement": measure, **targets}
try:
    result = q.classify_reps(dataset, filters, **options)
except DiagnosticsError as err:
    st.error(str(err))
    st.stop()

counts = result.counts()
for col, key in zip(st.columns(len(q.QUADRANTS)), q.QUADRANTS, strict=True):
    col.metric(content.quadrants[key].name, counts[key], help=content.quadrants[key].action)
th = result.thresholds
st.caption(result.summary())
note = result.check_data_note()
if note:
    st.warning(note)

view = st.segmented_control("View", ["Quadrant", "Funnel plot", "Movement", "Rep drill-down"],
                            key=QUADRANT_WIDGET + "view", default="Quadrant") or "Quadrant"
frame = result.to_frame()
colours = content.colours()
hidden = int((frame["engagement"].isna() | frame[y_field].isna()).sum())
empty = {"Quadrant": hidden == len(frame), "Funnel plot": result.team_close_ratio is None}
if empty.get(view, False):
    st.info(q.NOTHING_TO_DRAW)  # rather than empty axes
elif view == "Quadrant":
    show_bars = st.checkbox("Show 95% intervals", **_w("intervals", False))
    st.altair_chart(charts.quadrant_chart(
        frame, engagement_threshold=th.engagement, close_threshold=th.close_ratio,
        engagement_label=result.engagement_label, colours=colours, y_field=y_field,
        show_intervals=show_bars), width="stretch")
    if hidden:
        st.caption(f"{hidden} rep(s) without a closed deal or engagement figure are listed below "
                   "but cannot be drawn.")
    for key in q.QUADRANTS:
        st.markdown(f"**{content.quadrants[key].name}**: {content.quadrants[key].action}")
elif view == "Funnel plot":
    st.caption("Close ratio against the number of closed deals. Curves mark the range a rep "
               "closing exactly at the close-ratio line would show by chance (95% and 99.8%): "
               "reps inside the 95% curves are not shown to differ from the line, however they "
               "rank, and the quadrant never puts them on a plan.")
    st.altair_chart(charts.funnel_plot_chart(frame, q.funnel_plot_limits(result),
                                             q.funnel_plot_line(result), colours),
                    width="stretch")
elif view == "Movement":
    default_a, default_b = q.default_periods(last_day)
    mcols = st.columns(2)
    first = mcols[0].date_input("First period", **_w("first", default_a))
    second = mcols[1].date_input("Second period", **_w("second", default_b))
    if len(first) == 2 and len(second) == 2:
        try:
            moves = q.compare_periods(dataset, filters, (first[0], first[1]),
                                      (second[0], second[1]), **options)
        except DiagnosticsError as err:
            st.error(str(err))
            st.stop()
        m = st.columns(2)
        m[0].metric("Moved into Stars", moves.moved_into_stars)
        m[1].metric("Left Stars", moves.left_stars)
        st.altair_chart(charts.movement_chart(moves.frame, result.engagement_label, colours,
                                              content.names()), width="stretch")
        st.caption(moves.note())
    else:
        st.info("Pick a start and an end date for both periods.")
else:
    reps = [r.rep for r in result.reps]
    if not reps:
        st.info("No rep has deals or activities with these filters.")
    else:
        rep = st.selectbox("Rep", reps, key=QUADRANT_WIDGET + "rep")
        try:
            funnel = q.rep_funnel(dataset, filters, rep)
        except DiagnosticsError as err:
            st.error(str(err))
            st.stop()
        st.write(funnel.sentence())
        st.altair_chart(charts.rep_funnel_chart(funnel.frame, rep), width="stretch")
        st.caption(funnel.description)
        trend = q.rep_activity_trend(dataset, filters, rep, measure)
        unit = {"activities": "Activities", "meetings": "Meetings"}.get(measure, "New deals")
        st.altair_chart(charts.activity_trend_chart(trend, rep, unit), width="stretch")

st.subheader("Rep table")
st.dataframe(q.display_frame(result), hide_index=True, width="stretch")
export = q.export_frame(result)
d = st.columns(2)
d[0].download_button("Download CSV", to_csv_bytes(export), "rep_quadrant.csv",
                     "text/csv", key=QUADRANT_WIDGET + "csv", on_click="ignore")
d[1].download_button("Download Excel", lambda: to_excel_bytes(export, "Rep quadrant"),
                     "rep_quadrant.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     key=QUADRANT_WIDGET + "xlsx", on_click="ignore")
