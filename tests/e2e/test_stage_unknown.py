"""Browser journey: an export whose lost deals carry only "Closed Lost" (no stage evidence)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_exception, upload_on_data_page, wait_idle

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "salesforce_closed_lost.csv"


def test_lost_deals_without_stage_evidence_are_shown_apart_and_blame_no_step(
    page: Page, app_url: str
) -> None:
    upload_on_data_page(page, app_url, EXPORT)

    page.get_by_test_id("stSidebarNav").get_by_text("Funnel", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Funnel").first).to_be_visible()
    # The 4 lost deals count in the totals, in a row of their own, at no step.
    expect(page.get_by_text("Lost, stage unknown: 4 lost deals", exact=False)).to_be_visible()
    # The funnel's table: the lost deals of unknown stage in a row of their own, 4 "Lost here".
    table = page.get_by_test_id("stTable").first
    row = table.locator("tr").filter(has_text="Lost, stage unknown")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(6)).to_have_text("4")  # "Lost here"
    # 3 of the 4 deals at Proposal/Price Quote won: a rate on few deals, given with its counts.
    proposal = table.locator("tr").filter(has_text="Proposal/Price Quote")
    expect(proposal.locator("td").nth(3)).to_have_text("3 of 4 · few deals")  # "Step rests on"
    expect(page.get_by_text("Few deals behind these step rates: Proposal/Price Quote → Won 3 of "
                            "4 (75%).", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    # "Where it breaks" says what it cannot tell and which data would tell it; no step named.
    breakage = page.get_by_text("Where it breaks:", exact=False)
    expect(breakage).to_contain_text("This data cannot tell where deals are lost: only 0 of 4")
    expect(breakage).to_contain_text("stage history")
    expect(breakage).not_to_contain_text("→")
    page.get_by_text("Where it breaks", exact=True).click()
    wait_idle(page)
    expect(breakage).to_contain_text("This data cannot tell where deals are lost")
    expect(breakage).not_to_contain_text("→")
    assert_no_exception(page)
