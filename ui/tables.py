"""Small tables drawn as one Markdown table: the lightest table a browser can be sent.

A grid (``st.dataframe``) loads and starts a large library before it shows anything, and a plain
``st.table`` draws every cell as its own Markdown block; on a page's first visit either costs the
browser several times what one Markdown table does (measured in Chromium: a 10 × 7 table about a
fifth of the grid's time, 40 × 10 about half). Every cell is escaped (deal, rep and stage names
come from the data), so it reads exactly as its value; a missing value reads "—".
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from diagnostics.formatting import DASH
from ui.text import escape_markdown

__all__ = ["markdown_table", "show_table"]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    try:
        if pd.isna(value):
            return DASH
    except (TypeError, ValueError):  # a list or an array: shown as text
        pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return escape_markdown(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """Return ``frame`` (without its index) as a Markdown table; numeric columns right-aligned."""
    header = "| " + " | ".join(escape_markdown(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c])
                          and not pd.api.types.is_bool_dtype(frame[c]) else "---"
                          for c in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, rule, *rows])


def show_table(frame: pd.DataFrame, where: Any = st) -> None:
    """Draw ``frame`` as one Markdown table (see :func:`markdown_table`)."""
    where.markdown(markdown_table(frame))
