"""The shared workshop store: a PostgreSQL server, reached through a psycopg 3 connection pool.

Several app processes (replicas behind a load balancer) and the workshop commands can use one
server at the same time. Each call borrows a connection from the pool; connections run in
autocommit, so every write is its own transaction and is committed (and, with PostgreSQL's
default ``synchronous_commit``, flushed to the write-ahead log) when the call returns.

Migrations run in one transaction under an advisory lock, so replicas starting together migrate
the schema once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store._migrations import SCHEMA_VERSION, statements
from diagnostics.workshop_store._sql import SqlStore

__all__ = ["PostgresStore"]

# Ten connections per process: a room's taps queue for milliseconds at most, and two or four
# replicas stay well inside PostgreSQL's default of 100 connections.
MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_S = 10
# Any fixed number works: it names the lock every app process takes while migrating.
_MIGRATION_LOCK = 727_001
# The first half of the two-part lock a workshop's joins take (the second is the code's hash).
_JOIN_LOCK = 727_002
# The same for a workshop's multi-statement writes (a role change and its log row).
_TOGETHER_LOCK = 727_003

_UNREACHABLE = DiagnosticsError(
    "The workshop database server cannot be reached.",
    "Check the postgresql:// address in MYN_WORKSHOP_DB (host, port, database, user and "
    "password) and that the server is running.",
)
_LOST = DiagnosticsError(
    "The workshop database server did not answer.",
    "Try again in a moment; if it persists, check that the database server is running.",
)


def _pg(sql: str) -> str:
    """Return ``sql`` with DuckDB-style ``?`` parameters as psycopg's ``%s``."""
    # The shared queries contain no literal ``?`` or ``%``; the escape keeps it that way safely.
    return sql.replace("%", "%%").replace("?", "%s")


def _copy(error: DiagnosticsError) -> DiagnosticsError:
    return DiagnosticsError(error.message, error.hint)


class PostgresStore(SqlStore):
    """Workshop store on a PostgreSQL server, shared by any number of processes."""

    def __init__(self, url: str, max_connections: int = MAX_CONNECTIONS) -> None:
        # Try one connection first: a wrong address fails at once with a plain message instead
        # of the pool retrying in the background and logging the server's address.
        try:
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as exc:
            raise _copy(_UNREACHABLE) from exc
        self._pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            open=False,
            name="workshop-store",
            timeout=30,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            self._migrate()
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self._pool.close()
            raise _copy(_UNREACHABLE) from exc
        except BaseException:
            self._pool.close()
            raise

    # -- primitives -----------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(_pg(sql), list(params)).fetchall()
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _copy(_LOST) from exc

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        try:
            with self._pool.connection() as conn:
                conn.execute(_pg(sql), list(params))
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _copy(_LOST) from exc

    def _write_together(self, code: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        # Read committed would let two such transactions both pass a check before either
        # writes: a transaction-scoped advisory lock per workshop runs them one after the other.
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                             [_TOGETHER_LOCK, code])
                for sql, params in statements:
                    conn.execute(_pg(sql), list(params))
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _copy(_LOST) from exc

    def _write_one_at_a_time(self, code: str, sql: str, params: Sequence[Any]) -> None:
        # Several processes write at once: a transaction-scoped advisory lock per workshop makes
        # a check-then-insert exact (read committed would let two joins both see a free place).
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                             [_JOIN_LOCK, code])
                conn.execute(_pg(sql), list(params))
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _copy(_LOST) from exc

    def _insert_workshop(self, params: Sequence[Any]) -> bool:
        # ON CONFLICT makes a taken code a no-op even when two processes race for it.
        rows = self._rows(
            "INSERT INTO workshops (code, client, title, instruments, key_hash, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING "
            "RETURNING code",
            params,
        )
        return bool(rows)

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                raise DiagnosticsError(
                    "The workshop database was written by a newer version "
                    f"(schema {current}, this app knows {SCHEMA_VERSION}).",
                    "Upgrade the app or point MYN_WORKSHOP_DB at another database.",
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in statements(version, "postgres"):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (%s)", [version + 1])

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()
