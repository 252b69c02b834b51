"""Forecast page: the odds of making the number, learned from the company's own closed deals."""

import streamlit as st

from diagnostics.forecast import method_explained
from ui import forecast_views as views
from ui.errors import stop_on_error
from ui.frame import require_router
from ui.state import FORECAST_METHOD_OPEN, active_dataset
from ui.text import escape_markdown

require_router()
st.title("Forecast")
st.caption("Expected bookings for a period, their range and the chance of reaching the target, "
           "learned from your own closed deals — and how good that forecast has been.")
dataset = active_dataset()
with stop_on_error():
    deals, backtest = views.prepared(dataset)
keep, defaults = views.settings_for(dataset, deals)
left, right = st.columns([1, 2])
target = left.number_input("Target", min_value=1.0, step=10_000.0, format="%.0f",
                           **keep("target", defaults["target"]))
chosen = right.date_input("Period", **keep("period", defaults["period"]))
period = views.period_of(chosen)
if period is None:
    st.info("Pick the last day of the period.")
    st.stop()
st.caption(f"As of {dataset.as_of:%d %b %Y}, {dataset.as_of_reason}. The period starts as "
           "the quarter still being played; the target starts as what was won the period before.")
with stop_on_error():
    fc = views.forecast(dataset, deals, float(target), period)

views.render_headline(dataset, fc)
for note in fc.notes:
    st.caption(f":material/info: {escape_markdown(note)}")
views.render_sources(fc)
views.render_deals(fc)
views.render_backtest(dataset, backtest)
# Sent only while open (opening it reruns the page): a first visit draws less.
method = st.expander("How this forecast works, and what it assumes", key=FORECAST_METHOD_OPEN,
                     on_change="rerun")
if method.open:
    with method:
        for paragraph in method_explained(fc, backtest):
            st.markdown(paragraph)
