"""Spreadsheet-safe exports: CSV and Excel bytes whose cells can never run as formulas.

CSV cannot mark a cell as text, so a formula-looking cell gets a leading apostrophe there (as
OWASP advises). An .xlsx cell can be text: it keeps the exact value, stored as a text cell with
Excel's "quote prefix" (what typing ``'=x`` does), so nothing runs and no apostrophe shows.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

__all__ = ["is_formula_like", "neutralise", "neutralise_frame", "to_csv_bytes", "to_excel_bytes"]

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """Return True when ``value`` is text a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(_FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """Return ``value`` with a leading apostrophe when it is text a spreadsheet would execute."""
    if is_formula_like(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and headers cannot run as formulas."""
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return UTF-8 CSV bytes (BOM included, so Excel reads accents) of a neutralised copy."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def _storable(value: Any) -> Any:
    """Return text without the control characters an .xlsx file cannot hold (shown as �)."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def to_excel_bytes(frame: pd.DataFrame, sheet_name: str = "Data") -> bytes:
    """Return .xlsx bytes of ``frame`` in which every formula-looking text is a text cell.

    The text is kept exactly (no apostrophe added): the cell is typed as text and carries the
    quote prefix, so Excel shows it as typed and never evaluates it, even after an edit.
    """
    out = frame.copy()
    out.columns = [_storable(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_storable)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        name = sheet_name[:31]
        out.to_excel(writer, index=False, sheet_name=name)
        for row in writer.sheets[name].iter_rows():
            for cell in row:
                if is_formula_like(cell.value) or cell.data_type == "f":
                    cell.data_type = "s"  # openpyxl typed "=…" as a formula on assignment
                    cell.quotePrefix = True
    return buffer.getvalue()
