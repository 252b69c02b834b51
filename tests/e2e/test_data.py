"""Browser journey: open the app, upload a Salesforce export, see the mapping and the report."""

from __future__ import annotations

from pathlib import Path

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
    # The mapping: the owner and amount columns were recognised.
    expect(page.get_by_role("combobox", name="Rep / owner")).to_have_value("Opportunity Owner")
    expect(page.get_by_role("combobox", name="Amount")).to_have_value("Amount")
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
