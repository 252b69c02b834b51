"""Workshop journeys in Chromium: a small room stays private, N/A, the vote and the plan, a retake.

The facilitator and each participant use their own browser context, as on separate devices.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from diagnostics import workshop as ws
from tests.e2e.conftest import assert_no_exception, facilitator_key, wait_idle

pytestmark = pytest.mark.e2e
# Several browser contexts share two cores with the app server: give each check 15 s, not 5.
expect.set_options(timeout=15_000)

CONTENT = ws.load_content()
TOTAL = len(CONTENT.question_ids(ws.INSTRUMENTS))
FIRST, SECOND = CONTENT.statements[0], CONTENT.statements[1]
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def _create(page: Any, app_url: str, title: str) -> tuple[str, str]:
    page.goto(app_url)  # a first visit lets app.py install the router before deep links
    wait_idle(page)
    page.goto(f"{app_url}/workshop")
    wait_idle(page)
    page.get_by_label("Client").fill("Acme")
    page.get_by_label("Workshop title").fill(title)
    page.get_by_role("button", name="Create workshop").click()
    expect(page.get_by_text("Facilitator view", exact=False)).to_be_visible(timeout=15_000)
    wait_idle(page)
    query = parse_qs(urlsplit(page.url).query)
    return query["workshop"][0], facilitator_key(page)


def _join(context: Any, app_url: str, code: str, name: str, role: str) -> Any:
    p = context.new_page()
    p.goto(f"{app_url}/workshop?workshop={code}")
    wait_idle(p)
    p.get_by_label("Your name", exact=False).fill(name)
    p.get_by_test_id("stSelectbox").click()
    p.get_by_role("option", name=role, exact=True).click()
    p.get_by_role("button", name="Start answering").click()
    expect(p.get_by_text("You are answering as", exact=False)).to_be_visible(timeout=15_000)
    wait_idle(p)
    return p


def _rate(p: Any, question: str, option: str, answered: int) -> None:
    """Pick an option and wait until the progress bar counts it (the answer is saved)."""
    group = p.get_by_test_id("stRadio").filter(has_text=question)
    try:
        group.get_by_text(option, exact=True).click()
    except Exception:
        p.screenshot(path="/tmp/ws_rate_fail.png", full_page=True)
        raise
    expect(p.get_by_text(f"{answered} of {TOTAL} answered", exact=True)).to_be_visible(
        timeout=15_000)
    wait_idle(p)


def test_small_room_na_vote_and_plan(app_url: str, page: Any, browser: Any) -> None:
    code, key = _create(page, app_url, "Small room")
    contexts = [browser.new_context(), browser.new_context(user_agent=PHONE,
                                                           viewport={"width": 390, "height": 844})]
    try:
        ann = _join(contexts[0], app_url, code, "Ann", "Sales team")
        _rate(ann, FIRST.text, FIRST.level_text(4), 1)
        _rate(ann, SECOND.text, ws.NOT_APPLICABLE_LABEL, 2)
        # On a phone the questions come one dimension at a time, with progress per section.
        bob = _join(contexts[1], app_url, code, "Bob", "Marketing")
        expect(bob.get_by_text(re.compile(r"Section 1 of \d+ · 0 of \d+ answered here"))
               ).to_be_visible()
        _rate(bob, FIRST.text, FIRST.level_text(2), 1)
        expect(bob.get_by_text(re.compile(r"Section 1 of \d+ · 1 of \d+ answered here"))
               ).to_be_visible()
        bob.get_by_role("button", name="Next section").click()
        wait_idle(bob)
        expect(bob.get_by_text(re.compile(r"Section 2 of \d+"))).to_be_visible()
        # The vote: the lowest-rated statement's action is offered; Ann picks it.
        action = ann.get_by_test_id("stCheckbox").filter(has_text=FIRST.action)
        action.click()
        expect(ann.get_by_text(f"You chose 1 of {ws.MAX_VOTES}", exact=False)).to_be_visible(
            timeout=15_000)
        assert_no_exception(ann)
        assert_no_exception(bob)
    finally:
        for context in contexts:
            context.close()

    # Two people, one per role: nothing by role, and the dashboard says why.
    expect(page.get_by_test_id("stMetric").filter(has_text="Responses")).to_contain_text(
        "2", timeout=15_000)
    expect(page.get_by_text("Left out of the per-role results", exact=False)).to_be_visible()
    expect(page.get_by_text("No role has 3 or more people who answered yet", exact=False)
           ).to_be_visible()
    expect(page.get_by_text("rests on 2 people's answers", exact=False)).to_be_visible()
    expect(page.get_by_text("· lowest:", exact=False)).to_have_count(0)
    expect(page.get_by_role("heading", name="Verdict by role")).to_have_count(0)
    expect(page.get_by_text(f"2 of {TOTAL} (1 not applicable)", exact=True)).to_have_count(1)

    # The plan: the voted action, an owner and a due date.
    page.get_by_role("heading", name="Make the plan").scroll_into_view_if_needed()
    page.get_by_role("button", name="Refresh the actions and votes").click()
    wait_idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Add to the plan")
    expect(form.get_by_role("combobox", name="Action")).to_have_value(
        f"{FIRST.action} (1 vote)", timeout=15_000)
    form.get_by_label("Owner").fill("Dana")
    for part, value in (("year", "2027"), ("month", "03"), ("day", "31")):
        form.get_by_role("spinbutton", name=f"{part}, Due").click()
        page.keyboard.type(value)
    form.get_by_role("button", name="Add to the plan").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"owner Dana · due 2027-03-31 · 1 vote"))).to_be_visible(
        timeout=15_000)
    assert_no_exception(page)


def test_retake_against_a_baseline(app_url: str, page: Any, browser: Any) -> None:
    first_code, first_key = _create(page, app_url, "Spring")
    context = browser.new_context()
    try:
        ann = _join(context, app_url, first_code, "Ann", "Finance")
        _rate(ann, FIRST.text, FIRST.level_text(2), 1)
    finally:
        context.close()
    code, key = _create(page, app_url, "Autumn")
    context = browser.new_context()
    try:
        ann = _join(context, app_url, code, "Ann", "Finance")
        _rate(ann, FIRST.text, FIRST.level_text(4), 1)
    finally:
        context.close()
    page.get_by_text("A retake? Link this workshop to an earlier one").click()
    page.get_by_label("Earlier workshop's code").fill(first_code)
    page.get_by_label("Its facilitator key").fill(first_key)
    page.get_by_role("button", name="Link as baseline").click()
    wait_idle(page)
    heading = page.get_by_role("heading", name=re.compile(r"Change since Spring"))
    expect(heading).to_be_visible(timeout=15_000)
    change = page.get_by_test_id("stDataFrame").filter(has_text="Then")
    expect(change.first).to_be_visible()
    expect(page.get_by_text("No role was large enough in both workshops", exact=False)
           ).to_be_visible()
    assert_no_exception(page)


def test_a_participant_changes_their_own_role(app_url: str, page: Any, browser: Any) -> None:
    code, _ = _create(page, app_url, "Wrong role")
    context = browser.new_context()
    try:
        dee = _join(context, app_url, code, "Dee", "Marketing")
        _rate(dee, FIRST.text, FIRST.level_text(4), 1)
        dee.get_by_text("Picked the wrong role? Change it here").click()
        change = dee.get_by_test_id("stExpander").filter(has_text="Change my role")
        change.get_by_test_id("stSelectbox").click()
        dee.get_by_role("option", name="Sales team", exact=True).click()
        change.get_by_role("button", name="Change my role").click()
        wait_idle(dee)
        expect(dee.get_by_text("Your role is now Sales team", exact=False)).to_be_visible()
        expect(dee.get_by_text("You are answering as Dee (Sales team)", exact=False)
               ).to_be_visible()
        expect(dee.get_by_text(f"1 of {TOTAL} answered", exact=True)).to_be_visible()  # kept
        assert_no_exception(dee)
    finally:
        context.close()
    expect(page.get_by_text("1 role change by participants themselves", exact=False)
           ).to_be_visible(timeout=15_000)
    progress = page.get_by_test_id("stDataFrame").first
    expect(progress).to_be_visible()
    assert_no_exception(page)
