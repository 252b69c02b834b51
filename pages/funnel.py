"""Funnel page: the live funnel, where it breaks, each rep at each step, and the planner."""

import streamlit as st

from diagnostics import funnel as fn
from diagnostics.charts import funnel as charts
from diagnostics.errors import DiagnosticsError
from ui import planner_views, state
from ui.frame import require_router

VIEWS = ("Funnel", "Where it breaks", "Reps", "Planner: make your number")

require_router()
st.title("Funnel")
dataset = state.active_dataset()
settings = state.session_dict(state.FUNNEL_SETTINGS)
if settings.get("dataset") != id(dataset):  # new data: old filter values may not exist in it
    settings.clear()
    settings["dataset"] = id(dataset)
    for key in [k for k in st.session_state if str(k).startswith(state.FUNNEL_WIDGET_PREFIX)]:
        del st.session_state[key]


def _keep(name: str) -> None:
    settings[name] = st.session_state[state.FUNNEL_WIDGET_PREFIX + name]


def _seeded(name: str, default: object, options: object = None) -> dict[str, object]:
    """Return widget kwargs whose value survives page switches (kept in FUNNEL_SETTINGS)."""
    key = state.FUNNEL_WIDGET_PREFIX + name
    value = st.session_state.get(key, settings.get(name, default))
    if isinstance(options, list | tuple) and value not in options:  # e.g. a step that went away
        value = default
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    return {"key": key, "on_change": _keep, "args": (name,)}


if "options" not in settings:  # fixed for a dataset: read once, not on every rerun
    settings["range"] = dataset.date_range()
    settings["options"] = {n: dataset.filter_values(n) for n in fn.FILTER_COLUMNS}
lo, hi = settings["range"]
c1, c2, c3, c4 = st.columns([2, 1, 1.4, 1])
period = c1.date_input("Period", min_value=lo, max_value=hi, **_seeded("period", (lo, hi)))
cohort = c2.radio(
    "Cohort", ["created", "closed"], horizontal=True, **_seeded("cohort", "created"),
    format_func={"created": "Created in period", "closed": "Closed in period"}.get,
)
rules = fn.available_rules(dataset)
rule = c3.selectbox("Counting rule", rules, format_func=fn.RULES.get,
                    **_seeded("rule", "furthest", rules))
stale_days = c4.number_input("Stale after (days)", 1, 730, **_seeded("stale_days", 60))
if not dataset.has_stage_history:
    c3.caption("Strict and any-stage counting need an uploaded stage history.")
with st.expander("Segment, product, region, team, rep"):
    picked = {}
    for col, (name, options) in zip(st.columns(5), settings["options"].items(), strict=True):
        picked[name] = tuple(col.multiselect(name.title(), options, **_seeded(name, [])))
start = period[0] if len(period) > 0 else None
end = period[1] if len(period) > 1 else None
filters = dataset.period_filters(start, end, cohort=cohort, **picked)

try:
    result, metrics = fn.funnel_with_metrics(dataset, filters, rule, int(stale_days))
except DiagnosticsError as err:
    st.error(str(err))
    st.stop()
st.caption(f"Every number on this page: {result.description}")
for caveat in (fn.counting_caveat(dataset, filters, result),
               fn.provisional_note(metrics, filters)):
    if caveat:
        st.caption(f":material/warning: {caveat}")
sentence_box = st.empty()
# Only the chosen view is computed and drawn: a rerun stays cheap on a million deals.
view = st.radio("View", VIEWS, horizontal=True, label_visibility="collapsed",
                **_seeded("view", VIEWS[0]))
min_count, reps = settings.get("min_count", 5), None
reference, targets = settings.get("reference", "best_reps"), settings.get("targets")

if view == "Reps":
    min_count = st.slider(
        "Minimum deals entering a step to rate a rep", 1, 50, **_seeded("min_count", 5)
    )
    reps = fn.rep_transitions(dataset, filters, rule, min_count)
    st.caption(charts.HEATMAP_CAPTION)
    if reps.empty:
        st.info("No rep has deals with these filters.")
    else:
        st.altair_chart(charts.rep_heatmap(reps), width="stretch")
if view == "Where it breaks":
    reference = st.radio(
        "Compare each step with", list(fn.REFERENCES), horizontal=True,
        format_func=fn.REFERENCES.get, **_seeded("reference", "best_reps"),
    )
    if reference == "targets":
        edited = st.data_editor(
            fn.rates_frame(result.transition_labels(), targets or result.next_rates(),
                           "Target rate (%)"),
            disabled=["Step"], hide_index=True, key=state.FUNNEL_WIDGET_PREFIX + "targets",
        )
        targets = settings["targets"] = fn.rates_from_frame(edited, "Target rate (%)")
try:
    report = fn.find_breakages(
        dataset, filters, rule, reference, targets if reference == "targets" else None,
        min_count, result=result, reps=reps, avg_won_amount=metrics.avg_won_amount,
    )
except DiagnosticsError as err:
    st.error(str(err))
    st.stop()
sentence_box.info(f"Where it breaks: {report.sentence()}", icon=":material/troubleshoot:")
if view == "Where it breaks" and result.total and report.breakages:
    st.altair_chart(charts.breakage_chart(report), width="stretch")
    st.dataframe(report.to_frame(), hide_index=True, width="stretch")

if view == "Funnel":
    slots = [*st.columns(5), *st.columns(5)]
    for col, (label, value, note) in zip(slots, metrics.display_items(), strict=False):
        col.metric(label, value, help=note or None)
    if result.total:  # an empty chart says nothing; the sentence above says why
        st.altair_chart(charts.funnel_chart(result), width="stretch")
    st.dataframe(result.to_frame(), hide_index=True, width="stretch")
    if st.toggle("Compare with another period", **_seeded("compare_on", False)):
        before = fn.previous_period(filters) or fn.with_period(filters, lo, hi)
        other = st.date_input("Other period", **_seeded("compare", (before.start, before.end)))
        if len(other) == 2:
            result_b = fn.compute_funnel(dataset, fn.with_period(filters, *other), rule)
            # Short headers keep the Change column in view; the dates go in the caption.
            st.caption(f"This period: {fn.describe_period(filters)}. Other period: "
                       f"{fn.describe_period(result_b.filters)}.")
            if not result_b.total:
                st.info(f"No deals in the other period: the data runs from {lo:%d %b %Y} to "
                        f"{hi:%d %b %Y}.")
            st.dataframe(fn.compare_funnels(result, result_b, ("this period", "other period")),
                         hide_index=True, width="stretch")
        else:
            st.info("Pick a start and an end date for the other period.")

if view == VIEWS[3]:
    planner_views.render(dataset, filters, rule, result, metrics, settings, _seeded)
