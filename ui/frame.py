"""The shared frame around every page: routing guard and a sidebar note on the active data."""

from __future__ import annotations

import gc
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.prefetch import start_prefetch
from ui.state import DATASET, ROUTED
from ui.text import escape_markdown
from ui.warmup import start_warmup

# The browser tab's icon, served by the app itself: a Material icon as page icon is fetched by
# every viewer's browser from Google's font server.
FAVICON = str(Path(__file__).resolve().parent / "assets" / "favicon.png")


def require_router() -> None:
    """Make sure the page runs inside app.py's navigation, not as a legacy stand-alone page.

    Streamlit treats a ``pages/`` folder next to the entry file as a legacy multipage app until
    ``st.navigation`` has run once in the process; a first visitor arriving on a deep link
    (``/workshop?workshop=CODE``) would get the page without the app's frame. Switching the flag
    and rerunning sends that visit through app.py, on the same page.
    """
    first_run = ROUTED not in st.session_state
    st.session_state[ROUTED] = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if first_run:  # nothing to lose yet: later runs may carry a click that a rerun would drop
            st.rerun()


def render_sidebar() -> None:
    """Show which dataset the analyses use, without loading it (the process warms it up).

    A session's first run also has the browser load, when idle, the element code of the other
    pages (ui.prefetch).
    """
    start_warmup()
    dataset = st.session_state.get(DATASET)
    with st.sidebar:
        if dataset is None:
            st.caption("Data: bundled sample (40 reps, 18 months)")
        else:
            st.caption(f"Data: {escape_markdown(dataset.source)} · as of {dataset.as_of:%d %b %Y}")
    start_prefetch()  # the browser loads the other pages' element code while this one is read


def collect_garbage() -> None:
    """Collect garbage at the end of a full run of the app, not after a fragment's rerun.

    Streamlit's own collection after every run (switched off in .streamlit/config.toml) held up
    the end of each answer click's two fragment runs by about 20 ms. With no collection at all,
    what closed sessions leave in reference cycles (their data connections among it) waits for
    Python's own collector to take it all at once, in some visitor's run. Full runs (page
    switches, widgets outside fragments) still collect, as before.
    """
    gc.collect()
