"""The active dataset: one locked-down, in-memory DuckDB connection holding canonical tables.

Every analysis (funnel, quadrant, planner) reads the same three canonical tables, whatever file
they came from. Column names are fixed here, by code; uploaded headers never reach SQL.

Tables (always present, possibly empty):

``opportunities``
    opp_id, rep, team, stage, status ('open' | 'won' | 'lost'), amount, created_date, close_date,
    segment, product, region, last_touch (latest of created, stage change, activity, last
    activity column), reached_rank (1..len(funnel stages)+1 where the last rank is "Won"; NULL
    for open deals sitting in an excluded placeholder stage and for lost deals with no evidence
    of how far they got: "lost, stage unknown"). ``close_date`` of a won (lost) deal is its won
    (lost) date when the file has one, else its close date.
``activities``
    activity_id, rep, type, activity_date, opp_id, is_meeting.
``stage_history``
    opp_id, stage, entered_date, stage_rank (NULL for stages outside the funnel).
``funnel_stages``
    rank, stage: the ordered funnel with "Won" as its final rank.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.formatting import format_period

__all__ = [
    "ACTIVITY_COLUMNS",
    "Dataset",
    "HISTORY_COLUMNS",
    "MAX_AMOUNT",
    "OPPORTUNITY_COLUMNS",
    "OPPORTUNITY_INPUTS",
    "Coverage",
    "deals_by_month",
    "StageConfig",
    "WON_STAGE",
    "Filters",
    "build_dataset",
    "connect_locked",
    "prepare_spare_connection",
    "null_column",
    "coverage",
    "opportunity_filter_sql",
]

WON_STAGE = "Won"

# Canonical column → DuckDB type. The order is the column order of the tables.
OPPORTUNITY_COLUMNS: dict[str, str] = {
    "opp_id": "VARCHAR",
    "rep": "VARCHAR",
    "team": "VARCHAR",
    "stage": "VARCHAR",
    "status": "VARCHAR",
    "amount": "DOUBLE",
    "created_date": "DATE",
    "close_date": "DATE",
    "segment": "VARCHAR",
    "product": "VARCHAR",
    "region": "VARCHAR",
}
# Read from an opportunities file but not stored as such: the close date of a closed deal comes
# from the column its outcome names (won or lost date) before the plain close date, and the last
# activity date feeds ``last_touch``.
OPPORTUNITY_INPUTS: dict[str, str] = {
    **OPPORTUNITY_COLUMNS,
    "won_date": "DATE",
    "lost_date": "DATE",
    "last_activity": "DATE",
}
ACTIVITY_COLUMNS: dict[str, str] = {
    "activity_id": "VARCHAR",
    "rep": "VARCHAR",
    "type": "VARCHAR",
    "activity_date": "DATE",
    "opp_id": "VARCHAR",
}
HISTORY_COLUMNS: dict[str, str] = {
    "opp_id": "VARCHAR",
    "stage": "VARCHAR",
    "entered_date": "DATE",
}

# No sales deal is worth this much in any currency's units (a billion billion): an amount beyond
# it is a typo or a placeholder, and a few of them add up past what a float holds (1e308 + 1e308
# is infinite), which would leave a sum or an average with no value at all. Reading a file keeps
# such amounts as missing and counts them; the forecast leaves them out too.
MAX_AMOUNT = 1e18

# Activity types that count as a meeting for the "meetings per day" engagement measure.
MEETING_WORDS = ("meeting", "demo", "visit", "presentation", "appointment")

DEFAULT_MEMORY_LIMIT = "4GB"
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class StageConfig:
    """The user's (or the detected) view of the pipeline stages.

    ``funnel`` lists the open stages in order (first → last before closing); "Won" is appended as
    the final funnel step. ``won`` and ``lost`` list source stage names that mean an outcome;
    ``excluded`` lists placeholder stages (on hold, stalled) kept out of the funnel; ``renames``
    maps a source stage name to the name shown.
    """

    funnel: tuple[str, ...]
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()

    @property
    def funnel_with_won(self) -> tuple[str, ...]:
        """Return the funnel stages followed by the final "Won" step."""
        return (*self.funnel, WON_STAGE)

    def display_name(self, stage: str) -> str:
        """Return the name shown for a source stage (after renames)."""
        return dict(self.renames).get(stage, stage)

    def rank_of(self, stage: str | None) -> int | None:
        """Return the 1-based funnel rank of a source stage, or None when outside the funnel."""
        if stage is None:
            return None
        if stage in self.won:
            return len(self.funnel) + 1
        try:
            return self.funnel.index(stage) + 1
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the stage part of a saved mapping)."""
        return {
            "funnel": list(self.funnel),
            "won": list(self.won),
            "lost": list(self.lost),
            "excluded": list(self.excluded),
            "renames": dict(self.renames),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageConfig:
        """Build a config from :meth:`to_dict` output; raises ValueError on a malformed dict."""
        try:
            renames = data.get("renames") or {}
            return cls(
                funnel=tuple(str(s) for s in data["funnel"]),
                won=tuple(str(s) for s in data.get("won", ())),
                lost=tuple(str(s) for s in data.get("lost", ())),
                excluded=tuple(str(s) for s in data.get("excluded", ())),
                renames=tuple((str(k), str(v)) for k, v in dict(renames).items()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"stage settings are malformed: {exc}") from exc

    def with_changes(self, **changes: Any) -> StageConfig:
        """Return a copy with the given fields replaced."""
        return replace(self, **changes)


Cohort = Literal["created", "closed"]
_CATEGORY_FILTERS = ("segment", "product", "region", "team", "rep")


@dataclass(frozen=True)
class Filters:
    """Which opportunities an analysis looks at.

    ``cohort='created'`` keeps deals created in [start, end] (followed to today);
    ``cohort='closed'`` keeps deals won or lost in [start, end]. Empty tuples mean "all".
    """

    start: dt.date | None = None
    end: dt.date | None = None
    cohort: Cohort = "created"
    segment: tuple[str, ...] = ()
    product: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    rep: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return a short sentence naming the cohort and the filters, for captions."""
        verb = "created" if self.cohort == "created" else "won or lost"
        if self.start and self.end:
            when = f"{verb} {self.start:%d %b %Y} – {self.end:%d %b %Y}"
        elif self.start:
            when = f"{verb} from {self.start:%d %b %Y}"
        elif self.end:
            when = f"{verb} up to {self.end:%d %b %Y}"
        else:
            when = f"{verb} at any time"
        parts = [f"Deals {when}"]
        for name in _CATEGORY_FILTERS:
            values = getattr(self, name)
            if values:
                parts.append(f"{name} = {', '.join(values)}")
        return "; ".join(parts)

    def with_period(self, start: dt.date | None, end: dt.date | None) -> Filters:
        """Return the same filters over another period."""
        return replace(self, start=start, end=end)

    def describe_period(self) -> str:
        """Return the dates as "01 Apr 2026 – 30 Jun 2026" ("any date" where open)."""
        return format_period(self.start, self.end)

    def previous_period(self) -> Filters | None:
        """Return the same filters over the period just before, or None without both dates.

        Whole calendar months (a month, a quarter, a year) step back by the same number of
        months; any other range steps back by its own number of days.
        """
        if self.start is None or self.end is None or self.end < self.start:
            return None
        start, end = self.start, self.end
        is_month_end = (end + dt.timedelta(days=1)).day == 1
        if start.day == 1 and is_month_end:
            months = (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1
            index = start.year * 12 + start.month - 1 - months
            before_start = dt.date(index // 12, index % 12 + 1, 1)
        else:
            before_start = start - dt.timedelta(days=(end - start).days + 1)
        return self.with_period(before_start, start - dt.timedelta(days=1))


def opportunity_filter_sql(filters: Filters, alias: str = "o") -> tuple[str, list[Any]]:
    """Return a SQL boolean expression over ``alias`` (an opportunities row) and its parameters.

    Column names are fixed by code; every user value is a ``?`` parameter.
    """
    if not alias.isidentifier():
        raise ValueError(f"bad alias: {alias!r}")
    clauses: list[str] = []
    params: list[Any] = []
    date_col = f"{alias}.created_date" if filters.cohort == "created" else f"{alias}.close_date"
    if filters.cohort == "closed":
        clauses.append(f"{alias}.status IN ('won', 'lost')")
    if filters.start is not None:
        clauses.append(f"{date_col} >= ?")
        params.append(filters.start)
    if filters.end is not None:
        clauses.append(f"{date_col} <= ?")
        params.append(filters.end)
    for name in _CATEGORY_FILTERS:
        values = getattr(filters, name)
        if values:
            clauses.append(f"{alias}.{name} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    return (" AND ".join(clauses) or "TRUE", params)


@dataclass
class Dataset:
    """A session's data: a locked-down DuckDB connection plus what is known about it.

    Analyses query ``con`` with fixed SQL over the canonical tables described in this module's
    docstring. ``as_of`` is the latest date seen in the data: "today" for staleness and periods,
    so that an export from last month still reads sensibly.
    """

    con: duckdb.DuckDBPyConnection
    stages: StageConfig
    as_of: dt.date
    source: str
    has_activities: bool = False
    has_stage_history: bool = False
    notes: list[str] = field(default_factory=list)
    has_last_touch: bool = True  # activities, stage history or a last-activity column: "stale"
    as_of_reason: str = "the latest date in the data"  # why ``as_of`` is that date, as shown

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run fixed SQL with parameters on the dataset and return a (small) DataFrame."""
        return self.con.execute(sql, list(params or [])).df()

    def filter_values(self, column: str) -> list[str]:
        """Return the distinct non-empty values of a categorical opportunity column, sorted."""
        if column not in {"rep", "team", "segment", "product", "region"}:
            raise ValueError(f"not a filterable column: {column}")
        rows = self.con.execute(
            f"SELECT DISTINCT {column} FROM opportunities WHERE {column} IS NOT NULL ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    def date_range(self) -> tuple[dt.date, dt.date]:
        """Return the first date the opportunities cover (created or closed) and the as-of date.

        Periods end at the as-of date: an open deal's expected close date lies in the future.
        """
        lo = self.con.execute(
            "SELECT least(min(created_date), min(close_date)) FROM opportunities"
        ).fetchall()[0][0]
        return (min(lo, self.as_of) if lo else self.as_of, self.as_of)

    def period_filters(
        self, start: dt.date | None, end: dt.date | None, **others: Any
    ) -> Filters:
        """Return filters for a period picked on a page; the whole data range is left open.

        The whole range (the default period) thus keeps the deals that carry no date; any
        narrower period keeps the dates picked.
        """
        lo, hi = self.date_range()
        if (start is None or start <= lo) and (end is None or end >= hi):
            return Filters(**others)
        return Filters(start=start, end=end, **others)


def _new_locked(memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET enable_external_access = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET threads = ?", [threads])
    con.execute("SET enable_progress_bar = false")  # a long query prints nothing to the console
    con.execute("SET lock_configuration = true")
    return con


# A new in-memory database costs about 40 ms of CPU whatever it holds. A server makes the next
# upload's connection ahead, while nobody waits (see prepare_spare_connection); it is empty and
# belongs to no one until connect_locked hands it out, once.
_spare: list[duckdb.DuckDBPyConnection] = []
_spare_lock = threading.Lock()


def prepare_spare_connection() -> None:
    """Make one locked connection ahead for the next :func:`connect_locked` (if none is ready).

    Called by a server from background work; a process that never calls it opens each
    connection when asked.
    """
    with _spare_lock:
        if _spare:
            return
    con = _new_locked(DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS)
    with _spare_lock:
        if not _spare:
            _spare.append(con)
            return
    con.close()  # another thread made one meanwhile


def connect_locked(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS) -> (
    duckdb.DuckDBPyConnection
):
    """Return an in-memory DuckDB connection that cannot read files, the network or extensions.

    Order matters: external access must be switched off before the configuration is locked.
    With the default settings, a connection made ahead is handed out when one is ready.
    """
    if memory_limit == DEFAULT_MEMORY_LIMIT and threads == DEFAULT_THREADS:
        with _spare_lock:
            if _spare:
                return _spare.pop()
    return _new_locked(memory_limit, threads)


_NULL_BLOCK_ROWS = 1 << 16


def null_column(rows: int, kind: pa.DataType) -> pa.ChunkedArray:
    """Return ``rows`` missing values of type ``kind``, held in one small block used repeatedly.

    A column a file does not have costs the memory of 65,536 missing values, not of every row.
    """
    block = pa.nulls(min(rows, _NULL_BLOCK_ROWS), kind)
    full, rest = divmod(rows, len(block)) if rows else (0, 0)
    return pa.chunked_array([block] * full + ([block.slice(0, rest)] if rest else []), kind)


def _empty_table(columns: dict[str, str]) -> pa.Table:
    types = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "DATE": pa.date32()}
    return pa.table({name: pa.array([], type=types[t]) for name, t in columns.items()})


def _as_arrow(frame: pd.DataFrame | pa.Table | None, columns: dict[str, str]) -> pa.Table:
    """Return ``frame`` as an Arrow table with exactly the canonical columns (missing → NULL)."""
    if frame is None:
        return _empty_table(columns)
    if isinstance(frame, pa.Table):
        table = frame
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    n = table.num_rows
    arrays = []
    empty = _empty_table(columns)
    for name in columns:
        target = empty.schema.field(name).type
        if name in table.column_names:
            col = table.column(name)
            if pa.types.is_timestamp(col.type) and pa.types.is_date32(target):
                col = col.cast(pa.date32())
            if pa.types.is_dictionary(col.type) and col.type.value_type == target:
                arrays.append(col)  # text as codes stays so: DuckDB reads it as text
                continue
            arrays.append(col.cast(target) if col.type != target else col)
        else:
            arrays.append(null_column(n, target))
    return pa.table(arrays, names=list(columns))


MAX_ENUM_VALUES = 10_000


def _distinct_text(table: pa.Table, columns: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Return the distinct values of each text column with few of them (two at a time).

    A column with more than ``MAX_ENUM_VALUES`` distinct values, or none, is left out.
    """
    def distinct(name: str) -> tuple[str, ...]:
        values = pc.unique(table.column(name)).drop_null()
        return () if len(values) > MAX_ENUM_VALUES else tuple(values.to_pylist())

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(zip(columns, pool.map(distinct, columns), strict=True))
    return {name: values for name, values in found.items() if values}


def _codes(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, list[str]] | None:
    """Return the codes (from 0) of a text column read as codes and the text of each code, or
    None when it is not read as codes or its codes cannot be an ENUM's (too many values, a
    missing or repeated one).

    The chunks are put on one shared list of values first (a merge of the small lists); the
    codes come back in the narrowest type that holds them (one byte a row for up to 256
    values), so that they add little to the memory a large upload takes while it is stored.
    """
    if not pa.types.is_dictionary(column.type) or column.num_chunks == 0:
        return None
    unified = column.unify_dictionaries()
    values = unified.chunk(0).dictionary
    if (not 0 < len(values) <= MAX_ENUM_VALUES or values.null_count
            or len(pc.unique(values)) != len(values)):
        return None
    codes = pa.chunked_array([chunk.indices for chunk in unified.chunks])
    del unified
    return codes.cast(pa.uint8() if len(values) <= 256 else pa.uint16()), values.to_pylist()


def _coded(
    table: pa.Table, columns: Sequence[str]
) -> tuple[pa.Table, dict[str, tuple[str, ...]]]:
    """Return the table with those of ``columns`` read as codes replaced by their codes, and
    the values of each column so replaced, in the order of its codes (see
    :func:`_create_compact`)."""
    values: dict[str, tuple[str, ...]] = {}
    for name in columns:
        found = _codes(table.column(name))
        if found is None:
            continue
        codes, values[name] = found[0], tuple(found[1])
        table = table.set_column(table.schema.get_field_index(name), name, codes)
    return table, values


_LookupRow = tuple[str, int | None, str, str]  # source stage, rank, name shown, role


def _stages_by_code(
    table: pa.Table, lookup_rows: Sequence[_LookupRow]
) -> tuple[pa.Table, tuple[str, ...], list[Any]] | None:
    """Return the deals with their stages as codes, the names shown in the order of the codes
    the query gives them, and what the query reads per stage code (in its parameters' order:
    funnel rank, role, code of the name shown); None when the stages are not read as codes
    (see :func:`_codes`).

    The settings are applied once per distinct stage, not joined on every deal: a 1M-deal
    upload no longer looks every deal's stage up, nor turns the name shown into an ENUM value
    row by row.
    """
    if len({row[0] for row in lookup_rows}) != len(lookup_rows):
        return None  # a stage listed twice: the join (one row per listing) decides
    found = _codes(table.column("stage"))
    if found is None:
        return None
    codes, values = found
    known = {src: (rank, shown, role) for src, rank, shown, role in lookup_rows}
    shown = [known[v][1] if v in known else v for v in values]
    names = tuple(dict.fromkeys(shown))  # two stages renamed alike share a name
    position = {name: i for i, name in enumerate(names)}
    per_code = [[known[v][0] if v in known else None for v in values],
                [known[v][2] if v in known else None for v in values],
                [position[name] for name in shown]]
    table = table.set_column(table.schema.get_field_index("stage"), "stage", codes)
    return table, names, per_code


def _create_compact(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[str],
    select_sql: str,
    params: Sequence[Any] = (),
    *,
    values: Mapping[str, Sequence[str]],
    coded: Collection[str] = (),
) -> None:
    """Create the view ``name`` over a table holding ``select_sql``'s rows, compactly.

    Text columns with few distinct values (reps, stages, segments…) are stored as ENUMs, one or
    two bytes a row instead of sixteen, which halves the memory a large upload takes; the view
    hands them back as VARCHAR, so every query reads plain text. ``values`` lists, per such
    column, every value it can hold. Names are fixed by code; the values reach DuckDB as rows
    of a registered table, never as SQL text.

    Columns in ``coded`` arrive as codes (from 0) into their ``values``, listed in code order
    (see :func:`_coded`): each code becomes its ENUM value by position, not by looking its
    text up again row by row (a 1M-deal upload stores its five coded columns ~0.2 s of CPU
    faster). The order of an ENUM's values is never seen: the view hands back text.
    """
    store = f"_{name}_store"
    con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(f"DROP TABLE IF EXISTS {store}")
    enums: dict[str, str] = {}
    in_order: list[tuple[str, list[str]]] = []  # the ENUMs whose values the codes index
    for column, found in values.items():
        enum = f"_{name}_{column}_enum"
        if not found:
            con.execute(f"DROP TYPE IF EXISTS {enum}")
            continue
        ordered = list(found) if column in coded else sorted(set(found))
        # The values go in as one list parameter (a statement per ENUM, not four: a small
        # upload spent most of its storing time making ENUMs).
        con.execute(f"CREATE OR REPLACE TYPE {enum} AS ENUM (SELECT unnest(?::VARCHAR[]))",
                    [ordered])
        enums[column] = enum
        if column in coded:
            in_order.append((enum, ordered))
    if in_order and not all(con.execute(
            "SELECT " + ", ".join(f"enum_range(NULL::{enum}) = ?" for enum, _ in in_order),
            [ordered for _, ordered in in_order]).fetchall()[0]):
        raise RuntimeError("the values of an ENUM are not in the order its codes assume")
    stored = ", ".join(
        f"(enum_range(NULL::{enums[c]})::{enums[c]}[])[{c}::INTEGER + 1] AS {c}" if c in coded
        else f"{c}::{enums[c]} AS {c}" if c in enums else c for c in columns)
    con.execute(f"CREATE TABLE {store} AS SELECT {stored} FROM ({select_sql})", list(params))
    shown = ", ".join(f"{c}::VARCHAR AS {c}" if c in enums else c for c in columns)
    con.execute(f"CREATE VIEW {name} AS SELECT {shown} FROM {store}")


def _shown_stages(
    stored: Sequence[str], lookup_rows: Sequence[tuple[str, Any, str, str]]
) -> list[str]:
    """Return the stage names a table shows: renamed where the settings rename them."""
    renamed = {src for src, *_ in lookup_rows}
    present = set(stored)
    return [shown for src, _rank, shown, _role in lookup_rows if src in present] + [
        s for s in stored if s not in renamed]


def _as_of(
    latest: dt.date | None, today: dt.date, notes: list[str]
) -> tuple[dt.date, str]:
    """Return the as-of date and why: the data's latest date, never after today.

    A created date, a closed deal's close date, an activity or a stage change after today is an
    error in the export (the validation counts them); reading the data as of that date would make
    periods, ages and "the quarter being played" start in the future. Such data is read as of
    today, and a note in ``notes`` says so.
    """
    if latest is None:
        return today, "today: the data holds no dates"
    if latest <= today:
        return latest, "the latest date in the data"
    notes.append(
        f"The data holds dates after today (the latest {latest:%d %b %Y}: a created date, a closed "
        f"deal's close date, an activity or a stage change): it is read as of today, "
        f"{today:%d %b %Y}, so that periods and ages do not start in the future."
    )
    return today, "today (the data holds later dates, counted in its notes)"


def build_dataset(
    opportunities: pd.DataFrame | pa.Table,
    stages: StageConfig,
    *,
    activities: pd.DataFrame | pa.Table | None = None,
    stage_history: pd.DataFrame | pa.Table | None = None,
    source: str = "data",
    notes: Sequence[str] = (),
    con: duckdb.DuckDBPyConnection | None = None,
    as_of: dt.date | None = None,
) -> Dataset:
    """Return a Dataset built from canonical, already typed frames (dates, float amounts).

    ``opportunities.stage`` holds source stage names; ``status`` may be missing, in which case it
    is derived from ``stages.won`` / ``stages.lost``. Renames are applied to the stored ``stage``
    and to ``funnel_stages`` so that every chart shows the user's names.
    """
    con = con or connect_locked()
    opp = _as_arrow(opportunities, OPPORTUNITY_INPUTS)
    act = _as_arrow(activities, ACTIVITY_COLUMNS)
    hist = _as_arrow(stage_history, HISTORY_COLUMNS)
    con.register("_in_hist", hist)

    # Stage lookup: source name → (rank, display name, role). Values go in as rows, not SQL text.
    lookup_rows: list[tuple[str, int | None, str, str]] = []
    for i, s in enumerate(stages.funnel, start=1):
        lookup_rows.append((s, i, stages.display_name(s), "open"))
    won_rank = len(stages.funnel) + 1
    for s in stages.won:
        lookup_rows.append((s, won_rank, stages.display_name(s), "won"))
    for s in stages.lost:
        lookup_rows.append((s, None, stages.display_name(s), "lost"))
    for s in stages.excluded:
        lookup_rows.append((s, None, stages.display_name(s), "excluded"))
    lookup = pa.table(
        {
            "src": pa.array([r[0] for r in lookup_rows], type=pa.string()),
            "rank": pa.array([r[1] for r in lookup_rows], type=pa.int32()),
            "shown": pa.array([r[2] for r in lookup_rows], type=pa.string()),
            "role": pa.array([r[3] for r in lookup_rows], type=pa.string()),
        }
    )
    con.register("_in_lookup", lookup)
    funnel = pa.table(
        {
            "rank": pa.array(range(1, won_rank + 1), type=pa.int32()),
            "stage": pa.array(
                [stages.display_name(s) for s in stages.funnel] + [WON_STAGE], type=pa.string()
            ),
        }
    )
    con.register("_in_funnel", funnel)

    con.execute("CREATE OR REPLACE TABLE funnel_stages AS SELECT * FROM _in_funnel")
    _create_compact(
        con, "stage_history", ("opp_id", "stage", "entered_date", "stage_rank"),
        """
        SELECT h.opp_id, coalesce(l.shown, h.stage) AS stage, h.entered_date,
               l.rank AS stage_rank
        FROM _in_hist h LEFT JOIN _in_lookup l ON l.src = h.stage
        """,
        values={"stage": _shown_stages(_distinct_text(hist, ["stage"]).get("stage", ()),
                                       lookup_rows)},
    )
    meeting_pattern = "(" + "|".join(MEETING_WORDS) + ")"
    act_in, act_coded = _coded(act, ["rep"])  # type is read as text below
    act_text = {**_distinct_text(act, [c for c in ("rep", "type") if c not in act_coded]),
                **act_coded}
    con.register("_in_act", act_in)
    _create_compact(
        con, "activities", ("activity_id", "rep", "type", "activity_date", "opp_id", "is_meeting"),
        """
        SELECT activity_id, rep, type, activity_date, opp_id,
               coalesce(regexp_matches(lower(type), ?), false) AS is_meeting
        FROM _in_act
        """,
        [meeting_pattern],
        values=act_text, coded=set(act_coded),
    )
    # Columns the query passes through unchanged go in as codes, and so do the stages (as codes
    # into the names shown) when they are read as codes; else stages are looked up by name.
    opp_in, opp_coded = _coded(opp, ["rep", "team", "segment", "product", "region"])
    by_code = _stages_by_code(opp_in, lookup_rows)
    per_stage: list[Any] = []
    if by_code is not None:
        opp_in, opp_coded["stage"], per_stage = by_code
    opp_text = {**_distinct_text(opp, [c for c in ("rep", "team", "stage", "segment", "product",
                                                   "region") if c not in opp_coded]),
                **opp_coded}
    if by_code is None:
        opp_text["stage"] = tuple(_shown_stages(opp_text.get("stage", ()), lookup_rows))
        looked_up = ("l.rank AS stage_rank, l.role AS stage_role, l.shown AS shown_stage",
                     "LEFT JOIN _in_lookup l ON l.src = o.stage",
                     "coalesce(t.shown_stage, t.stage)")
    else:  # each stage code picks its rank, role and name shown from a list parameter
        looked_up = ("(?::INTEGER[])[o.stage::INTEGER + 1] AS stage_rank, "
                     "(?::VARCHAR[])[o.stage::INTEGER + 1] AS stage_role, "
                     "(?::USMALLINT[])[o.stage::INTEGER + 1] AS shown_stage", "", "t.shown_stage")
    # A column without any value (no status, won or lost date in the file…) goes in as a
    # constant instead of being read row by row (ids and stages are joined on, so they stay):
    # its missing values came in blocks of their own, which cut every batch DuckDB stores into
    # smaller ones (a 1M-deal upload was stored with about a fifth more CPU).
    empty = [name for name in OPPORTUNITY_INPUTS if name not in ("opp_id", "stage")
             and opp_in.column(name).null_count == opp_in.num_rows > 0]
    blanks = "".join(f", NULL::{OPPORTUNITY_INPUTS[name]} AS {name}" for name in empty)
    con.register("_in_opp", opp_in.drop_columns(empty))
    # Furthest rank: won deals reach every stage; open deals their current stage; lost deals the
    # furthest stage in their history (a stage history file, "Date entered" or stage-named date
    # columns), else the stage they were lost at (Pipedrive keeps it), else none: "lost, stage
    # unknown", counted in the totals but charged to no step. Open deals
    # parked in an excluded stage (on hold) stay out of the funnel and the pipeline, with or
    # without stage history, so that every export of the same deals counts the same.
    _create_compact(
        con, "opportunities",
        ("opp_id", "rep", "team", "stage", "status", "amount", "created_date", "close_date",
         "segment", "product", "region", "last_touch", "reached_rank"),
        f"""
        WITH hist AS (
            SELECT opp_id, max(stage_rank) AS max_rank, max(entered_date) AS last_change
            FROM stage_history GROUP BY opp_id
        ), act AS (
            SELECT opp_id, max(activity_date) AS last_activity
            FROM activities WHERE opp_id IS NOT NULL GROUP BY opp_id
        ), base AS (
            SELECT o.*, {looked_up[0]}{blanks}
            FROM _in_opp o {looked_up[1]}
        ), typed AS (
            SELECT b.*,
                   CASE
                     WHEN lower(b.status) IN ('won', 'lost', 'open') THEN lower(b.status)
                     WHEN b.stage_role = 'won' THEN 'won'
                     WHEN b.stage_role = 'lost' THEN 'lost'
                     ELSE 'open'
                   END AS status_clean
            FROM base b
        )
        SELECT t.opp_id, t.rep, t.team, {looked_up[2]} AS stage,
               t.status_clean AS status, t.amount, t.created_date,
               CASE t.status_clean WHEN 'won' THEN coalesce(t.won_date, t.close_date)
                                   WHEN 'lost' THEN coalesce(t.lost_date, t.close_date)
                                   ELSE t.close_date END AS close_date,
               t.segment, t.product, t.region,
               greatest(t.created_date, h.last_change, a.last_activity, t.last_activity)
                   AS last_touch,
               CASE
                 WHEN t.status_clean = 'won' THEN ?
                 WHEN t.stage_role = 'excluded' AND t.status_clean = 'open' THEN NULL
                 WHEN t.status_clean = 'open' THEN greatest(t.stage_rank, h.max_rank, 1)
                 -- lost: the furthest stage in evidence; none is "lost, stage unknown"
                 WHEN coalesce(h.max_rank, t.stage_rank) IS NOT NULL
                 THEN least(greatest(h.max_rank, t.stage_rank), ? - 1)
               END AS reached_rank
        FROM typed t
        LEFT JOIN hist h ON h.opp_id = t.opp_id
        LEFT JOIN act a ON a.opp_id = t.opp_id
        """,
        [*per_stage, won_rank, won_rank],
        values={**opp_text, "status": ("won", "lost", "open")},
        coded=set(opp_coded),
    )
    for name in ("_in_opp", "_in_act", "_in_hist", "_in_lookup", "_in_funnel"):
        con.unregister(name)

    notes = list(notes)
    as_of_reason = "the latest date in the data"
    if as_of is None:
        row = con.execute(
            """
            SELECT greatest(
                (SELECT max(created_date) FROM opportunities),
                (SELECT max(close_date) FROM opportunities WHERE status <> 'open'),
                (SELECT max(activity_date) FROM activities),
                (SELECT max(entered_date) FROM stage_history))
            """
        ).fetchall()[0]
        as_of, as_of_reason = _as_of(row[0], dt.date.today(), notes)
    touched = opp.column("last_activity").null_count < opp.num_rows
    return Dataset(
        con=con,
        stages=stages,
        as_of=as_of,
        source=source,
        has_activities=act.num_rows > 0,
        has_stage_history=hist.num_rows > 0,
        notes=list(notes),
        has_last_touch=touched or act.num_rows > 0 or hist.num_rows > 0,
        as_of_reason=as_of_reason,
    )


@dataclass(frozen=True)
class Coverage:
    """How many deals carry each date and an amount: what any figure over them can rest on."""

    deals: int
    no_created: int
    closed: int
    closed_undated: int
    with_amount: int
    open: int
    open_with_amount: int
    lost: int = 0
    lost_stage_unknown: int = 0

    def notes(self) -> list[str]:
        """Return one sentence per gap in the data (none when every deal carries everything)."""
        out = []
        if self.lost_stage_unknown:
            out.append(
                f"{self.lost_stage_unknown:,} of {self.lost:,} lost deals have no evidence of how "
                "far they got (“lost, stage unknown”): they count in the totals and are charged "
                "to no step. Stage history, “Date entered” columns or date columns named after "
                "stages (e.g. “Demo date”) would place them.")
        if self.no_created:
            out.append(
                f"{self.no_created:,} of {self.deals:,} deals have no created date: they count "
                "in the whole-range view, not in a period of deals created.")
        if self.closed_undated:
            out.append(
                f"{self.closed_undated:,} of {self.closed:,} closed deals have no close date (no "
                "close, won or lost date): they count in the whole-range totals, not in a "
                "period of deals closed.")
        if self.with_amount < self.deals:
            out.append(f"Amounts known for {self.with_amount:,} of {self.deals:,} deals; money "
                       "figures rest on those.")
        return out


def coverage(dataset: Dataset) -> Coverage:
    """Return how many deals carry a created date, a close date (closed ones), an amount, and
    how many lost deals have no evidence of the stage they reached."""
    row = dataset.con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE created_date IS NULL),
               count(*) FILTER (WHERE status <> 'open'),
               count(*) FILTER (WHERE status <> 'open' AND close_date IS NULL),
               count(amount), count(*) FILTER (WHERE status = 'open'),
               count(amount) FILTER (WHERE status = 'open'),
               count(*) FILTER (WHERE status = 'lost'),
               count(*) FILTER (WHERE status = 'lost' AND reached_rank IS NULL)
        FROM opportunities
        """).fetchall()[0]
    return Coverage(*(int(v) for v in row))


def deals_by_month(dataset: Dataset) -> pd.DataFrame:
    """Return deals counted by the month they were created and where they stand now.

    Columns ``month`` (first day), ``status`` (open, won, lost, or parked: open in an excluded
    stage such as on hold, kept out of the funnel and the pipeline) and ``deals``; deals without
    a created date are not in it (:func:`coverage` counts them). What an export covers shows
    here: its first and last month, and any month missing from it.
    """
    return dataset.query_df(
        """
        SELECT CAST(date_trunc('month', created_date) AS DATE) AS month,
               CASE WHEN status = 'open' AND reached_rank IS NULL THEN 'parked'
                    ELSE CAST(status AS VARCHAR) END AS status,
               count(*) AS deals
        FROM opportunities WHERE created_date IS NOT NULL
        GROUP BY ALL ORDER BY month, status
        """)
