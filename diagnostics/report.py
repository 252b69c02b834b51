"""Printable one-page reports: self-contained HTML (print CSS, no scripts) and PDF bytes (fpdf2).

A report is a title, an optional coloured :class:`Headline` and a list of :class:`ReportSection`
(title, paragraphs, bullets, optional bar rows). :func:`result_sections` and
:func:`result_headline` turn a questionnaire :class:`~diagnostics.questionnaire.ScoreResult` into
those; other features (leadership fit, workshop) build their own sections.
Every string is HTML-escaped in the HTML report; the PDF embeds DejaVu Sans (shipped in
``diagnostics/content/fonts``, Bitstream Vera licence), so names such as "Łódź" print as typed.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from diagnostics.questionnaire import Action, ScoreResult, score_text

__all__ = [
    "BarRow",
    "Headline",
    "ReportSection",
    "build_report_html",
    "build_report_pdf",
    "result_headline",
    "result_sections",
]


@dataclass(frozen=True)
class BarRow:
    """One bar of a section's bar chart: a label and a value out of ``max_value`` (None → "—")."""

    label: str
    value: float | None
    max_value: float = 100.0
    highlight: bool = False
    value_format: str = ".0f"  # how the value prints (".1f" for means on a 1–5 scale)

    def value_text(self) -> str:
        """Return the value as printed beside the bar ("—" when missing)."""
        return "—" if self.value is None else format(self.value, self.value_format)


@dataclass(frozen=True)
class ReportSection:
    """A titled block of a printable report: paragraphs, then bullets, then optional bars."""

    title: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    bars: tuple[BarRow, ...] = ()


@dataclass(frozen=True)
class Headline:
    """The boxed verdict under a report's title: a bold line, a detail line and a colour."""

    text: str
    detail: str = ""
    colour: str = "#1F4E79"


_VERDICT_COLOURS = {"likely": "#2E7D32", "at_risk": "#B26A00", "unlikely": "#B3261E",
                    "cannot_tell": "#5F6B7A"}
_BAR_COLOUR = "#1F4E79"
_HIGHLIGHT_COLOUR = "#B3261E"


def _fmt(value: float | None) -> str:
    return "—" if value is None else score_text(value)


def result_sections(result: ScoreResult) -> tuple[ReportSection, ...]:
    """Return the report sections for a questionnaire result (verdict, dimensions, actions...)."""
    bc = result.binding_constraint
    verdict = ReportSection(
        title="How the verdict was reached",
        bullets=result.rule_lines,
    )
    dims = ReportSection(
        title="Dimensions (score out of 100)",
        bars=tuple(
            BarRow(
                label=f"{d.name} (weight {d.weight:g})",
                value=d.score,
                highlight=bc is not None and d.id == bc.id,
            )
            for d in result.dimensions
        ),
    )
    constraint = ReportSection(
        title="Binding constraint",
        paragraphs=(
            (f"{bc.name}: {_fmt(bc.score)}/100 with weight {bc.weight:g}. It holds back the score "
             "more than any other dimension.", result.binding_reason)
            if bc is not None
            else ("No dimension holds the score back.",)
        ),
    )
    actions = ReportSection(
        title="Three actions that would move the verdict most",
        bullets=tuple(_action_text(a) for a in result.actions)
        or ("Every answered statement is already at 5.",),
    )
    n = len(result.unanswered)
    unanswered = ReportSection(
        title="Not answered",
        paragraphs=(
            (f"{n} statement{'s' if n != 1 else ''} left as not applicable or unanswered; they "
             "do not lower the score.",)
            if n
            else ("Every statement was answered.",)
        ),
    )
    return (verdict, dims, constraint, actions, unanswered)


def _action_text(action: Action) -> str:
    if action.source != "statement":
        return f"{action.action} ({action.dimension_name}: this decides the verdict)"
    return (f"{action.action} ({action.dimension_name}; now {action.answer:g}/5, up to "
            f"+{action.gain:.1f} points)")


def result_headline(result: ScoreResult) -> Headline:
    """Return the headline of a questionnaire result: verdict, score, band and decider."""
    return Headline(
        result.title,
        f"Score {score_text(result.score)}/100 ({result.band_label}) · {result.decided_text}",
        _VERDICT_COLOURS[result.verdict],
    )


