"""The printable workshop report: aggregates only, never a participant's name or answers."""

from __future__ import annotations

from diagnostics.report import BarRow, ReportSection, build_report_html, build_report_pdf
from diagnostics.workshop._codes import (
    format_code,
    role_label,
)
from diagnostics.workshop._content import (
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    Content,
)
from diagnostics.workshop._summary import WorkshopSummary


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def report_sections(summary: WorkshopSummary, content: Content) -> tuple[ReportSection, ...]:
    """Return the workshop report's sections (aggregates only: no participant names)."""
    room = ReportSection(
        title="The room",
        paragraphs=(
            f"{summary.responses} of {summary.joined} participants answered. Status: "
            f"{summary.workshop.status}.",
        ),
        bullets=tuple(f"{role_label(r)}: {n}" for r, n in summary.by_role.items()),
    )
    sections: list[ReportSection] = [room]
    if MAKE_YOUR_NUMBER in summary.workshop.instruments:
        v = summary.verdict
        verdict_text = (
            "No statement answered yet." if v is None else
            f"{v.label} to make the number: score {_fmt(v.score, '.0f')}/100"
            + (f" ({v.band})" if v.band else "")
            + (f"; binding constraint: {v.binding_constraint}." if v.binding_constraint else ".")
        )
        sections.append(ReportSection(
            title="Team verdict",
            paragraphs=(
                verdict_text,
                "The team verdict scores each statement's mean answer over the room.",
            ),
            bullets=tuple(
                f"{role_label(r.role)} ({r.responses}): {r.verdict.label}, "
                f"score {_fmt(r.verdict.score, '.0f')}"
                for r in summary.roles if r.verdict is not None
            ),
        ))
        sections.append(ReportSection(
            title="Dimensions (team mean on 1–5; spread = standard deviation)",
            bars=tuple(
                BarRow(label=f"{d.name} (spread {_fmt(d.spread, '.2f')})", value=d.mean,
                       max_value=5.0, highlight=d.role_gap is not None and d.role_gap >= 1.0)
                for d in summary.dimensions
            ),
        ))
        gap_lines = []
        for d in summary.dimensions:
            cells = [g for g in summary.gaps if g.dimension == d.id and g.mean is not None]
            if len(cells) < 2:
                continue
            low = min(cells, key=lambda g: g.mean or 0.0)
            high = max(cells, key=lambda g: g.mean or 0.0)
            gap_lines.append(
                f"{d.name}: {role_label(high.role)} {_fmt(high.mean)} vs "
                f"{role_label(low.role)} {_fmt(low.mean)} (gap {_fmt(d.role_gap)})"
            )
        sections.append(ReportSection(
            title="Perception gaps between roles",
            paragraphs=() if gap_lines else ("Fewer than two roles have answered.",),
            bullets=tuple(gap_lines),
        ))
        sections.append(ReportSection(
            title="Statements to discuss (widest disagreement)",
            paragraphs=() if summary.widest else ("No disagreement yet.",),
            bullets=tuple(
                f"“{w.statement}” mean {_fmt(w.mean)}, spread {_fmt(w.spread, '.2f')}"
                + (f"; {role_label(w.lowest_role)} lowest, {role_label(w.highest_role)} highest"
                   if w.lowest_role and w.highest_role else "")
                for w in summary.widest
            ),
        ))
    if LEADERSHIP in summary.workshop.instruments:
        best = summary.recommended_model
        sections.append(ReportSection(
            title="Leadership model fit (0–100, mean over participants)",
            paragraphs=(
                "No leadership question answered yet." if best is None else
                f"Best fit over the room: {content.model_name(best)}. Read it as a conversation "
                "starter, not a decision.",
            ),
            bullets=tuple(
                f"{role_label(r.role)}: " + ", ".join(
                    f"{content.model_name(m)} {v:.0f}" for m, v in r.fit.items())
                for r in summary.roles if r.fit
            ),
            bars=tuple(BarRow(label=content.model_name(m), value=v, highlight=m == best)
                       for m, v in summary.leadership_team.items()),
        ))
    return tuple(sections)


def report_html(summary: WorkshopSummary, content: Content) -> str:
    """Return the printable workshop report as self-contained HTML."""
    return build_report_html(
        report_sections(summary, content),
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
    )


def report_pdf(summary: WorkshopSummary, content: Content) -> bytes:
    """Return the printable workshop report as PDF bytes."""
    return build_report_pdf(
        report_sections(summary, content),
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
    )
