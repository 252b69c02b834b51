"""The workshop store contract: every test runs against DuckDB (a file) and PostgreSQL (a server).

The PostgreSQL runs use a throwaway server started for the session (tests/postgres.py) and a fresh
database per test; both stores come from the one factory, ``open_store``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from diagnostics import workshop as ws
from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store import (
    SCHEMA_VERSION,
    AnswerRecord,
    ParticipantRecord,
    WorkshopRecord,
    WorkshopStore,
    open_store,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 9, 0, 0)
T1 = datetime(2026, 11, 23, 9, 1, 0)
CODE = "ABCD2345"


def _workshop(code: str = CODE) -> WorkshopRecord:
    return WorkshopRecord(code, "Acme", "Kick-off", ("make_your_number",), "h" * 64, "open", T0)


def _participant(pid: str, code: str = CODE) -> ParticipantRecord:
    return ParticipantRecord(code, pid, f"Name {pid}", "sales", T0)


def _answer(pid: str, qid: str, value: str, code: str = CODE) -> AnswerRecord:
    return AnswerRecord(code, pid, "make_your_number", qid, value, T0)


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return where a fresh, empty store lives: a DuckDB file or a PostgreSQL database URL."""
    if request.param == "duckdb":
        return str(tmp_path / "nested" / "ws.duckdb")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(location: str) -> Iterator[WorkshopStore]:
    s = open_store(location)
    yield s
    s.close()


@pytest.fixture(scope="module")
def content() -> ws.Content:
    return ws.load_content()


# -- the workshop journey through the domain functions ------------------------------------------


