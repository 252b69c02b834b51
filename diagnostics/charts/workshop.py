"""Charts of a workshop: responses by role, dimension means and spread, the perception-gap heatmap
and leadership-model fit by role.

Each takes the aggregates of a ``WorkshopSummary`` (one row per role, dimension or cell), never
individual answers, so nothing on the projector identifies a participant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.workshop import ROLES, DimensionStat, GapCell, RoleResult, role_label

__all__ = [
    "dimension_chart",
    "leadership_fit_chart",
    "perception_gap_chart",
    "responses_chart",
]

_BAR = PALETTE["bar"]
# Half the 1–5 answer scale: a role two levels away from the room is as far as the colours go.
_GAP_DOMAIN = 2.0
# Where a cell's colour is dark enough for white text to read better than black (at least 4.5:1
# either side of the switch, over the scales' colour stops): the red-blue gap scale's two ends,
# and the top of the green fit scale.
WHITE_TEXT_GAP = (-1.32, 1.42)
WHITE_TEXT_FIT = 77.0


def responses_chart(by_role: Mapping[str, int]) -> alt.Chart:
    """Return a bar per role with its number of responses (roles in the app's order)."""
    rows = [
        {"role": role_label(role), "responses": by_role[role], "order": i}
        for i, role in enumerate(ROLES)
        if by_role.get(role)
    ]
    data = pd.DataFrame(rows, columns=["role", "responses", "order"])
    chart: alt.Chart = alt.Chart(data).mark_bar(color=_BAR).encode(
        x=alt.X("responses:Q", title="Responses", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("role:N", title=None, sort=alt.EncodingSortField("order")),
        tooltip=["role:N", "responses:Q"],
    ).properties(description="Responses by role: " + listing(
        [f"{r['role']} {r['responses']:,}" for r in rows]) + ".")
    return chart


def dimension_chart(dimensions: Sequence[DimensionStat]) -> alt.LayerChart:
    """Return each dimension's team mean (bar, 1–5) with a ± one-spread whisker."""
    rows = [
        {
            "dimension": d.name,
            "mean": round(d.mean, 2),
            "spread": round(d.spread or 0.0, 2),
            "low": round(max(1.0, d.mean - (d.spread or 0.0)), 2),
            "high": round(min(5.0, d.mean + (d.spread or 0.0)), 2),
            "participants": d.participants,
            "order": i,
        }
        for i, d in enumerate(dimensions)
        if d.mean is not None
    ]
    data = pd.DataFrame(
        rows, columns=["dimension", "mean", "spread", "low", "high", "participants", "order"]
    )
    base = alt.Chart(data).encode(
        y=alt.Y("dimension:N", title=None, sort=alt.EncodingSortField("order"),
                axis=alt.Axis(labelLimit=320)),
        tooltip=["dimension:N", "mean:Q", "spread:Q", "participants:Q"],
    )
    # Bars start at 1, the lowest answer, not at 0 (outside the scale).
    bars = base.mark_bar(color=_BAR).encode(
        x=alt.X("mean:Q", title="Team mean (1–5); whisker = ± spread",
                scale=alt.Scale(domain=[1, 5], zero=False)),
        x2=alt.X2(datum=1),
    )
    whiskers = base.mark_rule(color=PALETTE["whisker"], strokeWidth=2).encode(
        x="low:Q", x2="high:Q")
    description = "Team mean by dimension on the 1–5 scale, ± spread: " + listing(
        [f"{r['dimension']} {r['mean']:.1f} ± {r['spread']:.1f}" for r in rows]) + "."
    return alt.LayerChart(layer=[bars, whiskers]).properties(description=description)


def perception_gap_chart(
    gaps: Sequence[GapCell], dimension_names: Mapping[str, str]
) -> alt.LayerChart:
    """Return the role × dimension heatmap: colour = role mean minus room mean, text = role mean.

    Cells the summary holds back (too few people) are left out; a pooled group comes last. A
    mean resting on fewer than half the ratings its people could give is starred (``3.2*``).
    """
    order = list(dimension_names)
    rows: list[dict[str, Any]] = [
        {
            "role": g.role_label,
            "dimension": dimension_names.get(g.dimension, g.dimension),
            "mean": round(g.mean, 2),
            "gap": round(g.gap, 2),
            "participants": g.participants,
            "ratings": f"{g.answers} of {g.possible}",
            # A mean resting on fewer than half its people's possible ratings is starred.
            "label": g.mean_text,
            "role_order": list(ROLES).index(g.role) if g.role in ROLES else len(ROLES),
            "dimension_order": order.index(g.dimension) if g.dimension in order else len(order),
        }
        for g in gaps
        if g.mean is not None and g.gap is not None
    ]
    data = pd.DataFrame(
        rows,
        columns=["role", "dimension", "mean", "gap", "participants", "ratings", "label",
                 "role_order", "dimension_order"],
    )
    # Dimensions down the side (their names are long), roles across the top (short).
    base = alt.Chart(data).encode(
        y=alt.Y("dimension:N", title=None, sort=alt.EncodingSortField("dimension_order"),
                axis=alt.Axis(labelLimit=320)),
        x=alt.X("role:N", title=None, sort=alt.EncodingSortField("role_order"),
                axis=alt.Axis(orient="top", labelAngle=0)),
        tooltip=["role:N", "dimension:N", "mean:Q", "gap:Q", "participants:Q", "ratings:N"],
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "gap:Q",
            title="Gap to the room",
            scale=alt.Scale(scheme="redblue", domain=[-_GAP_DOMAIN, _GAP_DOMAIN], clamp=True),
        )
    )
    dark = f"datum.gap <= {WHITE_TEXT_GAP[0]} || datum.gap >= {WHITE_TEXT_GAP[1]}"
    text = base.mark_text(fontSize=13).encode(
        text=alt.Text("label:N"),
        color=alt.condition(dark, alt.value("white"), alt.value("black")),
    )
    # The widest gaps first: what the room should talk about.
    widest = sorted(rows, key=lambda r: -abs(r["gap"]))
    description = "Each role's mean by dimension against the room, widest gaps first: " + listing(
        [f"{r['role']} on {r['dimension']} {r['mean']:.1f} ({r['gap']:+.1f} to the room)"
         for r in widest]) + "."
    return alt.LayerChart(layer=[cells, text]).properties(description=description)


def leadership_fit_chart(
    roles: Sequence[RoleResult], team: Mapping[str, float], model_names: Mapping[str, str]
) -> alt.LayerChart:
    """Return the role × model heatmap of mean fit (0–100), with the whole room as the last row."""
    rows = []
    groups = [(r.role_label, r.fit) for r in roles if r.fit]
    if team:
        groups.append(("Whole room", dict(team)))
    for i, (group, fits) in enumerate(groups):
        for model, fit in fits.items():
            rows.append({"group": group, "model": model_names.get(model, model),
                         "fit": round(fit, 1), "order": i})
    data = pd.DataFrame(rows, columns=["group", "model", "fit", "order"])
    base = alt.Chart(data).encode(
        x=alt.X("model:N", title=None, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("group:N", title=None, sort=alt.EncodingSortField("order")),
        tooltip=["group:N", "model:N", "fit:Q"],
    )
    cells = base.mark_rect().encode(
        color=alt.Color("fit:Q", title="Fit (0–100)",
                        scale=alt.Scale(scheme="greens", domain=[0, 100]))
    )
    text = base.mark_text(fontSize=13).encode(
        text=alt.Text("fit:Q", format=".0f"),
        color=alt.condition(f"datum.fit >= {WHITE_TEXT_FIT}", alt.value("white"),
                            alt.value("black")),
    )
    description = "Mean leadership-model fit out of 100 by group: " + listing(
        [f"{group}: " + ", ".join(f"{model_names.get(m, m)} {f:.0f}" for m, f in fits.items())
         for group, fits in groups]) + "."
    return alt.LayerChart(layer=[cells, text]).properties(description=description)
