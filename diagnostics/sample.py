"""The bundled sample CRM export, loaded through the same code path as an upload.

The sample is read and checked once per process. Its canonical tables are then written to a
DuckDB file in a private temporary folder and opened read-only, with external access off and the
configuration locked; every Dataset handed out is a new connection to that one database. A new
connection to an open database costs well under a millisecond (a new in-memory database costs
tens of milliseconds), holds no copy of the data, and cannot change it: writes are refused, and
what a session registers or creates as temporary stays in its own connection.
"""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import duckdb

from diagnostics.dataset import DEFAULT_MEMORY_LIMIT, Dataset, StageConfig
from diagnostics.ingest import IngestResult
from diagnostics.uploads import load_files

__all__ = [
    "SAMPLE_DIR",
    "SAMPLE_FILES",
    "is_sample_dataset",
    "load_sample",
    "load_sample_dataset",
    "sample_reads",
]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_FILES = ("opportunities.csv", "activities.csv", "stage_history.csv")
SAMPLE_NAME = "bundled sample (40 reps, 18 months)"
# The tables every Dataset holds (see diagnostics.dataset).
_TABLES = ("opportunities", "activities", "stage_history", "funnel_stages")
# Fixed for the process: DuckDB hands out connections to an open database only with the same
# configuration, so every session's connection gets exactly these settings.
_READ_ONLY_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "memory_limit": DEFAULT_MEMORY_LIMIT,
    "threads": 2,
}


@dataclass(frozen=True)
class _SharedSample:
    """The process's sample database and what is known about it; never changed once built."""

    path: str
    keeper: duckdb.DuckDBPyConnection  # keeps the database open, so connecting stays cheap
    stages: StageConfig
    as_of: dt.date
    has_activities: bool
    has_stage_history: bool
    notes: tuple[str, ...]


_lock = threading.Lock()  # held while the shared sample is built
_count_lock = threading.Lock()
_shared: _SharedSample | None = None
_reads = 0
# Every Dataset load_sample_dataset handed out, by id, as a weak reference: the one way to tell
# the bundled sample from an upload (a name or a source string could be copied by an upload).
_handed_out: dict[int, weakref.ref[Dataset]] = {}


def load_sample() -> IngestResult:
    """Return the sample's ingest result (tables, reports, stages, Dataset), read anew."""
    global _reads
    files = [(name, (SAMPLE_DIR / name).read_bytes()) for name in SAMPLE_FILES]
    with _count_lock:
        _reads += 1
    result = load_files(files)
    result.dataset.source = SAMPLE_NAME
    return result


def sample_reads() -> int:
    """Return how many times this process has read the sample files."""
    return _reads


def _write_database(dataset: Dataset, path: Path) -> None:
    """Copy the dataset's canonical tables into a new DuckDB file (names fixed by code)."""
    writer = duckdb.connect(str(path))
    try:
        for name in _TABLES:
            writer.register("_copy", dataset.con.sql(f"SELECT * FROM {name}").to_arrow_table())
            writer.execute(f"CREATE TABLE {name} AS SELECT * FROM _copy")
            writer.unregister("_copy")
    finally:
        writer.close()


def _build_shared() -> _SharedSample:
    dataset = load_sample().dataset
    folder = Path(tempfile.mkdtemp(prefix="myn-sample-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "sample.duckdb"
    try:
        _write_database(dataset, path)
    finally:
        dataset.con.close()
    keeper = duckdb.connect(str(path), read_only=True, config=_READ_ONLY_CONFIG)
    keeper.execute("SET lock_configuration = true")
    return _SharedSample(path=str(path), keeper=keeper, stages=dataset.stages,
                         as_of=dataset.as_of, has_activities=dataset.has_activities,
                         has_stage_history=dataset.has_stage_history, notes=tuple(dataset.notes))


def _shared_sample() -> _SharedSample:
    """Return the process's sample database, reading the files on the first call only."""
    global _shared
    with _lock:  # held while building: a second first session waits instead of reading again
        if _shared is None:
            _shared = _build_shared()
        return _shared


def load_sample_dataset() -> Dataset:
    """Return a Dataset holding the bundled sample, on a new read-only connection of its own."""
    shared = _shared_sample()
    con = duckdb.connect(shared.path, read_only=True, config=_READ_ONLY_CONFIG)
    dataset = Dataset(con=con, stages=shared.stages, as_of=shared.as_of, source=SAMPLE_NAME,
                      has_activities=shared.has_activities,
                      has_stage_history=shared.has_stage_history, notes=list(shared.notes))
    key = id(dataset)

    def forget(ref: weakref.ref[Dataset], key: int = key) -> None:
        if _handed_out.get(key) is ref:  # the id may already name a newer sample Dataset
            _handed_out.pop(key, None)

    _handed_out[key] = weakref.ref(dataset, forget)
    return dataset


def is_sample_dataset(dataset: Dataset) -> bool:
    """Return True when ``dataset`` is the bundled sample, as load_sample_dataset handed it out.

    Results computed from such a dataset are the same for every session of the process (its
    database is read-only), so they may be shared; anything else, uploads above all, is not.
    A Dataset whose stages or dates were changed in place no longer counts as the sample.
    """
    ref = _handed_out.get(id(dataset))
    shared = _shared
    return (
        ref is not None
        and ref() is dataset
        and shared is not None
        and dataset.stages == shared.stages
        and dataset.as_of == shared.as_of
        and dataset.has_activities == shared.has_activities
        and dataset.has_stage_history == shared.has_stage_history
    )
