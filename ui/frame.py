"""The shared frame around every page: a sidebar note on which data is active."""

from __future__ import annotations

import streamlit as st

from ui.state import DATASET


def render_sidebar() -> None:
    """Show which dataset the analyses use, without loading it."""
    dataset = st.session_state.get(DATASET)
    with st.sidebar:
        if dataset is None:
            st.caption("Data: bundled sample (loads on first use)")
        else:
            st.caption(f"Data: {dataset.source} · as of {dataset.as_of:%d %b %Y}")
