"""Workshop in real Chromium: a facilitator and three participants in separate browser contexts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from diagnostics import workshop as ws
from tests.e2e.conftest import assert_no_exception, wait_idle

pytestmark = pytest.mark.e2e
# Several browser contexts share two cores with the app server: give each check 15 s, not 5.
expect.set_options(timeout=15_000)

ROOM = [("Ann", "Sales team", 5), ("Bob", "Sales ops / RevOps", 1), ("Cy", "Marketing", 3)]


def _radio(page: Any, question: str, option: str, answered: str) -> None:
    """Pick an option, then wait until the progress bar counts it (the answer is saved)."""
    group = page.get_by_test_id("stRadio").filter(has_text=question)
    group.get_by_text(option, exact=True).click()
    expect(page.get_by_text(answered, exact=True)).to_be_visible(timeout=15_000)
    wait_idle(page)


def test_room_answers_and_facilitator_sees_responses_and_gap(
    app_url: str, page: Any, browser: Any
) -> None:
    content = ws.load_content()
    first, second = content.statements[0], content.statements[1]
    progress = f"2 of {len(content.statements) + len(content.choices)} answered"
    # A first visit lets app.py install the router before deep links are used.
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/workshop")
    wait_idle(page)
    page.get_by_label("Client").fill("Acme")
    page.get_by_label("Workshop title").fill("Kick-off")
    page.get_by_role("button", name="Create workshop").click()
    wait_idle(page)
    expect(page.get_by_text("Facilitator view", exact=False)).to_be_visible(timeout=15_000)
    query = parse_qs(urlsplit(page.url).query)
    code, key = query["workshop"][0], query["key"][0]
    assert ws.normalise_code(code) == code and len(key) >= 32
    expect(page.get_by_text("Scan to join")).to_be_visible()  # the QR code's caption
    assert page.locator("img[src*='/media/']").count() == 1

    contexts = [browser.new_context() for _ in ROOM]
    participants = []
    try:
        for context in contexts:  # everyone opens the link before anyone answers
            p = context.new_page()
            p.goto(f"{app_url}/workshop?workshop={code}")
            wait_idle(p)
            participants.append(p)
        for p, (name, role, _) in zip(participants, ROOM, strict=True):
            p.get_by_label("Your name", exact=False).fill(name)
            p.get_by_test_id("stSelectbox").click()
            p.get_by_role("option", name=role, exact=True).click()
            p.get_by_role("button", name="Start answering").click()
            wait_idle(p)
            expect(p.get_by_text("You are answering as", exact=False)).to_be_visible(
                timeout=15_000)
            assert "p=" in p.url
        for p, (_, _, level) in zip(participants, ROOM, strict=True):
            _radio(p, first.text, first.level_text(level), progress.replace("2 of", "1 of"))
        for p in participants:
            _radio(p, second.text, second.level_text(3), progress)
            expect(p.get_by_text(progress)).to_be_visible()
            assert_no_exception(p)

        # Closing the tab and reopening the link from history resumes on the same device.
        resume_url = participants[0].url
        participants[0].close()
        again = contexts[0].new_page()
        again.goto(resume_url)
        wait_idle(again)
        expect(again.get_by_text("You are answering as Ann", exact=False)).to_be_visible(
            timeout=15_000)
        expect(again.get_by_text(progress)).to_be_visible(timeout=15_000)

        # Scanning the QR code again (the plain link) on the same device resumes too.
        participants[1].close()
        rescanned = contexts[1].new_page()
        rescanned.goto(f"{app_url}/workshop?workshop={code}")
        expect(rescanned.get_by_text("You are answering as Bob", exact=False)).to_be_visible(
            timeout=15_000)
        wait_idle(rescanned)
        expect(rescanned.get_by_text(progress)).to_be_visible(timeout=15_000)
    finally:
        for context in contexts:
            context.close()

    # The dashboard refreshes on its own (every 3 s): no reload here.
    responses = page.get_by_test_id("stMetric").filter(has_text="Responses")
    expect(responses).to_contain_text("3", timeout=15_000)
    expect(page.get_by_test_id("stMetric").filter(has_text="Joined")).to_contain_text("3")
    # One person per role: no role is shown on its own (see test_workshop_room for more).
    expect(page.get_by_text("Left out of the per-role results", exact=False)).to_be_visible()
    heading = page.get_by_role("heading", name="Perception gaps: role × dimension")
    heading.scroll_into_view_if_needed()
    expect(heading).to_be_visible()
    assert page.get_by_test_id("stVegaLiteChart").count() >= 2  # no heatmap: roles too small
    expect(page.get_by_text("Ann", exact=True)).to_have_count(1)
    page.get_by_text("Reveal mode", exact=False).click()
    wait_idle(page)
    expect(page.get_by_text("Participant 1", exact=True)).to_have_count(1, timeout=10_000)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "workshop-dashboard.png"))
    assert_no_exception(page)


def test_wrong_key_shows_only_a_message(app_url: str, page: Any) -> None:
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/workshop?workshop=ABCD2345&key=nope")
    wait_idle(page)
    expect(page.get_by_text("This facilitator link is not valid", exact=False)).to_be_visible()
    assert page.get_by_test_id("stMetric").count() == 0
    page.goto(f"{app_url}/workshop?workshop=%3Cscript%3E")
    wait_idle(page)
    expect(page.get_by_text("That is not a workshop code", exact=False)).to_be_visible()
    assert_no_exception(page)
