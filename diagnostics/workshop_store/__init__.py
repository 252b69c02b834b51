"""Persistence for workshops: the ``WorkshopStore`` interface, its two stores and the factory.

``open_store()`` is the one way the app and the commands get a store. ``MYN_WORKSHOP_DB`` chooses
it: a ``postgresql://`` URL uses a PostgreSQL server that several app processes can share
(``PostgresStore``); a file path, or nothing, uses an embedded DuckDB file
(``DuckDBStore``, default ``./data/workshops.duckdb``) that one process holds at a time. Both run
the same append-only schema migrations and pass the same contract tests.
"""

from __future__ import annotations

import os
from pathlib import Path

from diagnostics.workshop_store._duckdb import DuckDBStore
from diagnostics.workshop_store._migrations import SCHEMA_VERSION
from diagnostics.workshop_store._records import (
    AnswerRecord,
    ParticipantRecord,
    WorkshopRecord,
    WorkshopStore,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "SCHEMA_VERSION",
    "AnswerRecord",
    "DuckDBStore",
    "ParticipantRecord",
    "WorkshopRecord",
    "WorkshopStore",
    "configured_location",
    "is_server_url",
    "open_store",
]

DEFAULT_DB_PATH = Path("data") / "workshops.duckdb"
_SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(location: str) -> bool:
    """Return True when ``location`` names a PostgreSQL server rather than a DuckDB file."""
    return location.strip().lower().startswith(_SERVER_SCHEMES)


def configured_location() -> str:
    """Return where workshops live: ``$MYN_WORKSHOP_DB`` (a URL or a path) or the default file.

    A path comes back absolute, so one process-wide store is shared whatever the working folder.
    """
    configured = os.environ.get("MYN_WORKSHOP_DB", "").strip()
    if is_server_url(configured):
        return configured
    return str((Path(configured) if configured else DEFAULT_DB_PATH).resolve())


def open_store(location: str | Path | None = None) -> WorkshopStore:
    """Return the workshop store at ``location`` (default: ``configured_location()``).

    Raises DiagnosticsError (message shown as is) when the file or server cannot be used.
    """
    where = str(location) if location is not None else configured_location()
    if is_server_url(where):
        # Imported here: a DuckDB-only install never loads the PostgreSQL driver.
        from diagnostics.workshop_store._postgres import PostgresStore

        return PostgresStore(where)
    return DuckDBStore(where)
