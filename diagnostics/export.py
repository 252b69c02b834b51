"""Spreadsheet-safe exports: CSV and Excel bytes with formula-looking cells neutralised."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

__all__ = ["neutralise", "neutralise_frame", "to_csv_bytes", "to_excel_bytes"]

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return ``value`` with a leading apostrophe when it is text a spreadsheet would execute."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
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


def to_excel_bytes(frame: pd.DataFrame, sheet_name: str = "Data") -> bytes:
    """Return .xlsx bytes of a neutralised copy of ``frame``."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_frame(frame).to_excel(writer, index=False, sheet_name=sheet_name[:31])
    return buffer.getvalue()
