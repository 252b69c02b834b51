"""Amount columns read cell by cell: currency marks and number formats counted, one currency kept.

An export can mix ``51.766,06 €``, ``1465,00`` and ``$1,234.00`` in one column: two currencies,
or two ways of writing numbers. Each cell is reduced to its *shape* (every digit 1–9 becomes
``9``, ``0`` stays), so a column of a million amounts has a few hundred distinct shapes; each
shape is read once, in Python, for its currency mark and number format. The cells are then
rewritten in Arrow, never row by row:

- a cell in a currency other than the one kept becomes missing (counted, with examples);
- a cell whose format says so unambiguously (``1,234.56`` in a ``1.234,56`` column) has its
  ``.`` and ``,`` swapped, so that the column's reading gives its own value;
- a cell that fits both formats (``1.234``) is read with the column's format, and counted.

A column of plain numbers (only digits, ``.`` and ``-``, the usual export) is recognised from
its bytes and left as it is.

When a currency column is mapped (Pipedrive's ``Deal - Currency``, Salesforce's
``CurrencyIsoCode``), each cell's key is its shape joined to the currency its row names (an ISO
code, ``""`` when blank, ``"?"`` when not a currency): a cell without a mark takes its row's
currency, a cell with one keeps its own (a different row currency is counted as a conflict).
The keys are made and matched in Arrow, so a million deals still have a few dozen keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.ingest._currencies import CURRENCIES, CURRENCY_NAMES
from diagnostics.ingest._report import AmountFormats, CurrencyColumn

NO_MARK = ""  # the "currency" of cells without a mark, when it is the one chosen
_JOIN = "\x1f"  # between a cell's shape and its row's currency, in a key
_UNKNOWN = "?"  # a currency cell naming no currency known
_NAMES = pa.array(list(CURRENCY_NAMES), pa.string())
_CODES = pa.array(list(CURRENCY_NAMES.values()), pa.string())

# A shape: some text, a number (digits, with separators between them), some text.
_SHAPE = re.compile(r"^(?P<pre>[^09]*?)(?P<num>[09](?:[09.,'’ \u00a0\u202f]*[09])?)"
                    r"(?P<post>[^09]*)$")
_SIGNS = re.compile(r"[\s()+\-\u2212]")
# One separator after one to three digits, then exactly three digits: 1.234 or 1,234 (a group
# never starts with 0, so 0.125 is a decimal).
_AMBIGUOUS = re.compile(r"^9[09]{0,2}[.,][09]{3}$")
_PLAIN_BYTES = b"0123456789.-"
_Cells: TypeAlias = pa.Array | pa.ChunkedArray

_DIGITS = np.arange(256, dtype=np.uint8)
_DIGITS[ord("1"):ord("9") + 1] = ord("9")
_SWAP = np.arange(256, dtype=np.uint8)
_SWAP[ord(".")], _SWAP[ord(",")] = ord(","), ord(".")


@dataclass(frozen=True)
class _Shape:
    """What one shape of cell says: its currency (None: no mark), format and decimal."""

    currency: str | None
    mark: str
    style: str  # how the number is written, as an example: "1.234,56"
    decimal: str  # "point", "comma", "" (a whole number), "either" (1.234: both fit)
    # The currency the row's currency column names: a code, "" (blank), "?" (unknown); None
    # without a currency column.
    column: str | None = None


def _style(num: str) -> tuple[str, str]:
    """Return (example of the format, decimal) of a number's shape such as ``99.999,09``."""
    if _AMBIGUOUS.match(num):
        return ("1.234" if "." in num else "1,234"), "either"
    groups = "".join(c for c in num if c in "'’ \u00a0\u202f")
    group = {"": "", "'": "'", "’": "'"}.get(groups[:1], " ")
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        decimal = "point" if num.rfind(".") > num.rfind(",") else "comma"
    elif dots + commas == 0:
        return ("1" + group + "234" if group else "1234"), ""
    elif dots + commas > 1:  # the separator repeats: it groups thousands, the number is whole
        return ("1.234.567" if dots else "1,234,567"), ("comma" if dots else "point")
    else:
        decimal = "point" if dots else "comma"
    point = decimal == "point"
    thousands = ("," if point else ".") if dots and commas else group
    return f"1{thousands}234{'.' if point else ','}56", decimal


