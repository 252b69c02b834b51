"""Workshop store: the factory, the migration list, and what is particular to each engine.

What both stores must do alike is in test_workshop_store_contract.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store import (
    DEFAULT_DB_PATH,
    SCHEMA_VERSION,
    DuckDBStore,
    configured_location,
    is_server_url,
    open_store,
)
from diagnostics.workshop_store._migrations import MIGRATIONS, Dialects, statements
from diagnostics.workshop_store._postgres import PostgresStore, _pg

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("postgresql://u:p@db:5432/myn", True),
        ("postgres://db/myn", True),
        ("  PostgreSQL://db/myn", True),
        ("data/workshops.duckdb", False),
        ("/srv/postgresql/ws.duckdb", False),
        ("", False),
    ],
)
def test_is_server_url(location: str, expected: bool) -> None:
    assert is_server_url(location) is expected


def test_configured_location_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYN_WORKSHOP_DB", raising=False)
    assert configured_location() == str(DEFAULT_DB_PATH.resolve())
    monkeypatch.setenv("MYN_WORKSHOP_DB", "/tmp/x/w.duckdb")
    assert configured_location() == "/tmp/x/w.duckdb"
    monkeypatch.setenv("MYN_WORKSHOP_DB", "relative/w.duckdb")
    assert configured_location() == str(Path("relative/w.duckdb").resolve())
    monkeypatch.setenv("MYN_WORKSHOP_DB", " postgresql://db/myn ")
    assert configured_location() == "postgresql://db/myn"


def test_factory_opens_the_file_named_by_the_environment(workshop_db: Path) -> None:
    store = open_store()
    try:
        assert isinstance(store, DuckDBStore)
        assert store.path == workshop_db and workshop_db.exists()
    finally:
        store.close()


def test_factory_opens_postgres_for_a_url(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.schema_version() == SCHEMA_VERSION
    finally:
        store.close()


def test_unreachable_server_gives_a_plain_message_without_the_address() -> None:
    # Port 1 on the loopback refuses at once: nothing listens there.
    url = "postgresql://someone:secret-password@127.0.0.1:1/myn"
    with pytest.raises(DiagnosticsError) as caught:
        open_store(url)
    text = str(caught.value)
    assert "cannot be reached" in text and "MYN_WORKSHOP_DB" in text
    assert "secret-password" not in text and "127.0.0.1" not in text


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT 5 % 2 WHERE x = ?", "SELECT 5 %% 2 WHERE x = %s"),
    ],
)
def test_placeholders_become_psycopg_style(sql: str, expected: str) -> None:
    assert _pg(sql) == expected


def test_every_migration_has_text_for_both_engines() -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 1
    for version in range(SCHEMA_VERSION):
        for dialect in ("duckdb", "postgres"):
            found = statements(version, dialect)  # type: ignore[arg-type]
            assert found and all(isinstance(s, str) and s.strip() for s in found)
    split = Dialects(duckdb="SELECT 1", postgres="SELECT 2")
    assert [split.duckdb, split.postgres] == ["SELECT 1", "SELECT 2"]


def test_duckdb_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    DuckDBStore(path).close()
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    try:
        versions = con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    finally:
        con.close()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_postgres_migrations_are_recorded_once(pg_url: str) -> None:
    import psycopg

    open_store(pg_url).close()
    open_store(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_duckdb_file_held_by_another_process_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    holder = DuckDBStore(path)
    try:
        code = (
            "import sys\nfrom diagnostics.workshop_store import open_store\n"
            "from diagnostics.errors import DiagnosticsError\n"
            f"try:\n    open_store({str(path)!r})\nexcept DiagnosticsError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 3, done.stderr
        assert "cannot be opened" in done.stdout and "MYN_WORKSHOP_DB" in done.stdout
        # Participants may see this message: no server path, no process id, no user name.
        assert str(tmp_path) not in done.stdout and "ws.duckdb" not in done.stdout
        assert "PID" not in done.stdout and str(os.getpid()) not in done.stdout
        assert "user" not in done.stdout, done.stdout
    finally:
        holder.close()


def test_two_processes_share_one_postgres_store(pg_url: str) -> None:
    # What DuckDB refuses above, PostgreSQL allows: a second process opens and writes meanwhile.
    holder = open_store(pg_url)
    try:
        code = (
            "import sys\nfrom datetime import datetime\n"
            "from diagnostics.workshop_store import WorkshopRecord, open_store\n"
            "s = open_store(sys.argv[1])\n"
            "s.create_workshop(WorkshopRecord('WXYZ2345', 'c', 't', ('leadership',), 'h', "
            "'open', datetime(2026, 1, 1)))\ns.close()\n"
        )
        done = subprocess.run([sys.executable, "-c", code, pg_url], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seen = holder.get_workshop("WXYZ2345")
        assert seen is not None and seen.instruments == ("leadership",)
    finally:
        holder.close()
