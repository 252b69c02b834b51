"""Formats decided from the data: date order, decimal comma, "Date entered" columns, the mapping."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.mapping import (
    DateOrder,
    Kind,
    TableMapping,
    detect_kind,
    field_specs,
    normalise_header,
    propose_mapping,
)
from diagnostics.readers import RawTable

_ISO = re.compile(r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2}|\d{4})\b")
# A thousands group never starts a number with 0: "0.125" is a decimal point, not 125.
_COMMA_DECIMAL = re.compile(r"([1-9]\d{0,2}(\.\d{3})+(,\d+)?|\d,\d{1,2})\D*$")
_POINT_DECIMAL = re.compile(r"([1-9]\d{0,2}(,\d{3})+(\.\d+)?|\d\.\d{1,2})\D*$")
_ENTERED = re.compile(r"^\s*date\s+entered\s*[:\-]?\s*(?P<stage>.+?)\s*$", re.IGNORECASE)


def _date_votes(counted: Iterable[tuple[str, int]]) -> tuple[DateOrder, bool]:
    """Return the day/month order of ``(value, rows)`` pairs, each value voting with its rows."""
    mdy = dmy = numeric = 0
    dots = 0
    for v, rows in counted:
        if _ISO.match(v):
            continue
        m = _DAY_MONTH.match(v)
        if not m:
            continue
        numeric += rows
        first, sep, second = int(m.group(1)), m.group(2), int(m.group(3))
        dots += rows if sep == "." else 0
        if first > 12 >= second:
            dmy += rows
        elif second > 12 >= first:
            mdy += rows
    if numeric == 0:
        return "ymd", False
    if dmy > mdy:
        return "dmy", mdy > 0
    if mdy > 0:
        return "mdy", dmy > 0
    # Every day is ≤ 12: dotted dates are European; otherwise assume the US order, and say so.
    return ("dmy" if dots > numeric / 2 else "mdy"), True


def detect_date_order(values: Sequence[str]) -> tuple[DateOrder, bool]:
    """Return the day/month order the values use and whether the data leaves it ambiguous."""
    return _date_votes((v, 1) for v in values)


def detect_decimal_comma(values: Sequence[str]) -> bool:
    """Return True when the amounts use a decimal comma (``1.234,56``)."""
    comma = sum(1 for v in values if _COMMA_DECIMAL.search(v))
    point = sum(1 for v in values if _POINT_DECIMAL.search(v))
    return comma > point


def sample_values(raw: RawTable, header: str, limit: int = 5000) -> list[str]:
    """Return up to ``limit`` non-blank cells of one column, from the top of the file."""
    column = raw.table.column(f"c{raw.headers.index(header)}")
    values = column.slice(0, limit * 2).drop_null().to_pylist()
    return [v for v in values if v.strip()][:limit]


# The rows whose cells decide a column's format first; the whole column is read only when
# they leave the format undecided (a hostile file: mixed date orders, a late European amount).
SAMPLE_ROWS = 20_000
# What of a date cell decides its order: "31/03/2025" and the character after it (the pattern
# checks that the year ends there); a time after the date does not matter.
_DATE_PREFIX = 11


def _column(raw: RawTable, header: str, rows: int | None) -> pa.ChunkedArray:
    column = raw.table.column(f"c{raw.headers.index(header)}")
    return column if rows is None or rows >= len(column) else column.slice(0, rows)


def _date_prefix_counts(raw: RawTable, header: str, rows: int | None) -> list[tuple[str, int]]:
    """Return each distinct date start of the column's first ``rows`` rows, with its rows.

    The patterns run once per distinct value, not once per row: a few hundred days in place of
    every deal.
    """
    column = _column(raw, header, rows)
    if pa.types.is_dictionary(column.type):  # cells read as codes: counted by code first
        distinct, weights = _distinct_cells(column)
        starts = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(distinct), 0, _DATE_PREFIX)
        summed = pa.table({"v": starts, "n": weights}).group_by("v").aggregate([("n", "sum")])
        values, rows_of = summed["v"].to_pylist(), summed["n_sum"].to_pylist()
    else:
        starts = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(column), 0, _DATE_PREFIX)
        counts = pc.value_counts(starts)
        values = counts.field("values").to_pylist()
        rows_of = counts.field("counts").to_pylist()
    return [(v, n) for v, n in zip(values, rows_of, strict=True) if v is not None]


def _distinct_cells(column: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Return the distinct cells of a column read as codes, as text, and the rows of each."""
    counted = pc.value_counts(column)
    return counted.field("values").cast(pa.string()), counted.field("counts")


