"""Rep quadrant: engagement × close ratio per rep, with intervals, movement and drill-down."""

import streamlit as st

from diagnostics import quadrant as quad
from ui import quadrant_views as views
from ui.errors import stop_on_error
from ui.frame import require_router
from ui.memo import remembered
from ui.state import QUADRANT_SETTINGS, QUADRANT_WIDGET, active_dataset
from ui.text import escape_markdown
from ui.widgets import KeptWidgets

require_router()
st.title("Rep quadrant")
st.caption(
    "Every rep by engagement and close ratio (won ÷ deals closed in the period). Reps with too "
    "few closed deals are drawn hollow and not put in a quadrant: a ratio on three deals is noise. "
    "A close ratio counts as below the line (needs coaching, or a performance plan when engagement "
    "is low too) only on evidence that holds for the team as a whole; an interval that reaches the "
    "line is *too close to call* (open diamond): watch, no plan yet."
)
dataset = active_dataset()
content = quad.content()
keep = KeptWidgets(QUADRANT_SETTINGS, QUADRANT_WIDGET, dataset)
choice = views.settings_bar(dataset, content, keep)
with stop_on_error():
    result = remembered(dataset, ("classify_reps", choice.key),
                        lambda: quad.classify_reps(dataset, choice.filters, **choice.options))

counts = result.counts()
for col, key in zip(st.columns(len(quad.QUADRANTS)), quad.QUADRANTS, strict=True):
    col.metric(escape_markdown(content.quadrants[key].name), counts[key],
               help=escape_markdown(content.quadrants[key].action))
st.caption(escape_markdown(result.summary()))
st.caption("**Rule.** " + escape_markdown(result.rule.text()))
if undated := result.undated_note():
    st.caption(escape_markdown(undated))
if note := result.check_data_note():
    st.warning(escape_markdown(note))

view = st.segmented_control("View", views.VIEWS, **keep("view", views.VIEWS[0], views.VIEWS))
if view == "Funnel plot":
    views.funnel_plot_view(result, content)
elif view == "Movement":
    views.movement_view(dataset, result, choice, content, keep)
elif view == "Rep drill-down":
    views.drill_down_view(dataset, result, choice, keep)
else:
    views.quadrant_view(dataset, result, choice, content, keep)
views.rep_table(dataset, result, choice, keep)
