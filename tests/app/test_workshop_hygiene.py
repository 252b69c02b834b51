"""Workshop hygiene: the key leaves the address bar, joining is bounded, errors hide the server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics import workshop as ws
from diagnostics.workshop_store import DuckDBStore
from tests.app.conftest import OpenPage, shown
from ui import state

PAGE = "pages/workshop.py"
F = state.WORKSHOP_FORM_PREFIX
JOIN = "FormSubmitter:" + F + "join_form-Start answering"


@pytest.fixture
def store(workshop_db: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(workshop_db)
    yield s
    s.close()


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _errors(at: AppTest) -> str:
    return " ".join(shown(e.value) for e in at.error)


def test_the_facilitator_link_opens_the_dashboard_and_the_address_drops_the_key(
    open_page: OpenPage, store: DuckDBStore
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    at = open_page(PAGE, query={"workshop": created.code, "key": created.key})
    assert [m.label for m in at.metric][:2] == ["Joined", "Responses"]
    assert _param(at, "key") is None and _param(at, "view") == ws.FACILITATOR_VIEW
    assert _param(at, "workshop") == created.code
    # Nothing on the page shows the key except the private link, folded away for a bookmark.
    (link,) = [c.value for c in at.code if "key=" in c.value]
    assert link.endswith(ws.facilitator_path(created.code, created.key))
    assert at.expander[0].label == "Your facilitator link (private)"
    at.run()  # a refresh of the same session keeps the dashboard without the key in the address
    assert [m.label for m in at.metric][:2] == ["Joined", "Responses"] and not at.error
    # Reveal mode is for the projector: the private link goes away with the names.
    at.toggle(key=state.WORKSHOP_REVEAL).set_value(True).run()
    assert not [c for c in at.code if "key=" in c.value]


def test_the_keyless_address_in_another_session_shows_nothing_but_the_bookmark_works(
    open_page: OpenPage, store: DuckDBStore
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    other = open_page(PAGE, query={"workshop": created.code, "view": ws.FACILITATOR_VIEW})
    assert not other.metric and not other.code
    assert "needs its facilitator key" in _errors(other)
    bookmark = open_page(PAGE, query={"workshop": created.code, "key": created.key})
    assert [m.label for m in bookmark.metric][:1] == ["Joined"]


def test_the_facilitator_sets_the_cap_and_a_participant_beyond_it_is_told_why(
    open_page: OpenPage, store: DuckDBStore
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    ws.join_workshop(store, created.code, "Ann", "sales")
    facilitator = open_page(PAGE, query={"workshop": created.code, "key": created.key})
    cap = facilitator.number_input(key=state.WORKSHOP_PLAN_PREFIX + "max_participants")
    assert cap.value == ws.DEFAULT_CAP
    cap.set_value(1).run()
    assert not facilitator.exception and ws.max_participants(store, created.code) == 1

    at = open_page(PAGE, query={"workshop": created.code})
    at.text_input(key=F + "name").input("Bo")
    at.selectbox(key=F + "role").select("marketing")
    at.button(key=JOIN).click().run()
    assert "This workshop is full: it takes at most 1 participants" in _errors(at)
    assert "raise the limit" in _errors(at)
    assert [p.name for p in store.list_participants(created.code)] == ["Ann"]
    assert _param(at, "p") is None  # not joined: no token in the address


def test_a_join_past_the_per_minute_limit_is_told_to_wait(
    open_page: OpenPage, store: DuckDBStore
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    now = datetime.now(UTC).replace(tzinfo=None)
    for i in range(ws.JOINS_PER_MINUTE):
        ws.join_workshop(store, created.code, f"P{i}", "sales", now=now - timedelta(seconds=i / 2))
    at = open_page(PAGE, query={"workshop": created.code})
    at.text_input(key=F + "name").input("One more")
    at.selectbox(key=F + "role").select("sales")
    at.button(key=JOIN).click().run()
    assert not at.exception
    assert "Too many people joined this workshop in the last minute" in _errors(at)
    assert "Wait a minute" in _errors(at)
    assert store.count_participants(created.code) == ws.JOINS_PER_MINUTE


def test_a_busy_database_file_shows_no_server_path_or_process_id(
    open_page: OpenPage, workshop_db: Path
) -> None:
    # Another process holds the file, as a second app server would: DuckDB names the file, the
    # holder's program, process id and user in its error.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(120)", str(workshop_db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        at = open_page(PAGE, query={"workshop": "ABCD2345"})
        text = _errors(at)
        assert "workshop database is busy" in text
        assert str(workshop_db.parent) not in text and workshop_db.name not in text
        assert str(holder.pid) not in text and "PID" not in text and "python" not in text
    finally:
        holder.kill()
        holder.wait()
