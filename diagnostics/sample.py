"""The bundled sample CRM export, loaded through the same code path as an upload."""

from __future__ import annotations

from pathlib import Path

from diagnostics.dataset import Dataset
from diagnostics.ingest import IngestResult
from diagnostics.uploads import load_files

__all__ = ["SAMPLE_DIR", "SAMPLE_FILES", "load_sample", "load_sample_dataset"]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_FILES = ("opportunities.csv", "activities.csv", "stage_history.csv")
SAMPLE_NAME = "bundled sample (40 reps, 18 months)"


def load_sample() -> IngestResult:
    """Return the sample's ingest result (tables, reports, stage settings and Dataset)."""
    files = [(name, (SAMPLE_DIR / name).read_bytes()) for name in SAMPLE_FILES]
    result = load_files(files)
    result.dataset.source = SAMPLE_NAME
    return result


def load_sample_dataset() -> Dataset:
    """Return a fresh Dataset (its own locked connection) holding the bundled sample."""
    return load_sample().dataset
