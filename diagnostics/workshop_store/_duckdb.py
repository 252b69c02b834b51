"""The embedded workshop store: one DuckDB file, held by one process.

The app serves every session from one process, so one ``DuckDBStore`` (one DuckDB connection) is
shared by all of them. Each thread works through its own cursor (``connection.cursor()``), which is
DuckDB's supported way to use one database from several threads.

Writes go through one lock, with group commit: a writer queues its statement, and whichever
writer holds the lock runs every queued statement in one transaction and commits it (one
write-ahead-log flush for the batch), then marks each statement done. No write method returns
before its statement is committed. One writer at a time also avoids DuckDB's optimistic-concurrency
conflicts between simultaneous upserts. When a batch fails, it is rolled back and its statements
are rerun one by one, so each caller gets its own outcome.

DuckDB lets one process open a file at a time; several app servers need the PostgreSQL store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store._migrations import SCHEMA_VERSION, statements
from diagnostics.workshop_store._sql import SqlStore

__all__ = ["DuckDBStore"]

# The details (the file's path, DuckDB's text with the holder's process id) go to the server log
# only: the messages below reach participants' screens, which must not learn server paths.
_log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """A queued write and, once the lock holder has run it, its outcome."""

    sql: str
    params: list[Any]
    done: bool = False
    error: Exception | None = None


class DuckDBStore(SqlStore):
    """Workshop store in one DuckDB file: one connection per process, one cursor per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            _log.warning("workshop database %s cannot be opened: %s", self.path, exc)
            raise DiagnosticsError(
                "The workshop database is busy or cannot be opened.",
                "Try again in a moment. If it persists, another process (a running app?) may "
                "hold the file: stop it, or point MYN_WORKSHOP_DB at another file (or at a "
                "postgresql:// server, which several processes can share).",
            ) from exc
        except OSError as exc:
            _log.warning("folder for workshop database %s cannot be created: %s", self.path, exc)
            raise DiagnosticsError(
                "The folder for the workshop database cannot be created.",
                "Set MYN_WORKSHOP_DB to a writable path.",
            ) from exc
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._migrate()

    # -- primitives -----------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._cursor().execute(sql, params).fetchall()

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        ticket = _Pending(sql, list(params))
        with self._queue_lock:
            self._pending.append(ticket)
        with self._write_lock:
            if not ticket.done:
                with self._queue_lock:
                    batch, self._pending = self._pending, []
                self._flush(batch)
        if ticket.error is not None:
            raise ticket.error

    def _flush(self, batch: list[_Pending]) -> None:
        """Run queued statements in one transaction; on failure, one by one (lock held)."""
        cur = self._cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            for op in batch:
                cur.execute(op.sql, op.params)
            cur.execute("COMMIT")
        except duckdb.Error:
            cur.execute("ROLLBACK")
            for op in batch:
                try:
                    cur.execute(op.sql, op.params)
                except duckdb.Error as exc:
                    op.error = exc
        for op in batch:
            op.done = True

    def _write_together(self, code: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        # Its own transaction under the write lock (so one at a time, whatever the workshop):
        # writes queued meanwhile wait for the next holder.
        with self._write_lock:
            cur = self._cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                for sql, params in statements:
                    cur.execute(sql, list(params))
                cur.execute("COMMIT")
            except duckdb.Error:
                cur.execute("ROLLBACK")
                raise

    def _insert_workshop(self, params: Sequence[Any]) -> bool:
        with self._write_lock:
            cur = self._cursor()
            taken = cur.execute(
                "SELECT count(*) FROM workshops WHERE code = ?", [params[0]]
            ).fetchone()
            if taken and taken[0]:
                return False
            cur.execute("INSERT INTO workshops VALUES (?, ?, ?, ?, ?, ?, ?)", list(params))
        return True

    def _migrate(self) -> None:
        with self._write_lock:
            cur = self._cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = self.schema_version()
            if current > SCHEMA_VERSION:
                _log.warning("workshop database %s has schema %s", self.path, current)
                raise DiagnosticsError(
                    "The workshop database was written by a newer version "
                    f"(schema {current}, this app knows {SCHEMA_VERSION}).",
                    "Upgrade the app or use another MYN_WORKSHOP_DB file.",
                )
            for version in range(current, SCHEMA_VERSION):
                cur.execute("BEGIN TRANSACTION")
                try:
                    for statement in statements(version, "duckdb"):
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
                    cur.execute("COMMIT")
                except Exception:
                    cur.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        """Release the underlying connection."""
        self._con.close()
