"""Browser journey: answer the questionnaire, see the verdict, reopen the share link, print."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from diagnostics.questionnaire import load_bank
from tests.e2e.conftest import assert_no_exception, wait_idle

BANK = load_bank()


def _verdict(page: Any) -> str:
    alert = page.locator("[data-testid='stAlert']").filter(has_text="to make the number")
    alert.first.wait_for(timeout=30_000)
    text: str = alert.first.inner_text()
    return text


def test_answer_share_and_print(app_url: str, page: Any, tmp_path: Path) -> None:
    answers = {"role": "cro", "answers": {q.id: 3 for q in BANK.questions}}
    file = tmp_path / "answers.json"
    file.write_text(json.dumps(answers), encoding="utf-8")

    page.goto(f"{app_url}/make_your_number")
    wait_idle(page)
    assert page.get_by_role("heading", name="Make your number").first.is_visible()
    assert page.get_by_text("No statement is answered yet").is_visible()

    # Quick fill from an answers file, then change one statement by clicking its radio.
    page.get_by_text("Load answers or your own question bank").click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Load an answers file")
    with page.expect_file_chooser() as chooser:
        uploader.get_by_test_id("stFileUploaderDropzone").click()
    chooser.value.set_files(str(file))
    wait_idle(page)
    assert "score 50/100" in _verdict(page)

    first = BANK.questions[0]
    page.get_by_text(f"5 · {first.levels[4]}").click()
    wait_idle(page)
    verdict = _verdict(page)
    assert re.search(r"At risk to make the number · score 5[1-9]/100", verdict), verdict
    assert_no_exception(page)

    # The address bar now carries the answers: a fresh session restores the same verdict.
    page.wait_for_function("() => window.location.search.includes('myn=')")
    link = page.url
    other = page.context.browser.new_page()
    other.goto(link)
    wait_idle(other)
    assert other.get_by_text("Answers restored from the share link.").is_visible()
    assert _verdict(other) == verdict
    assert_no_exception(other)
    other.close()

    with page.expect_download() as html_download:
        page.get_by_role("button", name="Printable report (HTML)").click()
    html_text = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert "At risk to make the number" in html_text and "<script" not in html_text

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Report (PDF)").click()
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF-")
    assert html_download.value.suggested_filename == "make-your-number-report.html"