_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; color: #1b1b1b; font-size: 10.5pt;
       line-height: 1.35; margin: 0 auto; max-width: 190mm; padding: 8mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #1F4E79; }
h2 { font-size: 11.5pt; margin: 4mm 0 1.5mm; border-bottom: 1px solid #ccc; }
p, ul { margin: 0 0 1.5mm; }
section { break-inside: avoid; }  /* a section moves whole to the next printed page */
ul { padding-left: 5mm; }
.meta { color: #555; font-size: 9pt; margin-bottom: 3mm; }
.verdict { border-left: 6px solid; padding: 2mm 4mm; margin: 2mm 0 3mm; background: #f6f6f6; }
.verdict strong { font-size: 15pt; display: block; }
.bars { width: 100%; border-collapse: collapse; font-size: 9.5pt; }
.bars td { padding: 0.8mm 1mm; vertical-align: middle; }
.bars td.label { width: 48%; }
.bars td.value { width: 8%; text-align: right; }
.track { background: #e8e8e8; height: 3.5mm; width: 100%; }
.fill { height: 3.5mm; background: #1F4E79; }
.fill.hl { background: #B3261E; }
@media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }
"""


def _bar_html(bar: BarRow) -> str:
    if bar.value is None or bar.max_value <= 0:
        width = 0.0
    else:
        width = max(0.0, min(100.0, bar.value / bar.max_value * 100))
    cls = "fill hl" if bar.highlight else "fill"
    return (
        f'<tr><td class="label">{html.escape(bar.label)}</td>'
        f'<td><div class="track"><div class="{cls}" style="width:{width:.1f}%"></div></div></td>'
        f'<td class="value">{html.escape(bar.value_text())}</td></tr>'
    )


def _section_html(section: ReportSection) -> str:
    parts = [f"<section><h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
    if section.bullets:
        items = "".join(f"<li>{html.escape(b)}</li>" for b in section.bullets)
        parts.append(f"<ul>{items}</ul>")
    if section.bars:
        rows = "".join(_bar_html(b) for b in section.bars)
        parts.append(f'<table class="bars">{rows}</table>')
    parts.append("</section>")
    return "".join(parts)


def build_report_html(
    sections: Sequence[ReportSection],
    *,
    title: str = "Make your number",
    subtitle: str = "",
    headline: Headline | None = None,
    generated: dt.date | None = None,
) -> str:
    """Return a self-contained printable HTML page (no scripts, every user string escaped)."""
    day = generated or dt.date.today()
    meta = " · ".join(x for x in (subtitle, f"Generated {day:%d %b %Y}") if x)
    verdict_html = ""
    if headline is not None:
        verdict_html = (
            f'<div class="verdict" style="border-color:{html.escape(headline.colour)}">'
            f"<strong>{html.escape(headline.text)}</strong>{html.escape(headline.detail)}</div>"
        )
    body = "".join(_section_html(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>"
        f'<div class="meta">{html.escape(meta)}</div>'
        f"{verdict_html}{body}</body></html>\n"
    )


# --------------------------------------------------------------------------------------------
# PDF

def _latin1(text: str) -> str:
    """Return ``text`` as the PDF draws it: the embedded Unicode font covers Latin, Greek and
    Cyrillic, so only non-breaking spaces are made plain."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


_KEEP_TOGETHER_MM = 90.0  # sections up to this height are never split across pages
_CHARS_PER_LINE = 100  # about how many 9.5 pt characters fit the A4 text width


def _section_height_mm(section: ReportSection) -> float:
    """Return a generous estimate of the height a section takes in the PDF."""
    lines = sum(len(t) // _CHARS_PER_LINE + 1 for t in (*section.paragraphs, *section.bullets))
    return 9.5 + lines * 5.0 + len(section.bars) * 5.4 + 1.0


_FONTS = Path(__file__).resolve().parent / "content" / "fonts"
_FONT = "DejaVu"  # a Unicode TrueType font embedded in every PDF (the core fonts are Latin-1)


class _Pdf(FPDF):
    """FPDF with the report's text helpers and the embedded Unicode font."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.add_font(_FONT, "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font(_FONT, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))

    def heading(self, text: str) -> None:
        # Keep a heading with the first lines of its section rather than alone at a page foot.
        if self.will_page_break(20):
            self.add_page()
        self.ln(1.5)
        self.set_font(_FONT, "B", 11)
        self.set_text_color(31, 78, 121)
        self.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)
        self.set_text_color(27, 27, 27)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.set_font(_FONT, "", size)
        self.multi_cell(0, 4.4, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(0.8)

    def bullet(self, text: str) -> None:
        self.set_font(_FONT, "", 9.5)
        x = self.get_x()
        self.cell(4, 4.4, "-")
        self.multi_cell(0, 4.4, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_x(x)
        self.ln(0.6)

    def bars(self, rows: Sequence[BarRow]) -> None:
        """Draw a horizontal bar chart with rectangles: label, track, fill and value."""
        label_w, value_w, height = 78.0, 10.0, 4.2
        track_w = self.w - self.l_margin - self.r_margin - label_w - value_w - 2
        self.set_font(_FONT, "", 8.5)
        for row in rows:
            # The label cell alone would break the page while the track and value were drawn at
            # the old y: every later cell then started a page of its own (a 5-page report).
            if self.will_page_break(height + 1.2):
                self.add_page()
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(label_w, height + 1, _latin1(row.label)[:60])
            x0 = self.l_margin + label_w
            self.set_fill_color(232, 232, 232)
            self.rect(x0, y + 0.6, track_w, height - 0.4, style="F")
            if row.value is not None and row.max_value > 0:
                share = max(0.0, min(1.0, row.value / row.max_value))
                colour = _HIGHLIGHT_COLOUR if row.highlight else _BAR_COLOUR
                self.set_fill_color(*_rgb(colour))
                if share > 0:
                    self.rect(x0, y + 0.6, track_w * share, height - 0.4, style="F")
            self.set_xy(x0 + track_w + 2, y)
            self.cell(value_w, height + 1, _latin1(row.value_text()), align="R")
            self.set_xy(self.l_margin, y + height + 1.2)
        self.ln(0.8)


def build_report_pdf(
    sections: Sequence[ReportSection],
    *,
    title: str = "Make your number",
    subtitle: str = "",
    headline: Headline | None = None,
    generated: dt.date | None = None,
) -> bytes:
    """Return A4 PDF bytes of the same report as :func:`build_report_html`."""
    pdf = _Pdf(format="A4")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(_latin1(title))
    pdf.set_creator("Make Your Number")
    pdf.add_page()
    pdf.set_font(_FONT, "B", 17)
    pdf.set_text_color(31, 78, 121)
    pdf.cell(0, 9, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    day = generated or dt.date.today()
    meta = " · ".join(x for x in (subtitle, f"Generated {day:%d %b %Y}") if x)
    pdf.set_font(_FONT, "", 9)
    pdf.set_text_color(85, 85, 85)
    pdf.cell(0, 5, _latin1(meta.replace("·", "-")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(27, 27, 27)
    if headline is not None:
        top = pdf.get_y() + 2
        pdf.set_fill_color(*_rgb(headline.colour))
        pdf.rect(pdf.l_margin, top, 2.5, 13, style="F")
        pdf.set_xy(pdf.l_margin + 5, top)
        pdf.set_font(_FONT, "B", 15)
        pdf.cell(0, 7, _latin1(headline.text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(pdf.l_margin + 5)
        pdf.set_font(_FONT, "", 10)
        pdf.cell(0, 6, _latin1(headline.detail.replace("·", "-")), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    for section in sections:
        # A short section starts on a new page rather than split (a lone bar on page two).
        needed = _section_height_mm(section)
        if needed <= _KEEP_TOGETHER_MM and pdf.will_page_break(needed):
            pdf.add_page()
        pdf.heading(section.title)
        for text in section.paragraphs:
            pdf.paragraph(text)
        for text in section.bullets:
            pdf.bullet(text)
        if section.bars:
            pdf.bars(section.bars)
    return bytes(pdf.output())
