"""Rep quadrant in real Chromium: sample data → quadrant → min-deals change → safe CSV export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, wait_idle


def _metric_value(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_quadrant_min_deals_and_csv_export(app_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{app_url}/quadrant")
    wait_idle(page)
    page.get_by_role("heading", name="Rep quadrant").wait_for()
    assert_no_exception(page)
    # The scatter is drawn (Vega renders into a canvas or svg inside the chart element).
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    before = int(_metric_value(page, "Not enough data").inner_text().strip())

    # The sample has a rep with exactly 6 closed deals: asking for 7 takes them out.
    box = page.get_by_label("Minimum closed deals")
    box.fill("7")
    box.press("Enter")
    # The rerun may start a moment after Enter: wait for the count, not just for idleness.
    expect(_metric_value(page, "Not enough data")).to_have_text(str(before + 1))
    wait_idle(page)
    assert_no_exception(page)

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").click()
    target = tmp_path / "reps.csv"
    download.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Rep,Team,")
    rows = [line for line in text.splitlines() if "Dana Reyes" in line]
    assert rows and rows[0].startswith("'=Dana Reyes,"), rows
    # The export follows the new setting.
    assert sum(",Not enough data," in line for line in text.splitlines()) == before + 1
