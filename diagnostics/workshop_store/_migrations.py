"""The workshop schema as an append-only list of migrations, shared by DuckDB and PostgreSQL.

Each entry moves the schema from version i to i + 1; append, never edit, once released. A
statement is plain SQL that both engines accept (``VARCHAR``, ``TIMESTAMP``, ``BIGINT``,
sequences with ``nextval``), or a ``Dialects`` pair when they need different text. The contract
tests run every migration on both engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Dialect", "Dialects", "statements"]

Dialect = Literal["duckdb", "postgres"]


@dataclass(frozen=True)
class Dialects:
    """One migration statement written once per engine."""

    duckdb: str
    postgres: str


MIGRATIONS: tuple[tuple[str | Dialects, ...], ...] = (
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
    (
        # PostgreSQL scans the whole log without it; DuckDB's zone maps already skip most of it,
        # and an ART index would slow its appends, so DuckDB gets a no-op.
        Dialects(
            duckdb="SELECT 1",
            postgres="CREATE INDEX answer_log_workshop ON answer_log (workshop_code, seq)",
        ),
    ),
    (
        # A workshop's settings as an append-only log like the answers: the newest row per
        # workshop and name wins, a NULL value clears it. Names in use: ``min_group`` (smallest
        # group shown on its own), ``baseline`` (the earlier workshop's code), ``plan:<action>``
        # (a JSON plan item: owner, due date) and ``done:<action>`` (was an earlier plan item done).
        "CREATE SEQUENCE setting_seq",
        """
        CREATE TABLE workshop_settings (
            seq BIGINT NOT NULL DEFAULT nextval('setting_seq'),
            workshop_code VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            value VARCHAR,
            set_at TIMESTAMP NOT NULL
        )
        """,
    ),
    (
        # A participant who picked the wrong role changes it themselves: ``participants.role``
        # is updated and the change logged here in the same transaction, so the facilitator can
        # count the changes (and see when each was made).
        "CREATE SEQUENCE role_change_seq",
        """
        CREATE TABLE role_changes (
            seq BIGINT NOT NULL DEFAULT nextval('role_change_seq'),
            workshop_code VARCHAR NOT NULL,
            participant_id VARCHAR NOT NULL,
            from_role VARCHAR NOT NULL,
            to_role VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL
        )
        """,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def statements(version: int, dialect: Dialect) -> list[str]:
    """Return the SQL that moves the schema from ``version`` to ``version + 1`` on one engine."""
    return [
        s if isinstance(s, str) else getattr(s, dialect)
        for s in MIGRATIONS[version]
    ]
