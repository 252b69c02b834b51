"""Home page: what the app answers and where to start."""

import streamlit as st

from ui.frame import require_router

require_router()
st.title("Make Your Number")
st.markdown(
    "Are you likely to make your number this period, and what is the one constraint that "
    "decides it? Start wherever fits your question."
)

left, right = st.columns(2)
with left:
    st.subheader("Diagnose")
    st.page_link("pages/make_your_number.py", label="Make your number", icon=":material/flag:")
    st.caption("A 10–15 minute self-assessment: a verdict (likely, at risk, unlikely), the "
               "binding constraint and the three actions that would move it most.")
    st.page_link("pages/leadership.py", label="Leadership model", icon=":material/hub:")
    st.caption("Tsar, Federation or Chief of Staff: which way of aligning sales, marketing and "
               "service fits your situation, and what would change the answer.")
with right:
    st.subheader("Your data")
    st.page_link("pages/data.py", label="Data", icon=":material/upload_file:")
    st.caption("Upload CRM exports as they come; the bundled sample is loaded until you do.")
    st.page_link("pages/funnel.py", label="Funnel", icon=":material/filter_alt:")
    st.caption("Where the funnel breaks, and what it takes to make the number.")
    st.page_link("pages/quadrant.py", label="Rep quadrant", icon=":material/scatter_plot:")
    st.caption("Engagement against close ratio, honest about small samples.")
st.divider()
st.page_link("pages/workshop.py", label="Run a workshop", icon=":material/groups:")
st.caption("A room answers on their own devices; you see the perception gaps live.")
