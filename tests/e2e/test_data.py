"""Browser journey: open the app, upload a Salesforce export, see the mapping and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_exception, wait_idle

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_home_lists_every_page(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    for label in ("Home", "Make your number", "Leadership model", "Data", "Funnel",
                  "Rep quadrant", "Workshop"):
        expect(nav.get_by_text(label, exact=True)).to_be_visible()
    assert_no_exception(page)


def test_upload_salesforce_export_shows_mapping_and_validation(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/data")
    wait_idle(page)
    expect(page.get_by_text("bundled sample", exact=False).first).to_be_visible()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(SAMPLE / "salesforce_opportunities.csv"))
    expect(page.get_by_text("Using salesforce_opportunities.csv")).to_be_visible(timeout=30_000)
    wait_idle(page)
    # How the file was read shows at once; the mapping's widgets are one click away.
    expect(page.get_by_text("Rep / owner ← “Opportunity Owner”", exact=False)).to_be_visible()
    page.get_by_text("Change the columns or value formats", exact=False).click()
    wait_idle(page)
    # The mapping: the owner and amount columns were recognised.
    expect(page.get_by_role("combobox", name="Rep / owner")).to_have_value("Opportunity Owner")
    expect(page.get_by_role("combobox", name="Amount", exact=True)).to_have_value("Amount")
    # The validation summary.
    expect(page.get_by_text("Rows read")).to_be_visible()
    expect(page.get_by_text("Every row was read")).to_be_visible()
    expect(page.get_by_text("Stages", exact=True)).to_be_visible()
    assert_no_exception(page)


def test_binary_upload_gets_a_plain_message(page: Page, app_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_bytes(b"\x00\x01\x02\x03" * 1000)
    page.goto(f"{app_url}/data")
    wait_idle(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(bad))
    expect(page.get_by_text("looks like a binary file")).to_be_visible(timeout=30_000)
    assert_no_exception(page)


def _choose(page: Page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(path))


def _in_use(page: Page, name: str) -> Any:
    return page.get_by_test_id("stText").filter(has_text=f"{name} — ")


def test_a_new_upload_replaces_the_data_and_its_cross_removes_it(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    a, b = tmp_path / "deals_a.csv", tmp_path / "deals_b.csv"
    a.write_text("Opportunity ID,Stage,Amount,Opportunity Owner\nA-1,Closed Won,100,Ann\n"
                 "A-2,Demo,50,Ann\n")
    b.write_text("Opportunity ID,Stage,Amount,Opportunity Owner\nB-1,Closed Won,70,Bo\n"
                 "B-2,Proposal,20,Bo\n")
    page.goto(f"{app_url}/data")
    wait_idle(page)
    _choose(page, a)
    expect(_in_use(page, "deals_a.csv")).to_be_visible(timeout=30_000)
    # Leave for the Funnel page and come back: the file in use is still listed.
    page.get_by_test_id("stSidebarNav").get_by_text("Funnel", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Funnel").first).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_text("Data", exact=True).click()
    wait_idle(page)
    expect(_in_use(page, "deals_a.csv")).to_be_visible()
    _choose(page, b)
    expect(_in_use(page, "deals_b.csv")).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(_in_use(page, "deals_a.csv")).to_have_count(0)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("deals_b.csv", exact=False)).to_be_visible()
    expect(sidebar.get_by_text("deals_a.csv", exact=False)).to_have_count(0)
    # ✕ on B: its data is gone, and the pages are back on the bundled sample.
    page.locator(".st-key-remove_file_0").get_by_role("button", name="✕").click()
    wait_idle(page)
    expect(_in_use(page, "deals_b.csv")).to_have_count(0)
    expect(sidebar.get_by_text("bundled sample", exact=False)).to_be_visible()
    assert_no_exception(page)


def test_an_export_with_two_pipelines_reads_one_and_switches(page: Page, app_url: str) -> None:
    export = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / \
        "hubspot_two_pipelines.csv"
    page.goto(f"{app_url}/data")
    wait_idle(page)
    _choose(page, export)
    expect(page.get_by_text("the 22 deals of Renewals (20), (no pipeline) (2) are left out",
                            exact=False)).to_be_visible(timeout=30_000)
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("pipeline Sales Pipeline", exact=False)).to_be_visible()
    picker = page.get_by_role("combobox", name="Pipeline read as the funnel")
    expect(picker).to_have_value("Sales Pipeline (36 deals)")
    # Typed, not picked from the list: a rerun right after an upload can close an open list.
    picker.click()
    picker.press_sequentially("Renewals")
    expect(page.get_by_role("option", name="Renewals (20 deals)")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text("the 38 deals of Sales Pipeline (36), (no pipeline) (2) are left out",
                            exact=False)).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(sidebar.get_by_text("pipeline Renewals", exact=False)).to_be_visible()
    expect(page.get_by_text("Renewal due → Negotiating renewal", exact=False)).to_be_visible()
    assert_no_exception(page)


def test_an_amount_column_mixing_currencies_keeps_one_and_switches(
    page: Page, app_url: str
) -> None:
    export = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / \
        "european_mixed_currencies.csv"
    page.goto(f"{app_url}/data")
    wait_idle(page)
    _choose(page, export)
    expect(page.get_by_text("“Amount” holds amounts in 3 currencies", exact=False)
           ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("only the EUR amounts are used", exact=False)).to_be_visible()
    wait_idle(page)
    picker = page.get_by_role("combobox", name="Currency kept for “Amount”")
    expect(picker).to_have_value("EUR, 10 amounts (€)")
    # Typed, not picked from the list: a rerun right after an upload can close an open list.
    picker.click()
    picker.press_sequentially("USD")
    expect(page.get_by_role("option", name="USD, 3 amounts ($, USD)")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text("only the USD amounts are used", exact=False)
           ).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(picker).to_have_value("USD, 3 amounts ($, USD)")
    assert_no_exception(page)


def test_a_currency_column_splits_the_amounts_and_switches(page: Page, app_url: str) -> None:
    export = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / \
        "pipedrive_currencies.csv"
    page.goto(f"{app_url}/data")
    wait_idle(page)
    _choose(page, export)
    expect(page.get_by_text("“Deal - Value” holds amounts in 2 currencies", exact=False)
           ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("per “Deal - Currency”", exact=False)).to_be_visible()
    wait_idle(page)
    # The label is Markdown: its accessible name keeps the escape of the "-" (“Deal \- Value”).
    picker = page.get_by_role("combobox", name="Currency kept for “Deal")
    expect(picker).to_have_value("EUR, 8 amounts (from “Deal - Currency”)")
    picker.click()
    picker.press_sequentially("USD")
    expect(page.get_by_role("option", name="USD, 4 amounts (from “Deal - Currency”)")
           ).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text("only the USD amounts are used", exact=False)
           ).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(picker).to_have_value("USD, 4 amounts (from “Deal - Currency”)")
    assert_no_exception(page)
