"""Persistence for workshops: a small ``WorkshopStore`` interface and its DuckDB implementation.

The app serves every session from one process, so one ``DuckDBStore`` (one DuckDB connection) is
shared by all of them. Each thread works through its own cursor (``connection.cursor()``), which is
DuckDB's supported way to use one database from several threads. Writes are additionally
serialised by a lock: DuckDB's optimistic concurrency can reject two simultaneous upserts of the
same key, and a workshop's writes are tiny (well under a millisecond each), so queueing them costs
nothing measurable and removes that failure mode. Every write runs in auto-commit mode, so it is
committed (written to the write-ahead log) before the method returns.

A deployment with several app servers needs a database server instead: a PostgreSQL store would
implement the same ``WorkshopStore`` protocol with the same tables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from diagnostics.errors import DiagnosticsError

__all__ = [
    "DEFAULT_DB_PATH",
    "SCHEMA_VERSION",
    "AnswerRecord",
    "DuckDBStore",
    "ParticipantRecord",
    "WorkshopRecord",
    "WorkshopStore",
    "default_db_path",
]

DEFAULT_DB_PATH = Path("data") / "workshops.duckdb"

# Each entry moves the schema from version i to i + 1; append, never edit, once released.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE workshops (
            code VARCHAR PRIMARY KEY,
            client VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            instruments VARCHAR NOT NULL,
            key_hash VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        )
        """,
        """
        CREATE TABLE participants (
            workshop_code VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            joined_at TIMESTAMP NOT NULL,
            PRIMARY KEY (workshop_code, participant_id)
        )
        """,
        """
        CREATE TABLE answers (
            workshop_code VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            instrument VARCHAR NOT NULL,
            question_id VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            answered_at TIMESTAMP NOT NULL,
            PRIMARY KEY (workshop_code, participant_id, instrument, question_id)
        )
        """,
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)


def default_db_path() -> Path:
    """Return the workshop database path: ``$MYN_WORKSHOP_DB`` or ``./data/workshops.duckdb``."""
    configured = os.environ.get("MYN_WORKSHOP_DB", "").strip()
    return Path(configured) if configured else DEFAULT_DB_PATH


@dataclass(frozen=True)
class WorkshopRecord:
    """One workshop as stored (the facilitator key only as a hash)."""

    code: str
    client: str
    title: str
    instruments: tuple[str, ...]
    key_hash: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ParticipantRecord:
    """One participant of a workshop; ``participant_id`` is a hash of their device token."""

    workshop_code: str
    participant_id: str
    name: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class AnswerRecord:
    """One saved answer (``value`` as text: a level number or a leadership option id)."""

    workshop_code: str
    participant_id: str
    instrument: str
    question_id: str
    value: str
    answered_at: datetime


class WorkshopStore(Protocol):
    """What the workshop domain needs from storage; every write is durable when it returns."""

    def create_workshop(self, record: WorkshopRecord) -> bool:
        """Insert a workshop; return False (and change nothing) when its code is taken."""
        ...

    def get_workshop(self, code: str) -> WorkshopRecord | None:
        """Return the workshop with this code, or None."""
        ...

    def set_status(self, code: str, status: str) -> None:
        """Set a workshop's status (``open`` or ``closed``)."""
        ...

    def add_participant(self, record: ParticipantRecord) -> None:
        """Insert a participant (idempotent on workshop code and participant id)."""
        ...

    def get_participant(self, code: str, participant_id: str) -> ParticipantRecord | None:
        """Return one participant of a workshop, or None."""
        ...

    def list_participants(self, code: str) -> list[ParticipantRecord]:
        """Return a workshop's participants in joining order."""
        ...

    def save_answer(self, record: AnswerRecord) -> None:
        """Insert or replace one answer."""
        ...

    def delete_answer(self, code: str, participant_id: str, instrument: str, question: str) -> None:
        """Remove one answer (a participant cleared it)."""
        ...

    def list_answers(self, code: str, participant_id: str | None = None) -> list[AnswerRecord]:
        """Return a workshop's answers (or one participant's)."""
        ...

    def close(self) -> None:
        """Release the underlying connection."""
        ...


