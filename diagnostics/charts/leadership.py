"""Charts of the leadership-model fit: a bar per model, and a point inside the models' triangle.

Both take the three fits (0–100) and nothing else. The triangle places each model at a corner and
the point at the barycentre weighted by the fits, so a point near the centre means the models fit
about equally; it is drawn in greys on purpose (a tendency, not a verdict).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE

__all__ = ["CORNERS", "barycentric_point", "fit_bar_chart", "fit_triangle_chart"]

_ORDER = ("tsar", "federation", "chief_of_staff")
_DEFAULT_NAMES = {"tsar": "Tsar", "federation": "Federation", "chief_of_staff": "Chief of Staff"}

# An equilateral triangle with side 1: Tsar on top, Federation bottom left, Chief of Staff right.
CORNERS: dict[str, tuple[float, float]] = {
    "tsar": (0.5, math.sqrt(3) / 2),
    "federation": (0.0, 0.0),
    "chief_of_staff": (1.0, 0.0),
}

_DARK, _MID, _LIGHT = PALETTE["ink"], PALETTE["mid"], PALETTE["light"]


def barycentric_point(fit: Mapping[str, float]) -> tuple[float, float]:
    """Return the (x, y) point whose barycentric weights are the fits; the centre if all are 0."""
    # Fits below a millionth of a point are noise (and underflow the weighted sums): treat as 0.
    weights = [float(fit[m]) if float(fit[m]) > 1e-6 else 0.0 for m in _ORDER]
    total = sum(weights)
    if total == 0:
        weights, total = [1.0, 1.0, 1.0], 3.0
    x = sum(w * CORNERS[m][0] for w, m in zip(weights, _ORDER, strict=True)) / total
    y = sum(w * CORNERS[m][1] for w, m in zip(weights, _ORDER, strict=True)) / total
    return round(x, 6), round(y, 6)


def fit_bar_chart(
    fit: Mapping[str, float], recommended: str, names: Mapping[str, str] | None = None
) -> alt.LayerChart:
    """Return a horizontal bar per model (fit 0–100), the recommended one darker, 50 marked."""
    names = names or _DEFAULT_NAMES
    frame = pd.DataFrame(
        {
            "model": [names[m] for m in _ORDER],
            "fit": [float(fit[m]) for m in _ORDER],
            "recommended": [m == recommended for m in _ORDER],
        }
    )
    order = [names[m] for m in _ORDER]
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("fit:Q", title="Fit (50 = neutral)", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("model:N", title=None, sort=order),
            color=alt.Color(
                "recommended:N",
                scale=alt.Scale(domain=[True, False], range=[_DARK, _LIGHT]),
                legend=None,
            ),
            tooltip=[alt.Tooltip("model:N", title="Model"), alt.Tooltip("fit:Q", title="Fit")],
        )
    )
    neutral = (
        alt.Chart(pd.DataFrame({"fit": [50.0]}))
        .mark_rule(color=_MID, strokeDash=[4, 3])
        .encode(x="fit:Q")
    )
    description = (
        "Leadership-model fit out of 100, 50 neutral: "
        + listing([f"{names[m]} {float(fit[m]):.0f}" for m in _ORDER])
        + (f"; best fit {names[recommended]}." if recommended in names else ".")
    )
    return alt.LayerChart(layer=[bars, neutral]).properties(height=150, description=description)


def fit_triangle_chart(
    fits: Mapping[str, Mapping[str, float]], names: Mapping[str, str] | None = None
) -> alt.LayerChart:
    """Return the models' triangle with one grey point per label (e.g. "You", or one per role)."""
    names = names or _DEFAULT_NAMES
    outline = pd.DataFrame(
        [
            {"x": CORNERS[m][0], "y": CORNERS[m][1], "order": i}
            for i, m in enumerate((*_ORDER, _ORDER[0]))
        ]
    )
    corners = pd.DataFrame(
        [
            {
                "x": CORNERS[m][0],
                "y": CORNERS[m][1],
                "name": names[m],
                "dy": -10 if m == "tsar" else 16,
            }
            for m in _ORDER
        ]
    )
    points = pd.DataFrame(
        [
            {"label": label, "x": p[0], "y": p[1], **{m: float(f[m]) for m in _ORDER}}
            for label, f in fits.items()
            for p in [barycentric_point(f)]
        ],
        columns=["label", "x", "y", *_ORDER],
    )
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.15, 1.15]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-0.12, 1.0]))
    area = (
        alt.Chart(outline)
        .mark_line(color=_MID, strokeWidth=1.5)
        .encode(x=x, y=y, order="order:Q")
    )
    corner_dots = alt.Chart(corners).mark_point(color=_MID, filled=True, size=40).encode(x=x, y=y)
    labels_top = (
        alt.Chart(corners[corners["dy"] < 0])
        .mark_text(color=_DARK, dy=-10, fontWeight="bold")
        .encode(x=x, y=y, text="name:N")
    )
    labels_bottom = (
        alt.Chart(corners[corners["dy"] > 0])
        .mark_text(color=_DARK, dy=16, fontWeight="bold")
        .encode(x=x, y=y, text="name:N")
    )
    tooltip = [alt.Tooltip("label:N", title="Who")] + [
        alt.Tooltip(f"{m}:Q", title=f"{names[m]} fit") for m in _ORDER
    ]
    dots = (
        alt.Chart(points)
        .mark_point(filled=True, size=160, color=_DARK, opacity=0.85)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    text = (
        alt.Chart(points)
        .mark_text(color=_DARK, align="left", dx=10, dy=-8)
        .encode(x=x, y=y, text="label:N")
    )
    layers = [area, corner_dots, labels_top, labels_bottom, dots, text]
    placed = [
        f"{label} closest to {names[max(_ORDER, key=lambda m: float(f[m]))]} ("
        + ", ".join(f"{names[m]} {float(f[m]):.0f}" for m in _ORDER) + ")"
        for label, f in fits.items()
    ]
    description = ("The three leadership models at the corners of a triangle, each point pulled "
                   f"toward the models that fit it: {listing(placed)}.")
    return alt.LayerChart(layer=layers).properties(height=320, description=description)
