"""The projected dashboard in Chromium: no key in the address bar, the bookmark still opens it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from diagnostics import workshop as ws
from tests.e2e.conftest import assert_no_exception, facilitator_key, wait_idle

pytestmark = pytest.mark.e2e
expect.set_options(timeout=15_000)


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_the_dashboard_address_holds_no_key_and_the_bookmark_opens_it(
    app_url: str, page: Any, browser: Any
) -> None:
    page.goto(app_url)  # a first visit lets app.py install the router before deep links
    wait_idle(page)
    page.goto(f"{app_url}/workshop")
    wait_idle(page)
    page.get_by_label("Client").fill("Acme")
    page.get_by_label("Workshop title").fill("Projector")
    page.get_by_role("button", name="Create workshop").click()
    wait_idle(page)
    expect(page.get_by_text("Facilitator view", exact=False)).to_be_visible()
    query = _query(page)
    code = query["workshop"][0]
    assert "key" not in query and query["view"] == [ws.FACILITATOR_VIEW], page.url
    key = facilitator_key(page)
    assert "key=" not in page.url and key not in page.url
    # Reveal mode, for the projector: the private link is gone from the page too.
    page.get_by_text("Reveal mode: hide names").click()
    wait_idle(page)
    expect(page.get_by_test_id("stCode").filter(has_text="key=")).to_have_count(0)
    # A reload is a new session: this browser still holds the key, the address still does not.
    page.reload()
    wait_idle(page)
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Joined")).to_be_visible()
    assert "key=" not in page.url

    # Another browser with the keyless address sees no dashboard; with the bookmark it does, and
    # its address bar drops the key at once.
    other = browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(app_url)
        wait_idle(stranger)
        stranger.goto(f"{app_url}{ws.dashboard_path(code)}")
        wait_idle(stranger)
        expect(stranger.get_by_text("needs its facilitator key", exact=False)).to_be_visible()
        expect(stranger.get_by_test_id("stMetric")).to_have_count(0)
        stranger.goto(f"{app_url}{ws.facilitator_path(code, key)}")
        wait_idle(stranger)
        expect(stranger.get_by_test_id("stMetricLabel").get_by_text("Joined")).to_be_visible()
        expect(stranger).to_have_url(f"{app_url}{ws.dashboard_path(code)}")
        assert_no_exception(stranger)
    finally:
        other.close()
    assert_no_exception(page)
