"""Workshop in real Chromium: a facilitator and three participants in separate browser contexts."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from diagnostics import workshop as ws
from tests.e2e.conftest import assert_no_exception, facilitator_key, wait_idle

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


@dataclass
class Room:
    """A workshop created in one browser context and joined from three others."""

    facilitator: Any
    contexts: list[Any]
    participants: list[Any]
    code: str
    key: str
    progress: str  # the progress line once everyone has answered the first two statements


def _create_workshop(app_url: str, page: Any) -> tuple[str, str]:
    # A first visit lets app.py install the router before deep links are used.
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/workshop")
    wait_idle(page)
    page.get_by_label("Client").fill("Acme")
    page.get_by_label("Workshop title").fill("Kick-off")
    page.get_by_role("button", name="Create workshop").click()
    wait_idle(page)
    expect(page.get_by_text("Facilitator view", exact=False)).to_be_visible()
    query = parse_qs(urlsplit(page.url).query)
    return query["workshop"][0], facilitator_key(page)


def _join(context: Any, app_url: str, code: str) -> Any:
    p = context.new_page()
    p.goto(f"{app_url}/workshop?workshop={code}")
    wait_idle(p)
    return p


@pytest.fixture(scope="module")
def room(app_url: str, browser: Any) -> Iterator[Room]:
    """Create a workshop; three people join (everyone opens the link before anyone answers)
    and answer the first two statements."""
    content = ws.load_content()
    first, second = content.statements[0], content.statements[1]
    progress = f"2 of {len(content.statements) + len(content.choices)} answered"
    host = browser.new_context()
    contexts = [browser.new_context() for _ in ROOM]
    try:
        facilitator = host.new_page()
        code, key = _create_workshop(app_url, facilitator)
        participants = [_join(context, app_url, code) for context in contexts]
        for p, (name, role, _) in zip(participants, ROOM, strict=True):
            p.get_by_label("Your name", exact=False).fill(name)
            p.get_by_test_id("stSelectbox").click()
            p.get_by_role("option", name=role, exact=True).click()
            p.get_by_role("button", name="Start answering").click()
            wait_idle(p)
            expect(p.get_by_text("You are answering as", exact=False)).to_be_visible()
        for p, (_, _, level) in zip(participants, ROOM, strict=True):
            _radio(p, first.text, first.level_text(level), progress.replace("2 of", "1 of"))
        for p in participants:
            _radio(p, second.text, second.level_text(3), progress)
        yield Room(facilitator, contexts, participants, code, key, progress)
    finally:
        for context in [host, *contexts]:
            context.close()


def test_facilitator_link_carries_a_code_a_key_and_a_qr_code(room: Room) -> None:
    assert ws.normalise_code(room.code) == room.code and len(room.key) >= 32
    expect(room.facilitator.get_by_text("Scan to join")).to_be_visible()  # the QR code's caption
    expect(room.facilitator.locator("img[src*='/media/']")).to_have_count(1)


def test_each_participant_joins_with_their_own_link_and_sees_answers_saved(room: Room) -> None:
    for p in room.participants:
        assert "p=" in p.url
        expect(p.get_by_text(room.progress)).to_be_visible()
        assert_no_exception(p)


def test_an_answer_is_confirmed_at_once_and_a_new_session_reads_it(room: Room) -> None:
    """A click reruns only its question, which updates the counts and names the saved answer
    above the questions; the answer is in the store by then, so a new session shows it."""
    p = room.participants[2]
    third = ws.load_content().statements[2]
    _radio(p, third.text, third.level_text(4), room.progress.replace("2 of", "3 of"))
    expect(p.get_by_text(f"Saved: “{third.text}” → {third.level_text(4)}", exact=True)
           ).to_be_visible()
    assert_no_exception(p)
    again = room.contexts[2].new_page()
    again.goto(p.url)
    wait_idle(again)
    group = again.get_by_test_id("stRadio").filter(has_text=third.text)
    expect(group.get_by_role("radio", name=third.level_text(4))).to_be_checked()
    expect(again.get_by_text(room.progress.replace("2 of", "3 of"), exact=True)).to_be_visible()
    again.close()


def test_closing_the_tab_and_reopening_the_link_resumes(room: Room) -> None:
    resume_url = room.participants[0].url
    room.participants[0].close()
    again = room.contexts[0].new_page()
    again.goto(resume_url)
    wait_idle(again)
    expect(again.get_by_text("You are answering as Ann", exact=False)).to_be_visible()
    expect(again.get_by_text(room.progress)).to_be_visible()


def test_scanning_the_plain_link_again_on_the_same_device_resumes(room: Room, app_url: str) -> None:
    room.participants[1].close()
    rescanned = _join(room.contexts[1], app_url, room.code)
    expect(rescanned.get_by_text("You are answering as Bob", exact=False)).to_be_visible()
    expect(rescanned.get_by_text(room.progress)).to_be_visible()


def test_dashboard_counts_the_room_and_keeps_single_roles_out(room: Room) -> None:
    page = room.facilitator
    # The dashboard refreshes on its own (every 3 s): no reload here.
    responses = page.get_by_test_id("stMetric").filter(has_text="Responses")
    expect(responses).to_contain_text("3")
    expect(page.get_by_test_id("stMetric").filter(has_text="Joined")).to_contain_text("3")
    # One person per role: no role is shown on its own (see test_workshop_room for more).
    expect(page.get_by_text("Left out of the per-role results", exact=False)).to_be_visible()
    heading = page.get_by_role("heading", name="Perception gaps: role × dimension")
    heading.scroll_into_view_if_needed()
    expect(heading).to_be_visible()
    assert page.get_by_test_id("stVegaLiteChart").count() >= 2  # no heatmap: roles too small
    expect(page.get_by_text("Ann", exact=True)).to_have_count(1)
    assert_no_exception(page)


def test_participant_table_offers_no_live_formula_download(room: Room) -> None:
    """The toolbar of the participant table has no "Download as CSV" (formulas would be live)."""
    page = room.facilitator
    table = page.get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()
    table.hover()
    # Hovering shows the table's own toolbar (its search button) but no CSV download.
    expect(page.get_by_role("button", name=re.compile("^Search")).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Download as CSV"))).to_have_count(0)
    expect(page.get_by_role("button", name="Responses (CSV)")).to_be_visible()  # the safe one


def test_reveal_mode_shows_participants_without_names(room: Room) -> None:
    page = room.facilitator
    page.get_by_text("Reveal mode", exact=False).click()
    wait_idle(page)
    expect(page.get_by_text("Participant 1", exact=True)).to_have_count(1)
    expect(page.get_by_text("Ann", exact=True)).to_have_count(0)
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "workshop-dashboard.png"))
    assert_no_exception(page)


def test_wrong_key_shows_only_a_message(app_url: str, page: Any) -> None:
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/workshop?workshop=ABCD2345&key=nope")
    wait_idle(page)
    expect(page.get_by_text("This facilitator link is not valid", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    page.goto(f"{app_url}/workshop?workshop=%3Cscript%3E")
    wait_idle(page)
    expect(page.get_by_text("That is not a workshop code", exact=False)).to_be_visible()
    assert_no_exception(page)
