"""Funnel, breakage, rep-heatmap and planner charts, each fed with a handful of aggregate rows."""

from __future__ import annotations

import altair as alt
import pandas as pd

from diagnostics.breakage import BreakageReport
from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.formatting import format_rate
from diagnostics.funnel import (
    FEW_DEALS,
    LOST_STAGE_UNKNOWN,
    MIN_STEP_DEALS,
    FunnelResult,
    StageCount,
)
from diagnostics.planner import Plan

__all__ = [
    "HEATMAP_CAPTION",
    "SEGMENTS",
    "breakage_chart",
    "funnel_chart",
    "plan_chart",
    "rep_heatmap",
]

# Segment of each stage bar → colour: what became of the opportunities counted at a stage.
SEGMENTS: dict[str, str] = {
    "Moved on": PALETTE["moved_on"],
    "Open here": PALETTE["open_here"],
    "Lost here": PALETTE["lost_here"],
    "Won": PALETTE["won"],
}
GREY = PALETTE["too_few"]
# A stage bar whose next-step rate rests on few deals is drawn this light (a legend-free cue the
# label spells out).
FEW_OPACITY = 0.4
# Past this share of the way to the colour scale's extreme, a heatmap cell takes white text.
DARK_SHARE = 0.6
HEATMAP_CAPTION = (
    "Each cell: the rep's conversion at that step; colour = points above (blue) or below (red) "
    "the team. Grey cells had too few deals to say."
)


def _funnel_rows(result: FunnelResult) -> pd.DataFrame:
    rows = []
    for s in result.stages:
        parts = {
            "Moved on": s.moved_on,
            "Open here": s.open_here,
            "Lost here": s.lost_here,
            "Won": s.won_here,
        }
        for segment, value in parts.items():
            if value:
                rows.append({"stage": s.stage, "rank": s.rank, "segment": segment, "count": value,
                             "few": s.is_thin})
    if result.lost_stage_unknown:  # a bar of its own, under the funnel: charged to no step
        rows.append({"stage": LOST_STAGE_UNKNOWN, "rank": len(result.stages) + 1,
                     "segment": "Lost here", "count": result.lost_stage_unknown, "few": False})
    return pd.DataFrame(rows, columns=["stage", "rank", "segment", "count", "few"])


def _stage_label(s: StageCount, last: bool) -> str:
    """Return "1,482 · 81% of top · 78% go on", with the counts when the rate rests on few deals."""
    text = f"{s.reached:,} · {format_rate(s.cumulative_conversion)} of top"
    if last:
        return text
    if s.is_thin:  # the counts beside the rate, and the flag the table and planner use
        return (f"{text} · {format_rate(s.next_step_conversion)} go on ({s.advanced:,} of "
                f"{s.reached:,}: {FEW_DEALS})")
    return f"{text} · {format_rate(s.next_step_conversion)} go on"


def funnel_chart(result: FunnelResult) -> alt.LayerChart:
    """Return stacked bars of the opportunities reaching each stage, labelled with the numbers.

    Each bar splits into those that moved on, are still open there, were lost there, or won. A
    stage whose next-step rate rests on fewer than MIN_STEP_DEALS deals is drawn lighter, and its
    label gives the counts behind the rate and says "few deals".
    """
    order = [s.stage for s in result.stages]
    unknown = [LOST_STAGE_UNKNOWN] if result.lost_stage_unknown else []
    last = result.stages[-1] if result.stages else None
    top = max([s.reached for s in result.stages] + [1])
    bars = (
        alt.Chart(_funnel_rows(result))
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=order + unknown, title=None),
            # Head room on the right for the labels written after each bar.
            x=alt.X("sum(count):Q", title="Opportunities",
                    scale=alt.Scale(domain=[0, top * 1.45], nice=False)),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=list(SEGMENTS), range=list(SEGMENTS.values())),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            order=alt.Order("segment_order:Q"),
            opacity=alt.condition("datum.few", alt.value(FEW_OPACITY), alt.value(1.0)),
            tooltip=["stage:N", "segment:N", alt.Tooltip("count:Q", format=","),
                     alt.Tooltip("few:N", title=f"rate on < {MIN_STEP_DEALS} deals")],
        )
        .transform_calculate(
            segment_order=(
                "indexof(['Moved on', 'Open here', 'Lost here', 'Won'], datum.segment)"
            )
        )
    )
    labels = pd.DataFrame(
        {
            "stage": order + unknown,
            "reached": [s.reached for s in result.stages] + [result.lost_stage_unknown] * len(
                unknown),
            "label": [_stage_label(s, s is last) for s in result.stages]
            + [f"{result.lost_stage_unknown:,} lost, at no step"] * len(unknown),
        }
    )
    text = (
        alt.Chart(labels)
        .mark_text(align="left", dx=4)
        .encode(y=alt.Y("stage:N", sort=order + unknown), x=alt.X("reached:Q"), text="label:N")
    )
    steps = [f"{s.reached:,} reached {s.stage} ({format_rate(s.cumulative_conversion)} of top)"
             for s in result.stages]
    if result.lost_stage_unknown:
        steps.append(f"{result.lost_stage_unknown:,} lost at no known step")
    description = f"Funnel: {listing(steps)}."
    if thin := result.thin_steps():
        description += (" Few deals behind the rate of "
                        + listing([f"{label} ({on:,} of {n:,})" for label, n, on in thin]) + ".")
    return alt.LayerChart(layer=[bars, text]).properties(height=alt.Step(34),
                                                        description=description)


