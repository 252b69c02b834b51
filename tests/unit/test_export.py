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
    assert sheet["A2"].value == "=HYPERLINK(\"http://x\",\"y\")"  # text, not a formula
    assert sheet["A2"].data_type == "s" and sheet["B3"].value == -1


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+33 6 12", "-x", "@SUM(A1)",
                                  "\tTab", "=1+1"])
def test_excel_keeps_the_exact_text_as_a_text_cell(text: str) -> None:
    frame = pd.DataFrame({text: [text, "Łódź"], "n": [1, 2]})
    raw = to_excel_bytes(frame)
    sheet = openpyxl.load_workbook(io.BytesIO(raw)).active
    for ref in ("A1", "A2"):
        assert sheet[ref].value == text and sheet[ref].data_type == "s"
        assert sheet[ref].quotePrefix
    assert sheet["A3"].value == "Łódź" and not sheet["A3"].quotePrefix
    assert b"<f>" not in _sheet_xml(raw)  # no formula element anywhere


def test_csv_keeps_the_apostrophe() -> None:
    frame = pd.DataFrame({"rep": ["=1+1"]})
    assert to_csv_bytes(frame).decode("utf-8-sig").splitlines()[1] == "'=1+1"


def test_excel_replaces_control_characters_it_cannot_hold() -> None:
    frame = pd.DataFrame({"rep": ["Ann\x07Lee"]})
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    assert sheet["A2"].value == "Ann\ufffdLee"


def _sheet_xml(raw: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")
