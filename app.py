"""Make Your Number: router and frame (page config, grouped navigation, shared sidebar)."""

import streamlit as st

from diagnostics.memory import use_system_allocator
from ui.frame import FAVICON, collect_garbage, render_sidebar

use_system_allocator()
st.set_page_config(page_title="Make Your Number", page_icon=FAVICON, layout="wide")

home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
workshop = st.Page("pages/workshop.py", title="Workshop", icon=":material/groups:")
navigation = st.navigation(
    {
        "": [home],
        "Diagnose": [
            st.Page("pages/make_your_number.py", title="Make your number", icon=":material/flag:"),
            st.Page("pages/leadership.py", title="Leadership model", icon=":material/hub:"),
        ],
        "Your data": [
            st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
            st.Page("pages/funnel.py", title="Funnel", icon=":material/filter_alt:"),
            st.Page("pages/quadrant.py", title="Rep quadrant", icon=":material/scatter_plot:"),
            st.Page("pages/forecast.py", title="Forecast", icon=":material/query_stats:"),
        ],
        "Facilitate": [workshop],
    }
)
render_sidebar()
navigation.run()
collect_garbage()
