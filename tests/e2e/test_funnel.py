"""Browser journey: upload a HubSpot export, read its funnel and breakage, change a filter."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import assert_no_exception, upload_on_data_page, wait_idle

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _metric(page: Page, label: str) -> Locator:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue")


def test_uploaded_hubspot_export_drives_the_funnel(page: Page, app_url: str) -> None:
    upload_on_data_page(page, app_url, SAMPLE / "hubspot_deals.csv")

    # Same session: go through the app's navigation, not a new page load.
    page.get_by_test_id("stSidebarNav").get_by_text("Funnel", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Funnel").first).to_be_visible()
    expect(page.get_by_text("Data: hubspot_deals.csv", exact=False).first).to_be_visible()
    rule_line = page.get_by_text("Every number on this page:", exact=False)
    expect(rule_line).to_contain_text("Counting rule: furthest stage reached.")
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    breakage = page.get_by_text("Where it breaks:", exact=False)
    expect(breakage).to_be_visible()
    # The default reference, the team's own best quarter, sees the weakness the whole team
    # shares; the weakest step is named beside it in plain words.
    expect(breakage).to_contain_text(
        "Demo → Trial loses 173 more deals than the team's own best quarter would "
        "(50% converting instead of 56%)")
    expect(breakage).to_contain_text(
        "Weakest step: Demo → Trial. Of the 3,078 deals that reach Demo, 50% get to Trial")
    counts = [_metric(page, label) for label in ("Won", "Lost", "Open")]
    for count in counts:
        expect(count).to_have_text(re.compile(r"^[\d,]+$"))
    expect(counts[2]).not_to_have_text("0")
    before = [count.inner_text() for count in counts]  # settled: each read a number above

    page.get_by_text("Closed in period", exact=True).click()
    wait_idle(page)
    expect(rule_line).to_contain_text("Cohort: Deals won or lost")
    # Over the whole range the same deals closed; "Open" is the pipeline open today, not 0.
    for label, value in zip(("Won", "Lost", "Open"), before, strict=True):
        expect(_metric(page, label)).to_have_text(value)

    # Against the best quartile of reps the headline names another step (a spread between
    # reps), and the weakest step stays in view beside it.
    page.get_by_text("Where it breaks", exact=True).click()
    wait_idle(page)
    page.get_by_text("the team's best quartile of reps", exact=True).click()
    wait_idle(page)
    expect(breakage).to_contain_text("than the team's best quartile of reps would")
    expect(breakage).not_to_contain_text("Demo → Trial loses")
    expect(breakage).to_contain_text("Weakest step: Demo → Trial.")
    assert_no_exception(page)


def test_planner_reads_a_share_as_a_percent_and_what_if_moves_its_verdict(
    page: Page, app_url: str
) -> None:
    page.goto(f"{app_url}/funnel")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Funnel").first).to_be_visible()
    page.get_by_text("Planner: make your number", exact=True).click()
    wait_idle(page)
    win = page.get_by_label("Win rate (%)", exact=True)
    expect(win).to_have_value(re.compile(r"^\d+(\.\d+)?$"))
    # A win rate typed as 0.25 is read as 25%, and the page says so.
    win.fill("0.25")
    win.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Read 0.25 as 25%", exact=False).first).to_be_visible()
    # The what-if verdict follows its slider: 50% bigger deals change the line beside it.
    change = page.get_by_text("With this change —", exact=False)
    expect(change).to_be_visible()
    before = change.inner_text()
    thumb = page.get_by_role("slider", name="Deal size up (%)")
    thumb.focus()
    thumb.press("End")
    wait_idle(page)
    expect(change).not_to_have_text(before)
    assert_no_exception(page)