def column_date_order(raw: RawTable, header: str) -> tuple[DateOrder, bool]:
    """Return the day/month order of a column and whether its data leaves it ambiguous.

    Each distinct value votes with its rows. The first rows decide; when they do not (days
    all ≤ 12, or both orders seen), every row of the column is read before saying so.
    """
    order, unsure = _date_votes(_date_prefix_counts(raw, header, SAMPLE_ROWS))
    if unsure and raw.table.num_rows > SAMPLE_ROWS:
        order, unsure = _date_votes(_date_prefix_counts(raw, header, None))
    return order, unsure


def _may_hold_separator(column: pa.ChunkedArray) -> bool:
    """Return False when no cell of a text column holds "." or "," (read from the bytes the
    cells are stored in, without a pass over the cells).

    A chunk cut from a larger one keeps the larger one's bytes, so this may say True for a
    column without a separator, never False for one with one.
    """
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        stored = data.to_pybytes() if data is not None else b""
        if b"." in stored or b"," in stored:
            return True
    return False


def _separator_votes(column: pa.ChunkedArray) -> tuple[int, int]:
    """Return how many cells read as decimal-comma amounts and how many as decimal-point ones."""
    weights = None
    if pa.types.is_dictionary(column.type):  # each distinct cell votes with its rows
        column, weights = _distinct_cells(column)
    else:  # only a cell with a separator can vote: plain whole numbers skip the patterns
        if not _may_hold_separator(column):
            return 0, 0
        column = column.filter(pc.or_(pc.match_substring(column, "."),
                                      pc.match_substring(column, ",")))

    def votes(pattern: str) -> int:
        hits = pc.match_substring_regex(column, pattern)
        return int(pc.sum(hits if weights is None else pc.if_else(hits, weights, 0)).as_py() or 0)

    return votes(_COMMA_DECIMAL.pattern), votes(_POINT_DECIMAL.pattern)


def column_decimal_comma(raw: RawTable, header: str) -> bool:
    """Return True when an amount column uses a decimal comma (``1.234,56``).

    The first rows decide (the patterns run in Arrow, once per cell); when they are a tie (no
    separator at all, or as many of each) every row of the column is read.
    """
    comma, point = _separator_votes(_column(raw, header, SAMPLE_ROWS))
    if comma == point and raw.table.num_rows > SAMPLE_ROWS:
        comma, point = _separator_votes(_column(raw, header, None))
    return comma > point


def ambiguous_dates(raw: RawTable, mapping: TableMapping) -> tuple[str, ...]:
    """Return the mapped date fields whose day/month order the data cannot decide."""
    specs = {s.name: s for s in field_specs()[mapping.kind]}
    return tuple(
        name for name, header in mapping.columns.items()
        if specs[name].kind == "date" and column_date_order(raw, header)[1]
    )


def entered_columns(headers: Sequence[str]) -> list[tuple[int, str]]:
    """Return (index, stage) of HubSpot-style ``Date entered "Stage (Pipeline)"`` columns."""
    found: list[tuple[int, str]] = []
    for i, header in enumerate(headers):
        match = _ENTERED.match(header)
        if not match:
            continue
        stage = match.group("stage").strip().strip('"“”\'')
        stage = re.sub(r"\s*\([^()]*\)\s*$", "", stage).strip().strip('"“”\'')
        if stage:
            found.append((i, stage))
    return found


