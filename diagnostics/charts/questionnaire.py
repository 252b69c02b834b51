"""Charts of the make-your-number result: one bar per dimension, the binding constraint marked."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.questionnaire import ScoreResult

__all__ = ["dimension_frame", "dimension_chart"]

_BAR = PALETTE["bar_dark"]
_BINDING = PALETTE["binding"]


def dimension_frame(result: ScoreResult) -> pd.DataFrame:
    """Return one row per answered dimension: name, score, weight, answered, is_binding."""
    bc = result.binding_constraint
    rows = [
        {
            "dimension": d.name,
            "score": d.score,
            "weight": d.weight,
            "answered": f"{d.answered}/{d.questions}",
            "is_binding": bc is not None and d.id == bc.id,
        }
        for d in result.dimensions
        if d.score is not None
    ]
    return pd.DataFrame(
        rows, columns=["dimension", "score", "weight", "answered", "is_binding"]
    )


def dimension_chart(
    result: ScoreResult, likely_min: float | None = None, unlikely_below: float | None = None
) -> alt.LayerChart:
    """Return a horizontal bar chart of dimension scores (0–100) with the verdict thresholds.

    The binding constraint is drawn in red; dashed rules mark the score thresholds when given.
    Dimensions with no answer are left out (they have no score).
    """
    frame = dimension_frame(result)
    order = frame["dimension"].tolist()
    # Explicit channel classes and types: a shorthand such as "score:Q" is parsed (and its
    # wrapper validated) on every build, which made up most of an answer click's chart time.
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            alt.X("score", type="quantitative", title="Score out of 100",
                  scale=alt.Scale(domain=[0, 100])),
            alt.Y("dimension", type="nominal", title=None, sort=order,
                  axis=alt.Axis(labelLimit=320)),
            alt.Color(condition=alt.ConditionalPredicateValueDefGradientstringnullExprRef(
                test="datum.is_binding", value=_BINDING), value=_BAR),
            tooltip=[
                alt.Tooltip("dimension", type="nominal", title="Dimension"),
                alt.Tooltip("score", type="quantitative", title="Score", format=".1~f"),
                alt.Tooltip("weight", type="quantitative", title="Weight"),
                alt.Tooltip("answered", type="nominal", title="Answered"),
            ],
        )
    )
    height = max(120, 32 * len(frame))
    layers: list[Any] = [bars.properties(height=height)]
    thresholds = [
        {"value": v, "label": label}
        for v, label in ((unlikely_below, "unlikely below"), (likely_min, "likely from"))
        if v is not None
    ]
    if thresholds:
        rules = (
            alt.Chart(pd.DataFrame(thresholds))
            .mark_rule(strokeDash=[4, 3], color=PALETTE["rule"])
            .encode(alt.X("value", type="quantitative"),
                    tooltip=[alt.Tooltip("label", type="nominal"),
                             alt.Tooltip("value", type="quantitative")])
        )
        layers.append(rules)
    scores = [f"{r['dimension']} {r['score']:.0f}" + (" (binding constraint)" if r["is_binding"]
                                                      else "")
              for r in frame.to_dict("records")]
    cut = "; ".join(f"{label} {v:.0f}" for label, v in (("unlikely below", unlikely_below),
                                                         ("likely from", likely_min))
                    if v is not None)
    description = f"Dimension scores out of 100: {listing(scores)}." + (
        f" Verdict thresholds: {cut}." if cut else "")
    return alt.LayerChart(layer=layers).properties(height=height, title="Dimension scores",
                                                   description=description)
