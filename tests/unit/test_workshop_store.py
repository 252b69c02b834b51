"""Workshop store: schema, upserts, 50 concurrent writers, and a kill in the middle of a burst."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store import (
    SCHEMA_VERSION,
    AnswerRecord,
    DuckDBStore,
    ParticipantRecord,
    WorkshopRecord,
    default_db_path,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 9, 0, 0)


def _workshop(code: str = "ABCD2345") -> WorkshopRecord:
    return WorkshopRecord(code, "Acme", "Kick-off", ("make_your_number",), "h" * 64, "open", T0)


def _participant(pid: str, code: str = "ABCD2345") -> ParticipantRecord:
    return ParticipantRecord(code, pid, f"Name {pid}", "sales", T0)


def _answer(pid: str, qid: str, value: str, code: str = "ABCD2345") -> AnswerRecord:
    return AnswerRecord(code, pid, "make_your_number", qid, value, T0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "nested" / "ws.duckdb")
    yield s
    s.close()


def test_default_path_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYN_WORKSHOP_DB", raising=False)
    assert default_db_path() == Path("data") / "workshops.duckdb"
    monkeypatch.setenv("MYN_WORKSHOP_DB", "/tmp/x/w.duckdb")
    assert default_db_path() == Path("/tmp/x/w.duckdb")


def test_store_uses_env_path_when_none_given(workshop_db: Path) -> None:
    s = DuckDBStore()
    try:
        assert s.path == workshop_db and workshop_db.exists()
    finally:
        s.close()


def test_file_and_folder_created_with_schema_version(store: DuckDBStore) -> None:
    assert store.path.exists()
    assert store.schema_version() == SCHEMA_VERSION == 1


def test_reopening_does_not_migrate_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    first = DuckDBStore(path)
    assert first.create_workshop(_workshop())
    first.close()
    second = DuckDBStore(path)
    try:
        assert second.schema_version() == 1
        assert second.get_workshop("ABCD2345") == _workshop()
        rows = second._rows("SELECT count(*) FROM schema_version", [])
        assert rows == [(1,)]
    finally:
        second.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (99)")
    con.close()
    with pytest.raises(DiagnosticsError, match="newer version"):
        DuckDBStore(path)


def test_duplicate_code_is_refused_without_change(store: DuckDBStore) -> None:
    assert store.create_workshop(_workshop())
    other = WorkshopRecord("ABCD2345", "Other", "T", ("leadership",), "x", "open", T0)
    assert store.create_workshop(other) is False
    assert store.get_workshop("ABCD2345") == _workshop()
    assert store.get_workshop("ZZZZ2345") is None


def test_status_participants_and_answer_upsert(store: DuckDBStore) -> None:
    store.create_workshop(_workshop())
    store.set_status("ABCD2345", "closed")
    assert store.get_workshop("ABCD2345").status == "closed"  # type: ignore[union-attr]
    store.add_participant(_participant("p1"))
    store.add_participant(_participant("p1"))  # idempotent
    store.add_participant(_participant("p2"))
    assert [p.participant_id for p in store.list_participants("ABCD2345")] == ["p1", "p2"]
    assert store.get_participant("ABCD2345", "p9") is None
    store.save_answer(_answer("p1", "q1", "2"))
    store.save_answer(_answer("p1", "q1", "4"))
    store.save_answer(_answer("p2", "q1", "5"))
    assert [(a.participant_id, a.value) for a in store.list_answers("ABCD2345")] == [
        ("p1", "4"), ("p2", "5")
    ]
    store.delete_answer("ABCD2345", "p1", "make_your_number", "q1")
    assert store.list_answers("ABCD2345", "p1") == []
    assert len(store.list_answers("ABCD2345", "p2")) == 1
    store.save_answer(_answer("p1", "q1", "1"))  # answered again after clearing
    assert [a.value for a in store.list_answers("ABCD2345", "p1")] == ["1"]
    assert store.count_answer_rows("ABCD2345") == 5  # the log keeps every change


def test_open_by_second_process_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    holder = DuckDBStore(path)
    try:
        code = (
            "import sys\nfrom diagnostics.workshop_store import DuckDBStore\n"
            "from diagnostics.errors import DiagnosticsError\n"
            f"try:\n    DuckDBStore({str(path)!r})\nexcept DiagnosticsError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 3, done.stderr
        assert "cannot be opened" in done.stdout and "MYN_WORKSHOP_DB" in done.stdout
    finally:
        holder.close()


PARTICIPANTS = 50
ANSWERS_EACH = 20


def test_50_threads_x_20_answers_all_1000_saved_none_duplicated(store: DuckDBStore) -> None:
    store.create_workshop(_workshop())
    errors: list[BaseException] = []
    start = threading.Barrier(PARTICIPANTS)

    def participant(i: int) -> None:
        try:
            pid = f"p{i:02d}"
            store.add_participant(_participant(pid))
            start.wait()
            for q in range(ANSWERS_EACH):
                store.save_answer(_answer(pid, f"q{q:02d}", str(1 + (i + q) % 5)))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(PARTICIPANTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    answers = store.list_answers("ABCD2345")
    keys = [(a.participant_id, a.question_id) for a in answers]
    print(f"{PARTICIPANTS} writers x {ANSWERS_EACH} answers: {len(answers)} stored, "
          f"{len(keys) - len(set(keys))} duplicated")
    assert len(answers) == PARTICIPANTS * ANSWERS_EACH == 1000
    assert len(set(keys)) == 1000
    assert store.count_answer_rows("ABCD2345") == 1000  # no write ran twice
    assert all(a.value == str(1 + (int(a.participant_id[1:]) + int(a.question_id[1:])) % 5)
               for a in answers)
    assert len(store.list_participants("ABCD2345")) == PARTICIPANTS


_WRITER = """
import sys
from collections.abc import Iterator
from datetime import datetime
from diagnostics.workshop_store import AnswerRecord, DuckDBStore, WorkshopRecord, ParticipantRecord
store = DuckDBStore(sys.argv[1])
now = datetime(2026, 11, 23)
store.create_workshop(WorkshopRecord("ABCD2345", "c", "t", ("make_your_number",), "h", "open", now))
store.add_participant(ParticipantRecord("ABCD2345", "p", "n", "sales", now))
i = 0
while True:
    store.save_answer(AnswerRecord("ABCD2345", "p", "make_your_number", f"q{i:06d}", "3", now))
    print(f"ack {i}", flush=True)
    i += 1
