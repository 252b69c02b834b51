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

__all__ = ["dimension_chart", "dimension_chart_spec", "dimension_frame", "dimension_scores_text"]

_BAR = PALETTE["bar_dark"]
_BINDING = PALETTE["binding"]
_COLUMNS = ["dimension", "score", "weight", "answered", "is_binding"]
_STEP = 32  # pixels per bar: the chart grows with the dimensions answered


def dimension_frame(result: ScoreResult) -> pd.DataFrame:
    """Return one row per answered dimension: name, score, weight, answered, is_binding."""
    return pd.DataFrame(_rows(result), columns=_COLUMNS)


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


def dimension_scores_text(result: ScoreResult, likely_min: float | None = None,
                          unlikely_below: float | None = None) -> str:
    """Say what the chart shows: each answered dimension's score and the thresholds, in words."""
    scores = [f"{r['dimension']} {r['score']:.0f}" + (" (binding constraint)" if r["is_binding"]
                                                      else "")
              for r in _rows(result)]
    cut = "; ".join(f"{label} {v:.0f}" for label, v in (("unlikely below", unlikely_below),
                                                         ("likely from", likely_min))
                    if v is not None)
    return f"Dimension scores out of 100: {listing(scores)}." + (
        f" Verdict thresholds: {cut}." if cut else "")


def dimension_chart(
    result: ScoreResult, likely_min: float | None = None, unlikely_below: float | None = None
) -> alt.LayerChart:
    """Return a horizontal bar chart of dimension scores (0–100) with the verdict thresholds.

    The binding constraint is drawn in red; dashed rules mark the score thresholds when given.
    Dimensions with no answer are left out (they have no score). Only the data depends on the
    answers: the layout (the order of every dimension, the height per bar, the description) is
    the same for every result of a bank, so a browser redrawing it after an answer only swaps
    the data in (see :func:`dimension_chart_spec`).
    """
    order = tuple(d.name for d in result.dimensions)
    return _chart(pd.DataFrame(_rows(result), columns=_COLUMNS), order,
                  _thresholds(likely_min, unlikely_below))


def _thresholds(likely_min: float | None, unlikely_below: float | None) -> list[dict[str, Any]]:
    return [{"value": v, "label": label}
            for v, label in ((unlikely_below, "unlikely below"), (likely_min, "likely from"))
            if v is not None]


def _chart(frame: pd.DataFrame, order: tuple[str, ...], thresholds: list[dict[str, Any]]
           ) -> alt.LayerChart:
    # Explicit channel classes and types: a shorthand such as "score:Q" is parsed (and its
    # wrapper validated) on every build.
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            alt.X("score", type="quantitative", title="Score out of 100",
                  scale=alt.Scale(domain=[0, 100])),
            alt.Y("dimension", type="nominal", title=None, sort=list(order),
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
    layers: list[Any] = [bars]
    if thresholds:
        rules = (
            alt.Chart(pd.DataFrame(thresholds))
            .mark_rule(strokeDash=[4, 3], color=PALETTE["rule"])
            .encode(alt.X("value", type="quantitative"),
                    tooltip=[alt.Tooltip("label", type="nominal"),
                             alt.Tooltip("value", type="quantitative")])
        )
        layers.append(rules)
    cut = " and ".join(f"{t['label']} {t['value']:.0f}" for t in thresholds)
    description = ("Dimension scores out of 100, one bar per answered dimension, the binding "
                   "constraint in red" + (f"; dashed lines mark the verdict thresholds ({cut})"
                                          if cut else "") + ".")
    return alt.LayerChart(layer=layers).properties(
        height=alt.Step(_STEP), title="Dimension scores", description=description)


@functools.lru_cache(maxsize=16)
def _template(order: tuple[str, ...], likely_min: float | None, unlikely_below: float | None
              ) -> dict[str, Any]:
    """The chart's spec without its rows: converted (and validated) once per layout."""
    placeholder = pd.DataFrame([{"dimension": "", "score": 0.0, "weight": 1.0, "answered": "",
                                 "is_binding": False}], columns=_COLUMNS)
    spec = _chart(placeholder, order, _thresholds(likely_min, unlikely_below)).to_dict()
    spec.pop("datasets")
    if "data" in spec:  # one layer: Altair puts its data on the chart, not on the layer
        spec["data"] = {"name": "scores"}
    else:
        spec["layer"][0]["data"] = {"name": "scores"}
        spec["layer"][1]["data"] = {"name": "thresholds"}
    return spec


def dimension_chart_spec(
    result: ScoreResult, likely_min: float | None = None, unlikely_below: float | None = None
) -> dict[str, Any]:
    """Return :func:`dimension_chart`'s Vega-Lite spec with its data inline under fixed names.

    The same chart as ``dimension_chart(...).to_dict()`` (a test holds them equal) without
    building and validating Altair objects on every call: the layout is converted once, each
    call adds the rows. Only ``datasets`` differs between two results of one bank, so the
    browser updates the drawn chart's data instead of drawing it again.
    """
    order = tuple(d.name for d in result.dimensions)
    spec = copy.deepcopy(_template(order, likely_min, unlikely_below))
    spec["datasets"] = {"scores": _rows(result)}
    if likely_min is not None or unlikely_below is not None:
        spec["datasets"]["thresholds"] = _thresholds(likely_min, unlikely_below)
    return spec
