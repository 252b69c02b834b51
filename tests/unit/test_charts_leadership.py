"""Leadership charts: barycentric placement, and the specs of the bar and triangle charts."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnostics.charts.leadership import (
    CORNERS,
    barycentric_point,
    fit_bar_chart,
    fit_triangle_chart,
)

H = math.sqrt(3) / 2
NAMES = {"tsar": "Tsar", "federation": "Federation", "chief_of_staff": "Chief of Staff"}


def _fit(tsar: float, federation: float, cos: float) -> dict[str, float]:
    return {"tsar": tsar, "federation": federation, "chief_of_staff": cos}


@pytest.mark.parametrize(
    ("fit", "point"),
    [
        (_fit(50, 50, 50), (0.5, H / 3)),
        (_fit(0, 0, 0), (0.5, H / 3)),
        (_fit(100, 0, 0), (0.5, H)),
        (_fit(0, 100, 0), (0.0, 0.0)),
        (_fit(0, 0, 100), (1.0, 0.0)),
        (_fit(0, 50, 50), (0.5, 0.0)),
        (_fit(60, 20, 20), (0.5, 0.6 * H)),
        (_fit(25, 75, 0), (0.125, 0.25 * H)),
    ],
)
def test_barycentric_point(fit: dict[str, float], point: tuple[float, float]) -> None:
    assert barycentric_point(fit) == pytest.approx(point, abs=1e-6)


def _coords(x: float, y: float) -> tuple[float, float, float]:
    """Barycentric weights of (x, y) with respect to the corners (tsar, federation, CoS)."""
    tsar = y / H
    cos = x - tsar * 0.5
    return tsar, 1 - tsar - cos, cos


_score = st.floats(min_value=0, max_value=100, allow_nan=False)


@given(_score, _score, _score)
def test_the_point_stays_inside_the_triangle_and_leans_to_the_best_fit(
    t: float, f: float, c: float
) -> None:
    weights = _coords(*barycentric_point(_fit(t, f, c)))
    assert all(w >= -1e-5 for w in weights)
    assert sum(weights) == pytest.approx(1.0)
    if max(t, f, c) > 0:
        # the heaviest barycentric weight belongs to a model with the highest fit
        best = max(range(3), key=lambda i: weights[i])
        assert (t, f, c)[best] == pytest.approx(max(t, f, c), abs=1e-3)


def _layer_values(spec: dict[str, Any], layer: dict[str, Any]) -> list[dict[str, Any]]:
    data = layer.get("data", spec.get("data"))
    assert data is not None
    values: list[dict[str, Any]] = spec["datasets"][data["name"]]
    return values


def _colours(spec: Any) -> list[str]:
    return re.findall(r"#[0-9a-fA-F]{6}", repr(spec))


def _is_grey(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return r == g == b


def test_bar_chart_shows_each_fit_on_a_0_100_scale_with_the_recommendation_darker() -> None:
    spec = fit_bar_chart(_fit(78.1, 34.4, 56.2), "tsar", NAMES).to_dict()
    bars, rule = spec["layer"]
    values = _layer_values(spec, bars)
    assert [(v["model"], v["fit"], v["recommended"]) for v in values] == [
        ("Tsar", 78.1, True),
        ("Federation", 34.4, False),
        ("Chief of Staff", 56.2, False),
    ]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 100]
    colour = bars["encoding"]["color"]["scale"]
    assert colour["domain"] == [True, False]
    dark, light = (int(c[1:3], 16) for c in colour["range"])
    assert dark < light
    assert _layer_values(spec, rule) == [{"fit": 50.0}]
    assert all(_is_grey(c) for c in _colours(spec))


def test_triangle_chart_draws_corners_and_one_point_per_label() -> None:
    fits = {"You": _fit(60, 20, 20), "Sales": _fit(0, 100, 0)}
    spec = fit_triangle_chart(fits, NAMES).to_dict()
    area, corner_dots, top, bottom, dots, text = spec["layer"]
    outline = _layer_values(spec, area)
    assert [(v["x"], v["y"]) for v in outline] == [
        CORNERS["tsar"],
        CORNERS["federation"],
        CORNERS["chief_of_staff"],
        CORNERS["tsar"],
    ]
    labels = {v["name"] for v in _layer_values(spec, corner_dots)}
    assert labels == {"Tsar", "Federation", "Chief of Staff"}
    points = _layer_values(spec, dots)
    assert [p["label"] for p in points] == ["You", "Sales"]
    assert (points[0]["x"], points[0]["y"]) == pytest.approx((0.5, 0.6 * H))
    assert (points[1]["x"], points[1]["y"]) == pytest.approx((0.0, 0.0))
    assert points[0]["tsar"] == 60.0
    assert "axis" in dots["encoding"]["x"] and dots["encoding"]["x"]["axis"] is None
    assert all(_is_grey(c) for c in _colours(spec)), "the triangle is drawn in greys only"


def test_both_charts_describe_the_fits_for_screen_readers() -> None:
    assert fit_bar_chart(_fit(78.1, 34.4, 56.2), "tsar", NAMES).to_dict()["description"] == (
        "Leadership-model fit out of 100, 50 neutral: Tsar 78; Federation 34; Chief of Staff 56; "
        "best fit Tsar.")
    fits = {"You": _fit(60, 20, 20), "Sales": _fit(0, 100, 0)}
    assert fit_triangle_chart(fits, NAMES).to_dict()["description"] == (
        "The three leadership models at the corners of a triangle, each point pulled toward the "
        "models that fit it: You closest to Tsar (Tsar 60, Federation 20, Chief of Staff 20); "
        "Sales closest to Federation (Tsar 0, Federation 100, Chief of Staff 0).")
