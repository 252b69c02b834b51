"""Chart specs of the rep quadrant: layers, encodings and how many rows reach the browser."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from diagnostics import quadrant as quad
from diagnostics.charts import quadrant as charts
from diagnostics.dataset import Filters, StageConfig, build_dataset

STAGES = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
COLOURS = quad.content().colours()
NAMES = quad.content().names()


def _reps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep": ["Ann", "Bob", "Eve", "Zed"],
            "team": ["East", "East", "West", "West"],
            "engagement": [2.0, 3.0, 1.2, None],
            "close_ratio": [0.75, 0.2, None, 0.5],
            "close_ratio_low": [0.41, 0.03, None, 0.1],
            "close_ratio_high": [0.93, 0.6, None, 0.9],
            "shrunk_close_ratio": [0.7, 0.3, None, 0.5],
            "closed": [8, 6, 0, 2],
            "quadrant": ["star", "needs_coaching", "not_enough_data", "not_enough_data"],
            "quadrant_name": ["Stars", "Needs coaching", "Not enough data", "Not enough data"],
        }
    )


def _rows(spec: dict[str, Any]) -> list[int]:
    return [len(v) for v in spec.get("datasets", {}).values()]


def _marks(spec: dict[str, Any]) -> list[str]:
    out = []
    for layer in spec["layer"]:
        mark = layer["mark"]
        out.append(mark if isinstance(mark, str) else mark["type"])
    return out


def test_quadrant_chart_layers_and_encodings() -> None:
    chart = charts.quadrant_chart(
        _reps(), engagement_threshold=1.0, close_threshold=0.25,
        engagement_label="Meetings per working day", colours=COLOURS,
    )
    spec = chart.to_dict()
    assert _marks(spec) == ["circle", "point", "point", "rule", "rule"]
    circle, hollow, diamond, vline, hline = spec["layer"]
    assert hollow["mark"]["filled"] is False
    assert "not_enough_data" in hollow["transform"][0]["filter"]
    # "Too close to call" is drawn as an open diamond, not as a settled (filled) dot.
    assert diamond["mark"]["shape"] == "diamond" and diamond["mark"]["filled"] is False
    assert diamond["transform"][0]["filter"] == "datum.quadrant == 'too_close'"
    assert "too_close" in circle["transform"][0]["filter"]
    assert circle["encoding"]["x"]["title"] == "Meetings per working day"
    assert circle["encoding"]["y"]["field"] == "close_ratio"
    assert circle["encoding"]["color"]["scale"]["domain"] == list(COLOURS)
    # Eve (no closed deal) and Zed (no engagement) have no point to draw.
    assert sorted(_rows(spec)) == [1, 1, 2]
    assert {vline["encoding"]["x"]["field"], hline["encoding"]["y"]["field"]} == {"x", "y"}


def test_quadrant_chart_shrunk_axis_and_intervals() -> None:
    spec = charts.quadrant_chart(
        _reps(), engagement_threshold=None, close_threshold=None,
        engagement_label="Activities per working day", colours=COLOURS,
        y_field="shrunk_close_ratio", show_intervals=True,
    ).to_dict()
    assert _marks(spec) == ["rule", "circle", "point", "point"]  # no split lines
    bars = spec["layer"][0]["encoding"]
    assert (bars["y"]["field"], bars["y2"]["field"]) == ("close_ratio_low", "close_ratio_high")
    assert spec["layer"][1]["encoding"]["y"]["field"] == "shrunk_close_ratio"
    with pytest.raises(ValueError):
        charts.quadrant_chart(_reps(), engagement_threshold=None, close_threshold=None,
                              engagement_label="x", colours=COLOURS, y_field="won")


def test_chart_gets_one_row_per_rep_with_2000_reps() -> None:
    rng = np.random.default_rng(7)
    n_reps, per_rep = 2000, 6
    reps = np.repeat([f"R{i:04d}" for i in range(n_reps)], per_rep)
    won = rng.random(n_reps * per_rep) < 0.4
    day = dt.date(2026, 3, 4)
    opps = pd.DataFrame({
        "opp_id": [f"O{i}" for i in range(len(reps))], "rep": reps, "team": "T",
        "stage": np.where(won, "Won", "Lost"), "status": np.where(won, "won", "lost"),
        "created_date": day, "close_date": day,
    })
    acts = pd.DataFrame({
        "activity_id": [f"A{i}" for i in range(n_reps * 25)],
        "rep": np.repeat([f"R{i:04d}" for i in range(n_reps)], 25),
        "type": "Call", "activity_date": day,
    })
    ds = build_dataset(opps, STAGES, activities=acts)
    result = quad.classify_reps(ds, Filters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 6)))
    assert len(result.reps) == n_reps
    spec = charts.quadrant_chart(
        result.to_frame(), engagement_threshold=result.thresholds.engagement,
        close_threshold=result.thresholds.close_ratio,
        engagement_label=result.engagement_label, colours=COLOURS,
    ).to_dict()
    # 50,000 activities and 12,000 deals reach the browser as 2,000 rows (+ two split lines).
    assert sorted(_rows(spec)) == [1, 1, n_reps]


def test_funnel_plot_chart() -> None:
    limits = pd.DataFrame({"closed": [1, 8, 1, 8], "level": ["Rule", "Rule", "Warning", "Warning"],
                           "low": [0.0, 0.2, 0.0, 0.1], "high": [1.0, 0.8, 1.0, 0.9]})
    spec = charts.funnel_plot_chart(_reps(), limits, 0.5, COLOURS).to_dict()
    assert _marks(spec) == ["line", "rule", "circle", "point"]
    assert spec["layer"][3]["mark"]["shape"] == "diamond"
    line = spec["layer"][0]["encoding"]
    assert line["strokeDash"]["field"] == "level" and line["detail"]["field"] == "side"
    assert line["strokeDash"]["legend"]["labelLimit"] >= 300  # the rule's label is long
    assert sorted(_rows(spec)) == [1, 3, 8]  # the line, reps with a ratio, limits low+high
    empty = charts.funnel_plot_chart(_reps(), limits.iloc[0:0], None, COLOURS).to_dict()
    assert _marks(empty) == ["circle", "point"]


def test_movement_chart_draws_a_segment_per_rep_with_both_points() -> None:
    movement = pd.DataFrame({
        "rep": ["Ann", "Bob", "Eve"],
        "quadrant_a": ["performance_plan", "star", "not_enough_data"],
        "quadrant_b": ["star", "needs_coaching", "not_enough_data"],
        "engagement_a": [0.5, 2.0, 1.0], "close_ratio_a": [0.1, 0.6, None],
        "engagement_b": [2.0, 2.5, 1.1], "close_ratio_b": [0.7, 0.2, None],
        "moved": [True, True, False],
    })
    spec = charts.movement_chart(movement, "Activities per working day", COLOURS,
                                 NAMES).to_dict()
    assert _marks(spec) == ["rule", "point", "circle"]
    rule = spec["layer"][0]["encoding"]
    assert [rule[k]["field"] for k in ("x", "y", "x2", "y2")] == [
        "engagement_a", "close_ratio_a", "engagement_b", "close_ratio_b"]
    (rows,) = spec["datasets"].values()
    assert [r["rep"] for r in rows] == ["Ann", "Bob"]
    assert [r["quadrant_name"] for r in rows] == ["Stars", "Needs coaching"]


def test_rep_funnel_and_trend_charts() -> None:
    funnel = pd.DataFrame({
        "stage": ["Lead", "Won", "Lead", "Won"], "rank": [1, 2, 1, 2],
        "who": ["rep", "rep", "team", "team"], "reached": [6, 1, 31, 17],
        "cumulative_conversion": [1.0, 1 / 6, 1.0, 17 / 31],
        "next_step_conversion": [1 / 6, None, 17 / 31, None],
    })
    spec = charts.rep_funnel_chart(funnel, "Bob").to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["xOffset"]["field"] == "who"
    (rows,) = spec["datasets"].values()
    assert {r["who"] for r in rows} == {"Bob", "Team"}
    trend = pd.DataFrame({"week": pd.to_datetime(["2026-01-05", "2026-01-12"]),
                          "rep": [30, 12], "team_average": [15.0, 9.5]})
    spec = charts.activity_trend_chart(trend, "Bob", "Activities").to_dict()
    (rows,) = spec["datasets"].values()
    assert len(rows) == 4 and {r["who"] for r in rows} == {"Bob", "Team average"}
    assert spec["encoding"]["y"]["title"] == "Activities per week"


def test_every_chart_describes_its_reps_for_screen_readers() -> None:
    spec = charts.quadrant_chart(
        _reps(), engagement_threshold=1.5, close_threshold=0.4,
        engagement_label="Activities per day", colours=COLOURS).to_dict()
    # Eve has no close ratio and Zed no engagement: two reps are plotted.
    assert spec["description"] == (
        "Rep quadrant of 2 reps, Activities per day against close ratio: 1 Stars; "
        "1 Needs coaching; engagement line at 1.50, close-ratio line at 40%.")
    rule, warning = "Rule: 99.3% per rep, 95% for the team", "Warning: 95% for one rep"
    limits = pd.DataFrame({"closed": [1, 8, 1, 8], "level": [rule, rule, warning, warning],
                           "low": [0.0, 0.1, 0.0, 0.2], "high": [1.0, 0.9, 1.0, 0.8]})
    assert charts.funnel_plot_chart(_reps(), limits, None, COLOURS).to_dict()["description"] == (
        "Close ratio against closed deals for 3 reps, no close-ratio line with control limits "
        "(Rule: 99.3% per rep, 95% for the team; Warning: 95% for one rep): 1 Stars; 1 Needs "
        "coaching; 1 Not enough data.")
    assert charts.funnel_plot_chart(_reps(), limits.iloc[0:0], 0.4, COLOURS).to_dict()[
        "description"].startswith("Close ratio against closed deals for 3 reps, close-ratio "
                                  "line at 40% with no control limits:")
    movement = pd.DataFrame({
        "rep": ["Ann", "Bob"], "quadrant_a": ["performance_plan", "star"],
        "quadrant_b": ["star", "star"], "engagement_a": [0.5, 2.0], "close_ratio_a": [0.1, 0.6],
        "engagement_b": [2.0, 2.5], "close_ratio_b": [0.7, 0.65], "moved": [True, False],
    })
    assert charts.movement_chart(movement, "Activities", COLOURS, NAMES).to_dict()[
        "description"] == ("How 2 reps moved between the two periods: 1 changed quadrant; "
                           f"where they are now: 2 {NAMES['star']}.")
    funnel = pd.DataFrame({
        "stage": ["Lead", "Won", "Lead", "Won"], "rank": [1, 2, 1, 2],
        "who": ["rep", "rep", "team", "team"], "reached": [6, 1, 31, 17],
        "cumulative_conversion": [1.0, 1 / 6, 1.0, 17 / 31],
        "next_step_conversion": [1 / 6, None, 17 / 31, None],
    })
    assert charts.rep_funnel_chart(funnel, "Bob").to_dict()["description"] == (
        "Share of closed deals reaching each stage, Bob against the team: Lead Bob 100%, team "
        "100%; Won Bob 17%, team 55%.")
    trend = pd.DataFrame({"week": pd.to_datetime(["2026-01-05", "2026-01-12"]),
                          "rep": [30, 12], "team_average": [15.0, 9.5]})
    assert charts.activity_trend_chart(trend, "Bob", "Calls").to_dict()["description"] == (
        "Calls per week over 2 weeks: Bob averages 21.0 a week, the team 12.2 per active rep.")
