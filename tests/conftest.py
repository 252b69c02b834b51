"""Shared fixtures: project paths and a small, hand-checkable dataset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import Cluster, find_binaries

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"


@pytest.fixture
def workshop_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the workshop store at a fresh database file for this test."""
    path = tmp_path / "workshops.duckdb"
    monkeypatch.setenv("MYN_WORKSHOP_DB", str(path))
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """Start a throwaway PostgreSQL server for the session; fail in CI when it cannot run."""
    binaries = find_binaries()
    if binaries is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(binaries)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """Return the URL of a fresh, empty PostgreSQL database for this test."""
    return pg_cluster.create_database()
