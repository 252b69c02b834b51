"""Exports never hand a spreadsheet a live formula."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from diagnostics.export import neutralise, to_csv_bytes, to_excel_bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("Ann", "Ann"), (-5, -5), (None, None), ("", "")],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_csv_and_excel_exports_are_neutralised() -> None:
    frame = pd.DataFrame({"rep": ['=HYPERLINK("http://x","y")', "Ann"], "won": [3, -1]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n-1" not in text.replace(",-1", "")
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame)))
    sheet = book.active
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\",\"y\")"
    assert sheet["A2"].data_type == "s" and sheet["B3"].value == -1
