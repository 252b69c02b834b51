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
import unicodedata
from concurrent.futures import ThreadPoolExecutor
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
_COUNT_BYTES = 1 << 20  # bytes counted at a time
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

    ``delimiter`` overrides the detected one (for the rare file the sniffing gets wrong). What
    reading would hold in memory is checked first, from the file's headers only, against the
    upload budget of :mod:`diagnostics.budget`. Any failure of a reader becomes a
    DiagnosticsError naming the file: no file can end in a traceback.
    """
    from diagnostics.budget import check_upload

    try:
        check_upload(data, name)
        return _read_any(data, name, delimiter)
    except DiagnosticsError:
        raise
    except MemoryError as exc:
        raise DiagnosticsError(
            f"“{name}” is too large to read with the memory this server has free.",
            "Export fewer rows or columns, or try again later.",
        ) from exc
    except Exception as exc:  # noqa: BLE001 - the last line of defence: say what to do
        raise _unreadable(name, f"{type(exc).__name__}: {exc}") from exc
    except BaseException as exc:  # a Rust reader's panic is a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable(name, "the spreadsheet reader gave up on it") from exc


def _read_any(data: bytes, name: str, delimiter: str | None) -> RawTable:
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

# The sample is parsed by Python's csv module, whose default 128 KB cell limit a long quoted
# note near the top of an export passes; the sample itself bounds what it can meet.
csv.field_size_limit(max(csv.field_size_limit(), 4 * _SAMPLE_BYTES))
_MAX_BROKEN_QUOTES = 100  # past this many, the rest of the file is counted as not read


def _utf16_without_bom(head: bytes) -> str | None:
    """Return "utf-16-le"/"utf-16-be" when NULs sit on one side of most characters, else None."""
    sample = head[:4096] if len(head) % 2 == 0 else head[:4095]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _oddness(text: str) -> int:
    """Return how many characters look mis-decoded.

    Counted: symbols inside words ("£ukasz" from cp1250 bytes; a currency sign beside digits is
    not odd), scripts mixed in one word, and
    words made mostly of accented Latin letters ("Èâàí", which is Cyrillic read as cp1252).
    """
    odd = 0
    for token in _TOKEN.findall(text):
        latin = any(c.isascii() and c.isalpha() for c in token)
        accented = 0
        for c in token:
            if c.isascii():
                continue
            if not c.isalpha():
                # A currency sign beside a number ("51.766,06 €") is what an amount holds;
                # inside a word ("£ukasz") it is a letter read from the wrong code page.
                odd += latin or unicodedata.category(c) != "Sc"
            elif not unicodedata.name(c, "").startswith("LATIN"):
                odd += latin
            else:
                accented += 1
        letters = sum(c.isalpha() for c in token)
        if accented >= 2 and accented * 2 > letters:
            odd += 1
    return odd


_TOKEN = re.compile(r"[^\x00-\x7f]*[^\s,;|\t\"'()]*[^\x00-\x7f][^\s,;|\t\"'()]*")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _guess_encoding(sample: bytes) -> str:
    """Return the encoding a non-UTF-8 text sample is most likely in.

    charset-normalizer proposes one (it knows Shift-JIS, GB18030, Cyrillic…); the Windows code
    pages are tried too, and the candidate whose text has the fewest mis-decoded characters wins,
    cp1252 first on a tie (the usual Western export), so "Łukasz" comes back from cp1250 bytes.
    Latin-1 comes next: it decodes any byte, so a file it fits no worse stays as it was read
    before detection existed.
    """
    from charset_normalizer import from_bytes

    candidates = ["cp1252", "latin-1", "cp1250", "cp1251"]
    try:
        best = from_bytes(sample[:65536]).best()
    except Exception:  # noqa: BLE001 - a detector failure just means: try the code pages
        best = None
    if best is not None and best.encoding not in candidates:
        candidates.insert(2, best.encoding)
    scored = []
    for rank, encoding in enumerate(candidates):
        try:
            text = sample.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            try:  # the sample may end in the middle of a character
                text = sample[:-4].decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
        scored.append((_oddness(text), rank, encoding))
    return min(scored)[2] if scored else "latin-1"


def _decode(data: bytes, name: str) -> tuple[bytes, str]:
    """Return the file as UTF-8 bytes and the encoding it was in."""
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8 (with BOM)"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _transcode(data, "utf-16", name), "utf-16"
    else:
        encoding = "utf-8"
    head = data[:_SAMPLE_BYTES]
    if b"\x00" in head:
        wide = _utf16_without_bom(head)
        if wide is None:
            raise _binary(name)
        return _transcode(data, wide, name), f"{wide} (no byte-order mark)"
    if len(_CONTROL.findall(head[:65536])) > max(8, len(head[:65536]) // 20):
        raise _binary(name)  # text exports hold next to no control characters
    try:  # the sample only: the CSV reader checks the rest, without a copy of the whole file
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) == len(data))
    except UnicodeDecodeError:
        return _from_windows(data, name)
    return data, encoding


def _binary(name: str) -> DiagnosticsError:
    return DiagnosticsError(
        f"“{name}” looks like a binary file, not a text export.",
        "Upload a CSV, an Excel .xlsx or a Parquet file exported from your CRM.",
    )


def _transcode(data: bytes, encoding: str, name: str) -> bytes:
    text = data.decode(encoding, errors="replace")
    head = text[:65536]
    odd = head.count("\ufffd") + len(_TEXT_CONTROL.findall(head))
    if odd > max(8, len(head) // 20):
        raise _binary(name)
    return text.encode("utf-8")


def _from_windows(data: bytes, name: str = "") -> tuple[bytes, str]:
    """Return non-UTF-8 text as UTF-8 bytes and the encoding it was detected in."""
    sample = _non_ascii_lines(data)
    encoding = _guess_encoding(sample)
    text = data.decode(encoding, errors="replace")
    if "\ufffd" in text and encoding == "cp1252":  # one of cp1252's five unassigned bytes
        return data.decode("latin-1").encode("utf-8"), "latin-1"
    return text.encode("utf-8"), encoding


def _non_ascii_lines(data: bytes, limit: int = 65536) -> bytes:
    """Return the lines holding non-ASCII bytes (up to ``limit``): what tells encodings apart."""
    found = re.search(rb"[\x80-\xff]", data)
    if found is None:
        return data[:limit]
    start = data.rfind(b"\n", 0, found.start()) + 1
    return data[start:start + limit]


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


def _sample_rows(sample: str, delim: str) -> list[list[str]]:
    """Return the sample's rows as Python's csv module reads them (any line ending)."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delim):
            rows.append(row)
    except csv.Error:  # a broken quote in the sample: the rows before it are enough here
        pass
    return rows


