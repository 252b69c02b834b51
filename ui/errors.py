"""How a page shows a problem the user can fix: the error's own text, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from diagnostics.errors import DiagnosticsError
from ui.text import escape_markdown

__all__ = ["show_error", "shown_errors", "stop_on_error"]


def show_error(err: DiagnosticsError) -> None:
    """Show the error's message and hint in an error box (file names and values read as typed)."""
    st.error(escape_markdown(err))


@contextmanager
def stop_on_error() -> Iterator[None]:
    """Run the block; on a DiagnosticsError show it and stop this run of the page."""
    try:
        yield
    except DiagnosticsError as err:
        show_error(err)
        st.stop()


@contextmanager
def shown_errors() -> Iterator[None]:
    """Run the block; on a DiagnosticsError show it and carry on after the block."""
    try:
        yield
    except DiagnosticsError as err:
        show_error(err)
