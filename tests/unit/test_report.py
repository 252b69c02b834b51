"""Printable reports: escaped self-contained HTML and a one-page PDF."""

from __future__ import annotations

import datetime as dt
import html
import re
import zlib

import pytest

from diagnostics.questionnaire import load_bank, score_answers
from diagnostics.report import (
    BarRow,
    ReportSection,
    build_report_html,
    build_report_pdf,
    result_headline,
    result_sections,
)

DAY = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def result():
    bank = load_bank()
    answers = {q.id: (i % 5) + 1 for i, q in enumerate(bank.questions)}
    answers[bank.questions[0].id] = None
    numbers = {"target": 1_000_000, "closed_so_far": 200_000, "open_pipeline": 2_000_000,
               "win_rate": 0.3}
    return score_answers(bank, answers, numbers)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def test_result_sections_carry_verdict_rule_bars_and_actions(result) -> None:
    sections = {s.title: s for s in result_sections(result)}
    assert sections["How the verdict was reached"].bullets == result.rule_lines
    assert "decided by the coverage check" in result.rule_lines[-1]
    bars = sections["Dimensions (score out of 100)"].bars
    assert [b.value for b in bars] == [d.score for d in result.dimensions]
    assert sum(b.highlight for b in bars) == 1
    assert len(sections["Three actions that would move the verdict most"].bullets) == 3
    assert sections["Not answered"].paragraphs[0].startswith("1 statement left")


def test_html_is_self_contained_printable_and_scriptless(result) -> None:
    page = build_report_html(result_sections(result), title="Make your number",
                             headline=result_headline(result), generated=DAY)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    assert "@page" in page and "@media print" in page
    assert "section { break-inside: avoid; }" in page  # printing never splits a short section
    assert not re.search(r"(src|href)=", page)  # nothing to fetch
    assert "Unlikely to make the number" in page  # coverage 75% < 80%
    assert "decided by the coverage check" in page
    assert "Generated 02 Nov 2026" in page
    for action in result.actions:
        assert html.escape(action.action) in page


def test_html_escapes_every_user_string(result) -> None:
    evil = "<script>alert(1)</script>&\"'"
    extra = ReportSection(title=evil, paragraphs=(evil,), bullets=(evil,),
                          bars=(BarRow(evil, 50.0),))
    page = build_report_html([*result_sections(result), extra], title=evil, subtitle=evil,
                             headline=result_headline(result))
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#x27;") == 7


def test_html_without_result_prints_only_sections() -> None:
    section = ReportSection("Workshop", paragraphs=("Five people answered.",),
                            bars=(BarRow("Gap", None), BarRow("Fit", 150.0, max_value=100)))
    page = build_report_html([section], title="Workshop report")
    assert "Five people answered." in page and "to make the number" not in page
    assert 'style="width:0.0%"' in page and 'style="width:100.0%"' in page  # clamped
    assert ">—<" in page  # a missing value shows a dash


def test_pdf_is_one_page_with_verdict(result) -> None:
    pdf = build_report_pdf(result_sections(result), title="Make your number",
                           subtitle="Answered as CRO", headline=result_headline(result),
                           generated=DAY)
    assert pdf.startswith(b"%PDF-")
    assert _pages(pdf) == 1
    assert len(pdf) > 1500


def test_pdf_survives_text_outside_latin1(result) -> None:
    extra = ReportSection("Notes — “quoted”", paragraphs=("≥ 3× coverage → ok • 東京 €5",),
                          bullets=("a – b",), bars=(BarRow("Rep ≤ 5", 40.0),))
    pdf = build_report_pdf([*result_sections(result), extra], title="Plan — 2027")
    assert pdf.startswith(b"%PDF-") and _pages(pdf) >= 1


def test_pdf_bars_that_run_past_a_page_continue_on_the_next(result) -> None:
    """Regression: bars crossing the page foot put every later cell on a page of its own."""
    bars = tuple(BarRow(f"Row {i}", float(i)) for i in range(40))
    extra = ReportSection("Leadership model", paragraphs=("Fit by model.",), bars=bars)
    pdf = build_report_pdf([*result_sections(result), extra], title="Make your number",
                           headline=result_headline(result))
    assert _pages(pdf) == 2


@pytest.mark.parametrize("filler_rows", range(36, 48))
def test_pdf_keeps_a_short_section_on_one_page(
        filler_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A three-bar section that does not fit the page foot moves whole to the next page."""
    # The core font writes text as readable (…) Tj strings; the layout does not depend on it.
    monkeypatch.setattr("diagnostics.report._FONT", "Helvetica")
    filler = ReportSection("Filler", bars=tuple(BarRow(f"F{i}", 10.0) for i in range(filler_rows)))
    fit = ReportSection("Fit by model", paragraphs=("Federation fits best.",),
                        bars=(BarRow("Tsar", 50.0), BarRow("Federation", 62.0),
                              BarRow("Chief of Staff", 53.0)))
    pdf = build_report_pdf([filler, fit])
    streams = [zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)]
    pages = [t for t in (re.findall(rb"\((.*?)\) Tj", x) for x in streams) if t]
    (page,) = [t for t in pages if b"Fit by model" in t]
    assert b"Tsar" in page and b"Chief of Staff" in page


def test_pdf_with_sections_only() -> None:
    section = ReportSection("Workshop", bullets=("One", "Two"), bars=(BarRow("Gap", 30.0),))
    pdf = build_report_pdf([section], title="Workshop report")
    assert _pages(pdf) == 1


def test_bar_values_print_in_their_own_format() -> None:
    section = ReportSection("Means", bars=(BarRow("Pipeline", 3.25, 5.0, value_format=".1f"),
                                           BarRow("Score", 62.4)))
    page = build_report_html([section])
    assert '<td class="value">3.2</td>' in page and '<td class="value">62</td>' in page


def _to_unicode_points(pdf: bytes) -> set[int]:
    """Return every code point the PDF's fonts map glyphs back to (their ToUnicode CMaps)."""
    points: set[int] = set()
    for match in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            data = zlib.decompressobj().decompress(pdf[match.end():end])
        except zlib.error:  # a stream written uncompressed (fpdf2's CMaps are)
            data = pdf[match.end():end]
        if b"beginbfchar" in data:
            points |= {int(h, 16) for h in re.findall(rb"<[0-9A-F]{4}> <([0-9A-F]{4})>", data)}
    return points


@pytest.mark.parametrize("name", ["Łódź", "Łukasz Żółć", "Zoë Ørsted", "Иван Петров", "Ωmega"])
def test_pdf_embeds_a_unicode_font_so_every_name_prints(name: str) -> None:
    pdf = build_report_pdf([ReportSection(f"Team {name}", (f"Led by {name}.",), ())], title=name)
    assert b"DejaVuSans" in pdf and b"/Helvetica" not in pdf
    assert {ord(c) for c in name if not c.isspace()} <= _to_unicode_points(pdf)
