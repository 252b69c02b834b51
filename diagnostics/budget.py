"""Memory budgets: what reading one upload would cost, checked before anything is expanded.

Calamine, Arrow and Python hold an upload outside DuckDB's memory limit, so a small file that
expands (an .xlsx whose shared strings or sheet dimensions are huge, a dictionary-encoded Parquet
file) could take the server's memory. :func:`estimate_upload` reads only the zip directory, the
XML headers and the Parquet footer and returns the bytes reading would hold at its peak;
:func:`check_upload` refuses a file over the per-upload budget with a message a page can show.
:class:`MemoryLedger` bounds what every session of the process holds together.

Budgets come from the environment (MiB), so a small server can lower them:
``MYN_UPLOAD_BUDGET_MB`` (one upload, default 2048), ``MYN_SERVER_BUDGET_MB`` (every session
together, default 6144) and ``MYN_SESSION_FILES_MB`` (the files of one session, default 400, the
uploader's own per-file cap).
"""

from __future__ import annotations

import io
import os
import re
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from diagnostics.errors import DiagnosticsError

__all__ = [
    "MemoryLedger",
    "UploadEstimate",
    "check_session_files",
    "check_upload",
    "estimate_upload",
    "ledger",
    "server_budget",
    "session_files_cap",
    "upload_budget",
]

_MIB = 1 << 20
# Measured on the bench CSV: reading, typing and holding a text upload peaks at about 3x its size.
TEXT_FACTOR = 3
# One spreadsheet cell costs calamine a 32-byte slot for every position of the sheet's rectangle
# (it stores the rectangle densely) and Python a list slot and an object when read: about 120 B.
CELL_BYTES = 120
# Shared strings are held by calamine and again as Python text: about 3x their XML size.
STRINGS_FACTOR = 3
# An Arrow text value costs its bytes plus a 4-byte offset, and a second copy while cast to text.
VALUE_OVERHEAD = 16
_INFLATE_CHUNK = 1 << 20
_DIMENSION = re.compile(
    rb'<dimension[^>]*\bref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"')


