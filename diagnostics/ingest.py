"""CRM exports → canonical, typed tables with a validation report → the session's Dataset.

The flow, used by the Data page, the CLI and the sample loader alike:

1. :func:`diagnostics.readers.read_raw` reads bytes into text cells (rows it cannot split are
   rejected with their line number);
2. :func:`propose_table_mapping` detects the kind of table, maps headers to canonical fields and
   picks a date order and decimal separator per column from the data;
3. :func:`parse_table` types every mapped column (plain ones with Arrow, the rest in DuckDB),
   rejects unusable rows (counted, with line and reason) and reports unreadable values, duplicate
   ids, future dates, negative amounts;
4. :func:`assemble_dataset` proposes (or applies) the stage settings and builds the Dataset.

SQL here only ever names positional raw columns (``c0``, ``c1``…) and canonical fields chosen by
code; uploaded headers and values never become SQL text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import (
    ACTIVITY_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    Dataset,
    StageConfig,
    build_dataset,
    connect_locked,
)
from diagnostics.errors import DiagnosticsError
from diagnostics.mapping import (
    KIND_LABELS,
    DateOrder,
    Kind,
    SavedMapping,
    TableMapping,
    detect_kind,
    field_specs,
    mapping_from_json,
    propose_mapping,
)
from diagnostics.readers import RawTable, RejectedRow, read_raw
from diagnostics.stages import propose_stages

__all__ = [
    "IngestResult",
    "LoadedTable",
    "ValidationReport",
    "assemble_dataset",
    "load_dataset_from_paths",
    "load_files",
    "parse_table",
    "propose_table_mapping",
    "read_mapping",
]

MAX_EXAMPLES = 50  # rejected rows listed one by one; the rest are counted by reason
CANONICAL: dict[Kind, dict[str, str]] = {
    "opportunities": OPPORTUNITY_COLUMNS,
    "activities": ACTIVITY_COLUMNS,
    "stage_history": HISTORY_COLUMNS,
}
ID_FIELD: dict[Kind, str | None] = {
    "opportunities": "opp_id", "activities": "activity_id", "stage_history": None,
}


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class ColumnProblem:
    """Values of one mapped column that could not be read (kept as missing, row kept)."""

    field: str
    header: str
    count: int
    examples: tuple[tuple[int, str], ...]


@dataclass
class ValidationReport:
    """What happened to every row of one file."""

    file: str
    kind: Kind
    rows_read: int
    rows_kept: int
    rejected: list[RejectedRow]
    rejected_by_reason: dict[str, int]
    unparseable: list[ColumnProblem] = field(default_factory=list)
    duplicate_ids: int = 0
    future_dates: dict[str, int] = field(default_factory=dict)
    negative_amounts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        """Return how many rows were left out, over every reason."""
        return sum(self.rejected_by_reason.values())

    def problems(self) -> list[str]:
        """Return human-readable sentences, one per kind of problem found."""
        out: list[str] = []
        for reason, count in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            out.append(f"{count:,} row{'s' if count != 1 else ''} left out: {reason}.")
        for p in self.unparseable:
            sample = "; ".join(f"line {line}: “{value}”" for line, value in p.examples)
            out.append(
                f"{p.count:,} value{'s' if p.count != 1 else ''} in “{p.header}” could not be "
                f"read as {p.field.replace('_', ' ')} (kept as missing), e.g. {sample}."
            )
        for name, count in self.future_dates.items():
            out.append(f"{count:,} {name.replace('_', ' ')} value(s) are in the future.")
        if self.negative_amounts:
            out.append(f"{self.negative_amounts:,} negative amount(s) (credits or refunds?).")
        return out


@dataclass
class LoadedTable:
    """One file after mapping and typing: canonical Arrow table plus its report."""

    raw: RawTable
    mapping: TableMapping
    table: pa.Table
    report: ValidationReport
    ambiguous_dates: tuple[str, ...] = ()
    history: pa.Table | None = None  # stage history found in "Date entered <stage>" columns

    @property
    def kind(self) -> Kind:
        """Return the kind of table this file holds."""
        return self.mapping.kind


@dataclass
class IngestResult:
    """Every file read, the stage settings used, and the Dataset built from them."""

    dataset: Dataset
    tables: list[LoadedTable]
    stages: StageConfig
    stage_note: str


# ---------------------------------------------------------------- formats from the data

_ISO = re.compile(r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2}|\d{4})\b")
_COMMA_DECIMAL = re.compile(r"(\d{1,3}(\.\d{3})+(,\d+)?|\d,\d{1,2})\D*$")
_POINT_DECIMAL = re.compile(r"(\d{1,3}(,\d{3})+(\.\d+)?|\d\.\d{1,2})\D*$")


def detect_date_order(values: Sequence[str]) -> tuple[DateOrder, bool]:
    """Return the day/month order the values use and whether the data leaves it ambiguous."""
    iso = mdy = dmy = numeric = 0
    dots = 0
    for v in values:
        if _ISO.match(v):
            iso += 1
            continue
        m = _DAY_MONTH.match(v)
        if not m:
            continue
        numeric += 1
        first, sep, second = int(m.group(1)), m.group(2), int(m.group(3))
        dots += sep == "."
        if first > 12 >= second:
            dmy += 1
        elif second > 12 >= first:
            mdy += 1
    if numeric == 0:
        return "ymd", False
    if dmy > mdy:
        return "dmy", mdy > 0
    if mdy > 0:
        return "mdy", dmy > 0
    # Every day is ≤ 12: dotted dates are European; otherwise assume the US order, and say so.
    return ("dmy" if dots > numeric / 2 else "mdy"), True


def detect_decimal_comma(values: Sequence[str]) -> bool:
    """Return True when the amounts use a decimal comma (``1.234,56``)."""
    comma = sum(1 for v in values if _COMMA_DECIMAL.search(v))
    point = sum(1 for v in values if _POINT_DECIMAL.search(v))
    return comma > point


def _sample(raw: RawTable, header: str, limit: int = 5000) -> list[str]:
    column = raw.table.column(f"c{raw.headers.index(header)}")
    values = column.slice(0, limit * 2).drop_null().to_pylist()
    return [v for v in values if v.strip()][:limit]


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
                mapping.date_orders[name] = detect_date_order(_sample(raw, header))[0]
        elif spec.kind == "amount":
            if saved and name in saved.decimal_comma:
                mapping.decimal_comma[name] = saved.decimal_comma[name]
            else:
                mapping.decimal_comma[name] = detect_decimal_comma(_sample(raw, header))
    return mapping


# ---------------------------------------------------------------- typing in DuckDB

_MONEY_SHAPE = "^[^0-9]{0,6}[0-9][0-9.,'' \u00a0]*[^0-9]{0,6}$"  # '' is a quote in SQL
_NEGATIVE = r"^\s*\(.*\)\s*$|^[^0-9]*-|-\s*$"
_ORDER_FORMATS: dict[DateOrder, str] = {
    "mdy": "['%m/%d/%Y', '%m-%d-%Y', '%m.%d.%Y']",
    "dmy": "['%d/%m/%Y', '%d-%m-%Y', '%d.%m.%Y']",
    "ymd": "['%Y/%m/%d', '%Y.%m.%d']",
}
_NAMED_FORMATS = (
    "['%Y/%m/%d', '%d %b %Y', '%b %d, %Y', '%d-%b-%Y', '%d-%b-%y', '%B %d, %Y', '%d %B %Y']"
)


def _amount_sql(col: str, decimal_comma: bool) -> str:
    keep = "[^0-9,]" if decimal_comma else "[^0-9.]"
    digits = f"regexp_replace({col}, '{keep}', '', 'g')"
    number = f"replace({digits}, ',', '.')" if decimal_comma else digits
    formatted = (
        f"CASE WHEN NOT regexp_matches({col}, '{_MONEY_SHAPE}') THEN NULL "
        f"ELSE (CASE WHEN regexp_matches({col}, '{_NEGATIVE}') THEN -1 ELSE 1 END) "
        f"* TRY_CAST({number} AS DOUBLE) END"
    )
    if decimal_comma:
        return formatted
    # Plain numbers (most cells of most exports) take the fast cast; the rest the full reading.
    return f"coalesce(TRY_CAST({col} AS DOUBLE), {formatted})"


def _date_sql(col: str, order: DateOrder) -> str:
    """Return SQL giving a DATE (before the year sanity check) for a trimmed text column."""
    token = f"split_part(replace({col}, 'T', ' '), ' ', 1)"
    # The lenient DATE cast reads 4/5/25 as 2004-05-25: only give it text shaped YYYY-…
    return (
        f"coalesce("
        f"CASE WHEN substr({col}, 5, 1) = '-' "
        f"THEN coalesce(TRY_CAST({col} AS DATE), TRY_CAST({token} AS DATE)) END, "
        f"try_strptime({token}, {_ORDER_FORMATS[order]})::DATE, "
        f"try_strptime({col}, {_NAMED_FORMATS})::DATE)"
    )


def _date_fix_sql(col: str) -> str:
    """Return SQL turning two-digit years (05/02/25 → year 25) into this century; junk → NULL."""
    fixed = f"(CASE WHEN year({col}) < 100 THEN ({col} + INTERVAL 2000 YEAR)::DATE ELSE {col} END)"
    return f"(CASE WHEN year({fixed}) BETWEEN 1950 AND 2200 THEN {fixed} END)"


def _number_sql(col: str) -> str:
    return f"TRY_CAST(replace(regexp_replace({col}, '[%\\s]', '', 'g'), ',', '.') AS DOUBLE)"


def _status_sql(col: str) -> str:
    low = f"lower({col})"
    return (
        f"CASE WHEN regexp_matches({low}, '\\bwon\\b|^win') THEN 'won' "
        f"WHEN regexp_matches({low}, '\\blost\\b|^loss') THEN 'lost' "
        f"WHEN regexp_matches({low}, '\\bopen\\b|progress|active') THEN 'open' END"
    )


_TOTALS = r"^(grand\s+)?(sub)?totals?\b|^(sum|count|average)\b"
_ENTERED = re.compile(r"^\s*date\s+entered\s*[:\-]?\s*(?P<stage>.+?)\s*$", re.IGNORECASE)


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


def _reject_reasons(kind: Kind, mapped: set[str]) -> list[tuple[str, str]]:
    """Return (SQL condition, reason) pairs, checked in order, for rows that cannot be used."""
    reasons: list[tuple[str, str]] = []
    if kind == "opportunities":
        if "opp_id" in mapped:
            reasons.append(("opp_id IS NULL", "no opportunity id"))
        reasons.append(("stage IS NULL AND status IS NULL", "no stage and no status"))
    elif kind == "activities":
        reasons.append(("rep IS NULL", "no rep / owner"))
        reasons.append(("activity_date IS NULL", "no readable activity date"))
    else:
        reasons.append(("opp_id IS NULL", "no opportunity id"))
        reasons.append(("stage IS NULL", "no stage"))
        reasons.append(("entered_date IS NULL", "no readable date entered"))
    return reasons


def _check_required(raw: RawTable, mapping: TableMapping) -> None:
    kind = mapping.kind
    missing = [s for s in field_specs()[kind] if s.required and s.name not in mapping.columns]
    if kind == "opportunities" and not ({"stage", "status"} & set(mapping.columns)):
        missing.append(next(s for s in field_specs()[kind] if s.name == "stage"))
    if missing:
        labels = ", ".join(s.label for s in missing)
        raise DiagnosticsError(
            f"“{raw.name}” ({KIND_LABELS[kind].split(' (')[0].lower()}) has no column for: "
            f"{labels}.",
            f"Choose the matching column under “Columns” for this file (its columns are: "
            f"{', '.join(raw.headers[:15])}{'…' if len(raw.headers) > 15 else ''}), or pick "
            f"another kind of table.",
        )


def _clean_edges(chunk: pa.Array) -> bool:
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


def _trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return text cells without surrounding whitespace; cells left empty become missing.

    When no cell needs it (the usual case) the column itself comes back, without a copy.
    """
    if all(_clean_edges(chunk) for chunk in column.chunks):
        return column
    trimmed = pc.utf8_trim_whitespace(column)
    empty = pc.equal(trimmed, "")
    if not pc.any(empty).as_py():
        return trimmed
    return pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)


