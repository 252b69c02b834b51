"""Persistence for workshops: a small ``WorkshopStore`` interface and its DuckDB implementation.

The app serves every session from one process, so one ``DuckDBStore`` (one DuckDB connection) is
shared by all of them. Each thread works through its own cursor (``connection.cursor()``), which is
DuckDB's supported way to use one database from several threads.

Writes go through one lock, with group commit: a writer queues its statement, and whichever
writer holds the lock runs every queued statement in one transaction and commits it (one
write-ahead-log flush for the batch), then marks each statement done. No write method returns
before its statement is committed. One writer at a time also avoids DuckDB's optimistic-concurrency
conflicts between simultaneous upserts. When a batch fails, it is rolled back and its statements
are rerun one by one, so each caller gets its own outcome.

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
        # Answers are an append-only log: an upsert on a keyed table costs DuckDB several times
        # more than an append, and the log keeps every change. The latest row per participant and
        # question wins; a NULL value records a cleared answer.
        "CREATE SEQUENCE answer_seq",
        """
        CREATE TABLE answer_log (
            seq BIGINT NOT NULL DEFAULT nextval('answer_seq'),
            workshop_code VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            instrument VARCHAR NOT NULL,
            question_id VARCHAR NOT NULL,
            value VARCHAR,
            answered_at TIMESTAMP NOT NULL
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


@dataclass
class _Pending:
    """A queued write and, once the lock holder has run it, its outcome."""

    sql: str
    params: list[Any]
    done: bool = False
    error: Exception | None = None


def _workshop_record(row: Sequence[Any]) -> WorkshopRecord:
    code, client, title, instruments, key_hash, status, created_at = row
    return WorkshopRecord(
        code=code,
        client=client,
        title=title,
        instruments=tuple(i for i in str(instruments).split(",") if i),
        key_hash=key_hash,
        status=status,
        created_at=created_at,
    )


class WorkshopStore(Protocol):
    """What the workshop domain needs from storage; every write is durable when it returns."""

    def create_workshop(self, record: WorkshopRecord) -> bool:
        """Insert a workshop; return False (and change nothing) when its code is taken."""
        ...

    def get_workshop(self, code: str) -> WorkshopRecord | None:
        """Return the workshop with this code, or None."""
        ...

    def get_workshop_with_participant(
        self, code: str, participant_id: str
    ) -> tuple[WorkshopRecord | None, ParticipantRecord | None]:
        """Return a workshop and one of its participants in one read (either may be None)."""
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
        """Return a workshop's current answers (or one participant's)."""
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
        self._queue_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._migrate()

    # -- plumbing -------------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

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
        return _workshop_record(rows[0]) if rows else None

    def get_workshop_with_participant(
        self, code: str, participant_id: str
    ) -> tuple[WorkshopRecord | None, ParticipantRecord | None]:
        """Return a workshop and one of its participants in one read (either may be None)."""
        # One query instead of two: saving an answer checks both, on the hottest path.
        rows = self._rows(
            "SELECT w.code, w.client, w.title, w.instruments, w.key_hash, w.status, w.created_at, "
            "p.workshop_code, p.participant_id, p.name, p.role, p.joined_at "
            "FROM workshops w LEFT JOIN participants p "
            "ON p.workshop_code = w.code AND p.participant_id = ? WHERE w.code = ?",
            [participant_id, code],
        )
        if not rows:
            return None, None
        row = rows[0]
        participant = ParticipantRecord(*row[7:]) if row[8] is not None else None
        return _workshop_record(row[:7]), participant

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
        if record.value is None:  # the log reads NULL as "cleared": refuse it here
            raise ValueError("an answer's value cannot be None; use delete_answer")
        self._append(record.workshop_code, record.participant_id, record.instrument,
                     record.question_id, record.value, record.answered_at)

    def delete_answer(self, code: str, participant_id: str, instrument: str, question: str) -> None:
        """Remove one answer (a participant cleared it)."""
        self._append(code, participant_id, instrument, question, None, datetime.now())

    def _append(self, code: str, participant_id: str, instrument: str, question: str,
                value: str | None, at: datetime) -> None:
        self._write(
            "INSERT INTO answer_log (workshop_code, participant_id, instrument, question_id, "
            "value, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
            [code, participant_id, instrument, question, value, at],
        )

    def list_answers(self, code: str, participant_id: str | None = None) -> list[AnswerRecord]:
        """Return a workshop's current answers (or one participant's): the newest per question."""
        where = "workshop_code = ?"
        params: list[Any] = [code]
        if participant_id is not None:
            where += " AND participant_id = ?"
            params.append(participant_id)
        # ``where`` is one of two fixed strings chosen above; values go in as parameters.
        rows = self._rows(
            "SELECT workshop_code, participant_id, instrument, question_id, value, answered_at "
            "FROM (SELECT *, row_number() OVER (PARTITION BY participant_id, instrument, "
            f"question_id ORDER BY seq DESC) AS newest FROM answer_log WHERE {where}) "
            "WHERE newest = 1 AND value IS NOT NULL "
            "ORDER BY answered_at, participant_id, question_id",
            params,
        )
        return [AnswerRecord(*row) for row in rows]

    def count_answer_rows(self, code: str) -> int:
        """Return how many rows the answer log holds for a workshop (changes included)."""
        row = self._cursor().execute(
            "SELECT count(*) FROM answer_log WHERE workshop_code = ?", [code]
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Release the underlying connection."""
        self._con.close()
