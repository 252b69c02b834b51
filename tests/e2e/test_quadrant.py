"""Rep quadrant in real Chromium: sample data → quadrant → min-deals change → CSV export, and an
upload with formula-looking rep names → an export that neutralises them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from diagnostics import quadrant as quad
from diagnostics.dataset import Filters
from diagnostics.sample import load_sample_dataset
from tests.e2e.conftest import assert_no_exception, wait_idle


def _metric_value(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_quadrant_min_deals_and_csv_export(app_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{app_url}/quadrant")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Rep quadrant")).to_be_visible()
    assert_no_exception(page)
    # The scatter is drawn (Vega renders into a canvas or svg inside the chart element).
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    expect(_metric_value(page, "Not enough data")).to_have_text(re.compile(r"^\d+$"))
    before = int(_metric_value(page, "Not enough data").inner_text().strip())

    # The sample has a rep with exactly 6 closed deals: asking for 7 takes them out.
    box = page.get_by_label("Minimum closed deals")
    box.fill("7")
    box.press("Enter")
    wait_idle(page)
    expect(_metric_value(page, "Not enough data")).to_have_text(str(before + 1))
    assert_no_exception(page)

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").click()
    target = tmp_path / "reps.csv"
    download.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Rep,Team,")
    # The export follows the new setting.
    assert sum(",Not enough data," in line for line in text.splitlines()) == before + 1


HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "hostile_names.csv"


def test_formula_looking_rep_names_are_neutralised_in_the_export(
    app_url: str, page: Any, tmp_path: Path
) -> None:
    page.goto(f"{app_url}/data")
    wait_idle(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(HOSTILE))
    expect(page.get_by_text("Using hostile_names.csv")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Rep quadrant", exact=True).click()
    wait_idle(page)
    page.get_by_role("heading", name="Rep quadrant").wait_for()
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").click()
    target = tmp_path / "reps.csv"
    download.value.save_as(target)
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert any(line.startswith("'=Dana Reyes,") for line in lines), lines
    assert any(line.startswith("'@SUM(A1),") for line in lines), lines
    assert not any(line.startswith(("=", "@", "+")) for line in lines[1:]), lines
    assert_no_exception(page)


def test_busy_reps_are_labelled_weak_only_on_evidence(app_url: str, page: Any) -> None:
    data = load_sample_dataset()
    result = quad.classify_reps(data, Filters(start=data.date_range()[0], end=data.as_of))
    counts = result.counts()
    line = result.thresholds.engagement
    assert line is not None
    busy_close = [r for r in result.reps
                  if r.quadrant == "too_close" and (r.engagement or 0) >= line]
    assert busy_close  # the sample has busy reps whose interval reaches the close-ratio line

    page.goto(f"{app_url}/quadrant")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Rep quadrant")).to_be_visible()
    # The rule is said on screen: the line, the confidence and the reps it allows for.
    compared = (f"allow for the number of reps compared ({result.rule.compared} reps, so each "
                f"interval is {result.rule.rep_confidence:.1%})")
    expect(page.get_by_text(compared, exact=False)).to_be_visible()
    expect(page.get_by_text("95% confidence for the team as a whole", exact=False)).to_be_visible()
    for key in ("needs_coaching", "too_close", "performance_plan", "star"):
        name = quad.content().quadrants[key].name
        expect(_metric_value(page, name)).to_have_text(str(counts[key]))
    page.get_by_test_id("stButtonGroup").get_by_text("Funnel plot", exact=True).click()
    wait_idle(page)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    assert_no_exception(page)
