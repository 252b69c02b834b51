"""Uploads: the files read, their mappings and stage settings, and the Dataset built from them.

This is the one upload pipeline. The Data page keeps one :class:`UploadWorkspace` per session
(in session state), forwards the user's choices to it and shows what
:meth:`UploadWorkspace.rebuild` returns; :func:`load_files` (the command line, the bundled
sample) runs the same steps without a page. Reading the bytes happens once per file; changing a
mapping re-types the kept text cells, which is cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

from diagnostics.dataset import Dataset, StageConfig, connect_locked
from diagnostics.errors import DiagnosticsError
from diagnostics.ingest import (
    IngestResult,
    LoadedTable,
    assemble_dataset,
    parse_table,
    propose_table_mapping,
)
from diagnostics.mapping import (
    Kind,
    SavedMapping,
    TableMapping,
    detect_kind,
    field_specs,
    mapping_from_json,
    mapping_to_json,
)
from diagnostics.readers import RawTable, read_raw

__all__ = [
    "FileState",
    "UploadWorkspace",
    "amount_fields",
    "currency_not_found",
    "file_signature",
    "load_dataset_from_paths",
    "load_files",
]


def file_signature(name: str, data: bytes) -> str:
    """Return a short content hash naming one uploaded file (same bytes, same signature)."""
    return f"{name}:{len(data)}:{hashlib.blake2b(data, digest_size=12).hexdigest()}"


@dataclass
class FileState:
    """One uploaded file: its text cells and mapping, or the reason it cannot be used."""

    name: str
    signature: str
    raw: RawTable | None = None
    mapping: TableMapping | None = None
    loaded: LoadedTable | None = None
    problem: DiagnosticsError | None = None

    @property
    def error(self) -> str | None:
        """Return the message saying why this file cannot be used (None when it can)."""
        return None if self.problem is None else str(self.problem)


def amount_fields(mapping: TableMapping | None) -> list[str]:
    """Return the mapped amount fields of a file (none when it has no mapping)."""
    if mapping is None:
        return []
    return [s.name for s in field_specs()[mapping.kind]
            if s.kind == "amount" and s.name in mapping.columns]


def currency_not_found(files: Iterable[FileState]) -> DiagnosticsError | None:
    """Return the error naming a currency asked for that an amount column does not hold."""
    for state in files:
        for report in state.loaded.report.amounts if state.loaded else ():
            if report.chosen_absent is not None:
                held = ", ".join(c or "no currency mark" for c in (
                    report.choices() or report.currencies)) or "no currency mark"
                return DiagnosticsError(
                    f"“{report.header}” in {state.name} holds no amount in "
                    f"{report.chosen_absent or 'no currency mark'} (it holds: {held}).",
                    "Ask for one of the currencies it holds, or leave the currency out to "
                    "keep the most common one.")
    return None


def _history_stages(files: Iterable[FileState]) -> list[str]:
    """Return the stage names of the stage history files: stages a date column may name."""
    names: set[str] = set()
    for state in files:
        mapping, raw = state.mapping, state.raw
        if raw is None or mapping is None or mapping.kind != "stage_history":
            continue
        header = mapping.columns.get("stage")
        if header in raw.headers:
            column = raw.table.column(f"c{raw.headers.index(header)}")
            names.update(v.strip() for v in pc.unique(column).drop_null().to_pylist())
    return sorted(n for n in names if n)


@dataclass
class UploadWorkspace:
    """Every file the user has given, their mappings, stage settings and the last build."""

    files: dict[str, FileState] = field(default_factory=dict)
    stages: StageConfig | None = None
    saved: SavedMapping | None = None
    result: IngestResult | None = None
    problem: DiagnosticsError | None = None
    source: str | None = None
    pipeline: str | None = None  # the pipeline to read when the deals span several

    @classmethod
    def read(
        cls,
        files: Sequence[tuple[str, bytes]],
        saved: SavedMapping | None = None,
        kinds: Mapping[str, Kind] | None = None,
        pipeline: str | None = None,
        currency: str | None = None,
    ) -> UploadWorkspace:
        """Return a workspace holding these files, mapped by ``saved`` where it says how, reading
        ``pipeline`` (else the saved one, else the largest) when the deals span several, and
        keeping the amounts in ``currency`` where an amount column holds several."""
        uploads = cls(saved=saved, pipeline=pipeline or (saved.pipeline if saved else None))
        if saved is not None and saved.stages:
            uploads.stages = StageConfig.from_dict(saved.stages)
        uploads.add_files(files, [name for name, _ in files])
        for name, kind in (kinds or {}).items():
            uploads.set_kind(name, kind)
        if currency is not None:
            for state in uploads.files.values():
                for field_name in amount_fields(state.mapping):
                    uploads.set_currency(state.name, field_name, currency)
        return uploads

    # ---------------------------------------------------------------- files

    def add_files(
        self, files: Sequence[tuple[str, bytes]], signatures: Sequence[str] | None = None
    ) -> bool:
        """Read files not seen before; return True when anything changed.

        ``signatures`` name each upload cheaply (the uploader's file ids) so that a rerun does
        not hash a large file again; without them the bytes are hashed.
        """
        changed = False
        for i, (name, data) in enumerate(files):
            signature = signatures[i] if signatures is not None else file_signature(name, data)
            current = self.files.get(name)
            if current is not None and current.signature == signature:
                continue
            state = FileState(name, signature)
            try:
                state.raw = read_raw(data, name)
                kind = self._guess_kind(state.raw)
                previous = self.saved.tables.get(kind) if self.saved else None
                state.mapping = propose_table_mapping(state.raw, saved=previous)
            except DiagnosticsError as exc:
                state.problem = exc
            self.files[name] = state
            changed = True
        return changed

    def replace_files(
        self, files: Sequence[tuple[str, bytes]], signatures: Sequence[str] | None = None
    ) -> bool:
        """Make these files the whole upload (what a new upload does by default).

        Files already held with the same bytes keep their mapping; every other file is
        forgotten, with its data. Returns True when anything changed.
        """
        wanted = {name for name, _ in files}
        dropped = [name for name in self.files if name not in wanted]
        for name in dropped:
            del self.files[name]
        added = self.add_files(files, signatures)
        return added or bool(dropped)

    def remove_file(self, name: str) -> bool:
        """Forget one file and its data; return True when it was held."""
        return self.files.pop(name, None) is not None

    @property
    def names(self) -> list[str]:
        """Return the names of the files held, in upload order."""
        return list(self.files)

    @staticmethod
    def _guess_kind(raw: RawTable) -> Kind:
        return detect_kind(raw.headers)[0]

    # ---------------------------------------------------------------- user choices

    def set_kind(self, name: str, kind: Kind) -> None:
        """Treat a file as another kind of table (its columns are mapped afresh)."""
        state = self.files[name]
        if state.raw is None or (state.mapping and state.mapping.kind == kind):
            return
        previous = self.saved.tables.get(kind) if self.saved else None
        state.mapping = propose_table_mapping(state.raw, kind, previous)

    def set_column(self, name: str, field_name: str, header: str | None) -> None:
        """Map a canonical field to a header of the file (None: leave the field unmapped)."""
        state = self.files[name]
        if state.raw is None or state.mapping is None:
            return
        columns = {k: v for k, v in state.mapping.columns.items() if k != field_name}
        if header is not None:
            if header not in state.raw.headers:
                raise DiagnosticsError(f"“{header}” is not a column of {name}.")
            columns = {k: v for k, v in columns.items() if v != header}
            columns[field_name] = header
        fresh = propose_table_mapping(
            state.raw, state.mapping.kind,
            TableMapping(state.mapping.kind, columns, state.mapping.date_orders,
                         state.mapping.decimal_comma, state.mapping.currency),
        )
        fresh.columns = columns  # exactly the user's choice, nothing re-proposed
        state.mapping = fresh

    def set_date_order(self, name: str, field_name: str, order: str) -> None:
        """Read a date column as year-month-day, month/day/year or day/month/year."""
        mapping = self.files[name].mapping
        if mapping is not None and order in ("ymd", "mdy", "dmy"):
            mapping.date_orders[field_name] = order  # type: ignore[assignment]

    def set_decimal_comma(self, name: str, field_name: str, comma: bool) -> None:
        """Read an amount column with a decimal comma (1.234,56) or point (1,234.56)."""
        mapping = self.files[name].mapping
        if mapping is not None:
            mapping.decimal_comma[field_name] = comma

    def set_pipeline(self, pipeline: str) -> None:
        """Read the deals of this pipeline as the funnel (the others are left out).

        Stage settings belong to one pipeline's stages: another pipeline starts from the stages
        proposed for it.
        """
        if pipeline != self.pipeline:
            self.pipeline = pipeline
            self.stages = None

    def set_currency(self, name: str, field_name: str, currency: str | None) -> None:
        """Keep the amounts of one currency ("" for those without a mark; None: the most
        common) when the column holds several; the others count as missing amounts."""
        mapping = self.files[name].mapping
        if mapping is None:
            return
        if currency is None:
            mapping.currency.pop(field_name, None)
        else:
            mapping.currency[field_name] = currency

    def set_stages(self, config: StageConfig) -> None:
        """Use these stage settings (order, names, won/lost/excluded) from now on."""
        self.stages = config

    def apply_saved_mapping(self, text: str | bytes) -> None:
        """Re-map every file with a saved mapping document; raise DiagnosticsError if invalid."""
        saved = mapping_from_json(text)
        self.saved = saved
        for state in self.files.values():
            if state.raw is None:
                continue
            kind = state.mapping.kind if state.mapping else self._guess_kind(state.raw)
            state.mapping = propose_table_mapping(state.raw, kind, saved.tables.get(kind))
        self.stages = StageConfig.from_dict(saved.stages) if saved.stages else self.stages
        self.pipeline = saved.pipeline or self.pipeline

    # ---------------------------------------------------------------- results

    def rebuild(self) -> IngestResult | None:
        """Type every usable file and build the Dataset; return it (None when nothing usable).

        Per-file problems stay on each FileState; a problem with the whole set goes in
        ``problem``.
        """
        self.problem = None
        loaded: list[LoadedTable] = []
        con = connect_locked()  # one DuckDB for the whole upload: it becomes the Dataset's
        history_stages = _history_stages(self.files.values())
        for state in self.files.values():
            state.loaded = None
            if state.raw is None or state.mapping is None:
                continue
            try:
                state.loaded = parse_table(state.raw, state.mapping, con=con,
                                           known_stages=history_stages)
                state.problem = None
                loaded.append(state.loaded)
            except DiagnosticsError as exc:
                state.problem = exc
        if not loaded:
            con.close()
            self.result = None
            return None
        try:
            self.result = assemble_dataset(loaded, self.stages, self.source, con=con,
                                           pipeline=self.pipeline)
        except DiagnosticsError as exc:
            con.close()
            self.problem = exc
            self.result = None
            return None
        self.stages = self.result.stages
        return self.result

    def mapping_json(self) -> str:
        """Return the current mappings and stage settings as a saved-mapping document."""
        mappings = [s.mapping for s in self.files.values() if s.mapping is not None]
        stages = self.stages.to_dict() if self.stages else None
        chosen = self.result.pipelines if self.result is not None else None
        return mapping_to_json(mappings, stages, chosen.used if chosen else None)


def load_files(
    files: Sequence[tuple[str, bytes]],
    saved: SavedMapping | None = None,
    kinds: Mapping[str, Kind] | None = None,
    pipeline: str | None = None,
    currency: str | None = None,
) -> IngestResult:
    """Return the Dataset for these (name, bytes) files, mapped automatically or by ``saved``.

    ``currency`` is kept where an amount column holds several (the command line's
    ``--currency``); asking for one a column does not hold is an error.

    The files go through the Data page's steps; raises DiagnosticsError with the first file's
    problem, or the whole set's, when anything cannot be used.
    """
    uploads = UploadWorkspace.read(files, saved, kinds, pipeline, currency)
    result = uploads.rebuild()
    problem = next((s.problem for s in uploads.files.values() if s.problem), uploads.problem)
    if problem is None and currency is not None:
        problem = currency_not_found(uploads.files.values())
    if problem is not None or result is None:
        if result is not None:
            result.dataset.con.close()
        raise problem or DiagnosticsError("None of the files could be read.")
    return result


def load_dataset_from_paths(
    paths: Sequence[Path], mapping: SavedMapping | None = None, pipeline: str | None = None,
    currency: str | None = None,
) -> Dataset:
    """Return the Dataset for files on disk (used by the command line)."""
    files = []
    for path in paths:
        try:
            files.append((Path(path).name, Path(path).read_bytes()))
        except OSError as exc:
            raise DiagnosticsError(f"Cannot read {path}: {exc.strerror}.") from exc
    return load_files(files, mapping, pipeline=pipeline, currency=currency).dataset
