"""Leadership model in real Chromium: answer the questions, see the recommendation and triangle."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, wait_idle

pytestmark = pytest.mark.e2e

FEDERATION = [
    "Strongly: they plan together and would share a budget",
    "Very little: no reporting-line changes for now",
    "A year or more",
    "Yes, and decisions made there stick",
]


def test_answer_questions_and_see_the_fit(app_url: str, page: Any) -> None:
    # Open the app once first: a deep link on a server that has not yet run app.py is served
    # without the router (Streamlit falls back to the pages/ folder until st.navigation runs).
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/leadership")
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Diagnose")).to_be_visible()
    expect(page.get_by_role("heading", name="Leadership model", exact=True)).to_be_visible()
    expect(page.get_by_text("this app's reading of the chapter", exact=False)).to_be_visible()
    expect(page.get_by_text("Answer at least one question to see how each model fits.")
           ).to_be_visible()

    for label in FEDERATION:
        page.get_by_text(label, exact=True).click()
        wait_idle(page)

    expect(page.get_by_role("heading", name="Best fit: Federation")).to_be_visible()
    charts = page.get_by_test_id("stVegaLiteChart")
    charts.nth(1).scroll_into_view_if_needed()
    expect(charts).to_have_count(2)  # fit bars and the triangle
    expect(charts.nth(1).locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_text("the fit would favour the", exact=False).first).to_be_visible()
    expect(page.get_by_role("heading", name="Risks the Federation must manage")).to_be_visible()
    assert_no_exception(page)

    # Answers survive a trip to another page.
    nav.get_by_role("link", name="Home").click()
    wait_idle(page)
    nav.get_by_role("link", name="Leadership model").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Best fit: Federation")).to_be_visible()
    assert_no_exception(page)
