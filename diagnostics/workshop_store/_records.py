"""What the workshop store keeps (frozen records) and the ``WorkshopStore`` interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["AnswerRecord", "ParticipantRecord", "WorkshopRecord", "WorkshopStore"]


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


def workshop_record(row: Sequence[Any]) -> WorkshopRecord:
    """Return the record of a ``workshops`` row (columns in table order)."""
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

    def add_participant_within(
        self, record: ParticipantRecord, most: int, since: datetime, most_since: int
    ) -> bool:
        """Insert a participant only while the workshop has fewer than ``most`` and fewer than
        ``most_since`` joined after ``since``; return whether it was added.

        Two joins at once cannot both take the last place: the check and the insert are one step.
        """
        ...

    def count_participants(self, code: str, since: datetime | None = None) -> int:
        """Return how many participants a workshop has (only those joined after ``since``)."""
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

    def change_role(self, code: str, participant_id: str, role: str, at: datetime) -> bool:
        """Set a participant's role and log the change in one transaction; return whether it
        changed (False for an unknown participant or the role they already have)."""
        ...

    def count_role_changes(self, code: str) -> int:
        """Return how many times a workshop's participants changed their role."""
        ...

    def count_answer_rows(self, code: str) -> int:
        """Return how many rows the answer log holds for a workshop (changes included)."""
        ...

    def set_setting(self, code: str, name: str, value: str | None, at: datetime) -> None:
        """Record one workshop setting (``None`` clears it)."""
        ...

    def list_settings(self, code: str) -> dict[str, str]:
        """Return a workshop's current settings by name (the newest value of each)."""
        ...

    def schema_version(self) -> int:
        """Return the schema version recorded in the database."""
        ...

    def close(self) -> None:
        """Release the underlying connections."""
        ...
