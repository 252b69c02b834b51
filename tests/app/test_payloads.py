"""Uploaded text is shown as typed on every page: Markdown and HTML in an export never render.

One export carries payloads in its file name, a header, stage and rep names, a segment and
unreadable values: an image that would make every viewer's browser fetch an outside address, links,
a heading, HTML tags and a spreadsheet formula. Every page and every view is walked; each string
Streamlit renders as Markdown must either not contain a payload or contain it escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import element_tree as et

from diagnostics import workshop as ws
from diagnostics.workshop_store import DuckDBStore
from tests.app.conftest import TITLES, OpenPage, shown
from ui import state
from ui.data_views import EDIT_MAPPING
from ui.text import escape_markdown

IMAGE = "![x](http://evil.example/x.png)"
LINK = "[click](http://evil.example)"
HEADING = "# Heading rep"
BOLD = "**bold** rep"
HTML = "<img src=http://evil.example/i.png><b>tag</b>"
FORMULA = '=HYPERLINK("http://evil.example","x")'
REPS = [LINK, HEADING, BOLD, HTML, FORMULA]
STAGE = f"Demo {IMAGE}"
SEGMENT = "<i>SMB</i> | `code`"
HEADER = "Amount [eur](http://evil.example/h)"
BAD_AMOUNT = "![a](http://evil.example/a.png)"
FILE = "deals [x](http://evil.example).csv"
PAYLOADS = [IMAGE, LINK, HEADING, BOLD, HTML, FORMULA, STAGE, SEGMENT, HEADER, BAD_AMOUNT, FILE]
# What may never appear outside a backslash escape in Markdown: each is a payload's live syntax.
LIVE = ["evil.example", "![", "](", "<img", "<b>", "<i>", "**bold**"]
_UNIT = re.compile(r"\\[!-/:-@\[-`{-~]|.", re.S)


def _csv() -> bytes:
    """Forty deals over five reps (payload names), two stages (one a payload) and a segment."""
    lines = [f"Opportunity ID,Stage,Status,{HEADER},Created Date,Close Date,Owner,Segment,"
             "Probability"]
    # Lost deals keep the stage they were lost at, so every page can name the payload stage.
    stages = [("Lead", "Open", "10"), (STAGE, "Open", "40"), ("Closed Won", "Won", "100"),
              (STAGE, "Lost", "40")]
    for i in range(40):
        stage, status, probability = stages[i % 4]
        closed = "" if status == "Open" else "2026-03-01"
        amount = BAD_AMOUNT if i == 5 else str(1000 + i)
        cells = [f"O{i}", stage, status, amount, f"2026-01-{1 + i % 28:02d}", closed,
                 REPS[i % len(REPS)], SEGMENT, probability]
        lines.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    return ("\n".join(lines) + "\n").encode()


def _markdown(node: Any) -> Iterator[str]:
    """Yield every string under ``node`` that Streamlit renders as Markdown."""
    if isinstance(node, et.Markdown | et.HeadingBase | et.AlertBase):
        yield str(node.value)
    if isinstance(node, et.Metric | et.Widget | et.Expander | et.Tab) and hasattr(node, "label"):
        yield str(node.label)
    if isinstance(node, et.Radio | et.ButtonGroup):
        yield from (str(o) for o in node.options)
    help_text = getattr(node, "help", None)
    if isinstance(help_text, str):
        yield help_text
    for child in getattr(node, "children", {}).values():
        yield from _markdown(child)


def _live(markdown: str) -> str:
    """Return ``markdown`` with every backslash-escaped character blanked out."""
    return "".join("\0" if len(u) == 2 else u for u in _UNIT.findall(markdown))


def _shown_as_typed(at: AppTest) -> set[str]:
    """Return the payloads the page shows; fail if any part of one is live Markdown."""
    seen = set()
    for text in [*_markdown(at.main), *_markdown(at.sidebar)]:
        live = _live(text)
        leaks = [syntax for syntax in LIVE if syntax in live]
        assert not leaks, (leaks, text)
        for payload in PAYLOADS:
            if payload in shown(text):
                assert escape_markdown(payload) in text, (payload, text)
                seen.add(payload)
    return seen


def test_the_leak_check_catches_raw_and_half_escaped_payloads() -> None:
    assert _live(escape_markdown(IMAGE)).count("\0") == len(re.findall(r"[!-/:-@\[-`{-~]", IMAGE))
    for raw in (IMAGE, f"Rep {LINK}", HTML, SEGMENT, BOLD, IMAGE.replace("!", "\\!")):
        assert any(syntax in _live(raw) for syntax in LIVE), raw


@pytest.fixture
def uploaded(open_page: OpenPage, workshop_db: Path) -> AppTest:
    at = open_page("pages/data.py")
    at.get("file_uploader")[0].set_value([(FILE, _csv(), "text/csv")]).run()
    assert not at.exception, at.exception
    at.toggle(key=f"{EDIT_MAPPING}{FILE}").set_value(True).run()
    at.selectbox(key=f"col::{FILE}::amount").set_value(HEADER).run()
    assert not at.exception, at.exception
    assert at.session_state[state.DATASET].source == FILE
    return at


def test_the_data_page_shows_file_name_header_and_unreadable_value_as_typed(
    uploaded: AppTest,
) -> None:
    seen = _shown_as_typed(uploaded)
    assert {FILE, HEADER, BAD_AMOUNT} <= seen, seen


FUNNEL_VIEWS = ("Funnel", "Where it breaks", "Reps", "Planner: make your number")
QUADRANT_VIEWS = ("Quadrant", "Funnel plot", "Movement", "Rep drill-down")


def test_every_funnel_view_shows_names_as_typed(uploaded: AppTest) -> None:
    at = uploaded
    at.switch_page("pages/funnel.py").run()
    assert at.title[0].value == "Funnel"
    seen = set()
    for view in FUNNEL_VIEWS:
        at.radio(key="funnel_w_view").set_value(view).run()
        assert not at.exception, (view, at.exception)
        seen |= _shown_as_typed(at)
    # The rule caption names the segment filter once one is picked.
    at.session_state[state.FUNNEL_FILTERS_OPEN] = True
    at.run()
    at.multiselect(key="funnel_w_segment").select(SEGMENT).run()
    assert not at.exception, at.exception
    seen |= _shown_as_typed(at)
    assert {STAGE, SEGMENT} <= seen, seen


def test_every_quadrant_view_shows_names_as_typed(uploaded: AppTest) -> None:
    at = uploaded
    at.switch_page("pages/quadrant.py").run()
    assert at.title[0].value == "Rep quadrant"
    seen = set()
    for view in QUADRANT_VIEWS:
        at.session_state["quadrant_w_view"] = view
        at.run()
        assert not at.exception, (view, at.exception)
        seen |= _shown_as_typed(at)
    assert seen & set(REPS), seen  # the drill-down names the rep


@pytest.mark.parametrize("page", ["pages/forecast.py", "pages/home.py", "pages/leadership.py",
                                  "pages/make_your_number.py"])
def test_other_pages_show_names_as_typed(uploaded: AppTest, page: str) -> None:
    uploaded.switch_page(page).run()
    assert uploaded.title[0].value.startswith(TITLES[page])
    assert not uploaded.exception, uploaded.exception
    if page == "pages/make_your_number.py":
        uploaded.button(key=state.MYN_FILL_FROM_DATA).click().run()
        assert not uploaded.exception, uploaded.exception
    _shown_as_typed(uploaded)


def test_the_workshop_pages_show_uploaded_and_participant_names_as_typed(
    uploaded: AppTest, workshop_db: Path
) -> None:
    store = DuckDBStore(workshop_db)
    try:
        created = ws.create_workshop(store, IMAGE, HEADING)
        joined = ws.join_workshop(store, created.code, LINK, "sales_leader")
    finally:
        store.close()
    at = uploaded
    at.switch_page("pages/workshop.py").run()
    assert at.title[0].value == "Workshop"
    assert not at.exception, at.exception
    _shown_as_typed(at)
    at.query_params["workshop"] = created.code
    at.query_params["key"] = created.key
    at.run()
    assert not at.exception, at.exception
    at.toggle(key=state.WORKSHOP_USE_DATA).set_value(True).run()
    assert not at.exception, at.exception
    seen = _shown_as_typed(at)
    assert {IMAGE, HEADING} <= seen, seen
    # The participant's own view names the workshop, its client and the participant.
    at.query_params.clear()
    at.query_params["workshop"] = created.code
    at.query_params["p"] = joined.token
    at.run()
    assert not at.exception, at.exception
    assert {IMAGE, HEADING, LINK} <= _shown_as_typed(at)
