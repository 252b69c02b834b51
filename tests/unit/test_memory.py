"""The allocator choice made at start-up, each case in a fresh process."""

from __future__ import annotations

import subprocess
import sys

import pytest

IMPORT_ONLY = "import diagnostics.cli, diagnostics.ingest, pyarrow as pa; " \
              "print(pa.default_memory_pool().backend_name)"
AT_START = "from diagnostics.memory import use_system_allocator as u; import pyarrow as pa; " \
           "print(u(), pa.default_memory_pool().backend_name)"


def _run(code: str, **env: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin", **env}).stdout.strip()


def test_importing_the_core_leaves_arrow_alone() -> None:
    assert _run(IMPORT_ONLY) != "system"
    assert _run(IMPORT_ONLY, ARROW_DEFAULT_MEMORY_POOL="system") == "system"


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "system system"),
    ({"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}, "jemalloc jemalloc"),
])
def test_start_up_picks_the_system_allocator_unless_told_otherwise(
    env: dict[str, str], expected: str
) -> None:
    assert _run(AT_START, **env) == expected


def test_every_entry_point_makes_the_call() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for entry in ("app.py", "diagnostics/cli/__init__.py", "bench/__main__.py",
                  "bench/ingest.py"):
        assert "use_system_allocator()" in (root / entry).read_text(), entry


def test_process_memory_grows_with_what_the_process_holds() -> None:
    from diagnostics.memory import process_memory_kib

    before = process_memory_kib("VmRSS")
    held = bytearray(64 * 1024 * 1024)  # 64 MiB, touched so the pages are resident
    for i in range(0, len(held), 4096):
        held[i] = 1
    after = process_memory_kib("VmRSS")
    assert after - before >= 60 * 1024
    assert process_memory_kib("VmHWM") >= after
    assert process_memory_kib("NoSuchField") == 0
    del held
