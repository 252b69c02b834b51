"""Browser journey: a young cohort; the planner and Fill from my data say which deals they use."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_exception, upload_on_data_page, wait_idle

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "young_cohort.csv"
# Y-01 … Y-06 were created by 20 Apr 2025, 59 days before the last date (the won deals took
# 50, 59 and 51 days); the 8 deals created later are mostly open.
MATURED = "from Deals created up to 20 Apr 2025: 6 deals, 6 of them closed."


def test_planner_and_fill_from_data_name_the_deals_old_enough_to_have_closed(
    page: Page, app_url: str
) -> None:
    upload_on_data_page(page, app_url, EXPORT)

    page.get_by_test_id("stSidebarNav").get_by_text("Funnel", exact=True).click()
    wait_idle(page)
    page.get_by_text("Planner: make your number", exact=True).click()
    wait_idle(page)
    caption = page.get_by_text("Win rate and step rates from", exact=False)
    expect(caption).to_contain_text(f"Win rate and step rates {MATURED}")
    expect(caption).to_contain_text("Fewer than 20 closed deals: treat these rates as rough")
    win = page.get_by_label("Win rate (%)")
    expect(win).to_have_value("50.00")  # 3 won of the 6 matured deals (3 of 7 over all)

    page.get_by_test_id("stSidebarNav").get_by_text("Make your number", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Fill from my data").click()
    wait_idle(page)
    expect(page.get_by_text(f"Win rate {MATURED}", exact=False)).to_be_visible()
    assert_no_exception(page)
