"""The printable workshop report: aggregates only, never a participant's name or answers.

Per-role lines follow the workshop's smallest group (see ``_groups``): small roles appear pooled or
not at all, and the report says which.
"""

from __future__ import annotations

from diagnostics.formatting import format_number as _fmt
from diagnostics.report import (
    BarRow,
    Headline,
    ReportSection,
    build_report_html,
    build_report_pdf,
)
from diagnostics.workshop._codes import format_code, role_label
from diagnostics.workshop._content import LEADERSHIP, MAKE_YOUR_NUMBER, Content
from diagnostics.workshop._summary import DimensionStat, WorkshopSummary

_VERDICT_COLOURS = {"likely": "#2E7D32", "at_risk": "#B26A00", "unlikely": "#B3261E"}


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}"


def _room(summary: WorkshopSummary) -> ReportSection:
    note = summary.grouping.note()
    left_out = summary.not_counted
    return ReportSection(
        title="The room",
        paragraphs=(
            f"{summary.responses} of {summary.joined} participants answered. Status: "
            f"{summary.workshop.status}. Results by role are shown for groups of at least "
            f"{summary.min_group} people.",
            *((f"{left_out} participant{'s' if left_out != 1 else ''} left out of every result "
               "by the facilitator (joined twice, or a test join): nothing of theirs counts in "
               "this report.",) if left_out else ()),
            *((summary.role_changes_text(),) if summary.role_changes else ()),
            *((note,) if note else ()),
        ),
        bullets=tuple(f"{role_label(r)}: {n}" for r, n in summary.by_role.items()),
    )


def _verdict(summary: WorkshopSummary) -> ReportSection:
    v = summary.verdict
    verdict_text = (
        "No statement answered yet." if v is None else
        f"{v.headline}: score {_fmt(v.score, '.0f')}/100"
        + (f" ({v.band})" if v.band else "")
        + (f"; binding constraint: {v.binding_constraint}." if v.binding_constraint else ".")
    )
    roles_note = summary.roles_note()
    return ReportSection(
        title="Team verdict",
        paragraphs=(
            verdict_text,
            "The team verdict scores each statement's mean answer over the room.",
            *summary.verdict_notes,
            *(("Verdict by role, and the statements each rests on:",) if summary.roles else ()),
        ),
        bullets=(
            *(f"{r.role_label} ({r.responses}): {r.verdict.label}, "
              f"score {_fmt(r.verdict.score, '.0f')}; rests on {summary.rests_on_text(r)}"
              if r.verdict is not None else f"{r.role_label} ({r.responses}): no verdict shown"
              for r in summary.roles),
            *((roles_note,) if roles_note else ()),
        ),
    )


def _gap_line(summary: WorkshopSummary, d: DimensionStat) -> str | None:
    """Return a dimension's line: its gap between roles, what that leaves out, each mean."""
    row = [g for g in summary.gaps if g.dimension == d.id]
    # The cells the gap compares: a starred (thin) cell is left out of it, as the note says.
    cells = [g for g in row if g.mean is not None and not g.is_thin]
    means = ("Means by role: " + ", ".join(f"{g.role_label} {g.mean_text}" for g in row) + "."
             if any(g.mean is not None for g in row) else "")
    if len(cells) < 2:
        if not d.gap_note and not means:
            return None
        return " ".join(p for p in (f"{d.name}: no gap between roles.", d.gap_note, means) if p)
    low = min(cells, key=lambda g: g.mean or 0.0)
    high = max(cells, key=lambda g: g.mean or 0.0)
    return " ".join(p for p in (
        f"{d.name}: {high.role_label} {_fmt(high.mean)} vs {low.role_label} {_fmt(low.mean)} "
        f"(gap {_fmt(d.role_gap)}).", d.gap_note, means) if p)


def _gaps(summary: WorkshopSummary) -> ReportSection:
    lines = [line for d in summary.dimensions if (line := _gap_line(summary, d))]
    return ReportSection(
        title="Perception gaps between roles",
        # The dashboard's words on starred and held-back means (a held-back mean shows as —).
        paragraphs=(summary.by_role_note("shown as —"),),
        bullets=tuple(lines),
    )


def _widest(summary: WorkshopSummary) -> ReportSection:
    return ReportSection(
        title="Statements to discuss (widest disagreement)",
        paragraphs=() if summary.widest else ("No disagreement yet.",),
        bullets=tuple(
            f"“{w.statement}” mean {_fmt(w.mean)}, spread {_fmt(w.spread, '.2f')} "
            f"({summary.rated_text(w.question_id)})"
            + (f"; {summary.group_label(w.lowest_role)} lowest, "
               f"{summary.group_label(w.highest_role)} highest"
               if w.lowest_role and w.highest_role else "")
            for w in summary.widest
        ),
    )


