"""Bytes of an uploaded file → a table of text cells, with the rows that could not be read.

Every cell is kept as text here; typing (amounts, dates) happens later, per mapped column, so that a
bad value is counted and shown instead of failing the whole file. Supports CSV/TSV/TXT with any
common delimiter (UTF-8 with or without BOM, UTF-16, cp1252/latin-1), Excel ``.xlsx`` and Parquet.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from diagnostics.errors import DiagnosticsError

__all__ = ["RawTable", "RejectedRow", "read_raw"]

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 256 * 1024
_CONTENT = re.compile(rb"[^ \t\r\n\x00\xef\xbb\xbf]")
_FOOTER = re.compile(
    r"(grand\s+totals?|^\W*totals?\b|record\s*count|\brecords?\)|confidential|copyright|"
    r"generated\s+by|all\s+rights\s+reserved|salesforce\.com|^\W*(sum|count|average)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RejectedRow:
    """A row left out of the data, with the file line it came from and why."""

    line: int | None
    reason: str


@dataclass
class RawTable:
    """A file read as text: original headers, cells as strings, and what could not be read.

    ``table`` has columns ``c0..cN`` (positions in ``headers``) plus ``_line``, the line of each
    row in the file (header = line 1), so that later checks can name the line of a bad value.
    """

    name: str
    headers: list[str]
    table: pa.Table
    file_format: str
    encoding: str = "utf-8"
    delimiter: str | None = None
    rejected: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Return the number of rows that were read (rejected rows excluded)."""
        return int(self.table.num_rows)


def read_raw(data: bytes, name: str, delimiter: str | None = None) -> RawTable:
    """Return the file's cells as text; raise DiagnosticsError when the file cannot be used at all.

    ``delimiter`` overrides the detected one (for the rare file the sniffing gets wrong).
    """
    if _CONTENT.search(data) is None:  # finds the first real byte, without copying the file
        raise DiagnosticsError(
            f"“{name}” is empty.",
            "Export the report again from your CRM and check it has rows before uploading.",
        )
    head = data[:8]
    lower = name.lower()
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, name)
    if head.startswith(b"PAR1"):
        return _read_parquet(data, name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DiagnosticsError(
            f"“{name}” is an old-style Excel (.xls) workbook, which cannot be read here.",
            "Open it in Excel and save it as .xlsx or CSV, then upload that file.",
        )
    if lower.endswith((".xlsx", ".xlsm", ".parquet", ".pq")):
        raise DiagnosticsError(
            f"“{name}” is named like a {lower.rsplit('.', 1)[-1]} file but its content is not one.",
            "Export the file again, or save it as CSV and upload that.",
        )
    return _read_text(data, name, delimiter)


# ---------------------------------------------------------------- text / CSV


def _decode(data: bytes, name: str) -> tuple[bytes, str]:
    """Return the file as UTF-8 bytes and the encoding it was in."""
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8 (with BOM)"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-16"
    else:
        encoding = "utf-8"
    if b"\x00" in data[:_SAMPLE_BYTES]:
        raise DiagnosticsError(
            f"“{name}” looks like a binary file, not a text export.",
            "Upload a CSV, an Excel .xlsx or a Parquet file exported from your CRM.",
        )
    head = data[:_SAMPLE_BYTES]
    try:  # the sample only: the CSV reader checks the rest, without a copy of the whole file
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) == len(data))
    except UnicodeDecodeError:
        return _from_windows(data)
    return data, encoding


def _from_windows(data: bytes) -> tuple[bytes, str]:
    """Return Windows-encoded text as UTF-8 bytes: cp1252 (€, curly quotes), else latin-1."""
    text = data.decode("cp1252", errors="replace")
    if "\ufffd" in text:  # one of cp1252's five unassigned bytes
        return data.decode("latin-1").encode("utf-8"), "latin-1"
    return text.encode("utf-8"), "cp1252"


