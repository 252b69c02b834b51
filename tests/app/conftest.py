"""Shared AppTest fixture and helpers: open a page from app.py, read text as a user sees it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.text import WORD_JOINER

ROOT = Path(__file__).resolve().parents[2]
# The title each page shows first (the home page's title goes on with a subtitle).
TITLES = {
    "pages/home.py": "Make Your Number",
    "pages/data.py": "Data",
    "pages/make_your_number.py": "Make your number",
    "pages/leadership.py": "Leadership model",
    "pages/funnel.py": "Funnel",
    "pages/quadrant.py": "Rep quadrant",
    "pages/forecast.py": "Forecast",
    "pages/workshop.py": "Workshop",
}
OpenPage = Callable[..., AppTest]
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: object) -> str:
    """Return Markdown source as it reads on screen: escapes and invisible word joiners removed."""
    return _ESCAPED.sub(r"\1", str(markdown)).replace(WORD_JOINER, "")


def _open_page(
    page: str,
    *,
    session: Mapping[str, Any] | None = None,
    query: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    # The title first: a failed switch falls back to the default page without an error.
    assert at.title and at.title[0].value.startswith(TITLES[page]), [t.value for t in at.title]
    assert not at.exception, at.exception
    return at


@pytest.fixture
def open_page() -> OpenPage:
    """Return ``open(page, session=..., query=...)``: start at app.py, switch, check the title.

    ``session`` is put in session state and ``query`` in the address before the first run.
    """
    return _open_page


_TABLE_RULE = re.compile(r"^\|(?:-{3,}:?\|)+$")


def read_markdown_table(markdown: object) -> pd.DataFrame | None:
    """Return a Markdown table (ui.tables) as the text each cell shows; None if it is not one."""
    lines = str(markdown).split("\n")
    if len(lines) < 2 or not _TABLE_RULE.match(lines[1]):
        return None

    def cells(line: str) -> list[str]:
        # Split at the pipes that are not escaped, then read each cell as it shows.
        return [shown(c.strip()) for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    return pd.DataFrame([cells(line) for line in lines[2:]], columns=cells(lines[0]))


def markdown_tables(at: AppTest) -> list[pd.DataFrame]:
    """Return every Markdown table the page shows, in order, as the text of its cells."""
    return [t for t in (read_markdown_table(m.value) for m in at.markdown) if t is not None]
