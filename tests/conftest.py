"""Shared fixtures: project paths and a small, hand-checkable dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"


@pytest.fixture
def workshop_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the workshop store at a fresh database file for this test."""
    path = tmp_path / "workshops.duckdb"
    monkeypatch.setenv("MYN_WORKSHOP_DB", str(path))
    return path