def breakage_chart(report: BreakageReport) -> alt.Chart:
    """Return bars of the deals each step loses against the reference (worst on top)."""
    rows = [
        {
            "step": f"{b.from_stage} → {b.to_stage}",
            "lost": round(b.lost_opportunities, 1),
            "worse": b.lost_opportunities > 0,
        }
        for b in report.breakages
        if b.lost_opportunities is not None
    ]
    frame = pd.DataFrame(rows, columns=["step", "lost", "worse"])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", sort=list(frame["step"]), title=None),
            x=alt.X("lost:Q", title=f"Deals lost against {report.reference}"),
            color=alt.Color(
                "worse:N",
                scale=alt.Scale(domain=[True, False],
                                range=[SEGMENTS["Lost here"], PALETTE["not_lost"]]),
                legend=None,
            ),
            tooltip=["step:N", alt.Tooltip("lost:Q", format=",.0f")],
        )
        .properties(description=f"Deals lost at each step against {report.reference}: "
                                + listing([f"{r['step']} {r['lost']:,.0f}" for r in rows]) + ".")
    )
    return chart


def _is_dark(gaps: pd.Series) -> list[bool]:
    """Return, per cell, whether its colour is dark enough to need white text.

    The diverging scale stretches each side from 0 to that side's extreme (``domainMid=0``), so
    a cell is dark when it lies beyond 60% of the way to its own side's extreme.
    """
    values = pd.to_numeric(gaps, errors="coerce")
    top, bottom = values.max(), values.min()
    out = []
    for g in values:
        if pd.isna(g):
            out.append(False)
        elif g > 0:
            out.append(bool(g >= DARK_SHARE * top))
        else:
            out.append(bool(g < 0 and g <= DARK_SHARE * bottom))
    return out


def rep_heatmap(reps: pd.DataFrame) -> alt.LayerChart:
    """Return a rep × step grid coloured by each rep's rate minus the team's (in points).

    Cells where a rep had too few deals are grey and unlabelled, not coloured.
    """
    steps = list(reps.drop_duplicates("step").sort_values("order")["step"])
    frame = pd.DataFrame(
        {
            "rep": reps["rep"],
            "step": reps["step"],
            "enough": reps["enough"].astype(bool),
            "gap_points": [
                round(g * 100, 1) if e and pd.notna(g) else None
                for g, e in zip(reps["gap"], reps["enough"], strict=True)
            ],
            "label": [
                format_rate(r) if e and pd.notna(r) else "few deals"
                for r, e in zip(reps["rate"], reps["enough"], strict=True)
            ],
            "entered": reps["entered"],
        }
    )
    frame["dark"] = _is_dark(frame["gap_points"])
    base = alt.Chart(frame).encode(
        x=alt.X("step:N", sort=steps, title=None,
                axis=alt.Axis(orient="top", labelAngle=-20, labelLimit=180)),
        y=alt.Y("rep:N", title=None, axis=alt.Axis(labelOverlap=False)),
        tooltip=["rep:N", "step:N", "label:N", "entered:Q",
                 alt.Tooltip("gap_points:Q", title="vs team (points)")],
    )
    grey = base.transform_filter("!datum.enough").mark_rect(color=GREY)
    coloured = base.transform_filter("datum.enough").mark_rect().encode(
        color=alt.Color(
            "gap_points:Q",
            title="vs team (points)",
            scale=alt.Scale(scheme="redblue", domainMid=0),
        )
    )
    text = base.transform_filter("datum.enough").mark_text(fontSize=10).encode(
        text="label:N",
        color=alt.condition("datum.dark", alt.value("white"), alt.value("black")),
    )
    description = (f"Conversion of {frame['rep'].nunique():,} reps at {len(steps):,} steps, "
                   f"against the team: {listing(_step_extremes(frame, steps))}.")
    return alt.LayerChart(layer=[grey, coloured, text]).properties(height=alt.Step(20),
                                                                  description=description)


def _step_extremes(frame: pd.DataFrame, steps: list[str]) -> list[str]:
    """Return, per step, its highest and lowest rep (among those with enough deals)."""
    cells = [(str(r["step"]), float(r["gap_points"]), str(r["rep"]), str(r["label"]))
             for r in frame.to_dict("records") if pd.notna(r["gap_points"])]
    out = []
    for step in steps:
        rated = sorted((gap, rep, label) for s, gap, rep, label in cells if s == step)
        if not rated:
            out.append(f"{step}: too few deals for every rep")
            continue
        (_, low_rep, low), (_, high_rep, high) = rated[0], rated[-1]
        out.append(f"{step}: highest {high_rep} {high}, lowest {low_rep} {low}")
    return out


def plan_chart(plan: Plan) -> alt.LayerChart:
    """Return bars of what each stage needs to make the target, top stage first.

    A symmetric-log scale keeps 2,000 calls and 14 deals readable on one axis (a plain log scale
    would drop bars, which start at zero).
    """
    order = [s.stage for s in plan.stages]
    frame = pd.DataFrame(
        {
            "stage": order,
            "needed": [s.needed for s in plan.stages],
            "label": [f"{s.needed:,}" for s in plan.stages],
        }
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("stage:N", sort=order, title=None),
        x=alt.X("needed:Q", scale=alt.Scale(type="symlog"), title="Needed (log-like scale)"),
    )
    bars = base.mark_bar(color=SEGMENTS["Moved on"])
    text = base.mark_text(align="left", dx=4).encode(text="label:N")
    description = ("Needed at each stage to make the target: "
                   + listing([f"{s.stage} {s.needed:,}" for s in plan.stages]) + ".")
    return alt.LayerChart(layer=[bars, text]).properties(height=alt.Step(30),
                                                        description=description)
