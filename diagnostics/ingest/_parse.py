"""One file's text cells → its canonical typed table and validation report, in named steps.

:func:`parse_table` runs them in order: a column plan, the Arrow cells (trimmed text, plain
columns typed by strict casts), the typed-rows query in DuckDB, duplicate ids, the reasons rows
were left out, the problem counts, the canonical table, and stage history from "Date entered"
columns. All DuckDB work happens on one connection: the caller's when given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import (
    ACTIVITY_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_INPUTS,
    connect_locked,
    null_column,
)
from diagnostics.errors import DiagnosticsError
from diagnostics.ingest._amounts import read_amounts_by_row
from diagnostics.ingest._arrow import (
    all_blank,
    has_repeats,
    history_from_entered,
    plain_typed,
    trimmed,
)
from diagnostics.ingest._formats import (
    ambiguous_dates,
    detect_date_order,
    looks_like_stage_date,
    sample_values,
    stage_date_columns,
)
from diagnostics.ingest._lines import product_lines
from diagnostics.ingest._report import (
    MAX_EXAMPLES,
    AmountFormats,
    ColumnProblem,
    LoadedTable,
    ValidationReport,
)
from diagnostics.ingest._sql import RowsQuery, ValueKind, typed_rows_sql, unread_why_sql
from diagnostics.mapping import (
    KIND_LABELS,
    DateOrder,
    FieldSpec,
    Kind,
    TableMapping,
    field_specs,
)
from diagnostics.readers import RawTable, RejectedRow

# Probability only orders the stages; pipeline only picks the deals read as one funnel.
CANONICAL: dict[Kind, dict[str, str]] = {
    "opportunities": {**OPPORTUNITY_INPUTS, "probability": "DOUBLE", "pipeline": "VARCHAR"},
    "activities": ACTIVITY_COLUMNS,
    "stage_history": HISTORY_COLUMNS,
}
# Fields the reasons to reject a row look at, per kind of table.
_LOOKED_AT: dict[Kind, tuple[str, ...]] = {
    "opportunities": ("opp_id", "stage"), "activities": ("rep",),
    "stage_history": ("opp_id", "stage")}
CURRENCY_FIELD = "currency"  # read with the amounts, not kept in the canonical table
PIPELINE_FIELD = "pipeline"
_EMPTY_TYPES = {"amount": pa.float64(), "date": pa.date32(), "number": pa.float64()}

# Reader reasons reported as they are; others ("has 3 fields where…") are grouped.
_KEPT_REASONS = ("report footer", "a quote", "not read")


@dataclass(frozen=True)
class ColumnPlan:
    """Where each canonical field of a file comes from and how it is read.

    ``column_of`` names the raw column (``c<i>``) of each mapped field; ``typed`` the fields
    that need typing and their kind of value; ``needed`` every field the typed-rows query reads;
    ``entered`` the "Date entered <stage>" columns (index, stage); ``key_field`` the id whose
    repeats are duplicates.
    """

    kind: Kind
    specs: dict[str, FieldSpec]
    column_of: dict[str, str]
    typed: dict[str, ValueKind]
    needed: tuple[str, ...]
    entered: tuple[tuple[int, str], ...]
    key_field: str | None


def plan_columns(
    raw: RawTable, mapping: TableMapping, stages: Sequence[str] = ()
) -> ColumnPlan:
    """Return the column plan of a mapped file; ``stages`` are the stage names in the file.

    Columns dating when a deal reached a stage ("Date entered Demo", ``demo_date``) are
    planned as stage evidence, unless mapped to a field.
    """
    kind = mapping.kind
    specs = {s.name: s for s in field_specs()[kind]}
    column_of = {n: f"c{raw.headers.index(h)}" for n, h in mapping.columns.items()}
    typed: dict[str, ValueKind] = {}
    for name in mapping.columns:
        value_kind = specs[name].kind
        if name == "status":
            typed[name] = "status"
        elif value_kind != "text":
            typed[name] = value_kind
    key_field = "opp_id" if kind == "opportunities" else (
        "activity_id" if kind == "activities" and "activity_id" in column_of else None)
    needed = set(typed) | {f for f in (*_LOOKED_AT[kind], key_field) if f in column_of}
    entered = stage_date_columns(raw.headers, stages, list(mapping.columns.values())) if (
        kind == "opportunities") else []
    return ColumnPlan(kind, specs, column_of, typed, tuple(sorted(needed)), tuple(entered),
                      key_field)


# The unused columns a note names; an export of 200 columns gets a count for the rest.
_UNUSED_SHOWN = 12


def unused_columns(headers: Sequence[str], mapping: TableMapping, plan: ColumnPlan) -> list[str]:
    """Return the headers of a file that no field and no stage evidence reads, in file order."""
    used = set(mapping.columns.values()) | {headers[i] for i, _stage in plan.entered}
    return [h for h in headers if h not in used and h.strip()]


def _quoted(headers: Sequence[str]) -> str:
    more = len(headers) - _UNUSED_SHOWN
    return ", ".join(f"“{h}”" for h in headers[:_UNUSED_SHOWN]) + (
        f" and {more:,} more" if more > 0 else "")


def _unused_notes(unused: Sequence[str]) -> list[str]:
    """Return the notes naming the unused columns: stage-date look-alikes apart, and the rest."""
    dated = [h for h in unused if looks_like_stage_date(h)]
    other = [h for h in unused if h not in dated]
    notes = []
    if dated:
        many = len(dated) > 1
        notes.append(
            f"Not stage evidence: {_quoted(dated)} name{'' if many else 's'} no stage of the "
            "pipeline (no deal is at such a stage, nor does a stage history name it), so "
            f"{'they are' if many else 'it is'} not used. A date column places deals at a "
            "stage only when it is named after one.")
    if other:
        notes.append(f"Not used (no field is mapped to {'them' if len(other) > 1 else 'it'}): "
                     f"{_quoted(other)}.")
    return notes


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


def _arrow_cells(
    raw: RawTable, mapping: TableMapping, plan: ColumnPlan, text: dict[str, pa.ChunkedArray]
) -> tuple[dict[str, pa.ChunkedArray], RowsQuery]:
    """Return the cells handed to DuckDB under fixed names, and the query that types them.

    Text fields go as ``name``; typed fields as ``name`` when Arrow typed them already (every
    cell plain), else as trimmed text ``name__raw``.
    """
    cells: dict[str, pa.ChunkedArray] = {"_line": raw.table.column("_line"),
                                         "_first": raw.table.column("c0")}
    plain: set[str] = set()
    for name in plan.needed:
        # A decimal-comma column reads "1.125" as 1125: Arrow's cast would read 1.125.
        fast = plain_typed(text[name], plan.typed[name]) if (
            name in plan.typed and not mapping.decimal_comma.get(name)) else None
        if fast is not None:
            plain.add(name)
            cells[name] = fast
        else:
            cells[name if name not in plan.typed else f"{name}__raw"] = text[name]
    entered_plain: set[int] = set()
    order: DateOrder = "ymd"
    if plan.entered:
        order = detect_date_order(sample_values(raw, raw.headers[plan.entered[0][0]]))[0]
    for k, (index, _stage) in enumerate(plan.entered):
        cell = trimmed(raw.table.column(f"c{index}"))
        fast = plain_typed(cell, "date")
        if fast is not None:
            entered_plain.add(k)
        cells[f"_entered{k}" if fast is not None else f"_entered{k}__raw"] = (
            cell if fast is None else fast)
    blank = all_blank(raw.table, len(raw.headers))
    if blank is not None:
        cells["_blank"] = blank
    query = RowsQuery(
        kind=plan.kind, typed=plan.typed,
        untyped=[n for n in plan.needed if n not in plan.typed], plain=frozenset(plain),
        mapped=frozenset(mapping.columns), date_orders=mapping.date_orders,
        decimal_comma=mapping.decimal_comma, entered=len(plan.entered),
        entered_plain=frozenset(entered_plain), entered_order=order,
        has_blank=blank is not None, key_field=plan.key_field)
    return cells, query


@contextmanager
def _working(con: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield the caller's connection, or one opened (and closed) here; drop scratch tables."""
    work = con or connect_locked()
    try:
        yield work
    finally:
        for name in ("_parse_raw", "_parse_cells", "_parse_typed"):
            work.unregister(name)
        if con is None:
            work.close()


