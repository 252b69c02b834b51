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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.ingest._currencies import CURRENCIES
from diagnostics.ingest._report import AmountFormats

NO_MARK = ""  # the "currency" of cells without a mark, when it is the one chosen

# A shape: some text, a number (digits, with separators between them), some text.
_SHAPE = re.compile(r"^(?P<pre>[^09]*?)(?P<num>[09](?:[09.,'’ \u00a0\u202f]*[09])?)"
                    r"(?P<post>[^09]*)$")
_SIGNS = re.compile(r"[\s()+\-\u2212]")
# One separator after one to three digits, then exactly three digits: 1.234 or 1,234 (a group
# never starts with 0, so 0.125 is a decimal).
_AMBIGUOUS = re.compile(r"^9[09]{0,2}[.,][09]{3}$")
_PLAIN_BYTES = b"0123456789.-"

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
    """Which shapes of a column are left out (another currency) and which are re-read."""

    drop: frozenset[str]
    swap: frozenset[str]


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


def scan_amounts(
    column: pa.ChunkedArray, field: str, header: str, decimal_comma: bool,
    chosen: str | None = None,
) -> tuple[AmountFormats, _Plan]:
    """Return what an amount column holds (currencies, formats, counted) and what to rewrite.

    ``chosen`` is the currency the user keeps (a code, or ``NO_MARK``); by default the most
    common one, with cells without a mark only when the marked ones are all one currency.
    Formats are counted over the cells kept.
    """
    if not decimal_comma and _is_plain(column):
        plain = len(column) - column.null_count
        return AmountFormats(field, header, decimal_comma,
                             formats={"1234.56": plain} if plain else {}), _Plan(
                                 frozenset(), frozenset())
    totals = _shape_counts(column)
    read = {shape: what for shape in totals if (what := read_shape(shape)) is not None}
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
    # With one currency kept out of several, a value fitting both formats follows the kept
    # amounts' own majority: the column's vote counted the other currencies' values too.
    either_decimal = column_decimal
    if kept is not None and decimals.get("point", 0) != decimals.get("comma", 0):
        either_decimal = max(decimals, key=decimals.__getitem__)
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
    report = AmountFormats(
        field, header, decimal_comma, currencies=currencies, marks=marks, unmarked=unmarked,
        formats=formats, decimals=decimals, ambiguous=either,
        either_comma=either_decimal == "comma",
        reread=sum(totals[s] for s in swap if read[s].decimal != "either"), kept=kept,
        left_out=left_out, chosen_absent=absent)
    return report, _Plan(frozenset(read.keys() - used.keys()), frozenset(swap))


def _rewritten(values: pa.Array, plan: _Plan) -> pa.Array:
    """Return text values with the plan applied: cells left out missing, others re-read."""
    shapes = _shapes(values)
    if plan.swap:
        swap = pc.is_in(shapes, value_set=pa.array(sorted(plan.swap), values.type))
        values = pc.if_else(swap, _swapped(values), values)
    if plan.drop:
        drop = pc.is_in(shapes, value_set=pa.array(sorted(plan.drop), values.type))
        values = pc.if_else(drop, pa.scalar(None, values.type), values)
    return values


def apply_plan(column: pa.ChunkedArray, plan: _Plan) -> pa.ChunkedArray:
    """Return the column with the plan applied (the column itself when there is nothing to do)."""
    if not plan.drop and not plan.swap:
        return column
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            chunks.append(pa.DictionaryArray.from_arrays(
                chunk.indices, _rewritten(chunk.dictionary, plan)))
        else:
            chunks.append(_rewritten(chunk, plan))
    return pa.chunked_array(chunks, column.type)


EXAMPLES = 3  # cells left out shown with their line


def read_amounts(
    column: pa.ChunkedArray, lines: pa.ChunkedArray, field: str, header: str,
    decimal_comma: bool, chosen: str | None = None,
) -> tuple[pa.ChunkedArray, AmountFormats]:
    """Return an amount column ready to be read, and the report of what it holds.

    Cells in a currency other than the one kept become missing (``report.left_out`` counts
    them, ``report.examples`` names the first with their line); cells written in the other
    number format than the column's have their separators swapped.
    """
    report, plan = scan_amounts(column, field, header, decimal_comma, chosen)
    rewritten = apply_plan(column, plan)
    if plan.drop:
        gone = pc.and_(pc.is_valid(column), pc.is_null(rewritten))
        where = pc.indices_nonzero(gone).slice(0, EXAMPLES)
        report = report.with_examples(tuple(
            (int(line), str(text).strip()[:60]) for line, text in zip(
                pc.take(lines, where).to_pylist(), pc.take(column, where).to_pylist(),
                strict=True)))
    return rewritten, report
