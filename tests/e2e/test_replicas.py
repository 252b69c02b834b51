"""Two app servers sharing one PostgreSQL workshop store, and the workshop CLI alongside them.

A participant answers on one replica; the facilitator, on the other, sees it arrive without
reloading. The workshop is created, and its summary read, by the command line while both run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from diagnostics import workshop as ws
from tests.e2e.conftest import ROOT, assert_no_exception, start_app, stop_app, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared_store(pg_cluster: Any) -> str:
    return str(pg_cluster.create_database())


@pytest.fixture(scope="module")
def replicas(shared_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    logs = tmp_path_factory.mktemp("replica-logs")
    started = []
    try:
        for i in range(2):
            started.append(start_app(shared_store, logs / f"replica-{i}.log"))
        yield [url for _, url in started]
    finally:
        for proc, _ in started:
            stop_app(proc)


def _cli(store: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "diagnostics", "workshop", *args, "--json"],
        cwd=ROOT, env={**os.environ, "MYN_WORKSHOP_DB": store},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_answer_on_one_replica_is_seen_live_on_the_other(
    replicas: list[str], shared_store: str, page: Any, browser: Any
) -> None:
    participant_app, facilitator_app = replicas
    assert participant_app != facilitator_app
    created = _cli(shared_store, "create", "--client", "Acme", "--title", "Two servers")
    code, key = created["code"], created["key"]

    # First loads start each server's script runner: allow for a slow, shared machine.
    page.goto(facilitator_app)
    wait_idle(page, timeout=90_000)
    page.goto(f"{facilitator_app}/workshop?workshop={code}&key={key}")
    wait_idle(page)
    expect(page.get_by_text("Facilitator view", exact=False)).to_be_visible()

    context = browser.new_context()
    try:
        other = context.new_page()
        other.goto(participant_app)
        wait_idle(other, timeout=90_000)
        other.goto(f"{participant_app}/workshop?workshop={code}")
        wait_idle(other)
        other.get_by_label("Your name", exact=False).fill("Ann")
        other.get_by_test_id("stSelectbox").click()
        other.get_by_role("option", name=ws.role_label("sales"), exact=True).click()
        other.get_by_role("button", name="Start answering").click()
        wait_idle(other)
        expect(other.get_by_text("You are answering as Ann", exact=False)).to_be_visible()
        # Any one answer will do: the first question's fourth option.
        other.get_by_test_id("stRadio").first.locator("label").nth(3).click()
        wait_idle(other)
        expect(other.get_by_text("1 of ", exact=False)).to_be_visible()
        assert_no_exception(other)
    finally:
        context.close()

    # The dashboard on the other server refreshes on its own: no reload here.
    joined = page.get_by_test_id("stMetric").filter(has_text="Joined")
    expect(joined).to_contain_text("1", timeout=15_000)
    expect(page.get_by_test_id("stMetric").filter(has_text="Responses")).to_contain_text("1")
    assert_no_exception(page)

    summary = _cli(shared_store, "summary", code, "--key", key)
    assert (summary["joined"], summary["responses"]) == (1, 1)