def test_create_join_answer_resume_close_export_summary(
    store: WorkshopStore, content: ws.Content
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    assert ws.authorise(store, created.code, created.key).title == "Kick-off"
    first = ws.join_workshop(store, created.code, "Ana", "sales", now=T0)
    second = ws.join_workshop(store, created.code, "Bo", "marketing", now=T1)
    s1, s2 = content.statements[0].id, content.statements[1].id
    ws.answer(store, content, created.code, first.token, s1, 4)
    ws.answer(store, content, created.code, first.token, s1, 5)  # changed: the latest wins
    ws.answer(store, content, created.code, first.token, s2, 2)
    ws.answer(store, content, created.code, first.token, s2, None)  # cleared
    ws.answer(store, content, created.code, second.token, s1, 1)
    resumed = ws.resume(store, created.code, first.token)
    assert resumed is not None and resumed.name == "Ana"
    assert ws.participant_answers(store, created.code, first.token) == {s1: 5}
    assert ws.resume(store, created.code, "not-a-token-of-anyone") is None

    closed = ws.close_workshop(store, created.code, created.key)
    assert closed.status == ws.CLOSED
    with pytest.raises(DiagnosticsError, match="closed"):
        ws.answer(store, content, created.code, second.token, s2, 3)
    with pytest.raises(DiagnosticsError, match="closed"):
        ws.join_workshop(store, created.code, "Late", "sales")

    frame = ws.export_frame(store, content, created.code, created.key)
    assert list(frame["name"]) == ["Ana", "Bo"]
    assert list(frame[s1]) == [5, 1]
    assert frame[s2].isna().all()
    summary = ws.summarise(store, content, created.code, created.key)
    assert (summary.joined, summary.responses) == (2, 2)
    assert summary.by_role == {"sales": 1, "marketing": 1}
    assert ws.reopen_workshop(store, created.code, created.key).status == ws.OPEN


@pytest.mark.parametrize("key", ["", "wrong-key", None])
def test_wrong_key_is_refused_for_summary_export_and_close(
    store: WorkshopStore, content: ws.Content, key: object
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    for call in (
        lambda: ws.summarise(store, content, created.code, key),  # type: ignore[arg-type]
        lambda: ws.export_frame(store, content, created.code, key),  # type: ignore[arg-type]
        lambda: ws.close_workshop(store, created.code, key),  # type: ignore[arg-type]
    ):
        with pytest.raises(DiagnosticsError, match="not valid"):
            call()
    assert ws.get_workshop(store, created.code).status == ws.OPEN


# -- the store itself -----------------------------------------------------------------------------


def test_schema_is_migrated_once_and_data_kept_on_reopen(location: str) -> None:
    first = open_store(location)
    try:
        assert first.schema_version() == SCHEMA_VERSION
        assert first.create_workshop(_workshop())
    finally:
        first.close()
    second = open_store(location)
    try:
        assert second.schema_version() == SCHEMA_VERSION
        assert second.get_workshop(CODE) == _workshop()
    finally:
        second.close()


def test_newer_schema_is_refused_with_a_clear_message(location: str) -> None:
    store = open_store(location)
    try:
        # A write through the store's own primitive: the schema_version table is not public.
        store._write("INSERT INTO schema_version VALUES (?)", [99])  # type: ignore[attr-defined]
    finally:
        store.close()
    with pytest.raises(DiagnosticsError, match="newer version"):
        open_store(location)


def test_duplicate_code_is_refused_without_change(store: WorkshopStore) -> None:
    assert store.create_workshop(_workshop())
    other = WorkshopRecord(CODE, "Other", "T", ("leadership",), "x", "open", T0)
    assert store.create_workshop(other) is False
    assert store.get_workshop(CODE) == _workshop()
    assert store.get_workshop("ZZZZ2345") is None


def test_status_participants_and_answer_log(store: WorkshopStore) -> None:
    store.create_workshop(_workshop())
    store.set_status(CODE, "closed")
    assert store.get_workshop(CODE).status == "closed"  # type: ignore[union-attr]
    store.add_participant(_participant("p1"))
    store.add_participant(_participant("p1"))  # idempotent
    store.add_participant(_participant("p2"))
    assert [p.participant_id for p in store.list_participants(CODE)] == ["p1", "p2"]
    assert store.get_participant(CODE, "p9") is None
    store.save_answer(_answer("p1", "q1", "2"))
    store.save_answer(_answer("p1", "q1", "4"))
    store.save_answer(_answer("p2", "q1", "5"))
    assert [(a.participant_id, a.value) for a in store.list_answers(CODE)] == [
        ("p1", "4"), ("p2", "5")
    ]
    store.delete_answer(CODE, "p1", "make_your_number", "q1")
    assert store.list_answers(CODE, "p1") == []
    assert len(store.list_answers(CODE, "p2")) == 1
    store.save_answer(_answer("p1", "q1", "1"))  # answered again after clearing
    assert [a.value for a in store.list_answers(CODE, "p1")] == ["1"]
    assert store.count_answer_rows(CODE) == 5  # the log keeps every change


def test_a_role_change_updates_the_participant_and_is_logged_together(
    store: WorkshopStore,
) -> None:
    store.create_workshop(_workshop())
    store.create_workshop(_workshop("EFGH2345"))
    store.add_participant(_participant("p1"))
    store.add_participant(_participant("p2"))
    store.add_participant(_participant("p1", "EFGH2345"))
    store.save_answer(_answer("p1", "q1", "4"))
    assert store.change_role(CODE, "p1", "marketing", T1) is True
    assert store.get_participant(CODE, "p1").role == "marketing"  # type: ignore[union-attr]
    assert store.change_role(CODE, "p1", "marketing", T1) is False  # already that role
    assert store.change_role(CODE, "p9", "marketing", T1) is False  # nobody
    assert [p.role for p in store.list_participants(CODE)] == ["marketing", "sales"]
    assert store.get_participant("EFGH2345", "p1").role == "sales"  # type: ignore[union-attr]
    assert [a.value for a in store.list_answers(CODE, "p1")] == ["4"]  # answers stay theirs
    assert (store.count_role_changes(CODE), store.count_role_changes("EFGH2345")) == (1, 0)
    assert store.change_role(CODE, "p1", "sales", T1) is True
    assert store.count_role_changes(CODE) == 2


def test_concurrent_role_changes_each_count_once(location: str) -> None:
    """Two devices of one participant change the role at once: each logged change happened."""
    with closing(open_store(location)) as setup:
        setup.create_workshop(_workshop())
        setup.add_participant(_participant("p1"))
    stores = [open_store(location)] if "://" not in location else [
        open_store(location) for _ in range(2)]
    try:
        def change(i: int) -> None:
            s = stores[i % len(stores)]
            s.change_role(CODE, "p1", "marketing" if i % 2 else "finance", T1)

        threads = [threading.Thread(target=change, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        final = stores[0].get_participant(CODE, "p1")
        changes = stores[0].count_role_changes(CODE)
    finally:
        for s in stores:
            s.close()
    # Every logged change moved the role away from the one before it: never more changes than
    # attempts, at least one, and the role is one of those asked for.
    assert final is not None and final.role in {"marketing", "finance"}
    assert 1 <= changes <= 8


def test_workshop_with_participant_in_one_read(store: WorkshopStore) -> None:
    store.create_workshop(_workshop())
    store.add_participant(_participant("p1"))
    assert store.get_workshop_with_participant(CODE, "p1") == (_workshop(), _participant("p1"))
    assert store.get_workshop_with_participant(CODE, "p9") == (_workshop(), None)
    assert store.get_workshop_with_participant("ZZZZ2345", "p1") == (None, None)


def test_none_value_is_refused_before_reaching_the_log(store: WorkshopStore) -> None:
    with pytest.raises(ValueError, match="delete_answer"):
        store.save_answer(_answer("p1", "q1", None))  # type: ignore[arg-type]
    assert store.count_answer_rows(CODE) == 0


def test_a_failing_write_among_concurrent_ones_fails_alone(store: WorkshopStore) -> None:
    store.create_workshop(_workshop())
    outcomes: dict[int, str] = {}

    def write(i: int) -> None:
        record = _participant(f"p{i:02d}")
        if i == 7:  # a NOT NULL violation for one writer only
            record = ParticipantRecord(CODE, "p07", None, "sales", T0)  # type: ignore[arg-type]
        try:
            store.add_participant(record)
            outcomes[i] = "ok"
        except Exception:  # each engine raises its own integrity error
            outcomes[i] = "error"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {i: "error" if i == 7 else "ok" for i in range(20)}
    assert [p.participant_id for p in store.list_participants(CODE)] == [
        f"p{i:02d}" for i in range(20) if i != 7
    ]


WRITERS = 50
ANSWERS_EACH = 20


def test_50_concurrent_writers_x_20_answers_all_saved_none_duplicated(
    store: WorkshopStore,
) -> None:
    store.create_workshop(_workshop())
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def participant(i: int) -> None:
        try:
            pid = f"p{i:02d}"
            store.add_participant(_participant(pid))
            start.wait()
            for q in range(ANSWERS_EACH):
                store.save_answer(_answer(pid, f"q{q:02d}", str(1 + (i + q) % 5)))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    answers = store.list_answers(CODE)
    keys = [(a.participant_id, a.question_id) for a in answers]
    assert len(answers) == WRITERS * ANSWERS_EACH == 1000
    assert len(set(keys)) == 1000
    assert store.count_answer_rows(CODE) == 1000  # no write ran twice
    assert all(a.value == str(1 + (int(a.participant_id[1:]) + int(a.question_id[1:])) % 5)
               for a in answers)
    assert len(store.list_participants(CODE)) == WRITERS


# The writer acknowledges each answer (prints "ack i") only after the store returned, i.e. after
# the commit; it is then killed with SIGKILL in the middle of its burst.
_WRITER = """
import sys
from datetime import datetime, timedelta
from diagnostics.workshop_store import (
    AnswerRecord, ParticipantRecord, WorkshopRecord, open_store,
)
store = open_store(sys.argv[1])
now = datetime(2026, 11, 23)
store.create_workshop(WorkshopRecord("ABCD2345", "c", "t", ("make_your_number",), "h", "open", now))
store.add_participant(ParticipantRecord("ABCD2345", "p", "n", "sales", now))
i = 0
while True:
    store.save_answer(AnswerRecord("ABCD2345", "p", "make_your_number", f"q{i:06d}", "3", now))
    print(f"ack {i}", flush=True)
    i += 1
"""


def test_writer_killed_mid_burst_loses_no_acknowledged_answer(location: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, location], cwd=ROOT,
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
    store = open_store(location)
    try:
        saved = {a.question_id for a in store.list_answers(CODE)}
    finally:
        store.close()
    assert proc.returncode == -signal.SIGKILL
    assert acked >= 300
    assert {f"q{i:06d}" for i in range(acked + 1)} <= saved


def test_settings_are_a_log_whose_newest_value_wins(store: WorkshopStore) -> None:
    assert store.create_workshop(_workshop())
    assert store.create_workshop(_workshop("WXYZ2345"))
    assert store.list_settings(CODE) == {}
    store.set_setting(CODE, "min_group", "3", T0)
    store.set_setting(CODE, "min_group", "5", T1)
    store.set_setting(CODE, "baseline", "WXYZ2345", T0)
    store.set_setting(CODE, "plan:a1", '{"owner": "Ann"}', T0)
    store.set_setting(CODE, "plan:a1", None, T1)  # cleared
    store.set_setting("WXYZ2345", "min_group", "4", T0)
    assert store.list_settings(CODE) == {"baseline": "WXYZ2345", "min_group": "5"}
    assert store.list_settings("WXYZ2345") == {"min_group": "4"}


# -- limits on joining ---------------------------------------------------------------------------


def test_joins_past_the_per_minute_limit_are_refused_until_the_minute_has_passed(
    store: WorkshopStore,
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    limit = ws.JOINS_PER_MINUTE
    for i in range(limit):  # one a second: the whole limit inside one minute
        ws.join_workshop(store, created.code, f"P{i}", "sales", now=T0 + timedelta(seconds=i))
    with pytest.raises(DiagnosticsError, match="Too many people joined") as refused:
        ws.join_workshop(store, created.code, "Late", "sales",
                         now=T0 + timedelta(seconds=limit - 0.5))
    assert "Wait a minute" in str(refused.value)
    assert store.count_participants(created.code) == limit
    # A minute after the first join, one place in the window is free again.
    ws.join_workshop(store, created.code, "Next", "sales", now=T0 + timedelta(seconds=60))
    assert store.count_participants(created.code) == limit + 1
    assert store.count_participants(created.code, since=T0 + timedelta(seconds=59)) == 1


def test_the_facilitators_cap_holds_and_can_be_raised(
    store: WorkshopStore, content: ws.Content
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    assert ws.max_participants(store, created.code) == ws.DEFAULT_CAP
    assert ws.set_max_participants(store, created.code, created.key, 2) == 2
    for i in range(2):
        ws.join_workshop(store, created.code, f"P{i}", "sales", now=T0 + timedelta(minutes=i))
    later = T0 + timedelta(hours=1)
    with pytest.raises(DiagnosticsError, match="full: it takes at most 2 participants"):
        ws.join_workshop(store, created.code, "Third", "sales", now=later)
    assert [p.name for p in store.list_participants(created.code)] == ["P0", "P1"]
    ws.set_max_participants(store, created.code, created.key, 3)
    assert ws.max_participants(store, created.code) == 3
    ws.join_workshop(store, created.code, "Third", "sales", now=later)
    # The facilitator's own import is not a participant joining: neither limit applies.
    csv = f"name,role,{content.statements[0].id}\nImported,sales,3\n".encode()
    report = ws.import_responses(store, content, created.code, created.key, csv, now=later)
    assert report.imported == 1, report
    assert store.count_participants(created.code) == 4


@pytest.mark.parametrize("value", [0, -1, ws.MAX_CAP + 1, True, 2.5])
def test_a_cap_outside_the_range_or_a_wrong_key_is_refused(
    store: WorkshopStore, value: object
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    with pytest.raises(DiagnosticsError, match="most participants"):
        ws.set_max_participants(store, created.code, created.key, value)  # type: ignore[arg-type]
    with pytest.raises(DiagnosticsError, match="not valid"):
        ws.set_max_participants(store, created.code, "wrong-key", 5)
    assert ws.max_participants(store, created.code) == ws.DEFAULT_CAP


def test_concurrent_joins_never_pass_the_cap(location: str) -> None:
    setup = open_store(location)
    try:
        created = ws.create_workshop(setup, "Acme", "Kick-off")
        ws.set_max_participants(setup, created.code, created.key, 5)
    finally:
        setup.close()
    store = open_store(location)
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def join(i: int) -> None:
        start.wait()
        try:
            ws.join_workshop(store, created.code, f"P{i}", "sales")
            outcomes.append("joined")
        except DiagnosticsError as err:
            outcomes.append(err.message)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(12)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("joined") == 5, outcomes
        assert store.count_participants(created.code) == 5
        assert all("full" in o for o in outcomes if o != "joined"), outcomes
    finally:
        store.close()
