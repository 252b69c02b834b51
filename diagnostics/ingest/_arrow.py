"""Arrow steps of typing a file: trimming, strict casts of plain columns, blank rows, repeats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import MAX_AMOUNT


def clean_edges(chunk: pa.Array) -> bool:
    """Return True when no cell is empty or starts or ends with whitespace (a byte-level check).

    Any edge byte that is a control character, a space or non-ASCII (U+00A0 and the other
    Unicode spaces are multi-byte) counts as possible whitespace, so the check may say False for
    a clean chunk (a cell ending in "é"), never True for one that needs trimming.
    """
    if len(chunk) == 0 or chunk.null_count == len(chunk):
        return True
    _validity, offsets_buffer, data_buffer = chunk.buffers()
    width = np.dtype(np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    offsets = np.frombuffer(offsets_buffer, dtype=width, count=len(chunk) + 1,
                            offset=chunk.offset * width.itemsize).astype(np.intp)
    starts, stops = offsets[:-1], offsets[1:]
    if (starts == stops).any() and (  # an empty cell, unless only missing ones are empty
            chunk.null_count == 0 or pc.any(pc.equal(pc.binary_length(chunk), 0)).as_py()):
        return False
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    # A missing cell holds no bytes: its "edges" are a neighbour's, a false alarm at worst.
    first, last = data[np.minimum(starts, data.size - 1)], data[stops - 1]
    return bool(first.min() > 0x20 and last.min() > 0x20
                and first.max() < 0x80 and last.max() < 0x80)


def trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return text cells without surrounding whitespace; cells left empty become missing.

    When no cell needs it (the usual case) the column itself comes back, without a copy. Cells
    read as codes (a dictionary) are trimmed through their distinct values.
    """
    coded = pa.types.is_dictionary(column.type)
    if all(clean_edges(chunk.dictionary if coded else chunk) for chunk in column.chunks):
        return column
    if coded:
        return pa.chunked_array([_trimmed_codes(c) for c in column.chunks], column.type)
    cut = pc.utf8_trim_whitespace(column)
    empty = pc.equal(cut, "")
    if not pc.any(empty).as_py():
        return cut
    return pc.if_else(empty, pa.scalar(None, pa.string()), cut)


def _trimmed_codes(chunk: pa.DictionaryArray) -> pa.DictionaryArray:
    """Return a chunk of coded cells trimmed: its values trimmed (and merged where they now
    agree), codes of values left empty made missing."""
    cut = pc.utf8_trim_whitespace(chunk.dictionary)
    merged = pc.dictionary_encode(pc.if_else(pc.equal(cut, ""), pa.scalar(None, pa.string()), cut))
    codes = pc.take(merged.indices, chunk.indices)  # a value left empty gives a missing code
    return pa.DictionaryArray.from_arrays(codes.cast(pa.int32()), merged.dictionary)


def cast_cells(column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    """Return text cells cast to ``kind``; coded cells are cast once per distinct value."""
    if not pa.types.is_dictionary(column.type):
        return pc.cast(column, kind)
    return pa.chunked_array(
        [pc.take(pc.cast(chunk.dictionary, kind), chunk.indices) for chunk in column.chunks],
        kind)


_YEARS = (dt.date(1950, 1, 1), dt.date(2200, 12, 31))  # outside: a typo, read as missing


def plain_typed(column: pa.ChunkedArray, kind: str) -> pa.ChunkedArray | None:
    """Return the column typed by Arrow's strict cast when every cell is plain, else None.

    Plain cells are finite numbers like ``1234.5`` (amounts within ±``MAX_AMOUNT``) and ISO
    dates between 1950 and 2200: the full reading in DuckDB gives exactly the same values for
    them, only slower. Any other cell (``$1,234``, ``05/02/2025``, ``1e308``, a typo) sends the
    whole column to the full reading, which says what it could not read.
    """
    try:
        if kind in ("amount", "number"):
            numbers = cast_cells(column, pa.float64())
            usable = (pc.less_equal(pc.abs(numbers), MAX_AMOUNT) if kind == "amount"  # NaN: False
                      else pc.is_finite(numbers))
            return numbers if pc.all(usable).as_py() in (True, None) else None
        if kind == "date":
            dates = cast_cells(column, pa.date32())
            low, high = (v.as_py() for v in pc.min_max(dates).values())
            return dates if low is None or (_YEARS[0] <= low and high <= _YEARS[1]) else None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None


def all_blank(table: pa.Table, width: int) -> pa.ChunkedArray | None:
    """Return which rows have no value in any column, or None when no row can be blank."""
    columns = [table.column(i) for i in range(width)]
    if any(c.null_count == 0 for c in columns):
        return None
    blank = pc.is_null(columns[0])
    for column in columns[1:]:
        blank = pc.and_(blank, pc.is_null(column))
    return blank


def has_repeats(typed: pa.Table) -> bool:
    """Return True when two kept rows share a key hash (a sort: cheaper than hashing again)."""
    keys, reasons = typed.column("_key"), typed.column("_reason")
    if reasons.null_count != typed.num_rows:  # rows left out already do not count
        keys = keys.filter(pc.is_null(reasons))
    if keys.null_count:
        keys = keys.drop_null()
    ordered = keys.to_numpy()  # a copy when there are several chunks, else Arrow's memory
    if not ordered.flags.writeable:
        ordered = ordered.copy()
    ordered.sort()
    return bool((ordered[1:] == ordered[:-1]).any())


def history_from_entered(
    opp_ids: pa.ChunkedArray, entered: Sequence[tuple[str, pa.ChunkedArray]]
) -> pa.Table:
    """Return stage history rows (opp_id, stage, entered_date) from "Date entered" columns.

    ``entered`` pairs each stage name with the typed dates of its column, row for row with
    ``opp_ids``; a missing date means the deal did not enter that stage.
    """
    parts = []
    for stage, dates in entered:
        reached = pc.is_valid(dates)
        ids = opp_ids.filter(reached)
        parts.append(pa.table({
            "opp_id": ids,
            "stage": pa.repeat(pa.scalar(stage, pa.string()), len(ids)),
            "entered_date": dates.filter(reached),
        }))
    return pa.concat_tables(parts)