def read_shape(shape: str) -> _Shape | None:
    """Return what a cell's shape says, or None when it holds no number (``lots``)."""
    match = _SHAPE.match(shape.strip())
    if match is None:
        return None
    mark = " ".join(_SIGNS.sub(" ", f"{match['pre']} {match['post']}").split())
    style, decimal = _style(match["num"])
    return _Shape(CURRENCIES.get(mark.upper()), mark, style, decimal)


def read_key(key: str) -> _Shape | None:
    """Return what a cell's key says: its shape, and its row's currency when the key carries one
    (the currency of a cell without a mark of its own)."""
    shape, joined, column = key.partition(_JOIN)
    what = read_shape(shape)
    if what is None or not joined:
        return what
    known = column not in (NO_MARK, _UNKNOWN)
    return replace(what, column=column,
                   currency=what.currency or (column if known else None))


def currency_codes(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return the currency each cell of a currency column names: a code (``EUR`` for ``eur``,
    ``€`` or ``Euro``), "" when blank, "?" when it names no currency known. Each distinct
    value is looked up once, in Arrow."""
    chunks = []
    for chunk in column.chunks:
        coded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        names = pc.utf8_upper(pc.replace_substring_regex(
            pc.utf8_trim_whitespace(coded.dictionary), r"\s+", " "))
        codes = pc.if_else(pc.equal(names, ""), NO_MARK, pc.fill_null(
            pc.take(_CODES, pc.index_in(names, value_set=_NAMES)), _UNKNOWN))
        chunks.append(pc.fill_null(pc.take(codes, coded.indices), NO_MARK))
    return pa.chunked_array(chunks, pa.string())


def _translated(values: pa.Array, table: np.ndarray) -> pa.Array:
    """Return the cells with every byte replaced through ``table`` (a 256-entry lookup), in one
    vectorised pass over the array's data buffer (lengths and offsets unchanged)."""
    validity, offsets, data = values.buffers()[:3]
    if data is None:
        return values
    bytes_ = table[np.frombuffer(data, dtype=np.uint8)]
    return pa.Array.from_buffers(values.type, len(values),
                                 [validity, offsets, pa.py_buffer(bytes_)],
                                 values.null_count, values.offset)


def _shapes(values: pa.Array) -> pa.Array:
    """Return each cell's shape: the same text with every digit 1–9 written 9."""
    return _translated(values, _DIGITS)


def _swapped(values: pa.Array) -> pa.Array:
    """Return the cells with every "." written "," and every "," written "."."""
    return _translated(values, _SWAP)


def _cells(chunk: pa.Array) -> pa.Array:
    """Return the text values of a chunk: its dictionary when it is read as codes."""
    return chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk


def _is_plain(column: pa.ChunkedArray) -> bool:
    """Return True when every cell holds only digits, "." and "-", and none could read two
    ways (no "." followed by exactly three digits): nothing to tell apart (a byte-level check).
    """
    for chunk in column.chunks:
        values = _cells(chunk)
        data = values.buffers()[2]
        if data is None:
            continue
        stored = data.to_pybytes()
        if stored.translate(None, _PLAIN_BYTES):
            return False
        if b"." not in stored:
            continue
        width = np.int64 if pa.types.is_large_string(values.type) else np.int32
        ends = np.frombuffer(values.buffers()[1], dtype=width, count=len(values) + 1,
                             offset=values.offset * np.dtype(width).itemsize)[1:]
        raw = np.frombuffer(data, dtype=np.uint8)
        if (raw[np.maximum(ends.astype(np.intp) - 4, 0)] == ord(".")).any():
            return False
    return True


def _shape_counts(column: pa.ChunkedArray) -> dict[str, int]:
    """Return each distinct shape of the column with the cells that have it."""
    counts: dict[str, int] = {}
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            codes = chunk.indices.drop_null().to_numpy()
            weights = np.bincount(codes, minlength=len(chunk.dictionary))
            pairs: Iterable[tuple[str | None, int]] = zip(
                _shapes(chunk.dictionary).to_pylist(), weights.tolist(), strict=True)
        else:
            counted = pc.value_counts(_shapes(chunk))
            pairs = zip(counted.field("values").to_pylist(),
                        counted.field("counts").to_pylist(), strict=True)
        for shape, n in pairs:
            if shape is not None and n:
                counts[shape] = counts.get(shape, 0) + n
    return counts


@dataclass(frozen=True)
class _Plan:
    """Which shapes (or keys) of a column are left out (another currency) and which are
    re-read; ``conflicts`` the keys whose mark and row currency differ."""

    drop: frozenset[str]
    swap: frozenset[str]
    conflicts: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()  # keys of amounts whose row names no currency known


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return the column's cells as text (spelled out when they are read as codes)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _kept_currency(currencies: dict[str, int], unmarked: int,
                   chosen: str | None) -> tuple[str | None, str | None]:
    """Return the currency kept (None: all of them, there is one at most) and a chosen one
    the column does not hold."""
    if len(currencies) < 2:
        absent = chosen if chosen is not None and chosen not in currencies and not (
            chosen == NO_MARK and unmarked) and currencies else None
        return None, absent
    if chosen is not None and (chosen in currencies or (chosen == NO_MARK and unmarked)):
        return chosen, None
    top = max(currencies.items(), key=lambda kv: (kv[1], -ord(kv[0][:1] or " ")))[0]
    return top, chosen