def _detect_delimiter(sample: str) -> str:
    """Return the delimiter giving the most columns consistently across the first lines."""
    lines = [ln for ln in sample.splitlines()[:60] if ln.strip()]
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for r in rows[1:] if len(r) == width) / max(1, len(rows) - 1)
        score = (round(consistent, 2), width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _clean_headers(raw: list[str]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw):
        h = h.replace("\ufeff", "").strip().strip('"').strip() or f"Column {i + 1}"
        count = seen.get(h.lower(), 0) + 1
        seen[h.lower()] = count
        headers.append(h if count == 1 else f"{h} ({count})")
    return headers


def _footer_reason(text: str | None, got: int, expected: int) -> str:
    if text and _FOOTER.search(text):
        return "report footer or totals line, not a record"
    return f"has {got} field{'s' if got != 1 else ''} where the header has {expected}"


def _read_text(data: bytes, name: str, delimiter: str | None) -> RawTable:
    utf8, encoding = _decode(data, name)
    sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="ignore")
    delim = delimiter or _detect_delimiter(sample)
    first = next(csv.reader(io.StringIO(sample), delimiter=delim), [])
    headers = _clean_headers(first)
    if len(headers) < 2:
        raise DiagnosticsError(
            f"Only one column was found in “{name}”.",
            "A CRM export needs several columns (id, owner, stage, amount, dates) separated by "
            "commas, semicolons, tabs or pipes. Save the file again as CSV and upload that.",
        )
    names = [f"c{i}" for i in range(len(headers))]
    # Quoted cells spanning lines need the slower parser; look for one in the sample.
    newlines_in_values = '"' in sample and any(
        "\n" in cell or "\r" in cell
        for row in csv.reader(io.StringIO(sample), delimiter=delim) for cell in row
    )

    def attempt(use_threads: bool, block_size: int) -> tuple[pa.Table, list[tuple[int | None,
                                                                                  str]]]:
        bad: list[tuple[int | None, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append((row.number, _footer_reason(row.text, row.actual_columns,
                                                   row.expected_columns)))
            return "skip"

        table = pacsv.read_csv(
            pa.BufferReader(utf8),  # reads slices of the bytes, no copies
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=names, use_threads=use_threads, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, invalid_row_handler=on_invalid,
                newlines_in_values=newlines_in_values,
                # Blank lines become empty rows (reported as such), so line numbers stay exact.
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True,
            ),
        )
        return table, bad

    block = 8 << 20
    try:
        try:
            table, bad = attempt(True, block)
        except pa.ArrowInvalid as exc:
            if "utf8" not in str(exc).lower():
                raise
            # Valid UTF-8 at the top, not further down: a Windows export after all.
            utf8, encoding = _from_windows(utf8)
            table, bad = attempt(True, block)
        if bad:  # numbers of bad rows are only known when read on one thread
            table, bad = attempt(False, block)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "straddling" in message or "block" in message:
            try:  # one very large cell: read again with blocks bigger than the file
                table, bad = attempt(False, max(len(utf8) + 1, block))
            except pa.ArrowInvalid as again:
                raise _unreadable(name, str(again)) from again
        else:
            raise _unreadable(name, message) from exc
    # The reader's working buffers are free now: hand them back to the system, so that a large
    # upload does not hold twice its size while it is typed.
    pa.default_memory_pool().release_unused()
    if table.num_rows == 0 and not bad:
        raise DiagnosticsError(
            f"“{name}” has column names but no rows.",
            "Check the report's filters in your CRM (date range, owner) and export it again.",
        )
    rejected = [RejectedRow(number, reason) for number, reason in bad]
    lines = _line_numbers(table.num_rows, [n for n, _ in bad if n is not None])
    table = table.append_column("_line", pa.array(lines, type=pa.int64()))
    notes = []
    if encoding not in ("utf-8", "utf-8 (with BOM)"):
        notes.append(f"Read as {encoding} text (not UTF-8).")
    if delim != ",":
        notes.append(f"Columns separated by {_delimiter_name(delim)}.")
    return RawTable(name, headers, table, "csv", encoding, delim, rejected, notes)


def _delimiter_name(delim: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}.get(delim, repr(delim))


def _unreadable(name: str, detail: str) -> DiagnosticsError:
    detail = detail.splitlines()[0][:160] if detail else "unknown reason"
    return DiagnosticsError(
        f"“{name}” could not be read as a table ({detail}).",
        "Save it again as CSV (UTF-8) or .xlsx from your CRM or spreadsheet and upload that.",
    )


def _line_numbers(n_rows: int, skipped: list[int]) -> np.ndarray:
    """Return the file line of each kept row (header is line 1), skipping rejected lines."""
    total = n_rows + len(skipped)
    lines = np.arange(2, total + 2, dtype=np.int64)
    if skipped:
        lines = np.setdiff1d(lines, np.asarray(skipped, dtype=np.int64), assume_unique=True)
    return lines[:n_rows]


# ---------------------------------------------------------------- Excel and Parquet


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value).strip()
    return text or None


