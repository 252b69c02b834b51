"""Memory budgets: estimates from headers only, refusals, and the process-wide ledger."""

from __future__ import annotations

import threading

import pytest

from diagnostics.budget import (
    MemoryLedger,
    check_session_files,
    check_upload,
    estimate_upload,
    server_budget,
    upload_budget,
)
from diagnostics.errors import DiagnosticsError
from tests.hostile_files import hostile_file

MIB = 1 << 20


@pytest.mark.parametrize(("name", "at_least_mib", "detail"), [
    ("shared strings bomb.xlsx", 682, "unpack"),
    ("dimension bomb.xlsx", 16_384 * 1_048_576 * 120 // MIB, "16,384 columns × 1,048,576 rows"),
    ("lying dimension far cell.xlsx", 16_384 * 1_048_576 * 120 // MIB, "16,384 columns"),
    ("row count bomb.parquet", 30_000_000 * 2 * 16 // MIB, "30,000,000 rows × 2 columns"),
])
def test_estimates_read_the_expanded_size_from_headers(
        name: str, at_least_mib: int, detail: str) -> None:
    estimate = estimate_upload(hostile_file(name), name)
    assert estimate.peak_bytes >= at_least_mib * MIB
    assert detail in estimate.detail


def test_a_plain_file_is_estimated_small_and_admitted() -> None:
    data = hostile_file("plain.xlsx")
    estimate = check_upload(data, "plain.xlsx", budget=8 * MIB)
    assert len(data) < estimate.peak_bytes < MIB
    text = b"Stage,Amount\nDemo,1\n"
    assert estimate_upload(text, "a.csv").peak_bytes == 3 * len(text)


def test_the_refusal_names_the_file_the_cost_and_what_to_do() -> None:
    with pytest.raises(DiagnosticsError) as err:
        check_upload(hostile_file("dimension bomb.xlsx"), "dims.xlsx", budget=256 * MIB)
    assert "“dims.xlsx” is too large to read here" in err.value.message
    assert "the limit for one upload is 256 MB" in err.value.message
    assert "Export fewer rows" in err.value.hint


def test_budgets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYN_UPLOAD_BUDGET_MB", "100")
    monkeypatch.setenv("MYN_SERVER_BUDGET_MB", "not a number")
    assert upload_budget() == 100 * MIB
    assert server_budget() == 6144 * MIB


def test_a_sessions_files_count_together_against_the_cap() -> None:
    check_session_files({"a.csv": 150 * MIB, "b.csv": 150 * MIB}, cap=400 * MIB)
    with pytest.raises(DiagnosticsError, match="3 files add up to 450 MB"):
        check_session_files({"a": 150 * MIB, "b": 150 * MIB, "c": 150 * MIB}, cap=400 * MIB)
    with pytest.raises(DiagnosticsError, match="This file adds up to 450 MB"):
        check_session_files({"a": 450 * MIB}, cap=400 * MIB)


def test_the_ledger_bounds_every_session_together() -> None:
    ledger = MemoryLedger(1000)
    ledger.hold("a", 600)
    ledger.hold("a", 700)  # a session's holding is replaced, not added
    with pytest.raises(DiagnosticsError, match="holding as much uploaded data"):
        ledger.hold("b", 400)
    assert ledger.held() == 700 and ledger.held("b") == 0
    assert ledger.release("a") == 700
    ledger.hold("b", 400)
    ledger.hold("b", 0)
    assert ledger.owners() == []


def test_the_ledger_never_overcommits_under_concurrent_sessions() -> None:
    ledger = MemoryLedger(10_000)
    admitted: list[str] = []

    def session(owner: str) -> None:
        try:
            ledger.hold(owner, 1_000)
            admitted.append(owner)
        except DiagnosticsError:
            pass

    threads = [threading.Thread(target=session, args=(f"s{i}",)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 10 and ledger.held() == 10_000
