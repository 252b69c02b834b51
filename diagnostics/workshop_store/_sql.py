"""The queries both stores share, written once with ``?`` parameters.

A store supplies three primitives: ``_rows`` (a read), ``_write`` (one statement, durable when it
returns) and ``_insert_workshop`` (an insert that reports a taken code). Everything else, and every
method added later, is plain SQL over them, so DuckDB and PostgreSQL answer alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from diagnostics.workshop_store._records import (
    AnswerRecord,
    ParticipantRecord,
    WorkshopRecord,
    workshop_record,
)

__all__ = ["SqlStore"]


class SqlStore(ABC):
    """Shared implementation of ``WorkshopStore`` over a few engine-specific primitives."""

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Return every row of a read."""

    @abstractmethod
    def _write(self, sql: str, params: Sequence[Any]) -> None:
        """Run one statement; it is committed when this returns."""

    @abstractmethod
    def _write_together(self, code: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run several statements in one transaction (all committed, or none), one such
        transaction for ``code`` at a time."""

    def _write_one_at_a_time(self, code: str, sql: str, params: Sequence[Any]) -> None:
        """Run one statement that no other such statement for ``code`` runs beside.

        The default suits a store whose writes already go one at a time (DuckDB's single writer).
        """
        self._write(sql, params)

    @abstractmethod
    def _insert_workshop(self, params: Sequence[Any]) -> bool:
        """Insert a workshops row; return False (and change nothing) when its code is taken."""

    @abstractmethod
    def close(self) -> None:
        """Release the underlying connections."""

    def schema_version(self) -> int:
        """Return the schema version recorded in the database."""
        rows = self._rows("SELECT max(version) FROM schema_version", [])
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    # -- workshops ------------------------------------------------------------------------------

    def create_workshop(self, record: WorkshopRecord) -> bool:
        """Insert a workshop; return False (and change nothing) when its code is taken."""
        return self._insert_workshop(
            [
                record.code,
                record.client,
                record.title,
                ",".join(record.instruments),
                record.key_hash,
                record.status,
                record.created_at,
            ]
        )

    def get_workshop(self, code: str) -> WorkshopRecord | None:
        """Return the workshop with this code, or None."""
        rows = self._rows(
            "SELECT code, client, title, instruments, key_hash, status, created_at "
            "FROM workshops WHERE code = ?",
            [code],
        )
        return workshop_record(rows[0]) if rows else None

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
        return workshop_record(row[:7]), participant

    def set_status(self, code: str, status: str) -> None:
        """Set a workshop's status (``open`` or ``closed``)."""
        self._write("UPDATE workshops SET status = ? WHERE code = ?", [status, code])

    # -- participants ---------------------------------------------------------------------------

    def add_participant(self, record: ParticipantRecord) -> None:
        """Insert a participant (idempotent on workshop code and participant id)."""
        self._write(
            "INSERT INTO participants (workshop_code, participant_id, name, role, joined_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [record.workshop_code, record.participant_id, record.name, record.role,
             record.joined_at],
        )

    def add_participant_within(
        self, record: ParticipantRecord, most: int, since: datetime, most_since: int
    ) -> bool:
        """Insert a participant only within both limits; return whether it was added."""
        code = record.workshop_code
        self._write_one_at_a_time(
            code,
            "INSERT INTO participants (workshop_code, participant_id, name, role, joined_at) "
            "SELECT ?, ?, ?, ?, ? "
            "WHERE (SELECT count(*) FROM participants WHERE workshop_code = ?) < ? "
            "AND (SELECT count(*) FROM participants WHERE workshop_code = ? AND joined_at > ?) < ?",
            [code, record.participant_id, record.name, record.role, record.joined_at,
             code, most, code, since, most_since],
        )
        return self.get_participant(code, record.participant_id) is not None

    def count_participants(self, code: str, since: datetime | None = None) -> int:
        """Return how many participants a workshop has (only those joined after ``since``)."""
        if since is None:
            rows = self._rows("SELECT count(*) FROM participants WHERE workshop_code = ?", [code])
        else:
            rows = self._rows(
                "SELECT count(*) FROM participants WHERE workshop_code = ? AND joined_at > ?",
                [code, since],
            )
        return int(rows[0][0]) if rows else 0

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

    def change_role(self, code: str, participant_id: str, role: str, at: datetime) -> bool:
        """Set a participant's role and log the change in one transaction; return whether it
        changed (False for an unknown participant or the role they already have)."""
        current = self.get_participant(code, participant_id)
        if current is None or current.role == role:
            return False
        # The log row names the role it replaced and both apply only from that role; the
        # transactions for a workshop run one after the other, so of two changes made at once
        # from the same role the second finds it gone and neither logs nor updates anything.
        self._write_together(code, [
            ("INSERT INTO role_changes (workshop_code, participant_id, from_role, to_role, "
             "changed_at) SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM participants "
             "WHERE workshop_code = ? AND participant_id = ? AND role = ?)",
             [code, participant_id, current.role, role, at, code, participant_id,
              current.role]),
            ("UPDATE participants SET role = ? WHERE workshop_code = ? AND participant_id = ? "
             "AND role = ?", [role, code, participant_id, current.role]),
        ])
        changed = self.get_participant(code, participant_id)
        return changed is not None and changed.role == role

    def count_role_changes(self, code: str) -> int:
        """Return how many times a workshop's participants changed their role."""
        rows = self._rows("SELECT count(*) FROM role_changes WHERE workshop_code = ?", [code])
        return int(rows[0][0]) if rows else 0

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
            f"question_id ORDER BY seq DESC) AS newest FROM answer_log WHERE {where}) AS latest "
            "WHERE newest = 1 AND value IS NOT NULL "
            "ORDER BY answered_at, participant_id, question_id",
            params,
        )
        return [AnswerRecord(*row) for row in rows]

    def count_answer_rows(self, code: str) -> int:
        """Return how many rows the answer log holds for a workshop (changes included)."""
        rows = self._rows("SELECT count(*) FROM answer_log WHERE workshop_code = ?", [code])
        return int(rows[0][0]) if rows else 0

    # -- settings -------------------------------------------------------------------------------

    def set_setting(self, code: str, name: str, value: str | None, at: datetime) -> None:
        """Record one workshop setting (``None`` clears it)."""
        self._write(
            "INSERT INTO workshop_settings (workshop_code, name, value, set_at) "
            "VALUES (?, ?, ?, ?)",
            [code, name, value, at],
        )

    def list_settings(self, code: str) -> dict[str, str]:
        """Return a workshop's current settings by name (the newest value of each)."""
        rows = self._rows(
            "SELECT name, value FROM (SELECT name, value, row_number() OVER (PARTITION BY name "
            "ORDER BY seq DESC) AS newest FROM workshop_settings WHERE workshop_code = ?) "
            "AS latest WHERE newest = 1 AND value IS NOT NULL ORDER BY name",
            [code],
        )
        return {str(name): str(value) for name, value in rows}