def _read_xlsx(data: bytes, name: str) -> RawTable:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [(title, book.get_sheet_by_name(title).to_python(skip_empty_area=False))
                  for title in book.sheet_names]
    except (CalamineError, OSError, ValueError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not an Excel workbook that can be opened ({exc}).",
            "Save it again as .xlsx (or CSV) and upload that; password-protected workbooks "
            "must be saved without the password.",
        ) from exc
    for title, rows in sheets:
        cells_by_row = [[_cell_text(c) for c in row] for row in rows]
        header_index = next((i for i, row in enumerate(cells_by_row) if any(row)), None)
        if header_index is None:
            continue
        header = [c or "" for c in cells_by_row[header_index]]
        width = max(i + 1 for i, h in enumerate(header) if h)
        headers = _clean_headers(header[:width])
        if len(headers) < 2:
            raise DiagnosticsError(
                f"Only one column was found in “{name}”.",
                "A CRM export needs several columns (id, owner, stage, amount, dates).",
            )
        columns: list[list[str | None]] = [[] for _ in headers]
        lines: list[int] = []
        for index in range(header_index + 1, len(cells_by_row)):
            cells = cells_by_row[index][:width]
            if not any(cells):
                continue
            cells += [None] * (width - len(cells))
            for col, value in zip(columns, cells, strict=True):
                col.append(value)
            lines.append(index + 1)  # spreadsheet rows count from 1
        if not lines:
            raise DiagnosticsError(
                f"The sheet “{title}” of “{name}” has column names but no rows.",
                "Put the export on the first sheet, or export it again with rows.",
            )
        arrays = [pa.array(c, type=pa.string()) for c in columns]
        table = pa.table(arrays + [pa.array(lines, type=pa.int64())],
                         names=[f"c{i}" for i in range(len(headers))] + ["_line"])
        notes = [f"Read the sheet “{title}”."] if len(sheets) > 1 else []
        return RawTable(name, headers, table, "xlsx", notes=notes)
    raise DiagnosticsError(f"“{name}” has no data on any sheet.", "Export it again with rows.")


def _read_parquet(data: bytes, name: str) -> RawTable:
    try:
        source = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not a readable Parquet file.", "Export it again, or upload a CSV."
        ) from exc
    if source.num_rows == 0:
        raise DiagnosticsError(f"“{name}” has column names but no rows.", "Export it again.")
    headers = _clean_headers([str(n) for n in source.column_names])
    arrays = []
    for column in source.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.date32()) if _all_midnight(column) else column
        arrays.append(column.cast(pa.string()))
    lines = pa.array(np.arange(2, source.num_rows + 2, dtype=np.int64))
    table = pa.table(arrays + [lines], names=[f"c{i}" for i in range(len(headers))] + ["_line"])
    return RawTable(name, headers, table, "parquet", encoding="binary")


def _all_midnight(column: pa.ChunkedArray) -> bool:
    as_date = column.cast(pa.date32()).cast(column.type)
    return bool(pc.all(pc.equal(as_date, column)).as_py() in (True, None))
