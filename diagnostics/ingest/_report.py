"""What reading a file produced: the typed table, its validation report, the assembled result."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from diagnostics.dataset import Dataset, StageConfig
from diagnostics.ingest._pipelines import PipelineChoice
from diagnostics.mapping import Kind, TableMapping
from diagnostics.readers import RawTable, RejectedRow

MAX_EXAMPLES = 50  # rejected rows listed one by one; the rest are counted by reason


@dataclass(frozen=True)
class ColumnProblem:
    """Values of one mapped column that could not be read (kept as missing, row kept)."""

    field: str
    header: str
    count: int
    examples: tuple[tuple[int, str], ...]
    # Why each example could not be read ("too large to be an amount"), "" when the value
    # itself says it ("lots"); empty when no example needs a word.
    why: tuple[str, ...] = ()


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
    blanks: dict[str, int] = field(default_factory=dict)  # field → kept rows with a blank cell

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
            why = p.why or ("",) * len(p.examples)
            sample = "; ".join(f"line {line}: “{value}”" + (f" ({reason})" if reason else "")
                               for (line, value), reason in zip(p.examples, why, strict=True))
            out.append(
                f"{p.count:,} value{'s' if p.count != 1 else ''} in “{p.header}” could not be "
                f"read as {p.field.replace('_', ' ')} (kept as missing), e.g. {sample}."
            )
        for name, count in self.future_dates.items():
            out.append(f"{count:,} {name.replace('_', ' ')} value(s) are in the future.")
        if self.negative_amounts:
            out.append(f"{self.negative_amounts:,} negative amount(s) (credits or refunds?).")
        for name, count in self.blanks.items():
            out.append(f"{count:,} of {self.rows_kept:,} rows have no {name.replace('_', ' ')} "
                       "(blank; kept as missing).")
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
    pipelines: PipelineChoice | None = None  # the pipeline used when the deals span several
