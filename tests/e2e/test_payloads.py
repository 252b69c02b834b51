"""Markdown and HTML in an upload show as plain text in Chromium; nothing is fetched from outside.

One export carries payloads in its file name, stage and rep names and an unreadable amount; the
test walks every page and view with it, records every request the browser makes and checks that
none leaves the app's origin, that no payload became an image, a link or a tag, and that the names
read as typed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, expect

from tests.e2e.conftest import assert_no_exception, wait_idle

IMAGE = "![x](http://evil.example/x.png)"
LINK = "[click](http://evil.example/)"
BOLD = "**bold** rep"
HTML = "<img src=http://evil.example/i.png><b>tag</b>"
HEADING = "# Heading rep"
# The top stage: without stage history the planner keeps only it and the won deal.
STAGE = f"Lead {IMAGE}"
BAD_AMOUNT = "![a](http://evil.example/a.png)"
# A file name cannot hold "/": this image and tag would fetch from the app's own address, which the
# check for live images below catches.
FILE = "deals ![f](evil.example.png) <img src=evil.example.gif>.csv"
REPS = [LINK, BOLD, HTML, HEADING]
# Nothing on any page may become one of these.
LIVE = ["img[src*='evil.example']", "a[href*='evil.example']",
        "[data-testid='stMarkdownContainer'] b:text-is('tag')",
        "[data-testid='stMarkdownContainer'] strong:text-is('bold')",
        "[data-testid='stMarkdownContainer'] h1:text-is('Heading rep')"]


def _as_typed(text: str) -> re.Pattern[str]:
    """Match ``text`` as shown: the app may put an invisible word joiner after http, www and @."""
    return re.compile(re.sub(r"(https?|www|@)", "\\1\u2060?", re.escape(text)))


def _export(path: Path) -> Path:
    lines = ["Opportunity ID,Stage,Amount,Created Date,Close Date,Owner,Probability"]
    stages = [(STAGE, "10"), ("Demo", "40"), ("Closed Won", "100"), ("Closed Lost", "0")]
    for i in range(40):
        stage, probability = stages[i % 4]
        closed = "2026-03-01" if stage.startswith("Closed") else ""
        amount = BAD_AMOUNT if i == 5 else str(1000 + i)
        cells = [f"O{i}", stage, amount, f"2026-01-{1 + i % 28:02d}", closed,
                 REPS[i % len(REPS)], probability]
        lines.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _nothing_live(page: Page) -> None:
    assert_no_exception(page)
    for selector in LIVE:
        expect(page.locator(selector)).to_have_count(0)


def _go(page: Page, nav_label: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(nav_label, exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    # The sidebar names the data in use, as typed.
    expect(page.get_by_test_id("stSidebar").get_by_text(_as_typed(f"Data: {FILE}"))).to_be_visible()
    _nothing_live(page)


def test_payload_names_show_as_text_and_nothing_leaves_the_app(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    origin = urlsplit(app_url).netloc
    outside: list[str] = []

    def record(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob") and parts.netloc != origin:
            outside.append(request.url)

    page.on("request", record)
    page.goto(f"{app_url}/data")
    wait_idle(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(_export(tmp_path / FILE)))
    expect(page.get_by_text(_as_typed(f"Using {FILE}"))).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(page.get_by_text(_as_typed(f"“{BAD_AMOUNT}”")).first).to_be_visible()
    _nothing_live(page)

    _go(page, "Funnel", "Funnel")
    # The chart's description reaches screen readers as its label (Vega-Embed sets aria-label on
    # the chart's element, role graphics-document), the stage named as typed.
    chart = page.locator("[data-testid='stVegaLiteChart'][aria-label^='Funnel: ']")
    expect(chart).to_have_count(1)
    assert f"reached {STAGE} (" in (chart.get_attribute("aria-label") or "")
    for view in ("Where it breaks", "Reps", "Planner: make your number"):
        page.get_by_test_id("stRadio").get_by_text(view, exact=True).click()
        wait_idle(page)
        _nothing_live(page)
    markdown = page.get_by_test_id("stMarkdownContainer")
    expect(markdown.get_by_text(_as_typed(STAGE)).first).to_be_visible()  # the planner's steps

    _go(page, "Rep quadrant", "Rep quadrant")
    for view in ("Funnel plot", "Movement", "Rep drill-down"):
        page.get_by_test_id("stButtonGroup").get_by_text(view, exact=True).click()
        wait_idle(page)
        _nothing_live(page)
    expect(markdown.get_by_text(_as_typed(HEADING)).first).to_be_visible()  # the drill-down's rep

    _go(page, "Forecast", "Forecast")
    _go(page, "Make your number", "Make your number")
    _go(page, "Leadership model", "Leadership model")
    _go(page, "Workshop", "Workshop")
    _go(page, "Home", "Make Your Number")
    assert outside == [], sorted(set(outside))
