"""Browser journey: a HubSpot export on the Data page, then its forecast, target and backtest."""

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


def test_forecast_of_an_uploaded_export_with_its_odds_and_record(page: Page, app_url: str) -> None:
    upload_on_data_page(page, app_url, SAMPLE / "hubspot_deals.csv")

    page.get_by_test_id("stSidebarNav").get_by_text("Forecast", exact=True).click()
    wait_idle(page, 60_000)
    expect(page.get_by_role("heading", name="Forecast").first).to_be_visible()
    expect(page.get_by_text("Data: hubspot_deals.csv", exact=False).first).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    expect(_metric(page, "Closed so far")).to_have_text("0")
    expect(_metric(page, "Chance of the target")).to_have_text(re.compile(r"^\d+%$"))
    # The "Date entered" columns are a stage history: the stage table has every open stage.
    expect(page.get_by_text("Where it comes from")).to_be_visible()
    expect(page.get_by_text("How good this forecast has been on your data")).to_be_visible()
    expect(_metric(page, "Mean absolute percentage error")).to_have_text(re.compile(r"%$"))

    target = page.get_by_label("Target", exact=True)
    target.fill("50000000")
    target.press("Enter")
    wait_idle(page)
    expect(_metric(page, "Chance of the target")).to_have_text("0%")
    expect(page.get_by_text("Any one of these would close it", exact=False)).to_be_visible()

    page.get_by_text("How this forecast works, and what it assumes").click()
    expect(page.get_by_text("What history says.", exact=False)).to_be_visible()
    expect(page.get_by_text("from entering that stage", exact=False)).to_be_visible()
    assert_no_exception(page)