def _env_mib(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        value = default
    return max(1, value) * _MIB


def upload_budget() -> int:
    """Return the bytes one upload may take while it is read (``MYN_UPLOAD_BUDGET_MB``)."""
    return _env_mib("MYN_UPLOAD_BUDGET_MB", 2048)


def server_budget() -> int:
    """Return the bytes every session together may hold (``MYN_SERVER_BUDGET_MB``)."""
    return _env_mib("MYN_SERVER_BUDGET_MB", 6144)


def session_files_cap() -> int:
    """Return the bytes of files one session may hold at once (``MYN_SESSION_FILES_MB``)."""
    return _env_mib("MYN_SESSION_FILES_MB", 400)


@dataclass(frozen=True)
class UploadEstimate:
    """What reading a file would hold at its peak, and the figure that drives it."""

    peak_bytes: int
    detail: str


def _mib(n: int) -> str:
    return f"{n / _MIB:,.0f} MB" if n >= _MIB else f"{n / 1024:,.0f} KB"


# ---------------------------------------------------------------- xlsx


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + (byte - 64)
    return number


def _inflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[int, bytes]:
    """Return the entry's real expanded size (stopping past ``limit``) and its first 64 KB.

    The sizes in a zip directory are claims: this inflates the entry in 1 MB steps without
    keeping it, so an entry that lies about its size is caught with little memory.
    """
    with archive.open(info) as raw:  # decompresses; we count instead of keeping
        head = b""
        total = 0
        while True:
            chunk = raw.read(_INFLATE_CHUNK)
            if not chunk:
                return total, head
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            total += len(chunk)
            if total > limit:
                return total, head


def _wider_refs(letters: int, digits: int) -> re.Pattern[bytes]:
    """Return a pattern for cell references longer than ``letters`` letters or ``digits`` digits."""
    parts = []
    if letters < 3:
        parts.append(rb'<c[^>]*?\br="([A-Z]{%d,3})([0-9]+)"' % (letters + 1))
    parts.append(rb'<c[^>]*?\br="([A-Z]{1,3})([0-9]{%d,})"' % (digits + 1))
    return re.compile(b"|".join(parts))


def _sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[int, int]:
    """Return the largest (column, row) a sheet's cells reach.

    The ``<dimension>`` header gives the rectangle; the sheet is then searched (at C speed) only
    for cell references written with more letters or digits than it, which a truthful file never
    has, so a header that lies is caught without matching every cell of a large sheet.
    """
    columns = rows = 0
    tail = b""
    wider: re.Pattern[bytes] | None = None
    with archive.open(info) as stream:
        read = 0
        while True:
            chunk = stream.read(_INFLATE_CHUNK)
            if not chunk:
                break
            read += len(chunk)
            text = tail + chunk
            if wider is None:
                found = _DIMENSION.search(text[:65536])
                letters, digits = (len(found.group(1)), len(found.group(2))) if found else (0, 0)
                if found:
                    columns, rows = _column_number(found.group(1)), int(found.group(2))
                wider = _wider_refs(letters, digits)
            for match in wider.finditer(text):
                found_groups = [g for g in match.groups() if g is not None]
                col, row = found_groups[0], found_groups[1]
                columns = max(columns, _column_number(col))
                rows = max(rows, int(row))
            tail = text[-64:]
            if read > limit:
                break
    return columns, rows


def _estimate_xlsx(data: bytes, name: str, budget: int) -> UploadEstimate:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not an Excel workbook that can be opened (the zip archive is damaged).",
            "Save it again as .xlsx (or CSV) and upload that.",
        ) from exc
    declared = sum(i.file_size for i in infos)
    strings_xml = [i for i in infos if i.filename.lower().endswith("sharedstrings.xml")]
    sheets = [i for i in infos if re.search(r"worksheets/[^/]+\.xml$", i.filename, re.I)]
    if declared * STRINGS_FACTOR > budget * 4:  # a directory that claims far too much
        return UploadEstimate(declared * STRINGS_FACTOR,
                              f"its parts claim {_mib(declared)} once unpacked")
    try:
        limit = budget // STRINGS_FACTOR
        strings = sum(_inflated(archive, i, limit)[0] for i in strings_xml)
        cells = 0
        widest = ""
        for sheet in sheets:
            columns, rows = _sheet_extent(archive, sheet, budget)
            if columns * rows > cells:
                cells = columns * rows
                widest = f"a sheet spans {columns:,} columns × {rows:,} rows"
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not an Excel workbook that can be opened ({str(exc)[:80]}).",
            "Save it again as .xlsx (or CSV) and upload that; password-protected workbooks "
            "must be saved without the password.",
        ) from exc
    peak = strings * STRINGS_FACTOR + cells * CELL_BYTES + len(data)
    if strings * STRINGS_FACTOR >= cells * CELL_BYTES:
        detail = (f"its shared text unpacks to {'more than ' if strings > limit else ''}"
                  f"{_mib(min(strings, limit))}")
    else:
        detail = widest
    return UploadEstimate(peak, detail)


# ---------------------------------------------------------------- Parquet


def _estimate_parquet(data: bytes, name: str) -> UploadEstimate:
    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DiagnosticsError(
            f"“{name}” is not a readable Parquet file ({str(exc)[:80]}).",
            "Export it again, or upload a CSV.",
        ) from exc
    rows = int(meta.num_rows)
    unpacked = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            unpacked += max(0, int(group.column(c).total_uncompressed_size))
    # Every cell becomes a text value with its own offset, validity bit and line number.
    cells = rows * max(1, meta.num_columns) * VALUE_OVERHEAD
    peak = unpacked * 2 + cells + len(data)
    return UploadEstimate(peak, f"{rows:,} rows × {meta.num_columns:,} columns, "
                                f"{_mib(unpacked)} of values once unpacked")


def dense_text_bytes(column: pa.ChunkedArray) -> int:
    """Return the bytes a dictionary-encoded text column takes once every value is spelled out."""
    total = 0
    for chunk in column.chunks:
        if not isinstance(chunk, pa.DictionaryArray):
            total += chunk.nbytes
            continue
        lengths = pa.compute.binary_length(chunk.dictionary)
        spelled = pa.compute.sum(pa.compute.take(lengths, chunk.indices)).as_py()
        total += int(spelled or 0) + len(chunk) * VALUE_OVERHEAD
    return total