class DuckDBStore:
    """Workshop store in one DuckDB file: one connection per process, one cursor per thread."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            raise DiagnosticsError(
                f"The workshop database {self.path} cannot be opened ({exc}).",
                "Another process (a running app?) may hold it: stop it, or point "
                "MYN_WORKSHOP_DB at another file.",
            ) from exc
        except OSError as exc:
            raise DiagnosticsError(
                f"The folder for the workshop database {self.path} cannot be created ({exc}).",
                "Set MYN_WORKSHOP_DB to a writable path.",
            ) from exc
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._migrate()

    # -- plumbing -------------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        with self._write_lock:
            self._cursor().execute(sql, params)

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._cursor().execute(sql, params).fetchall()

    def schema_version(self) -> int:
        """Return the schema version recorded in the database file."""
        row = self._cursor().execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _migrate(self) -> None:
        with self._write_lock:
            cur = self._cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = self.schema_version()
            if current > SCHEMA_VERSION:
                raise DiagnosticsError(
                    f"The workshop database {self.path} was written by a newer version "
                    f"(schema {current}, this app knows {SCHEMA_VERSION}).",
                    "Upgrade the app or use another MYN_WORKSHOP_DB file.",
                )
            for version in range(current, SCHEMA_VERSION):
                cur.execute("BEGIN TRANSACTION")
                try:
                    for statement in _MIGRATIONS[version]:
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
                    cur.execute("COMMIT")
                except Exception:
                    cur.execute("ROLLBACK")
                    raise

    # -- workshops ------------------------------------------------------------------------------

    def create_workshop(self, record: WorkshopRecord) -> bool:
        """Insert a workshop; return False (and change nothing) when its code is taken."""
        with self._write_lock:
            cur = self._cursor()
            taken = cur.execute(
                "SELECT count(*) FROM workshops WHERE code = ?", [record.code]
            ).fetchone()
            if taken and taken[0]:
                return False
            cur.execute(
                "INSERT INTO workshops VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    record.code,
                    record.client,
                    record.title,
                    ",".join(record.instruments),
                    record.key_hash,
                    record.status,
                    record.created_at,
                ],
            )
        return True

    def get_workshop(self, code: str) -> WorkshopRecord | None:
        """Return the workshop with this code, or None."""
        rows = self._rows(
            "SELECT code, client, title, instruments, key_hash, status, created_at "
            "FROM workshops WHERE code = ?",
            [code],
        )
        if not rows:
            return None
        c, client, title, instruments, key_hash, status, created_at = rows[0]
        return WorkshopRecord(
            code=c,
            client=client,
            title=title,
            instruments=tuple(i for i in str(instruments).split(",") if i),
            key_hash=key_hash,
            status=status,
            created_at=created_at,
        )

    def set_status(self, code: str, status: str) -> None:
        """Set a workshop's status (``open`` or ``closed``)."""
        self._write("UPDATE workshops SET status = ? WHERE code = ?", [status, code])

    # -- participants ---------------------------------------------------------------------------

    def add_participant(self, record: ParticipantRecord) -> None:
        """Insert a participant (idempotent on workshop code and participant id)."""
        self._write(
            "INSERT INTO participants VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [record.workshop_code, record.participant_id, record.name, record.role,
             record.joined_at],
        )

    def get_participant(self, code: str, participant_id: str) -> ParticipantRecord | None:
        """Return one participant of a workshop, or None."""
        rows = self._rows(
            "SELECT workshop_code, participant_id, name, role, joined_at FROM participants "
            "WHERE workshop_code = ? AND participant_id = ?",
            [code, participant_id],
        )
        return ParticipantRecord(*rows[0]) if rows else None

    def list_participants(self, code: str) -> list[ParticipantRecord]:
        """Return a workshop's participants in joining order."""
        rows = self._rows(
            "SELECT workshop_code, participant_id, name, role, joined_at FROM participants "
            "WHERE workshop_code = ? ORDER BY joined_at, participant_id",
            [code],
        )
        return [ParticipantRecord(*row) for row in rows]

    # -- answers --------------------------------------------------------------------------------

    def save_answer(self, record: AnswerRecord) -> None:
        """Insert or replace one answer."""
        self._write(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (workshop_code, participant_id, instrument, question_id) "
            "DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            [record.workshop_code, record.participant_id, record.instrument, record.question_id,
             record.value, record.answered_at],
        )

    def delete_answer(self, code: str, participant_id: str, instrument: str, question: str) -> None:
        """Remove one answer (a participant cleared it)."""
        self._write(
            "DELETE FROM answers WHERE workshop_code = ? AND participant_id = ? "
            "AND instrument = ? AND question_id = ?",
            [code, participant_id, instrument, question],
        )

    def list_answers(self, code: str, participant_id: str | None = None) -> list[AnswerRecord]:
        """Return a workshop's answers (or one participant's)."""
        sql = (
            "SELECT workshop_code, participant_id, instrument, question_id, value, answered_at "
            "FROM answers WHERE workshop_code = ?"
        )
        params: list[Any] = [code]
        if participant_id is not None:
            sql += " AND participant_id = ?"
            params.append(participant_id)
        rows = self._rows(sql + " ORDER BY answered_at, participant_id, question_id", params)
        return [AnswerRecord(*row) for row in rows]

    def close(self) -> None:
        """Release the underlying connection."""
        self._con.close()