# Words around a stage name that make a header a date the deal reached that stage:
# "demo_date", "Proposal Sent On", "Trial started", "Date reached Negotiation". A header counts
# only when what is left names a stage of the pipeline (in the deals' stages or the stage
# history): "Onboarding completed" or "Contract signed date" with no such stage stay ordinary
# columns, or every date column an export carries would become a stage.
_SUFFIXES = frozenset({"date", "on", "at", "time", "start", "dt", "started", "sent", "reached",
                       "entered", "held", "completed", "scheduled", "done", "booked"})
_DATE_PREFIXES = frozenset({"date", "entered", "reached", "moved", "to", "into"})


def _stage_named(header: str, stages: dict[str, str]) -> str | None:
    """Return the stage of ``stages`` a header names with date words around it, or None.

    ``stages`` maps normalised stage names to the names in the file. Words are peeled off the
    end ("sent", "on") and the start ("date", "entered") one at a time, and the first remainder
    that is a stage wins, so "Proposal Sent On" finds a stage called "Proposal Sent" before one
    called "Proposal". A header without a date word is never a stage date.
    """
    words = normalise_header(header).split()
    for start in range(len(words)):
        if start and words[start - 1] not in _DATE_PREFIXES:
            break
        for stop in range(len(words), start, -1):
            if stop < len(words) and words[stop] not in _SUFFIXES:
                break
            if start == 0 and stop == len(words):
                continue  # no date word taken off: "Demo" is a stage column, not a date
            remainder = " ".join(words[start:stop])
            if remainder in stages:
                return stages[remainder]
    return None


def looks_like_stage_date(header: str) -> bool:
    """Return True when a header reads like the date of a step ("Onboarding completed")."""
    words = normalise_header(header).split()
    return len(words) >= 2 and (words[-1] in _SUFFIXES or words[0] in _DATE_PREFIXES)


def stage_date_columns(
    headers: Sequence[str], stages: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[tuple[int, str]]:
    """Return (index, stage) of the columns dating when a deal reached a stage.

    HubSpot's ``Date entered "Stage (Pipeline)"`` columns count whatever the stage; a header
    such as ``demo_date``, ``Proposal Sent On`` or ``Trial started`` counts only when it names
    one of ``stages`` (the stages of the deals, and of any stage history uploaded with them).
    Headers in ``skip`` (mapped to a field already) never count, nor does a second column for a
    stage already found.
    """
    known = {normalise_header(stage): stage for stage in stages if stage}
    found: dict[str, int] = {}
    for i, stage in entered_columns(headers):
        found.setdefault(stage, i)
    for i, header in enumerate(headers):
        if header in skip or i in found.values() or _ENTERED.match(header):
            continue
        named = _stage_named(header, known)
        if named is not None:
            found.setdefault(named, i)
    return sorted(((i, stage) for stage, i in found.items()), key=lambda pair: pair[0])


def propose_table_mapping(
    raw: RawTable, kind: Kind | None = None, saved: TableMapping | None = None
) -> TableMapping:
    """Return the proposed mapping of a file: kind, field → header, date orders, decimal commas.

    A saved mapping's choices win for every header that exists in this file.
    """
    kind = kind or (saved.kind if saved else None) or detect_kind(raw.headers)[0]
    columns = propose_mapping(raw.headers, kind)
    if saved and saved.kind == kind:
        for name, header in saved.columns.items():
            if header in raw.headers:
                columns = {k: v for k, v in columns.items() if v != header}
                columns[name] = header
    specs = {s.name: s for s in field_specs()[kind]}
    mapping = TableMapping(kind, columns)
    for name, header in columns.items():
        spec = specs[name]
        if spec.kind == "date":
            if saved and name in saved.date_orders:
                mapping.date_orders[name] = saved.date_orders[name]
            else:
                mapping.date_orders[name] = column_date_order(raw, header)[0]
        elif spec.kind == "amount":
            if saved and name in saved.decimal_comma:
                mapping.decimal_comma[name] = saved.decimal_comma[name]
            else:
                mapping.decimal_comma[name] = column_decimal_comma(raw, header)
            if saved and name in saved.currency:
                mapping.currency[name] = saved.currency[name]
    return mapping