def _evidence(summary: WorkshopSummary, content: Content) -> ReportSection | None:
    if not summary.evidence:
        return None
    lines = []
    for e in summary.evidence:
        statement = content.statement(e.question_id)
        text = statement.text if statement else e.question_id
        lines.append(f"“{text}” room {_fmt(summary.statement_means.get(e.question_id))}/5 "
                     f"({summary.rated_text(e.question_id)}); "
                     f"data: {e.finding} ({e.source})")
    return ReportSection(title="The room's view beside the data", bullets=tuple(lines))


def _plan(summary: WorkshopSummary) -> ReportSection:
    return ReportSection(
        title="Action plan",
        paragraphs=() if summary.plan else ("No action in the plan yet.",),
        bullets=tuple(
            f"{p.action} (owner: {p.owner}; due {p.due.isoformat() if p.due else 'no date'}; "
            f"{p.votes} vote{'s' if p.votes != 1 else ''})"
            for p in summary.plan
        ),
    )


def _baseline(summary: WorkshopSummary) -> ReportSection | None:
    change = summary.baseline
    if change is None:
        return None
    actions = [f"{a.action} (owner {a.owner}): {'done' if a.done else 'not done'}"
               for a in change.actions]
    return ReportSection(
        title=f"Change since {change.title} ({format_code(change.code)})",
        paragraphs=(
            f"{change.done} of {len(change.actions)} planned actions done.",
        ) if change.actions else ("The earlier workshop had no action plan.",),
        bullets=(
            *(f"{d.name}: {_fmt(d.before)} → {_fmt(d.after)} ({_signed(d.change)})"
              for d in change.dimensions),
            *(f"{r.label}, {_dimension_name(summary, r.dimension)}: {_fmt(r.before)} → "
              f"{_fmt(r.after)} ({_signed(r.change)})" for r in change.roles),
            *actions,
        ),
    )


def _dimension_name(summary: WorkshopSummary, dimension_id: str) -> str:
    """Return a dimension's name as the summary lists it (its id when unknown)."""
    return next((d.name for d in summary.dimensions if d.id == dimension_id), dimension_id)


def _leadership(summary: WorkshopSummary, content: Content) -> ReportSection:
    best = summary.recommended_model
    return ReportSection(
        title="Leadership model fit (0–100, mean over participants)",
        paragraphs=(
            "No leadership question answered yet." if best is None else
            f"Best fit over the room: {content.model_name(best)}. Read it as a conversation "
            "starter, not a decision.",
        ),
        bullets=tuple(
            f"{r.role_label}: " + ", ".join(
                f"{content.model_name(m)} {v:.0f}" for m, v in r.fit.items())
            for r in summary.roles if r.fit
        ),
        bars=tuple(BarRow(label=content.model_name(m), value=v, highlight=m == best)
                   for m, v in summary.leadership_team.items()),
    )


def report_sections(summary: WorkshopSummary, content: Content) -> tuple[ReportSection, ...]:
    """Return the workshop report's sections (aggregates only: no participant names)."""
    sections: list[ReportSection | None] = [_room(summary)]
    if MAKE_YOUR_NUMBER in summary.workshop.instruments:
        sections += [
            _verdict(summary),
            ReportSection(
                title="Dimensions (team mean on 1–5; spread = standard deviation)",
                bars=tuple(
                    BarRow(label=f"{d.name} (spread {_fmt(d.spread, '.2f')})", value=d.mean,
                           max_value=5.0, value_format=".1f",
                           highlight=d.role_gap is not None and d.role_gap >= 1.0)
                    for d in summary.dimensions
                ),
            ),
            _gaps(summary),
            _widest(summary),
            _evidence(summary, content),
            _plan(summary),
            _baseline(summary),
        ]
    if LEADERSHIP in summary.workshop.instruments:
        sections.append(_leadership(summary, content))
    return tuple(s for s in sections if s is not None)


def _headline(summary: WorkshopSummary) -> Headline | None:
    v = summary.verdict
    if v is None or MAKE_YOUR_NUMBER not in summary.workshop.instruments:
        return None
    return Headline(v.headline,
                    f"Team score {_fmt(v.score, '.0f')}/100 over {summary.responses} participants",
                    _VERDICT_COLOURS.get(v.verdict, "#1F4E79"))


def report_html(summary: WorkshopSummary, content: Content) -> str:
    """Return the printable workshop report as self-contained HTML."""
    return build_report_html(
        report_sections(summary, content),
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
        headline=_headline(summary),
    )


def report_pdf(summary: WorkshopSummary, content: Content) -> bytes:
    """Return the printable workshop report as PDF bytes."""
    return build_report_pdf(
        report_sections(summary, content),
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
        headline=_headline(summary),
    )
