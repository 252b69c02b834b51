"""Every chart colour keeps at least 3:1 contrast against the page (WCAG 2.2, 1.4.11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from diagnostics.charts.palette import (
    BACKGROUND,
    MIN_CONTRAST,
    PALETTE,
    contrast_ratio,
    relative_luminance,
)
from diagnostics.quadrant import load_content

CHARTS = Path(__file__).resolve().parents[2] / "diagnostics" / "charts"


@pytest.mark.parametrize(("first", "second", "expected"), [
    ("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777777", "#ffffff", 4.48),
    ("#fff", "#000", 21.0), ("#4c78a8", "#ffffff", 4.61),
])
def test_contrast_ratio_matches_wcag(first: str, second: str, expected: float) -> None:
    assert contrast_ratio(first, second) == pytest.approx(expected, abs=0.01)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_palette_colour_stands_out_from_the_page(name: str) -> None:
    assert contrast_ratio(PALETTE[name], BACKGROUND) >= MIN_CONTRAST, PALETTE[name]


def test_every_quadrant_colour_stands_out_from_the_page() -> None:
    colours = {q.name: q.colour for q in load_content().quadrants.values()}
    assert colours
    for name, colour in colours.items():
        assert contrast_ratio(colour) >= MIN_CONTRAST, (name, colour)


def test_chart_modules_take_every_colour_from_the_palette() -> None:
    literal = re.compile(r"[\"']#[0-9a-fA-F]{3,8}[\"']")
    for module in CHARTS.glob("*.py"):
        if module.name == "palette.py":
            continue
        assert not literal.findall(module.read_text()), module.name


def _colours_in(spec: object, found: set[str], schemes: set[str]) -> None:
    """Collect every colour a spec draws with (mark colours, scale ranges) and every scheme."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            is_colour = key in ("color", "fill", "stroke") or (
                key == "value" and str(value).startswith("#"))
            if is_colour and isinstance(value, str):
                found.add(value)
            elif key == "range" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            elif key == "scheme":
                schemes.add(str(value))
            _colours_in(value, found, schemes)
    elif isinstance(spec, list):
        for item in spec:
            _colours_in(item, found, schemes)