def _currencies(
    totals: dict[str, int], read: dict[str, _Shape]
) -> tuple[dict[str, int], dict[str, int], int]:
    """Return the cells per currency, per mark as written, and the numbers without a mark."""
    currencies: dict[str, int] = {}
    marks: dict[str, int] = {}
    unmarked = 0
    for shape, what in read.items():
        n = totals[shape]
        if what.mark:
            marks[what.mark] = marks.get(what.mark, 0) + n
        if what.currency is None:
            unmarked += n
        else:
            currencies[what.currency] = currencies.get(what.currency, 0) + n
    return currencies, marks, unmarked


def _add(counts: dict[str, int], key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _row_keys(column: pa.ChunkedArray, codes: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return each cell's key: its shape joined to its row's currency (missing where the cell
    is). ``column`` holds text, not codes."""
    shapes = pa.chunked_array([_shapes(chunk) for chunk in column.chunks], column.type)
    return pc.binary_join_element_wise(shapes, codes.cast(column.type), _JOIN)


def _key_counts(keys: pa.ChunkedArray) -> dict[str, int]:
    """Return each distinct key with the cells that have it."""
    counted = pc.value_counts(keys)
    return {key: n for key, n in zip(counted.field("values").to_pylist(),
                                     counted.field("counts").to_pylist(), strict=True)
            if key is not None and n}


@dataclass(frozen=True)
class _ColumnCounts:
    """What a currency column said of the amounts: the currency it gave the amounts without a
    mark, the keys whose mark it contradicts, the amounts it left without a currency."""

    given: dict[str, int]
    conflicts: frozenset[str]
    conflicting: int
    blank: int
    unknown: int
    unknown_keys: frozenset[str]


def _column_counts(totals: dict[str, int], read: dict[str, _Shape]) -> _ColumnCounts:
    given: dict[str, int] = {}
    conflicts: set[str] = set()
    unknown: set[str] = set()
    blank = 0
    for key, what in read.items():
        n = totals[key]
        if what.column is None or what.column in (NO_MARK, _UNKNOWN):
            if what.currency is None and what.column == NO_MARK:
                blank += n
            elif what.currency is None and what.column == _UNKNOWN:
                unknown.add(key)
        elif not what.mark or CURRENCIES.get(what.mark.upper()) is None:
            _add(given, what.column, n)
        elif what.currency != what.column:
            conflicts.add(key)
    return _ColumnCounts(given, frozenset(conflicts), sum(totals[k] for k in conflicts),
                         blank, sum(totals[k] for k in unknown), frozenset(unknown))


def _formats(
    used: dict[str, _Shape], totals: dict[str, int], column_decimal: str, either_decimal: str
) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """Return the formats of the cells kept, those fitting both formats (by how they are read)
    and the keys whose separators are swapped."""
    formats: dict[str, int] = {}
    either: dict[str, int] = {}
    swap: set[str] = set()
    for shape, what in used.items():
        n = totals[shape]
        _add(formats, what.style, n)
        if what.decimal == "either":
            _add(either, "thousands" if (what.style == "1.234") == (either_decimal == "comma")
                 else "decimals", n)
            if either_decimal != column_decimal:
                swap.add(shape)
        elif what.decimal and what.decimal != column_decimal:
            swap.add(shape)
    return formats, either, swap


def scan_amounts(
    column: pa.ChunkedArray, field: str, header: str, decimal_comma: bool,
    chosen: str | None = None, keys: pa.ChunkedArray | None = None,
    currency_header: str | None = None,
) -> tuple[AmountFormats, _Plan]:
    """Return what an amount column holds (currencies, formats, counted) and what to rewrite.

    ``chosen`` is the currency the user keeps (a code, or ``NO_MARK``); by default the most
    common one, with cells without a mark only when the marked ones are all one currency.
    Formats are counted over the cells kept. ``keys`` are the cells' keys when a currency
    column (``currency_header``) names each row's currency; the plan then names keys.
    """
    if keys is None and not decimal_comma and _is_plain(column):
        plain = len(column) - column.null_count
        return AmountFormats(field, header, decimal_comma,
                             formats={"1234.56": plain} if plain else {}), _Plan(
                                 frozenset(), frozenset())
    totals = _shape_counts(column) if keys is None else _key_counts(keys)
    read = {shape: what for shape in totals if (what := read_key(shape)) is not None}
    currencies, marks, unmarked = _currencies(totals, read)
    kept, absent = _kept_currency(currencies, unmarked, chosen)
    used = {s: w for s, w in read.items() if kept is None or (w.currency or NO_MARK) == kept}
    left_out: dict[str, int] = {}
    for shape in (s for s in read if s not in used):  # in the column's order, not a set's
        _add(left_out, read[shape].currency or NO_MARK, totals[shape])
    decimals: dict[str, int] = {}
    for shape, what in used.items():
        if what.decimal in ("point", "comma"):
            _add(decimals, what.decimal, totals[shape])
    column_decimal = "comma" if decimal_comma else "point"
    # With one currency kept out of several, a value fitting both formats follow the kept
    # amounts' own majority: the column's vote counted the other currencies' values too.
    either_decimal = column_decimal
    if kept is not None and decimals.get("point", 0) != decimals.get("comma", 0):
        either_decimal = max(decimals, key=decimals.__getitem__)
    formats, either, swap = _formats(used, totals, column_decimal, either_decimal)
    by_column = _column_counts(totals, read) if keys is not None else None
    report = AmountFormats(
        field, header, decimal_comma, currencies=currencies, marks=marks, unmarked=unmarked,
        formats=formats, decimals=decimals, ambiguous=either,
        either_comma=either_decimal == "comma",
        reread=sum(totals[s] for s in swap if read[s].decimal != "either"), kept=kept,
        left_out=left_out, chosen_absent=absent,
        currency_column=None if by_column is None else CurrencyColumn(
            currency_header or "", by_column.given, by_column.conflicting, by_column.blank,
            by_column.unknown))
    return report, _Plan(frozenset(read.keys() - used.keys()), frozenset(swap),
                         by_column.conflicts if by_column else frozenset(),
                         by_column.unknown_keys if by_column else frozenset())


def _rewritten(values: _Cells, keys: _Cells, plan: _Plan) -> _Cells:
    """Return text values with the plan applied: cells left out missing, others re-read."""
    if plan.swap:
        swap = pc.is_in(keys, value_set=pa.array(sorted(plan.swap), keys.type))
        swapped = (pa.chunked_array([_swapped(c) for c in values.chunks], values.type)
                   if isinstance(values, pa.ChunkedArray) else _swapped(values))
        values = pc.if_else(swap, swapped, values)
    if plan.drop:
        drop = pc.is_in(keys, value_set=pa.array(sorted(plan.drop), keys.type))
        values = pc.if_else(drop, pa.scalar(None, values.type), values)
    return values


def apply_plan(
    column: pa.ChunkedArray, plan: _Plan, keys: pa.ChunkedArray | None = None
) -> pa.ChunkedArray:
    """Return the column with the plan applied (the column itself when there is nothing to do).

    ``keys`` are the cells' keys when the plan names keys (a currency column), row for row.
    """
    if not plan.drop and not plan.swap:
        return column
    if keys is not None:
        return _rewritten(_as_text(column), keys, plan)
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            chunks.append(pa.DictionaryArray.from_arrays(
                chunk.indices, _rewritten(chunk.dictionary, _shapes(chunk.dictionary), plan)))
        else:
            chunks.append(_rewritten(chunk, _shapes(chunk), plan))
    return pa.chunked_array(chunks, column.type)


EXAMPLES = 3  # cells left out shown with their line


def _examples(
    where: pa.ChunkedArray, lines: pa.ChunkedArray, column: pa.ChunkedArray,
    currency: pa.ChunkedArray | None,
) -> tuple[tuple[int, str], ...]:
    """Return the first cells where ``where`` holds, with their line; with a currency column,
    each followed by its row's currency as written (``8000 (USD)``)."""
    rows = pc.indices_nonzero(pc.fill_null(where, False)).slice(0, EXAMPLES)
    texts = [str(text or "").strip() for text in pc.take(column, rows).to_pylist()]
    if currency is not None:
        texts = [f"{text} ({str(code).strip()})" if code and str(code).strip() else text
                 for text, code in zip(texts, pc.take(currency, rows).to_pylist(), strict=True)]
    return tuple((int(line), text[:60]) for line, text in zip(
        pc.take(lines, rows).to_pylist(), texts, strict=True))


def _cell_keys(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return each cell's shape, row for row (through the distinct values of coded cells)."""
    return pa.chunked_array(
        [pc.take(_shapes(chunk.dictionary), chunk.indices) if pa.types.is_dictionary(chunk.type)
         else _shapes(chunk) for chunk in column.chunks], _as_text(column).type)


def _left_out_by_row(keys: pa.ChunkedArray, plan: _Plan) -> pa.ChunkedArray:
    """Return, row for row, the currency of each amount left out ("" for none), else null."""
    drop = sorted(plan.drop)
    currencies = pa.array([(what.currency if (what := read_key(key)) else None) or NO_MARK
                           for key in drop], pa.string())
    return pc.take(currencies, pc.index_in(keys, value_set=pa.array(drop, keys.type)))


def read_amounts(
    column: pa.ChunkedArray, lines: pa.ChunkedArray, field: str, header: str,
    decimal_comma: bool, chosen: str | None = None,
    currency: pa.ChunkedArray | None = None, currency_header: str | None = None,
) -> tuple[pa.ChunkedArray, AmountFormats]:
    """Return an amount column ready to be read, and the report of what it holds.

    Cells in a currency other than the one kept become missing (``report.left_out`` counts
    them, ``report.examples`` names the first with their line); cells written in the other
    number format than the column's have their separators swapped. ``currency`` is the
    currency column (``currency_header``), row for row, when one is mapped: the currency of
    the cells without a mark of their own.
    """
    column, report, _rows = read_amounts_by_row(column, lines, field, header, decimal_comma,
                                                chosen, currency, currency_header)
    return column, report


def read_amounts_by_row(
    column: pa.ChunkedArray, lines: pa.ChunkedArray, field: str, header: str,
    decimal_comma: bool, chosen: str | None = None,
    currency: pa.ChunkedArray | None = None, currency_header: str | None = None,
    by_row: bool = False,
) -> tuple[pa.ChunkedArray, AmountFormats, pa.ChunkedArray | None]:
    """Return what :func:`read_amounts` does, and with ``by_row`` the currency of each amount
    left out, row for row (null for the others; None when none is left out)."""
    keys = None if currency is None else _row_keys(_as_text(column), currency_codes(currency))
    report, plan = scan_amounts(column, field, header, decimal_comma, chosen, keys,
                                currency_header)
    rewritten = apply_plan(column, plan, keys)
    if plan.drop:
        gone = pc.and_(pc.is_valid(column), pc.is_null(rewritten))
        report = report.with_examples(_examples(gone, lines, column, currency))
    by_column = report.currency_column
    if keys is not None and by_column is not None and (plan.conflicts or plan.unknown):
        def where(found: frozenset[str]) -> pa.ChunkedArray:
            return pc.is_in(keys, value_set=pa.array(sorted(found), keys.type))
        report = replace(report, currency_column=replace(
            by_column,
            conflict_examples=_examples(where(plan.conflicts), lines, column, currency)
            if plan.conflicts else (),
            unknown_examples=_examples(where(plan.unknown), lines, column, currency)
            if plan.unknown else ()))
    rows = None
    if by_row and plan.drop:
        rows = _left_out_by_row(keys if keys is not None else _cell_keys(column), plan)
    return rewritten, report, rows
