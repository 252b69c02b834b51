"""Tables drawn as one Markdown table: every cell reads exactly as its value."""

from __future__ import annotations

import re

import pandas as pd

from diagnostics.formatting import DASH
from ui.tables import markdown_table
from ui.text import WORD_JOINER

HOSTILE = ["a | b", "![x](http://evil.example/x.png)", "**bold** `code`", "$5 | $6",
           "line\nbreak", "back\\slash", "Łódź — 東京"]


def _rows(table: str) -> list[list[str]]:
    """Split a Markdown table at its unescaped pipes and undo the escapes, as a reader sees it."""
    out = []
    for line in table.split("\n"):
        cells = re.split(r"(?<!\\)\|", line)
        assert cells[0] == "" and cells[-1] == "", line  # every row starts and ends with a pipe
        out.append([re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", c.strip()).replace(WORD_JOINER, "")
                    for c in cells[1:-1]])
    return out


def test_text_cells_read_back_as_typed_and_cannot_break_the_table() -> None:
    frame = pd.DataFrame({"Deal | name": HOSTILE, "Amount": range(len(HOSTILE))})
    rows = _rows(markdown_table(frame))
    assert rows[0] == ["Deal | name", "Amount"]
    assert rows[1] == ["---", "---:"]  # numbers right-aligned
    assert len(rows) == 2 + len(HOSTILE)  # one line per row: a line break cannot end a row early
    assert [r[0] for r in rows[2:]] == [t.replace("\n", " ") for t in HOSTILE]
    assert [r[1] for r in rows[2:]] == [str(i) for i in range(len(HOSTILE))]


def test_missing_values_read_as_a_dash_and_whole_floats_without_decimals() -> None:
    frame = pd.DataFrame({"Stage": ["Lead", None], "Deals": [3.0, float("nan")],
                          "Share": [0.25, 1.0]})
    rows = _rows(markdown_table(frame))
    assert rows[2:] == [["Lead", "3", "0.25"], [DASH, DASH, "1"]]


def test_an_empty_frame_is_a_header_only() -> None:
    rows = _rows(markdown_table(pd.DataFrame({"Lever": [], "What it takes": []})))
    assert len(rows) == 2 and rows[0] == ["Lever", "What it takes"]
