"""One pipeline at a time: an export that holds several is not one funnel.

HubSpot's "Pipeline", Pipedrive's "Deal - Pipeline" or Salesforce's record types put new business,
renewals or partner deals in one file, each with its own stages. Read as one funnel, a renewals
pipeline's "Renewed" becomes an open step in the middle of the sales funnel, its deals become open
pipeline and the weakest step is blamed on a step no sales deal passes through. So when the file
holds more than one pipeline, one is used (the one asked for, else the one with most deals) and the
deals of the others are left out of every page, counted and named.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

BLANK = "(no pipeline)"  # deals whose pipeline cell is empty, as one more pipeline
COLUMN = "pipeline"


@dataclass(frozen=True)
class PipelineChoice:
    """The pipelines of an export, with their deal counts, and the one in use."""

    counts: dict[str, int]  # deals per pipeline, most first (blank cells under BLANK)
    used: str
    asked: str | None = None  # the pipeline asked for, when it is not in this export

    @property
    def left_out(self) -> int:
        """Return how many deals belong to the pipelines not in use."""
        return sum(n for name, n in self.counts.items() if name != self.used)

    def note(self) -> str:
        """Return the sentence every page's data notes carry: what is shown and what is not."""
        others = [(name, n) for name, n in self.counts.items() if name != self.used]
        if len(others) == 1:
            left = f"the {others[0][1]:,} deals of {others[0][0]} are"
        else:
            listed = ", ".join(f"{name} ({n:,})" for name, n in others)
            left = f"the {self.left_out:,} deals of {listed} are"
        missing = (f"There is no pipeline “{self.asked}” in the data, so the largest one is used. "
                   if self.asked is not None else "")
        return (f"{missing}The deals belong to {len(self.counts)} pipelines, each with its own "
                f"stages, so they are not read as one funnel: {self.used} "
                f"({self.counts[self.used]:,} deals) is used and {left} left out of every page. "
                "Choose another pipeline on the Data page (command line: --pipeline-name).")

    def source_suffix(self) -> str:
        """Return what the name of the data adds, shown on every page: the pipeline used."""
        return f" · pipeline {self.used} ({self.left_out:,} deals of other pipelines left out)"

    def to_dict(self) -> dict[str, object]:
        """Return the choice for ``--json`` output."""
        return {"used": self.used, "deals": dict(self.counts), "left_out": self.left_out}


def pipeline_counts(opportunities: pa.Table) -> dict[str, int]:
    """Return the deals per pipeline, most first, then by name with blank cells last ({} without
    a pipeline column)."""
    if COLUMN not in opportunities.column_names:
        return {}
    column = opportunities.column(COLUMN)
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    counted = pc.value_counts(column)
    counts: dict[str, int] = {}
    for value, n in zip(counted.field("values").to_pylist(),
                        counted.field("counts").to_pylist(), strict=True):
        name = BLANK if value is None or not str(value).strip() else str(value)
        counts[name] = counts.get(name, 0) + int(n)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] == BLANK, kv[0])))


def in_pipeline(opportunities: pa.Table, used: str) -> pa.ChunkedArray:
    """Return which deals belong to the pipeline ``used`` (``BLANK``: those without one)."""
    column = opportunities.column(COLUMN)
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if used == BLANK:
        keep = pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_trim_whitespace(column), ""))
    else:
        keep = pc.equal(column, used)
    return pc.fill_null(keep, False)


def keep_one_pipeline(
    opportunities: pa.Table, history: pa.Table | None, wanted: str | None = None
) -> tuple[pa.Table, pa.Table | None, PipelineChoice | None]:
    """Return the deals (and stage history) of one pipeline, and the choice made.

    With one pipeline or none the tables come back whole and the choice is None. The pipeline
    column is dropped either way: nothing downstream reads it.
    """
    counts = pipeline_counts(opportunities)
    if COLUMN not in opportunities.column_names:
        return opportunities, history, None
    if len(counts) <= 1:
        return opportunities.drop_columns([COLUMN]), history, None
    used = wanted if wanted in counts else next(iter(counts))
    choice = PipelineChoice(counts, used, wanted if wanted and wanted not in counts else None)
    kept = opportunities.filter(in_pipeline(opportunities, used)).drop_columns([COLUMN])
    if history is not None and "opp_id" in history.column_names \
            and "opp_id" in kept.column_names:
        ids = kept.column("opp_id")
        if pa.types.is_dictionary(ids.type):
            ids = ids.cast(pa.string())
        history_ids = history.column("opp_id")
        if pa.types.is_dictionary(history_ids.type):
            history_ids = history_ids.cast(pa.string())
        known = pc.unique(ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids)
        history = history.filter(pc.fill_null(pc.is_in(history_ids, value_set=known), False))
    return kept, history, choice
