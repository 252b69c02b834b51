"""Funnel page: the live funnel, where it breaks, each rep at each step, and the planner."""

import streamlit as st

from diagnostics import funnel as fn
from ui import funnel_views as views
from ui import planner_views, state
from ui.errors import stop_on_error
from ui.frame import require_router
from ui.memo import remembered
from ui.text import escape_markdown
from ui.widgets import KeptWidgets

require_router()
st.title("Funnel")
dataset = state.active_dataset()
views.take_prefetched(dataset)  # an upload's first view, worked out while the Data page showed
keep = KeptWidgets(state.FUNNEL_SETTINGS, state.FUNNEL_WIDGET_PREFIX, dataset)
choice = views.settings_bar(dataset, keep)

with stop_on_error():
    result, metrics = remembered(dataset, views.funnel_key(choice),
                                 lambda: fn.funnel_with_metrics(dataset, choice.filters,
                                                                choice.rule, choice.stale_days))
st.caption(f"Every number on this page: {escape_markdown(result.description)}")
for caveat in (fn.counting_caveat(dataset, choice.filters, result),
               fn.provisional_note(metrics, choice.filters), fn.small_sample_note(metrics)):
    if caveat:
        st.caption(f":material/warning: {escape_markdown(caveat)}")
sentence_box = st.empty()
# Only the chosen view is computed and drawn: a rerun stays cheap on a million deals.
view = st.radio("View", views.VIEWS, horizontal=True, label_visibility="collapsed",
                **keep("view", views.VIEWS[0], views.VIEWS))

reps = views.reps_view(dataset, choice, keep) if view == "Reps" else None
if view == "Where it breaks":
    views.reference_picker(dataset, choice, result, keep)
report = views.breakages(dataset, choice, result, metrics, keep, reps)
sentence_box.info(f"Where it breaks: {escape_markdown(report.sentence())}  \n"
                  f"{escape_markdown(report.weakest_sentence())}",
                  icon=":material/troubleshoot:")

if view == "Where it breaks" and result.total and report.is_measured:
    views.breakage_view(dataset, report)
elif view == "Funnel":
    views.funnel_view(dataset, choice, result, metrics, keep)
elif view == views.VIEWS[3]:
    planner_views.render(dataset, choice.filters, choice.rule, result, metrics, keep.values, keep)