_YEARS = (dt.date(1950, 1, 1), dt.date(2200, 12, 31))  # outside: a typo, read as missing


def _plain_typed(column: pa.ChunkedArray, kind: str) -> pa.ChunkedArray | None:
    """Return the column typed by Arrow's strict cast when every cell is plain, else None.

    Plain cells are finite numbers like ``1234.5`` and ISO dates between 1950 and 2200: the
    full reading in DuckDB gives exactly the same values for them, only slower. Any other
    cell (``$1,234``, ``05/02/2025``, a typo) sends the whole column to the full reading.
    """
    try:
        if kind in ("amount", "number"):
            numbers = pc.cast(column, pa.float64())
            return numbers if pc.all(pc.is_finite(numbers)).as_py() in (True, None) else None
        if kind == "date":
            dates = pc.cast(column, pa.date32())
            low, high = (v.as_py() for v in pc.min_max(dates).values())
            return dates if low is None or (_YEARS[0] <= low and high <= _YEARS[1]) else None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None


def _all_blank(table: pa.Table, width: int) -> pa.ChunkedArray | None:
    """Return which rows have no value in any column, or None when no row can be blank."""
    columns = [table.column(i) for i in range(width)]
    if any(c.null_count == 0 for c in columns):
        return None
    blank = pc.is_null(columns[0])
    for column in columns[1:]:
        blank = pc.and_(blank, pc.is_null(column))
    return blank