"""


def test_kill_during_burst_every_acknowledged_answer_survives(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    acked = -1
    assert proc.stdout is not None
    for line in proc.stdout:
        acked = int(line.split()[1])
        if acked >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # Lines printed after our last read were acknowledged too: count them as well.
    rest = proc.stdout.read()
    acked = max([acked, *(int(x.split()[1]) for x in rest.splitlines() if x.startswith("ack"))])
    store = DuckDBStore(path)
    try:
        saved = {a.question_id for a in store.list_answers("ABCD2345")}
    finally:
        store.close()
    print(f"killed after {acked + 1} acknowledged writes; {len(saved)} found on restart")
    assert proc.returncode == -signal.SIGKILL
    assert {f"q{i:06d}" for i in range(acked + 1)} <= saved


def test_a_failing_write_in_a_concurrent_batch_fails_alone(store: DuckDBStore) -> None:
    store.create_workshop(_workshop())
    outcomes: dict[int, str] = {}

    def write(i: int) -> None:
        record = _participant(f"p{i:02d}")
        if i == 7:  # a NOT NULL violation for one writer only
            record = ParticipantRecord("ABCD2345", "p07", None, "sales", T0)  # type: ignore[arg-type]
        try:
            store.add_participant(record)
            outcomes[i] = "ok"
        except duckdb.Error:
            outcomes[i] = "error"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {i: "error" if i == 7 else "ok" for i in range(20)}
    assert [p.participant_id for p in store.list_participants("ABCD2345")] == [
        f"p{i:02d}" for i in range(20) if i != 7
    ]


def test_none_value_is_refused_before_reaching_the_log(store: DuckDBStore) -> None:
    with pytest.raises(ValueError, match="delete_answer"):
        store.save_answer(_answer("p1", "q1", None))  # type: ignore[arg-type]
    assert store.count_answer_rows("ABCD2345") == 0


def test_workshop_with_participant_in_one_read(store: DuckDBStore) -> None:
    store.create_workshop(_workshop())
    store.add_participant(_participant("p1"))
    assert store.get_workshop_with_participant("ABCD2345", "p1") == (
        _workshop(), _participant("p1")
    )
    assert store.get_workshop_with_participant("ABCD2345", "p9") == (_workshop(), None)
    assert store.get_workshop_with_participant("ZZZZ2345", "p1") == (None, None)