def _typed_rows(
    con: duckdb.DuckDBPyConnection, raw: RawTable, cells: dict[str, pa.ChunkedArray],
    query: RowsQuery, today: dt.date,
) -> pa.Table:
    """Return the typed rows in the file's order, with the columns Arrow typed added back.

    The result comes back to Arrow (cheaper than a DuckDB table); a connection keeping row
    order guarantees the file's order for a query without joins.
    """
    con.register("_parse_raw", raw.table)
    con.register("_parse_cells", pa.table(cells))
    rows = con.sql(typed_rows_sql(query),
                   params={"today": today} if query.checks_future_close else {}).to_arrow_table()
    if rows.num_rows != raw.rows:  # pragma: no cover - a broken invariant, not input
        raise RuntimeError("typed rows no longer line up with the file")
    passed = ["_line", *sorted(query.plain), *(f"_entered{k}" for k in sorted(query.entered_plain))]
    for name in passed:  # without a copy
        rows = rows.append_column(name, cells[name])
    con.register("_parse_typed", rows)
    return rows


def _mark_duplicates(
    con: duckdb.DuckDBPyConnection, rows: pa.Table, key_field: str | None
) -> tuple[pa.Table, int]:
    """Return the rows with repeated ids left out ("duplicate id"), and how many there were.

    Ids were compared by hash; only when two hashes are equal are the ids themselves compared.
    """
    if not key_field or not has_repeats(rows):
        return rows, 0
    rows = con.sql(
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
    con.register("_parse_typed", rows)
    duplicates = pc.sum(pc.starts_with(rows.column("_reason"), "duplicate id (first seen"))
    return rows, int(duplicates.as_py() or 0)


def _rejections(
    con: duckdb.DuckDBPyConnection, raw: RawTable, rows: pa.Table
) -> tuple[dict[str, int], list[RejectedRow]]:
    """Return rows left out counted by reason, and the first ones with their line and reason."""
    by_reason: dict[str, int] = {}
    examples: list[RejectedRow] = []
    if rows.column("_reason").null_count != rows.num_rows:  # else no query: none is left out
        by_reason = {str(reason): int(n) for reason, n in con.execute(
            "SELECT regexp_replace(_reason, ' \\(first seen on line \\d+\\)', ''), count(*) "
            "FROM _parse_typed WHERE _reason IS NOT NULL GROUP BY 1").fetchall()}
        examples = [RejectedRow(int(line), str(reason)) for line, reason in con.execute(
            "SELECT _line, _reason FROM _parse_typed WHERE _reason IS NOT NULL ORDER BY _line "
            "LIMIT ?",
            [MAX_EXAMPLES],
        ).fetchall()]
    for row in raw.rejected:
        reason = row.reason if row.reason.startswith(_KEPT_REASONS) else "wrong number of fields"
        by_reason[reason] = by_reason.get(reason, 0) + 1
    return by_reason, sorted(raw.rejected + examples, key=lambda r: r.line or 0)[:MAX_EXAMPLES]


def _checks(query: RowsQuery) -> list[tuple[str, str, str]]:
    """Return (what, field, SQL condition) for every count made over the kept rows."""
    checks = [("bad", n, f"{n}__bad") for n in query.computed if n != "status"]
    for name, kind in query.typed.items():
        if kind != "date":
            continue
        condition = f"{name} > $today"
        if query.kind == "opportunities" and name == "close_date":
            # Open deals are expected to close in the future; closed ones are not.
            closed = (["coalesce(t.status, '') IN ('won', 'lost')"]
                      if "status" in query.typed else [])
            if query.checks_future_close:
                closed.append("_won_lost")
            condition += " AND (" + " OR ".join(closed) + ")"
        checks.append(("future", name, condition))
    if "amount" in query.typed:
        checks.append(("negative", "amount", "amount < 0"))
    return checks


def _problem_counts(
    con: duckdb.DuckDBPyConnection, query: RowsQuery, plan: ColumnPlan, mapping: TableMapping,
    today: dt.date,
) -> tuple[list[ColumnProblem], dict[str, int], int]:
    """Return unreadable values (with examples), future dates and negative amounts, in one pass."""
    checks = _checks(query)
    if not checks:
        return [], {}, 0
    sql = ("SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, _, c in checks)
           + " FROM _parse_typed t WHERE _reason IS NULL")
    counts = con.execute(sql, {"today": today} if "$today" in sql else {}).fetchall()[0]
    problems: list[ColumnProblem] = []
    future: dict[str, int] = {}
    negative = 0
    for (what, name, _condition), n in zip(checks, counts, strict=True):
        if not n:
            continue
        if what == "bad":
            column = f"r.{plan.column_of[name]}"
            why = unread_why_sql(column, query.typed[name], mapping.decimal_comma.get(name, False))
            sample = con.execute(
                f"SELECT t._line, {column}, {why} FROM _parse_typed t JOIN _parse_raw r "
                f"USING (_line) WHERE t._reason IS NULL AND t.{name}__bad ORDER BY t._line "
                "LIMIT 3"
            ).fetchall()
            reasons = tuple(str(reason or "") for _line, _value, reason in sample)
            problems.append(ColumnProblem(name, mapping.columns[name], int(n), tuple(
                (int(line), str(value).strip()[:60]) for line, value, _reason in sample),
                reasons if any(reasons) else ()))
        elif what == "future":
            future[name] = int(n)
        else:
            negative = int(n)
    return problems, future, negative


def _canonical_table(
    raw: RawTable, plan: ColumnPlan, text: dict[str, pa.ChunkedArray], rows: pa.Table
) -> pa.Table:
    """Return the kept rows in canonical columns (unmapped ones missing), "Date entered" last."""
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name, spec in plan.specs.items():
        if name in plan.typed:
            columns[name] = rows.column(name)
        elif name in plan.column_of:
            columns[name] = text[name]
        elif name == "opp_id" and plan.kind == "opportunities":
            columns[name] = pc.binary_join_element_wise(
                "row-", pc.cast(raw.table.column("_line"), pa.string()), "")
        else:
            columns[name] = null_column(raw.rows, _EMPTY_TYPES.get(spec.kind, pa.string()))
    entered = [f"_entered{k}" for k in range(len(plan.entered))]
    for name in entered:
        columns[name] = rows.column(name)
    wanted = list(CANONICAL[plan.kind])
    kept = pa.table({name: columns[name] for name in wanted + entered})
    if rows.column("_reason").null_count != rows.num_rows:  # some rows are left out
        kept = kept.filter(pc.is_null(rows.column("_reason")))
    return kept


_COUNTED_BLANKS = ("amount", "created_date", "rep")  # a blank one takes a deal out of a figure


def _read_amounts(
    raw: RawTable, mapping: TableMapping, text: dict[str, pa.ChunkedArray]
) -> tuple[list[AmountFormats], pa.ChunkedArray | None]:
    """Return what each mapped amount column holds, its cells in ``text`` made ready to read:
    amounts in a currency not kept are missing, amounts written in the other number format
    than the column's are re-read by their own. With a pipeline column, also the currency of
    each deal's amount left out, row for row (None when none is): the deals of the pipeline
    read are counted apart."""
    reports = []
    currency = text.get(CURRENCY_FIELD)  # the currency of each row's amounts without a mark
    left_out = None
    for spec in field_specs()[mapping.kind]:
        if spec.kind == "amount" and spec.name in text:
            text[spec.name], report, rows = read_amounts_by_row(
                text[spec.name], raw.table.column("_line"), spec.name,
                mapping.columns[spec.name], mapping.decimal_comma.get(spec.name, False),
                mapping.currency.get(spec.name), currency,
                mapping.columns.get(CURRENCY_FIELD), by_row=PIPELINE_FIELD in mapping.columns)
            reports.append(report)
            left_out = rows if spec.name == "amount" else left_out
    return reports, left_out


def _amount_gaps(
    rows: pa.Table, left_out: pa.ChunkedArray | None, mapping: TableMapping
) -> pa.Table | None:
    """Return, for the rows kept, the currency of each amount left out and whether the amount
    could not be read; None without a pipeline column or when there is neither."""
    if PIPELINE_FIELD not in mapping.columns:
        return None
    unreadable = "amount__bad" in rows.column_names and pc.any(
        rows.column("amount__bad")).as_py()
    if left_out is None and not unreadable:
        return None
    gaps = pa.table({
        "left_out": left_out if left_out is not None else pa.nulls(rows.num_rows, pa.string()),
        "unreadable": rows.column("amount__bad") if unreadable else pa.repeat(
            False, rows.num_rows)})
    if rows.column("_reason").null_count != rows.num_rows:
        gaps = gaps.filter(pc.is_null(rows.column("_reason")))
    return gaps


def _blanks(
    table: pa.Table, plan: ColumnPlan, problems: Sequence[ColumnProblem],
    amounts: Sequence[AmountFormats] = (),
) -> dict[str, int]:
    """Return, per mapped field a figure needs, how many kept rows leave it blank (amounts left
    out for their currency are counted apart, not as blanks)."""
    unreadable = {p.field: p.count for p in problems}
    for report in amounts:
        unreadable[report.field] = unreadable.get(report.field, 0) + report.left_out_count
    out = {}
    for name in _COUNTED_BLANKS:
        if name in plan.column_of and name in table.column_names:
            blank = table.column(name).null_count - unreadable.get(name, 0)
            if blank > 0:
                out[name] = blank
    return out


def _split_history(kept: pa.Table, plan: ColumnPlan) -> tuple[pa.Table, pa.Table | None]:
    """Return the table without its "Date entered" columns, and the stage history they hold."""
    if not plan.entered:
        return kept, None
    names = [f"_entered{k}" for k in range(len(plan.entered))]
    history = history_from_entered(kept.column("opp_id"), [
        (stage, kept.column(name)) for (_, stage), name in zip(plan.entered, names, strict=True)])
    return kept.drop_columns(names), history


def parse_table(
    raw: RawTable,
    mapping: TableMapping,
    today: dt.date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    known_stages: Sequence[str] = (),
) -> LoadedTable:
    """Return the file typed into canonical columns, with every left-out row counted and explained.

    Text is trimmed in Arrow, and columns whose every cell is plain (numbers, ISO dates) are
    typed there too. The rest (``$1,234.00``, ``05/02/2025``, statuses) and the reasons rows
    are left out are computed in DuckDB, whose narrow result comes back to Arrow in the file's
    row order.

    ``con`` is a locked connection to work in (the session's, so that one DuckDB serves the
    whole upload); without it a connection is opened and closed here. ``known_stages`` are
    stages known from elsewhere (a stage history file): with the file's own stages, the only
    ones a date column can be named after.

    Raises DiagnosticsError when a required field is not mapped or no row is usable.
    """
    _check_required(raw, mapping)
    today = today or dt.date.today()
    text = {n: trimmed(raw.table.column(f"c{raw.headers.index(h)}"))
            for n, h in mapping.columns.items()}
    stages = pc.unique(text["stage"]).drop_null().to_pylist() if "stage" in text else []
    amounts, left_out = _read_amounts(raw, mapping, text)
    plan = plan_columns(raw, mapping, [*stages, *known_stages])
    cells, query = _arrow_cells(raw, mapping, plan, text)
    with _working(con) as work:
        rows = _typed_rows(work, raw, cells, query, today)
        rows, duplicate_ids = _mark_duplicates(work, rows, plan.key_field)
        lines = product_lines(work, raw.headers, plan.key_field, frozenset(mapping.columns)) if (
            duplicate_ids and plan.key_field and plan.kind == "opportunities") else None
        by_reason, rejected = _rejections(work, raw, rows)
        problems, future, negative = _problem_counts(work, query, plan, mapping, today)
    table, history = _split_history(_canonical_table(raw, plan, text, rows), plan)
    gaps = _amount_gaps(rows, left_out, mapping)
    # The typed rows' working columns (reasons, key hashes, flags) are done with: hand their
    # memory back now, before the Dataset is built (a 1M-row upload holds ~10 MB less).
    del rows, cells
    pa.default_memory_pool().release_unused()
    report = ValidationReport(
        file=raw.name, kind=plan.kind, rows_read=raw.rows + len(raw.rejected),
        rows_kept=table.num_rows, rejected=rejected, rejected_by_reason=by_reason,
        unparseable=problems, duplicate_ids=duplicate_ids, future_dates=future,
        negative_amounts=negative,
        notes=[*raw.notes, *(note for report in amounts for note in report.notes())],
        blanks=_blanks(table, plan, problems, amounts), amounts=amounts,
        product_lines=lines,
        line_fields=(mapping.columns.get("amount"), mapping.columns.get("product")),
    )
    if table.num_rows == 0:
        raise DiagnosticsError(
            f"No usable rows in “{raw.name}”: {'; '.join(report.problems()[:3]) or 'all empty'}",
            "Check that the right columns are chosen under “Columns” and that the file holds "
            "records, then read it again.",
        )
    report.notes.extend(_unused_notes(unused_columns(raw.headers, mapping, plan)))
    if history is not None:
        headers = ", ".join(f"“{raw.headers[i]}”" for i, _stage in plan.entered)
        report.notes.append(
            f"Stage history read from {len(plan.entered)} column"
            f"{'s' if len(plan.entered) != 1 else ''} dating when deals reached a stage "
            f"({headers}): {history.num_rows:,} stage entries.")
    return LoadedTable(raw, mapping, table, report, ambiguous_dates(raw, mapping), history, gaps)
