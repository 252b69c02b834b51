"""Charts of the make-your-number result: one bar per dimension, the binding constraint marked."""

from __future__ import annotations

import copy
import functools
from typing import Any

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.questionnaire import ScoreResult

__all__ = ["dimension_chart", "dimension_chart_spec", "dimension_frame"]

_BAR = PALETTE["bar_dark"]
_BINDING = PALETTE["binding"]


def dimension_frame(result: ScoreResult) -> pd.DataFrame:
    """Return one row per answered dimension: name, score, weight, answered, is_binding."""
    return pd.DataFrame(_rows(result), columns=_COLUMNS)


_COLUMNS = ["dimension", "score", "weight", "answered", "is_binding"]


def _rows(result: ScoreResult) -> list[dict[str, Any]]:
    bc = result.binding_constraint
    return [
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


def dimension_chart(
    result: ScoreResult, likely_min: float | None = None, unlikely_below: float | None = None
) -> alt.LayerChart:
    """Return a horizontal bar chart of dimension scores (0–100) with the verdict thresholds.

    The binding constraint is drawn in red; dashed rules mark the score thresholds when given.
    Dimensions with no answer are left out (they have no score).
    """
    rows = _rows(result)
    return _chart(pd.DataFrame(rows, columns=_COLUMNS), _thresholds(likely_min, unlikely_below),
                  _height(len(rows)), _description(rows, likely_min, unlikely_below))


def _thresholds(likely_min: float | None, unlikely_below: float | None) -> list[dict[str, Any]]:
    return [{"value": v, "label": label}
            for v, label in ((unlikely_below, "unlikely below"), (likely_min, "likely from"))
            if v is not None]


def _height(rows: int) -> int:
    return max(120, 32 * rows)


def _description(rows: list[dict[str, Any]], likely_min: float | None,
                 unlikely_below: float | None) -> str:
    scores = [f"{r['dimension']} {r['score']:.0f}" + (" (binding constraint)" if r["is_binding"]
                                                      else "")
              for r in rows]
    cut = "; ".join(f"{label} {v:.0f}" for label, v in (("unlikely below", unlikely_below),
                                                         ("likely from", likely_min))
                    if v is not None)
    return f"Dimension scores out of 100: {listing(scores)}." + (
        f" Verdict thresholds: {cut}." if cut else "")


def _chart(frame: pd.DataFrame, thresholds: list[dict[str, Any]], height: int,
           description: str) -> alt.LayerChart:
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
    layers: list[Any] = [bars.properties(height=height)]
    if thresholds:
        rules = (
            alt.Chart(pd.DataFrame(thresholds))
            .mark_rule(strokeDash=[4, 3], color=PALETTE["rule"])
            .encode(alt.X("value", type="quantitative"),
                    tooltip=[alt.Tooltip("label", type="nominal"),
                             alt.Tooltip("value", type="quantitative")])
        )
        layers.append(rules)
    return alt.LayerChart(layer=layers).properties(height=height, title="Dimension scores",
                                                   description=description)


@functools.lru_cache(maxsize=8)
def _template(likely_min: float | None, unlikely_below: float | None) -> dict[str, Any]:
    """The chart's spec without rows: converted (and validated) once per pair of thresholds."""
    placeholder = pd.DataFrame([{"dimension": "", "score": 0.0, "weight": 1.0, "answered": "",
                                 "is_binding": False}], columns=_COLUMNS)
    return _chart(placeholder, _thresholds(likely_min, unlikely_below), _height(0),
                  "").to_dict()


def dimension_chart_spec(
    result: ScoreResult, likely_min: float | None = None, unlikely_below: float | None = None
) -> dict[str, Any]:
    """Return :func:`dimension_chart`'s Vega-Lite spec with its data inline under fixed names.

    The same spec as ``dimension_chart(...).to_dict()`` (a test holds them equal) without
    building and validating Altair objects on every call: the layout is converted once per pair
    of thresholds, and each call fills in the scores, their order, the height and the
    description. An answer click redraws this chart; Altair's conversion was most of its time.
    """
    rows = _rows(result)
    spec = copy.deepcopy(_template(likely_min, unlikely_below))
    datasets: dict[str, Any] = {"scores": rows}
    bars = spec["layer"][0]
    # With one layer Altair puts its data on the chart, not on the layer.
    (spec if "data" in spec else bars)["data"] = {"name": "scores"}
    bars["encoding"]["y"]["sort"] = [r["dimension"] for r in rows]
    for layer in spec["layer"][1:]:  # the threshold rules, when there are thresholds
        layer["data"] = {"name": "thresholds"}
        datasets["thresholds"] = _thresholds(likely_min, unlikely_below)
    height = _height(len(rows))
    spec["height"] = height
    if "height" in bars:
        bars["height"] = height
    spec["description"] = _description(rows, likely_min, unlikely_below)
    spec["datasets"] = datasets
    return spec
