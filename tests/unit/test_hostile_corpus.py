"""The hostile corpus through ``python -m diagnostics inspect``: messages, never tracebacks.

Every file runs in this process through the command's own entry point, with the upload budget
lowered to ``UPLOAD_BUDGET_MB``; the peak memory a file adds (VmHWM, reset before each file) must
stay under ``PEAK_ALLOWANCE_MB``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diagnostics.cli import main
from diagnostics.memory import process_memory_kib
from tests.hostile_files import (
    BOMBS,
    PEAK_ALLOWANCE_MB,
    UPLOAD_BUDGET_MB,
    hostile_file,
    names,
)

ROOT = Path(__file__).resolve().parents[2]



def _no_constants(text: str) -> Any:
    raise ValueError(f"JSON holds {text}")


def _inspect(name: str, folder: Path, capsys: pytest.CaptureFixture[str]
             ) -> tuple[int, dict[str, Any] | None, str, float]:
    path = folder / name
    path.write_bytes(hostile_file(name))
    capsys.readouterr()
    with open("/proc/self/clear_refs", "w") as refs:  # resets VmHWM to the current RSS
        refs.write("5")
    base = process_memory_kib("VmRSS")
    code = main(["inspect", str(path), "--json"])
    peak_mib = (process_memory_kib("VmHWM") - base) / 1024
    out, err = capsys.readouterr()
    payload = json.loads(out, parse_constant=_no_constants) if code == 0 else None
    return code, payload, err, peak_mib


@pytest.fixture(autouse=True)
def _budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYN_UPLOAD_BUDGET_MB", str(UPLOAD_BUDGET_MB))


def test_the_corpus_is_large_enough() -> None:
    assert len(names()) >= 60 and len(BOMBS) >= 5


@pytest.mark.parametrize("name", names())
def test_every_file_gives_a_report_or_a_message(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload, err, peak = _inspect(name, tmp_path, capsys)
    assert "Traceback" not in err
    if code == 0:
        assert payload is not None and payload["file"] == name
        assert payload["rows"] + payload["rejected"] == payload["rows_read"]
    else:
        assert code == 2 and err.startswith("error: ") and name in err, err
        assert str(tmp_path) not in err  # no server path in a message
    assert peak < PEAK_ALLOWANCE_MB, f"{name} took {peak:.0f} MiB"


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_before_they_expand(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _payload, err, peak = _inspect(name, tmp_path, capsys)
    assert code == 2 and "too large to read here" in err
    assert peak < 64, f"{name} took {peak:.0f} MiB before it was refused"


@pytest.mark.parametrize(("name", "rows_read", "line"), [
    ("unterminated quote line 12.csv", 300, 12),
    ("stray quote late in 20000 rows.csv", 20_000, 19_002),
    ("stray quote closed by another.csv", 300, 102),
])
def test_a_broken_quote_is_reported_with_its_line_and_loses_no_row(
        name: str, rows_read: int, line: int, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, payload, _err, _peak = _inspect(name, tmp_path, capsys)
    assert code == 0 and payload is not None
    assert payload["rows_read"] == rows_read
    assert payload["rows"] == rows_read - 1
    assert [r["line"] for r in payload["rejected_examples"]] == [line]
    assert "quote" in payload["rejected_examples"][0]["reason"]
    assert any(f"line {line}" in note for note in payload["notes"])


@pytest.mark.parametrize(("name", "encoding", "owner"), [
    ("cp1250 polish.csv", "cp1250", "Łukasz Nowak"),
    ("shift jis.csv", "cp932", "山田太郎"),
    ("cp1251 cyrillic.csv", "cp1251", "Иван Петров"),
    ("utf16le no bom.csv", "utf-16-le (no byte-order mark)", "Łukasz"),
    ("utf16be no bom.csv", "utf-16-be (no byte-order mark)", "Zoë"),
    ("cp1252.csv", "cp1252", "José Müller €"),
])
def test_encodings_are_detected_and_stated(name: str, encoding: str, owner: str) -> None:
    from diagnostics.readers import read_raw

    raw = read_raw(hostile_file(name), name)
    assert raw.encoding == encoding
    assert owner in raw.table.column("c1").to_pylist()
    assert any(encoding in note for note in raw.notes)


@pytest.mark.parametrize(("name", "left_out"), [
    ("struct column.parquet", "“Meta” (nested"),
    ("list column.parquet", "“Tags” (nested"),
    ("map column.parquet", "“Attrs” (nested"),
    ("binary not utf8.parquet", "“Blob” (binary values that are not UTF-8"),
])
def test_unusable_parquet_columns_are_skipped_and_listed(
        name: str, left_out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload, _err, _peak = _inspect(name, tmp_path, capsys)
    assert code == 0 and payload is not None and payload["rows"] == 30
    assert any(left_out in note for note in payload["notes"])


def test_impossible_years_are_flagged_not_moved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, payload, _err, _peak = _inspect("impossible years.csv", tmp_path, capsys)
    assert code == 0 and payload is not None
    problems = " ".join(payload["problems"])
    assert "“0001-03-04”" in problems and "could not be read as close date" in problems


def test_the_command_itself_prints_no_traceback(tmp_path: Path) -> None:
    for name in ("shared strings bomb.xlsx",):
        path = tmp_path / name
        path.write_bytes(hostile_file(name))
        done = subprocess.run([sys.executable, "-m", "diagnostics", "inspect", str(path),
                               "--json"], cwd=ROOT, capture_output=True, text=True,
                              env={"MYN_UPLOAD_BUDGET_MB": str(UPLOAD_BUDGET_MB),
                                   "PATH": "/usr/bin:/bin"}, timeout=120, check=False)
        assert "Traceback" not in done.stderr
        assert done.returncode in (0, 2)
        if done.returncode == 0:
            json.loads(done.stdout, parse_constant=_no_constants)