_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_REPEATS_SEEN = 8  # sample rows needed before a column's repeats are trusted
_TYPE_SAMPLE_ROWS = 1000  # sample rows that decide it


def _cell_types(sample_rows: list[list[str]], width: int) -> dict[str, pa.DataType]:
    """Return the Arrow type each column's cells are read as: text, or text as codes.

    A column whose sample repeats its values (stages, reps, regions, dates) is read as a
    dictionary: each distinct cell is held once and every row holds a 4-byte code, so a large
    upload takes far less memory, and every later step (trimming, typing, storing) works on
    the distinct values. The cells are the same text either way; a column that turns out to
    vary more further down costs only its codes.
    """
    rows = sample_rows[1:_TYPE_SAMPLE_ROWS]
    types: dict[str, pa.DataType] = {}
    for i in range(width):
        values = [row[i] for row in rows if len(row) > i]
        repeats = len(values) >= _REPEATS_SEEN and len(set(values)) * 2 <= len(values)
        types[f"c{i}"] = _DICTIONARY if repeats else pa.string()
    return types


@dataclass
class _Parsed:
    """One pass of Arrow's CSV reader over part of a file."""

    table: pa.Table
    bad: list[tuple[int, str, str | None]]  # record number, reason, text when it spans lines


def _arrow_csv(view: memoryview, names: dict[str, pa.DataType], delim: str, multiline: bool,
               use_threads: bool, block_size: int, skip: int) -> _Parsed:
    bad: list[tuple[int, str, str | None]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        text = row.text or ""
        spans = text if ("\n" in text or "\r" in text) else None
        bad.append((row.number, _footer_reason(text, row.actual_columns, row.expected_columns),
                    spans))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(view)),  # reads slices of the bytes, no copies
        read_options=pacsv.ReadOptions(
            skip_rows=skip, column_names=list(names), use_threads=use_threads,
            block_size=block_size,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delim, invalid_row_handler=on_invalid, newlines_in_values=multiline,
            # Blank lines become empty rows (reported as such), so line numbers stay exact.
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=names,
            strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True,
        ),
    )
    return _Parsed(table, bad)