def _repeats(typed: pa.Table) -> bool:
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


def parse_table(
    raw: RawTable,
    mapping: TableMapping,
    today: dt.date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadedTable:
    """Return the file typed into canonical columns, with every left-out row counted and explained.

    Text is trimmed in Arrow, and columns whose every cell is plain (numbers, ISO dates) are
    typed there too. The rest (``$1,234.00``, ``05/02/2025``, statuses) and the reasons rows
    are left out are computed in DuckDB, whose narrow result comes back to Arrow in the file's
    row order.

    ``con`` is a locked connection to work in (the session's, so that one DuckDB serves the
    whole upload); without it a connection is opened and closed here.

    Raises DiagnosticsError when a required field is not mapped or no row is usable.
    """
    _check_required(raw, mapping)
    today = today or dt.date.today()
    kind = mapping.kind
    specs = {s.name: s for s in field_specs()[kind]}
    column_of = {n: f"c{raw.headers.index(h)}" for n, h in mapping.columns.items()}
    typed_fields = [n for n in mapping.columns if specs[n].kind != "text" or n == "status"]
    entered = entered_columns(raw.headers) if kind == "opportunities" else []
    key_field = "opp_id" if kind == "opportunities" else (
        "activity_id" if kind == "activities" and "activity_id" in column_of else None)
    looked_at = {"opportunities": ("opp_id", "stage"), "activities": ("rep",),
                 "stage_history": ("opp_id", "stage")}[kind]  # by the reasons below
    needed = set(typed_fields) | {f for f in (*looked_at, key_field) if f in column_of}

    # Columns handed to DuckDB under fixed names: text fields as `name`, typed fields as `name`
    # when Arrow typed them already, else as trimmed text `name__raw`.
    text = {n: _trimmed(raw.table.column(column_of[n])) for n in mapping.columns}
    cells: dict[str, pa.ChunkedArray] = {"_line": raw.table.column("_line"),
                                         "_first": raw.table.column("c0")}
    plain: set[str] = set()
    for name in sorted(needed):
        fast = _plain_typed(text[name], specs[name].kind) if name in typed_fields else None
        if fast is not None:
            plain.add(name)
            cells[name] = fast
        else:
            cells[name if name not in typed_fields else f"{name}__raw"] = text[name]
    if entered:
        order = detect_date_order(_sample(raw, raw.headers[entered[0][0]]))[0]
        for k, (index, _stage) in enumerate(entered):
            cell = _trimmed(raw.table.column(f"c{index}"))
            fast = _plain_typed(cell, "date")
            cells[f"_entered{k}" if fast is not None else f"_entered{k}__raw"] = (
                cell if fast is None else fast)
    blank = _all_blank(raw.table, len(raw.headers))
    if blank is not None:
        cells["_blank"] = blank

    own = con is None
    con = con or connect_locked()
    try:
        con.register("_parse_raw", raw.table)
        con.register("_parse_cells", pa.table(cells))
        # Layer 1: typed values; layer 2: sanity fixes, "could not read" flags and reasons.
        untyped = [n for n in sorted(needed) if n not in typed_fields]
        typed = ["_line", "_blank" if blank is not None else "false AS _blank", "_first", *untyped]
        final = ["_line", "_blank", "_first", *untyped]
        for name in typed_fields:
            if name in plain:
                typed.append(name)
                final += [name, f"false AS {name}__bad"]
                continue
            source = f"{name}__raw"
            spec = specs[name]
            if spec.kind == "amount":
                expr = _amount_sql(source, mapping.decimal_comma.get(name, False))
            elif spec.kind == "date":
                expr = _date_sql(source, mapping.date_orders.get(name, "ymd"))
            elif spec.kind == "number":
                expr = _number_sql(source)
            else:
                expr = _status_sql(source)
            typed += [f"{expr} AS {name}", source]
            value = _date_fix_sql(name) if spec.kind == "date" else (
                f"(CASE WHEN isfinite({name}) THEN {name} END)" if spec.kind in ("amount", "number")
                else name)  # "inf" and "nan" are not amounts
            final += [f"{value} AS {name}", f"({source} IS NOT NULL AND {value} IS NULL) "
                      f"AS {name}__bad"]
        for k in range(len(entered)):
            if f"_entered{k}" in cells:
                typed.append(f"_entered{k}")
                final.append(f"_entered{k}")
            else:
                typed.append(f"{_date_sql(f'_entered{k}__raw', order)} AS _entered{k}")
                final.append(f"{_date_fix_sql(f'_entered{k}')} AS _entered{k}")
        if kind == "opportunities" and "opp_id" not in column_of:
            final.append("'row-' || _line AS opp_id")
        for name in ("opp_id", "stage", "status", "rep", "activity_date", "entered_date"):
            if name in specs and name not in column_of and not (
                    name == "opp_id" and kind == "opportunities"):
                final.append(f"NULL AS {name}")  # the reasons below may look at it
        reasons = _reject_reasons(kind, set(mapping.columns))
        cases = " ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in reasons)
        # Only what DuckDB computes comes back; line numbers and the columns Arrow typed
        # already are added to its result without a copy.
        passed = ["_line", *plain, *(f"_entered{k}" for k in range(len(entered))
                                     if f"_entered{k}" in cells)]
        computed = [n for n in typed_fields if n not in plain]
        keep = [*computed, *(f"{n}__bad" for n in computed if n != "status"),
                *(f"_entered{k}" for k in range(len(entered)) if f"_entered{k}" not in cells)]
        won_lost = kind == "opportunities" and "stage" in column_of and "close_date" in typed_fields
        if won_lost:  # for the future-close check: only deals closing after today need it
            keep.append("CASE WHEN close_date > $today THEN coalesce(contains(lower(stage), 'won')"
                        " OR contains(lower(stage), 'lost'), false) ELSE false END AS _won_lost")
        # Ids are compared by hash here; equal hashes are confirmed on the text below. The
        # result comes back to Arrow (cheaper than a DuckDB table) in the file's row order,
        # which a connection keeping row order guarantees for a query without joins.
        typed_rows = con.sql(
            f"""
            SELECT {''.join(f'{k}, ' for k in keep)}
                   CASE WHEN _blank THEN 'blank row'
                        -- "Total;;;;" lines fail a check below; only those pay for the regex.
                        WHEN ({' OR '.join(f'({c})' for c, _ in reasons) or 'false'})
                             AND regexp_matches(lower(trim(_first)), '{_TOTALS}')
                        THEN 'report footer or totals line, not a record'
                        {cases} END AS _reason,
                   {f'CASE WHEN {key_field} IS NOT NULL THEN hash({key_field}) END'
                    if key_field else 'NULL::UBIGINT'} AS _key
            FROM (SELECT {', '.join(final)} FROM (SELECT {', '.join(typed)} FROM _parse_cells))
            """,
            params={"today": today} if won_lost else {},
        ).to_arrow_table()
        if typed_rows.num_rows != raw.rows:  # pragma: no cover - a broken invariant, not input
            raise RuntimeError("typed rows no longer line up with the file")
        for name in passed:
            typed_rows = typed_rows.append_column(name, cells[name])
        con.register("_parse_typed", typed_rows)

        duplicate_ids = 0
        if key_field and _repeats(typed_rows):  # only then pay for comparing the ids themselves
            typed_rows = con.sql(
                f"""
                WITH repeats AS (
                    SELECT line, first FROM (
                        SELECT c._line AS line,
                               min(c._line) OVER (PARTITION BY c.{key_field}) AS first
                        FROM _parse_cells c JOIN _parse_typed t USING (_line)
                        WHERE t._reason IS NULL AND c.{key_field} IS NOT NULL)
                    WHERE line <> first)
                SELECT t.* REPLACE (coalesce(t._reason, 'duplicate id (first seen on line '
                                             || r.first || ')') AS _reason)
                FROM _parse_typed t LEFT JOIN repeats r ON r.line = t._line
                ORDER BY t._line
                """
            ).to_arrow_table()
            con.unregister("_parse_typed")
            con.register("_parse_typed", typed_rows)
            duplicate_ids = int(pc.sum(pc.starts_with(
                typed_rows.column("_reason"), "duplicate id (first seen")).as_py() or 0)
        by_reason: dict[str, int] = {
            str(reason): int(n) for reason, n in con.execute(
                "SELECT regexp_replace(_reason, ' \\(first seen on line \\d+\\)', ''), count(*) "
                "FROM _parse_typed WHERE _reason IS NOT NULL GROUP BY 1"
            ).fetchall()
        }
        examples = [RejectedRow(int(line), str(reason)) for line, reason in con.execute(
            "SELECT _line, _reason FROM _parse_typed WHERE _reason IS NOT NULL ORDER BY _line "
            "LIMIT ?",
            [MAX_EXAMPLES],
        ).fetchall()]
        for row in raw.rejected:
            reason = row.reason if "footer" in row.reason else "wrong number of fields"
            by_reason[reason] = by_reason.get(reason, 0) + 1
        rejected = sorted(raw.rejected + examples, key=lambda r: r.line or 0)[:MAX_EXAMPLES]

        # One pass for every count: unreadable values, future dates, negative amounts.
        checks: list[tuple[str, str, str]] = [
            ("bad", n, f"{n}__bad") for n in computed if n != "status"]
        for name in typed_fields:
            if specs[name].kind == "date":
                condition = f"{name} > $today"
                if kind == "opportunities" and name == "close_date":
                    # Open deals are expected to close in the future; closed ones are not.
                    closed = []
                    if "status" in typed_fields:
                        closed.append("coalesce(t.status, '') IN ('won', 'lost')")
                    if won_lost:
                        closed.append("_won_lost")
                    condition += " AND (" + " OR ".join(closed) + ")"
                checks.append(("future", name, condition))
        if "amount" in typed_fields:
            checks.append(("negative", "amount", "amount < 0"))
        counts: list[int] = [0] * len(checks)
        if checks:
            sql = ("SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, _, c in checks)
                   + " FROM _parse_typed t WHERE _reason IS NULL")
            params = {"today": today} if "$today" in sql else {}
            counts = [int(c) for c in con.execute(sql, params).fetchall()[0]]
        problems: list[ColumnProblem] = []
        future: dict[str, int] = {}
        negative = 0
        for (what, name, _condition), n in zip(checks, counts, strict=True):
            if not n:
                continue
            if what == "bad":
                sample = con.execute(
                    f"SELECT t._line, r.{column_of[name]} FROM _parse_typed t JOIN _parse_raw r "
                    f"USING (_line) WHERE t._reason IS NULL AND t.{name}__bad ORDER BY t._line "
                    "LIMIT 3"
                ).fetchall()
                problems.append(ColumnProblem(name, mapping.columns[name], n, tuple(
                    (int(line), str(value).strip()[:60]) for line, value in sample)))
            elif what == "future":
                future[name] = n
            else:
                negative = n

        outputs = ["_line", "_reason", *typed_fields, *(f"_entered{k}" for k in
                                                       range(len(entered)))]
        narrow = typed_rows.select(outputs)
    finally:
        for name in ("_parse_raw", "_parse_cells", "_parse_typed"):
            con.unregister(name)
        if own:
            con.close()

    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name, spec in specs.items():
        if name in typed_fields:
            columns[name] = narrow.column(name)
        elif name in column_of:
            columns[name] = text[name]
        elif name == "opp_id" and kind == "opportunities":
            columns[name] = pc.binary_join_element_wise(
                "row-", pc.cast(raw.table.column("_line"), pa.string()), "")
        else:
            sql_type = {"amount": pa.float64(), "date": pa.date32(), "number": pa.float64()}
            columns[name] = pa.nulls(raw.rows, sql_type.get(spec.kind, pa.string()))
    for k in range(len(entered)):
        columns[f"_entered{k}"] = narrow.column(f"_entered{k}")
    wanted = list(CANONICAL[kind]) + (["probability"] if kind == "opportunities" else [])
    wanted += [f"_entered{k}" for k in range(len(entered))]
    kept = pa.table({name: columns[name] for name in wanted})
    if narrow.column("_reason").null_count != narrow.num_rows:  # some rows are left out
        kept = kept.filter(pc.is_null(narrow.column("_reason")))

    history = None
    if entered:  # stage names are the user's text: parameters, never SQL
        scratch = connect_locked() if own else con
        try:
            scratch.register("_parse_kept", kept.select(
                ["opp_id"] + [f"_entered{k}" for k in range(len(entered))]))
            union = " UNION ALL ".join(
                f"SELECT opp_id, ?::VARCHAR AS stage, _entered{k} AS entered_date FROM _parse_kept "
                f"WHERE _entered{k} IS NOT NULL" for k in range(len(entered)))
            history = scratch.sql(union, params=[stage for _, stage in entered]).to_arrow_table()
        finally:
            scratch.unregister("_parse_kept")
            if own:
                scratch.close()
        kept = kept.drop_columns([f"_entered{k}" for k in range(len(entered))])
    table = kept

    report = ValidationReport(
        file=raw.name,
        kind=kind,
        rows_read=raw.rows + len(raw.rejected),
        rows_kept=table.num_rows,
        rejected=rejected,
        rejected_by_reason=by_reason,
        unparseable=problems,
        duplicate_ids=duplicate_ids,
        future_dates=future,
        negative_amounts=negative,
        notes=list(raw.notes),
    )
    if table.num_rows == 0:
        raise DiagnosticsError(
            f"No usable rows in “{raw.name}”: {'; '.join(report.problems()[:3]) or 'all empty'}",
            "Check that the right columns are chosen under “Columns” and that the file holds "
            "records, then read it again.",
        )
    ambiguous = tuple(
        name for name, header in mapping.columns.items()
        if specs[name].kind == "date" and detect_date_order(_sample(raw, header, 2000))[1]
    )
    if history is not None:
        report.notes.append(
            f"Stage history read from {len(entered)} “Date entered …” columns "
            f"({history.num_rows:,} stage entries).")
    return LoadedTable(raw, mapping, table, report, ambiguous, history)


# ---------------------------------------------------------------- stages and the Dataset


def _stage_evidence(
    con: duckdb.DuckDBPyConnection, opportunities: pa.Table, history: pa.Table | None
) -> tuple[list[str], dict[str, int], dict[str, float], dict[str, float], list[str], list[str]]:
    """Return stage names, counts, history positions, probabilities and status-only stages."""
    con.register("_evidence_o", opportunities)
    try:
        rows = con.execute(
            """
            SELECT stage, count(*), avg(probability),
                   bool_and(status = 'won') FILTER (WHERE status IS NOT NULL),
                   bool_and(status = 'lost') FILTER (WHERE status IS NOT NULL)
            FROM _evidence_o WHERE stage IS NOT NULL GROUP BY 1
            """).fetchall()
        counts = {stage: int(n) for stage, n, *_ in rows}
        probability = {stage: p for stage, _n, p, *_ in rows if p is not None}
        won_only = [stage for stage, _n, _p, won, _lost in rows if won]
        lost_only = [stage for stage, _n, _p, _won, lost in rows if lost]
        position: dict[str, float] = {}
        if history is not None and history.num_rows:
            con.register("_evidence_h", history)
            position = dict(con.execute(
                """
                SELECT stage, avg(pos) FROM (
                    SELECT stage, row_number() OVER (PARTITION BY opp_id
                        ORDER BY entered_date, stage) * 1.0 / count(*) OVER (PARTITION BY opp_id)
                        AS pos
                    FROM _evidence_h WHERE stage IS NOT NULL
                ) GROUP BY 1
                """).fetchall())
            con.unregister("_evidence_h")
            for stage in position:
                counts.setdefault(stage, 0)  # a stage deals passed through but none sit in now
    finally:
        con.unregister("_evidence_o")
    names = sorted(counts, key=lambda s: (-counts[s], s))
    return names, counts, position, probability, won_only, lost_only


def reconcile_stages(proposed: StageConfig, chosen: StageConfig) -> tuple[StageConfig, list[str]]:
    """Return the user's stage settings extended with stages they have not seen yet, and notes."""
    known = set(chosen.funnel) | set(chosen.won) | set(chosen.lost) | set(chosen.excluded)
    new_open = [s for s in proposed.funnel if s not in known]
    new_won = [s for s in proposed.won if s not in known]
    new_lost = [s for s in proposed.lost if s not in known]
    new_excluded = [s for s in proposed.excluded if s not in known]
    notes = []
    new = new_open + new_won + new_lost + new_excluded
    if new:
        notes.append(f"Stages not in the saved settings were added: {', '.join(new)}.")
    config = chosen.with_changes(
        funnel=tuple(chosen.funnel) + tuple(new_open),
        won=tuple(chosen.won) + tuple(new_won),
        lost=tuple(chosen.lost) + tuple(new_lost),
        excluded=tuple(chosen.excluded) + tuple(new_excluded),
    )
    return config, notes


def _concat(tables: Sequence[LoadedTable], kind: Kind) -> pa.Table | None:
    parts = [t.table for t in tables if t.kind == kind]
    if not parts:
        return None
    return pa.concat_tables(parts, promote_options="permissive")


def _count_in(column: pa.ChunkedArray, values: Sequence[str]) -> int:
    """Return how many cells of ``column`` hold one of ``values`` (vectorised, no Python loop)."""
    if not values:
        return 0
    hits = pc.sum(pc.is_in(column, value_set=pa.array(list(values), pa.string()))).as_py()
    return int(hits or 0)


def assemble_dataset(
    tables: Sequence[LoadedTable],
    stages: StageConfig | None = None,
    source: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IngestResult:
    """Return the Dataset built from typed tables, proposing stage settings unless given.

    ``con`` is the locked connection the Dataset will live in (a new one when not given).

    Raises DiagnosticsError when no opportunities table is among them.
    """
    opportunities = _concat(tables, "opportunities")
    if opportunities is None:
        raise DiagnosticsError(
            "No opportunities file was found among the uploads.",
            "Add an export with one row per deal (stage, amount, dates). Activities and stage "
            "history only add to it. If a file was detected as the wrong kind, change its kind.",
        )
    history = _concat(tables, "stage_history")
    derived = [t.history for t in tables if t.history is not None]
    if derived:
        parts = ([history] if history is not None else []) + derived
        history = pa.concat_tables(parts, promote_options="permissive")
    con = con or connect_locked()  # becomes the session's Dataset connection
    names, counts, position, probability, won_only, lost_only = _stage_evidence(
        con, opportunities, history)
    proposed, how = propose_stages(
        names, counts=counts, history_position=position or None,
        probability=probability or None, status_won=won_only, status_lost=lost_only,
    )
    notes: list[str] = []
    if stages is None:
        config = proposed
    else:
        config, notes = reconcile_stages(proposed, stages)
        how = "Stage settings as chosen."
    activities = _concat(tables, "activities")
    if not config.funnel:
        notes.append(
            "No open pipeline stage was found (every stage is won, lost or excluded), so the "
            "funnel has no steps. Mark the stages deals pass through as open in the stage table, "
            "or upload stage history.")
    parked = _count_in(opportunities.column("stage"), config.excluded)
    if parked:
        notes.append(
            f"{parked:,} deals sit in excluded stages ({', '.join(config.excluded)}): they stay "
            "out of the funnel and the open pipeline. Mark the stage as open to count them.")
    lost_without_trace = 0
    if history is None:
        lost_without_trace = _count_in(opportunities.column("stage"), config.lost)
    if lost_without_trace:
        notes.append(
            f"{lost_without_trace:,} lost deals carry only “lost” as their stage, so how far they "
            "got is unknown: they count at the first stage. Upload stage history to place them."
        )
    dataset = build_dataset(
        opportunities.drop_columns(["probability"]) if "probability" in
        opportunities.column_names else opportunities,
        config,
        activities=activities,
        stage_history=history,
        source=source or ", ".join(t.raw.name for t in tables),
        notes=notes,
        con=con,
    )
    return IngestResult(dataset, list(tables), config, how)


# ---------------------------------------------------------------- whole-file helpers


def read_mapping(path: Path) -> SavedMapping:
    """Return the saved mapping in a JSON file; raise DiagnosticsError when it is unusable."""
    try:
        return mapping_from_json(Path(path).read_bytes())
    except OSError as exc:
        raise DiagnosticsError(f"Cannot read the mapping file {path}: {exc.strerror}.") from exc


def load_files(
    files: Sequence[tuple[str, bytes]],
    saved: SavedMapping | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> IngestResult:
    """Return the Dataset for these (name, bytes) files, mapped automatically or by ``saved``."""
    tables: list[LoadedTable] = []
    con = connect_locked()  # one DuckDB for the whole upload: it becomes the Dataset's
    try:
        for name, data in files:
            raw = read_raw(data, name)
            kind = (kinds or {}).get(name) or detect_kind(raw.headers)[0]
            previous = saved.tables.get(kind) if saved else None
            mapping = propose_table_mapping(raw, kind, previous)
            tables.append(parse_table(raw, mapping, con=con))
        stages = StageConfig.from_dict(saved.stages) if saved and saved.stages else None
        return assemble_dataset(tables, stages, con=con)
    except BaseException:
        con.close()
        raise


def load_dataset_from_paths(
    paths: Sequence[Path], mapping: SavedMapping | None = None
) -> Dataset:
    """Return the Dataset for files on disk (used by the command line)."""
    files = []
    for path in paths:
        try:
            files.append((Path(path).name, Path(path).read_bytes()))
        except OSError as exc:
            raise DiagnosticsError(f"Cannot read {path}: {exc.strerror}.") from exc
    return load_files(files, mapping).dataset