# ---------------------------------------------------------------- any file


def estimate_upload(data: bytes, name: str) -> UploadEstimate:
    """Return what reading the file would hold at its peak, from its headers only.

    Raises DiagnosticsError when the container itself (zip, Parquet footer) is damaged.
    """
    head = bytes(data[:4])
    if head == b"PK\x03\x04":
        return _estimate_xlsx(data, name, upload_budget())
    if head == b"PAR1":
        return _estimate_parquet(data, name)
    return UploadEstimate(len(data) * TEXT_FACTOR, f"{_mib(len(data))} of text")


def refusal(name: str, estimate: UploadEstimate, budget: int) -> DiagnosticsError:
    """Return the error that refuses a file whose reading would exceed ``budget``."""
    return DiagnosticsError(
        f"“{name}” is too large to read here: {estimate.detail}, which would take about "
        f"{_mib(estimate.peak_bytes)} of memory (the limit for one upload is {_mib(budget)}).",
        "Export fewer rows or columns (a date range, only the fields you need), save it as CSV, "
        "or split it into several files.",
    )


def check_upload(data: bytes, name: str, budget: int | None = None) -> UploadEstimate:
    """Return the file's estimate; raise DiagnosticsError when it is over the upload budget."""
    budget = upload_budget() if budget is None else budget
    estimate = estimate_upload(data, name)
    if estimate.peak_bytes > budget:
        raise refusal(name, estimate, budget)
    return estimate


def check_session_files(sizes: dict[str, int], cap: int | None = None) -> None:
    """Raise DiagnosticsError when one session's files together exceed the upload cap."""
    cap = session_files_cap() if cap is None else cap
    total = sum(sizes.values())
    if total > cap:
        raise DiagnosticsError(
            f"{'This file adds' if len(sizes) == 1 else f'These {len(sizes)} files add'} up to "
            f"{_mib(total)}, more than the {_mib(cap)} one session may upload.",
            "Remove a file, or export fewer rows (a shorter date range) and upload that.",
        )


# ---------------------------------------------------------------- every session together


class MemoryLedger:
    """A process-wide count of the memory each session's uploads hold, within one capacity.

    A session sets what it holds with :meth:`hold` before reading (refused when the total would
    pass the capacity) and gives it back with :meth:`release` when its data is dropped or the
    session ends. Thread-safe: every session of a Streamlit server runs in its own thread.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def hold(self, owner: str, nbytes: int) -> None:
        """Set what ``owner`` holds to ``nbytes``; raise DiagnosticsError when it does not fit."""
        with self._lock:
            others = sum(n for who, n in self._held.items() if who != owner)
            shrinking = nbytes <= self._held.get(owner, 0)
            if nbytes > 0 and not shrinking and others + nbytes > self.capacity:
                raise DiagnosticsError(
                    f"The server is holding as much uploaded data as it can right now "
                    f"({_mib(others)} for other sessions; this upload needs about {_mib(nbytes)}).",
                    "Try again in a few minutes, or upload a smaller export (fewer rows or "
                    "columns).",
                )
            if nbytes > 0:
                self._held[owner] = nbytes
            else:
                self._held.pop(owner, None)

    def release(self, owner: str) -> int:
        """Forget what ``owner`` holds; return the bytes given back."""
        with self._lock:
            return self._held.pop(owner, 0)

    def held(self, owner: str | None = None) -> int:
        """Return the bytes ``owner`` holds (every owner together when None)."""
        with self._lock:
            if owner is None:
                return sum(self._held.values())
            return self._held.get(owner, 0)

    def owners(self) -> list[str]:
        """Return the owners holding memory now."""
        with self._lock:
            return list(self._held)


_LEDGER: MemoryLedger | None = None
_LEDGER_LOCK = threading.Lock()


def ledger() -> MemoryLedger:
    """Return the process's ledger (created on first use with :func:`server_budget`)."""
    global _LEDGER
    with _LEDGER_LOCK:
        if _LEDGER is None:
            _LEDGER = MemoryLedger(server_budget())
        return _LEDGER