def _parse(view: memoryview, names: dict[str, pa.DataType], delim: str, multiline: bool,
           skip: int,
           name: str) -> _Parsed:
    """Return Arrow's reading of the bytes; raise DiagnosticsError when it cannot read them."""
    # Small blocks: the reader's threads hold fewer bytes in flight (a 1M-row file peaked about
    # 30 MB lower than with 8 MB blocks, at the same speed).
    block = 2 << 20
    try:
        try:
            parsed = _arrow_csv(view, names, delim, multiline, True, block, skip)
            if parsed.bad:  # numbers of bad rows are only known when read on one thread
                parsed = _arrow_csv(view, names, delim, multiline, False, block, skip)
            return parsed
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "straddling" not in message and "block" not in message:
                raise
        # One very large cell: read again with blocks bigger than the file.
        return _arrow_csv(view, names, delim, True, False, max(len(view) + 1, block), skip)
    except pa.ArrowInvalid as exc:
        raise _unreadable(name, str(exc)) from exc


def _line_breaks(data: bytes | str, start: int = 0) -> int:
    """Return how many line breaks (\\n, \\r\\n or a lone \\r) ``data`` holds from ``start``.

    Bytes are counted with numpy (several times faster than ``bytes.count`` on a large file), a
    few megabytes at a time, so that counting never holds a copy the size of the file; when
    there are as many \\r as \\n, the file is taken to end its lines with \\r\\n.
    """
    if isinstance(data, str):
        return data.count("\n") + data.count("\r") - data.count("\r\n")
    raw = np.frombuffer(data, dtype=np.uint8)[start:]
    returns_too = b"\r" in data[start:start + _SAMPLE_BYTES] or b"\r" in data
    newlines = returns = paired = 0
    for low in range(0, raw.size, _COUNT_BYTES):
        part = raw[low:low + _COUNT_BYTES + 1]  # one byte more: a \r\n across the cut
        newline = part[:_COUNT_BYTES] == 10
        newlines += int(np.count_nonzero(newline))
        if returns_too:
            ret = part[:_COUNT_BYTES] == 13
            returns += int(np.count_nonzero(ret))
            paired += int(np.count_nonzero(ret[:part.size - 1] & (part[1:] == 10)))
    if not returns_too or returns == newlines or returns == 0:
        return newlines
    return newlines + returns - paired


def _breaks_per_row(table: pa.Table) -> np.ndarray:
    """Return how many line breaks the cells of each row hold (quoted multi-line cells)."""
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        for pattern, sign in (("\n", 1), ("\r", 1), ("\r\n", -1)):
            if pa.types.is_dictionary(column.type):  # counted once per distinct value
                counts = pa.chunked_array([pc.take(pc.count_substring(c.dictionary, pattern),
                                                   c.indices) for c in column.chunks], pa.int32())
            else:
                counts = pc.count_substring(column, pattern)
            total += sign * pc.fill_null(counts, 0).to_numpy().astype(np.int64)
    return total