def _every_chart() -> list[dict[str, object]]:
    import datetime as dt

    import pandas as pd

    from diagnostics import funnel as fn
    from diagnostics import planner as pl
    from diagnostics.breakage import rank_breakages
    from diagnostics.charts import forecast, funnel, leadership, quadrant, questionnaire, workshop
    from diagnostics.dataset import Filters, StageConfig, build_dataset
    from diagnostics.forecast import Backtest, BacktestPoint, forecast_bookings
    from diagnostics.questionnaire import load_bank, score_answers
    from diagnostics.workshop import DimensionStat, GapCell, RoleResult

    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    deals = pd.DataFrame({
        "opp_id": [f"O{i}" for i in range(12)], "rep": ["Ann", "Bo", "Cy"] * 4,
        "stage": ["Lead", "Demo", "Won", "Lost"] * 3, "amount": [100.0] * 12,
        "created_date": pd.Timestamp("2025-06-02") + pd.to_timedelta(range(0, 240, 20), "D"),
        "close_date": pd.Timestamp("2026-03-01")})
    dataset = build_dataset(deals, stages, as_of=dt.date(2026, 3, 31))
    result = fn.compute_funnel(dataset, Filters())
    content = load_content()
    colours, names = content.colours(), content.names()
    reps = pd.DataFrame({
        "rep": ["Ann", "Bo"], "team": ["E", "W"], "engagement": [2.0, 1.0],
        "close_ratio": [0.7, 0.2], "close_ratio_low": [0.4, 0.05],
        "close_ratio_high": [0.9, 0.5], "shrunk_close_ratio": [0.6, 0.3], "closed": [8, 6],
        "quadrant": ["star", "too_close"], "quadrant_name": [names["star"], names["too_close"]]})
    movement = reps.assign(quadrant_a="star", quadrant_b="star", engagement_a=1.0,
                           close_ratio_a=0.3, engagement_b=2.0, close_ratio_b=0.5, moved=True)
    heat = pd.DataFrame({"rep": ["Ann", "Bo"], "step": ["Lead → Demo"] * 2, "order": [0, 0],
                         "enough": [True, False], "rate": [0.5, 0.1], "gap": [0.1, 0.0],
                         "entered": [9, 2]})
    rep_funnel = pd.DataFrame({"stage": ["Lead", "Lead"], "rank": [1, 1], "who": ["rep", "team"],
                               "reached": [6, 30], "cumulative_conversion": [1.0, 1.0],
                               "next_step_conversion": [0.5, 0.4]})
    trend = pd.DataFrame({"week": pd.to_datetime(["2026-01-05"]), "rep": [3],
                          "team_average": [2.0]})
    fc = forecast_bookings(dataset, 500.0, dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    backtest = Backtest((BacktestPoint(dt.date(2025, 11, 15), dt.date(2025, 10, 1),
                                       dt.date(2025, 12, 31), 120.0, 100.0),), "")
    fits = {"tsar": 70.0, "federation": 40.0, "chief_of_staff": 50.0}
    bank = load_bank()
    charts = [
        funnel.funnel_chart(result), funnel.rep_heatmap(heat),
        funnel.breakage_chart(rank_breakages(result, [0.9, None], 50.0, "targets")),
        funnel.plan_chart(pl.plan_reverse_funnel(1000, 100, ["Lead", "Won"], [0.5])),
        quadrant.quadrant_chart(reps, engagement_threshold=1.5, close_threshold=0.4,
                                engagement_label="Calls", colours=colours, show_intervals=True),
        quadrant.funnel_plot_chart(reps, pd.DataFrame({"closed": [1], "level": ["95%"],
                                                       "low": [0.1], "high": [0.9]}), 0.4,
                                   colours),
        quadrant.movement_chart(movement, "Calls", colours, names),
        quadrant.rep_funnel_chart(rep_funnel, "Ann"),
        quadrant.activity_trend_chart(trend, "Ann", "Calls"),
        forecast.distribution_chart(fc), forecast.backtest_chart(backtest),
        leadership.fit_bar_chart(fits, "tsar"), leadership.fit_triangle_chart({"You": fits}),
        questionnaire.dimension_chart(score_answers(bank, {q.id: 3 for q in bank.questions}),
                                      70, 45),
        workshop.responses_chart({"sales": 3}),
        workshop.dimension_chart([DimensionStat("a", "Alpha", 3.0, 1.0, 3, None)]),
        workshop.perception_gap_chart([GapCell("sales", "a", 3.0, 0.5, 3)], {"a": "Alpha"}),
        workshop.leadership_fit_chart([RoleResult("sales", 3, None, fits)], fits, {}),
    ]
    return [chart.to_dict() for chart in charts]


def test_every_colour_any_chart_draws_with_is_checked_for_contrast() -> None:
    # The palette and the quadrant colours are checked above; white and black only write values
    # on heatmap cells (chosen per cell for text contrast, tested with each heatmap); the two
    # schemes are heatmaps whose every cell prints its value.
    allowed = {c.lower() for c in PALETTE.values()} | {
        q.colour.lower() for q in load_content().quadrants.values()} | {"white", "black"}
    specs = _every_chart()
    assert len(specs) == 18
    drawn: set[str] = set()
    for spec in specs:
        found: set[str] = set()
        schemes: set[str] = set()
        _colours_in(spec, found, schemes)
        assert {c.lower() for c in found} <= allowed, (spec.get("description"), found - allowed)
        assert schemes <= {"redblue", "greens"}, schemes
        drawn |= found
    assert set(PALETTE.values()) <= drawn  # the walk sees every colour the charts use
