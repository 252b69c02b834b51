"""Typed tables → stage settings (proposed from the evidence, or the user's) → the Dataset."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import StageConfig, build_dataset, connect_locked, coverage
from diagnostics.errors import DiagnosticsError
from diagnostics.ingest._pipelines import keep_one_pipeline
from diagnostics.ingest._report import IngestResult, LoadedTable, amount_notes
from diagnostics.ingest._reps import merge_rep_spellings, unmatched_activities_note
from diagnostics.mapping import Kind
from diagnostics.stages import propose_stages


def _blank(table: pa.Table, name: str) -> bool:
    """Return True when the table has no value in column ``name`` (or no such column)."""
    return name not in table.column_names or table.column(name).null_count == table.num_rows


def _stage_rows(
    con: duckdb.DuckDBPyConnection, opportunities: pa.Table
) -> list[tuple[str, int, float | None, bool | None, bool | None]]:
    """Return per stage: deals, average probability, and whether every status is won / lost.

    Without probabilities and statuses (most exports) the stages are only counted, in Arrow.
    """
    if _blank(opportunities, "probability") and _blank(opportunities, "status"):
        counted = pc.value_counts(opportunities.column("stage"))
        return [(str(stage), int(n), None, None, None) for stage, n in zip(
            counted.field("values").to_pylist(), counted.field("counts").to_pylist(),
            strict=True) if stage is not None]
    con.register("_evidence_o", opportunities)
    try:
        rows = con.execute(
            """
            SELECT stage, count(*), avg(probability),
                   bool_and(status = 'won') FILTER (WHERE status IS NOT NULL),
                   bool_and(status = 'lost') FILTER (WHERE status IS NOT NULL)
            FROM _evidence_o WHERE stage IS NOT NULL GROUP BY 1
            """).fetchall()
    finally:
        con.unregister("_evidence_o")
    return [(str(stage), int(n), p, won, lost) for stage, n, p, won, lost in rows]


def _stage_evidence(
    con: duckdb.DuckDBPyConnection, opportunities: pa.Table, history: pa.Table | None
) -> tuple[list[str], dict[str, int], dict[str, float], dict[str, float], list[str], list[str]]:
    """Return stage names, counts, history positions, probabilities and status-only stages."""
    rows = _stage_rows(con, opportunities)
    counts = {stage: n for stage, n, *_ in rows}
    probability = {stage: p for stage, _n, p, *_ in rows if p is not None}
    won_only = [stage for stage, _n, _p, won, _lost in rows if won]
    lost_only = [stage for stage, _n, _p, _won, lost in rows if lost]
    position: dict[str, float] = {}
    if history is not None and history.num_rows:
        con.register("_evidence_h", history)
        try:
            position = dict(con.execute(
                """
                SELECT stage, avg(pos) FROM (
                    SELECT stage, row_number() OVER (PARTITION BY opp_id
                        ORDER BY entered_date, stage) * 1.0 / count(*) OVER (PARTITION BY opp_id)
                        AS pos
                    FROM _evidence_h WHERE stage IS NOT NULL
                ) GROUP BY 1
                """).fetchall())
        finally:
            con.unregister("_evidence_h")
        for stage in position:
            counts.setdefault(stage, 0)  # a stage deals passed through but none sit in now
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


def _as_text(table: pa.Table) -> pa.Table:
    """Return the table with any text read as codes (a dictionary) spelled out."""
    fields = [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
              for f in table.schema]
    return table.cast(pa.schema(fields))


def concat_tables(parts: Sequence[pa.Table]) -> pa.Table:
    """Return the tables one after the other; a column that is text as codes in one and plain
    text in another becomes plain text (Arrow cannot put the two in one column)."""
    if len(parts) == 1:
        return parts[0]
    if len({t.schema for t in parts}) > 1:
        parts = [_as_text(t) for t in parts]
    return pa.concat_tables(parts, promote_options="permissive")


def _concat(tables: Sequence[LoadedTable], kind: Kind) -> pa.Table | None:
    parts = [t.table for t in tables if t.kind == kind]
    return concat_tables(parts) if parts else None


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
    pipeline: str | None = None,
) -> IngestResult:
    """Return the Dataset built from typed tables, proposing stage settings unless given.

    ``con`` is the locked connection the Dataset will live in (a new one when not given). When
    the deals belong to several pipelines, only ``pipeline`` (else the largest) is used.

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
        history = concat_tables(parts)
    opportunities, history, pipelines = keep_one_pipeline(opportunities, history, pipeline)
    con = con or connect_locked()  # becomes the session's Dataset connection
    names, counts, position, probability, won_only, lost_only = _stage_evidence(
        con, opportunities, history)
    proposed, how = propose_stages(
        names, counts=counts, history_position=position or None,
        probability=probability or None, status_won=won_only, status_lost=lost_only,
    )
    notes: list[str] = [pipelines.note()] if pipelines is not None else []
    notes += amount_notes(list(tables), pipelines)
    if stages is None:
        config = proposed
    else:
        config, reconciled = reconcile_stages(proposed, stages)
        notes += reconciled
        how = "Stage settings as chosen."
    activities = _concat(tables, "activities")
    opportunities, activities, merged = merge_rep_spellings(opportunities, activities)
    notes += [n for n in (merged, unmatched_activities_note(opportunities, activities)) if n]
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
    dataset = build_dataset(
        opportunities.drop_columns(["probability"]) if "probability" in
        opportunities.column_names else opportunities,
        config,
        activities=activities,
        stage_history=history,
        source=(source or ", ".join(t.raw.name for t in tables))
        + (pipelines.source_suffix() if pipelines is not None else ""),
        notes=notes,
        con=con,
    )
    dataset.notes.extend(coverage(dataset).notes())
    return IngestResult(dataset, list(tables), config, how, pipelines)