def _looks_swallowed(cells: list[str | None], delim: str, width: int) -> bool:
    """Return True when a multi-line cell's inner lines are records: a quote that never closed."""
    for cell in cells:
        if not cell or ("\n" not in cell and "\r" not in cell):
            continue
        inner = cell.splitlines()[1:-1] or cell.splitlines()[1:]
        if inner and all(line.count(delim) + 1 >= width - 1 for line in inner if line.strip()):
            return True
    return False


def _line_starts(data: bytes) -> np.ndarray:
    """Return the byte offset where each physical line starts (\n, \r\n or lone \r endings)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newline = raw == 10
    cr = raw == 13
    cr[:-1] &= ~newline[1:]  # \r followed by \n: the \n ends the line
    ends = np.flatnonzero(newline | cr)
    return np.concatenate(([0], ends + 1))


@dataclass
class _Reading:
    tables: list[pa.Table] = field(default_factory=list)
    lines: list[np.ndarray] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read_part(utf8: bytes, start: int, first_line: int, names: dict[str, pa.DataType],
               delim: str,
               multiline: bool, name: str, out: _Reading) -> int | None:
    """Read the bytes from ``start`` (physical line ``first_line``) into ``out``.

    Returns the physical line of a broken quote after which reading must start again, or None
    when the part was read to its end. Rows are numbered by physical line, so a quoted cell
    spanning lines moves the numbers of the rows after it.
    """
    view = memoryview(utf8)[start:]
    header = first_line == 1
    # Only a quote can make a record span lines. The lines are counted while Arrow reads (the
    # count needs only the bytes; it was a wait of its own after the reading).
    quoted = utf8.find(b'"', start) != -1
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(_line_breaks, utf8, start) if quoted else None
        parsed = _parse(view, names, delim, multiline, 1 if header else 0, name)
        breaks = counting.result() if counting is not None else 0
    table = parsed.table
    records = table.num_rows + len(parsed.bad)
    # Arrow numbers records from 1 (the header, in the first part); lines follow records
    # unless a quoted cell spans several lines.
    first = 2 if header else 1
    shift = first_line - 1
    bad_numbers = np.asarray(sorted({n for n, _, _ in parsed.bad}), dtype=np.int64)
    kept = np.arange(first, first + records, dtype=np.int64)
    if bad_numbers.size:
        kept = np.setdiff1d(kept, bad_numbers, assume_unique=True)[: table.num_rows]
    # The physical line of each record number, needed only where it is not the number + shift.
    physical: np.ndarray | None = None
    broken_at = None
    # Without a quote, records and lines agree.
    if records and quoted and records + header < breaks + (
            0 if utf8[-1:] in (b"\n", b"\r") else 1):
        physical = np.arange(first + records + 1, dtype=np.int64) + shift
        extra = np.zeros(physical.size, dtype=np.int64)
        extra[kept] = _breaks_per_row(table)
        for number, _reason, text in parsed.bad:
            extra[number] = _line_breaks(text) if text else 0
        physical = physical + np.concatenate(([0], np.cumsum(extra)[:-1]))
        broken_at = _first_broken(table, parsed, extra[kept], kept, physical, delim, len(names))
    keep = slice(None) if broken_at is None else kept < broken_at[0]
    out.tables.append(table if broken_at is None else table.filter(pa.array(keep)))
    if physical is None:
        kept += shift  # in place: the lines of a large file are not copied
        out.lines.append(kept)
    else:
        out.lines.append(physical[kept][keep])
    out.rejected += [RejectedRow(int(n + shift if physical is None else physical[n]), reason)
                     for n, reason, _ in parsed.bad if broken_at is None or n < broken_at[0]]
    if broken_at is None:
        return None
    out.rejected.append(RejectedRow(broken_at[1], _QUOTE_REASON))
    return broken_at[1]


_QUOTE_REASON = ("a quote (\") opens a cell that is not closed on this line; the rows after it "
                 "were read on their own")


def _first_broken(table: pa.Table, parsed: _Parsed, row_breaks: np.ndarray,
                  kept_records: np.ndarray, physical: np.ndarray, delim: str,
                  width: int) -> tuple[int, int] | None:
    """Return (record, physical line) of the first row a broken quote ran over, if any."""
    candidates = [(number, int(physical[number])) for number, _r, text in parsed.bad
                  if text is not None]
    for index in np.flatnonzero(row_breaks > 0)[:1000]:
        row = table.slice(int(index), 1).to_pylist()[0]
        if _looks_swallowed(list(row.values()), delim, width):
            record = int(kept_records[index])
            candidates.append((record, int(physical[record])))
            break
    return min(candidates) if candidates else None


def _read_text(data: bytes, name: str, delimiter: str | None) -> RawTable:
    utf8, encoding = _decode(data, name)
    sample = utf8[:_SAMPLE_BYTES].decode("utf-8", errors="ignore")
    delim = delimiter or _detect_delimiter(sample)
    sample_rows = _sample_rows(sample, delim)
    headers = _clean_headers(sample_rows[0] if sample_rows else [])
    if len(headers) < 2:
        raise DiagnosticsError(
            f"Only one column was found in “{name}”.",
            "A CRM export needs several columns (id, owner, stage, amount, dates) separated by "
            "commas, semicolons, tabs or pipes. Save the file again as CSV and upload that.",
        )
    names = _cell_types(sample_rows, len(headers))
    # Quoted cells spanning lines need the slower parser; look for one in the sample.
    multiline = '"' in sample and any(
        "\n" in joined or "\r" in joined for joined in map("".join, sample_rows))
    reading = _Reading()
    try:
        broken = _read_part(utf8, 0, 1, names, delim, multiline, name, reading)
    except UnicodeDecodeError:
        broken = None
    except DiagnosticsError as exc:
        if "utf8" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise
        # Valid UTF-8 at the top, not further down: another encoding after all.
        utf8, encoding = _from_windows(utf8, name)
        reading = _Reading()
        broken = _read_part(utf8, 0, 1, names, delim, multiline, name, reading)
    passes = 0
    starts: np.ndarray | None = None
    while broken is not None:
        passes += 1
        starts = _line_starts(utf8) if starts is None else starts
        if broken >= len(starts):
            break
        if passes > _MAX_BROKEN_QUOTES:
            left = len(starts) - broken
            reading.rejected += [RejectedRow(line, "not read: more than "
                                             f"{_MAX_BROKEN_QUOTES} broken quotes above it")
                                 for line in range(broken + 1, broken + 1 + left)]
            break
        broken = _read_part(utf8, int(starts[broken]), broken + 1, names, delim, multiline,
                            name, reading)
    # The reader's working buffers are free now: hand them back to the system, so that a large
    # upload does not hold twice its size while it is typed.
    pa.default_memory_pool().release_unused()
    table = (reading.tables[0] if len(reading.tables) == 1
             else pa.concat_tables(reading.tables))
    if table.num_rows == 0 and not reading.rejected:
        raise DiagnosticsError(
            f"“{name}” has column names but no rows.",
            "Check the report's filters in your CRM (date range, owner) and export it again.",
        )
    lines = (reading.lines[0] if len(reading.lines) == 1 else
             np.concatenate(reading.lines) if reading.lines else np.zeros(0, np.int64))
    table = table.append_column("_line", pa.array(lines, type=pa.int64()))
    notes = []
    if encoding not in ("utf-8", "utf-8 (with BOM)"):
        notes.append(f"Read as {encoding} text (not UTF-8).")
    if delim != ",":
        notes.append(f"Columns separated by {_delimiter_name(delim)}.")
    quotes = [r.line for r in reading.rejected if r.reason == _QUOTE_REASON]
    if quotes:
        shown = ", ".join(str(q) for q in quotes[:5]) + ("…" if len(quotes) > 5 else "")
        notes.append(f"Broken quote on line{'s' if len(quotes) > 1 else ''} {shown}: that line "
                     "is left out and the rows after it were read on their own. Check the quote "
                     "in the file.")
    return RawTable(name, headers, table, "csv", encoding, delim, reading.rejected, notes)


def _delimiter_name(delim: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}.get(delim, repr(delim))


def _unreadable(name: str, detail: str) -> DiagnosticsError:
    detail = detail.splitlines()[0][:160] if detail else "unknown reason"
    return DiagnosticsError(
        f"“{name}” could not be read as a table ({detail}).",
        "Save it again as CSV (UTF-8) or .xlsx from your CRM or spreadsheet and upload that.",
    )


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
    except (CalamineError, OSError, ValueError, TypeError, KeyError) as exc:
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


def _unusable_type(kind: pa.DataType) -> str | None:
    """Return why a Parquet column type cannot become text cells (None when it can)."""
    if pa.types.is_nested(kind):
        return "nested values (struct, list or map)"
    if pa.types.is_dictionary(kind):
        return _unusable_type(kind.value_type)
    return None


def _parquet_text(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Return the column as text, or None when it cannot be (binary that is not UTF-8)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.date32()) if _all_midnight(column) else column
    try:
        return column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _read_parquet(data: bytes, name: str) -> RawTable:
    from diagnostics.budget import UploadEstimate, dense_text_bytes, refusal, upload_budget

    try:
        source = pq.ParquetFile(pa.BufferReader(data))
        schema = source.schema_arrow
        wanted = [f.name for f in schema if _unusable_type(f.type) is None]
        skipped = [(f.name, str(_unusable_type(f.type))) for f in schema
                   if _unusable_type(f.type) is not None]
        unique = len(set(schema.names)) == len(schema.names)
        texts = [f.name for f in schema if pa.types.is_string(f.type)
                 or pa.types.is_large_string(f.type) or pa.types.is_binary(f.type)
                 or pa.types.is_large_binary(f.type)]
        # Text stays dictionary-encoded while read, so its spelled-out size is known before
        # any value is copied (a 1 MB file can hold a dictionary worth gigabytes).
        if texts and unique:
            source = pq.ParquetFile(pa.BufferReader(data), read_dictionary=texts)
        table = source.read(columns=wanted if unique else None)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not a readable Parquet file ({str(exc).splitlines()[0][:80]}).",
            "Export it again, or upload a CSV.",
        ) from exc
    if not unique:
        table = pa.table([c for c, f in zip(table.columns, table.schema, strict=True)
                          if _unusable_type(f.type) is None],
                         names=[f.name for f in table.schema if _unusable_type(f.type) is None])
    if table.num_rows == 0:
        raise DiagnosticsError(f"“{name}” has column names but no rows.", "Export it again.")
    spelled = sum(dense_text_bytes(c) for c in table.columns if pa.types.is_dictionary(c.type))
    budget = upload_budget()
    if spelled * 2 > budget:
        raise refusal(name, UploadEstimate(spelled * 2, f"its text spells out to "
                                           f"{spelled / 2**20:,.0f} MB"), budget)
    arrays, headers_raw = [], []
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        text = _parquet_text(column)
        if text is None:
            skipped.append((column_name, "binary values that are not UTF-8 text"))
            continue
        arrays.append(text)
        headers_raw.append(str(column_name))
    if len(arrays) < 2:
        raise DiagnosticsError(
            f"“{name}” has fewer than two columns that can be read as text"
            + (f" ({_skipped_text(skipped)})" if skipped else "") + ".",
            "Export the deals with plain columns (id, owner, stage, amount, dates), or as CSV.",
        )
    headers = _clean_headers(headers_raw)
    lines = pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64))
    out = pa.table(arrays + [lines], names=[f"c{i}" for i in range(len(headers))] + ["_line"])
    notes = [f"Columns left out: {_skipped_text(skipped)}."] if skipped else []
    return RawTable(name, headers, out, "parquet", encoding="binary", notes=notes)


def _skipped_text(skipped: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"“{n}” ({why})" for n, why in skipped[:10])
    return shown + (f"; and {len(skipped) - 10} more" if len(skipped) > 10 else "")


def _all_midnight(column: pa.ChunkedArray) -> bool:
    as_date = column.cast(pa.date32()).cast(column.type)
    return bool(pc.all(pc.equal(as_date, column)).as_py() in (True, None))
