"""Funnel charts: specs built from aggregates only, whatever the number of deals behind them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from diagnostics import funnel as fn
from diagnostics import planner as pl
from diagnostics.breakage import rank_breakages
from diagnostics.charts import funnel as charts
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset

STAGES = StageConfig(funnel=("Lead", "Demo", "Proposal"), won=("Won",), lost=("Lost",))


@pytest.fixture(scope="module")
def many_deals() -> Dataset:
    """3,000 random deals across 12 reps: far more rows than any chart may carry."""
    rng = np.random.default_rng(7)
    n = 3000
    stage = rng.choice(["Lead", "Demo", "Proposal", "Won", "Lost"], n)
    return build_dataset(
        pd.DataFrame(
            {
                "opp_id": [f"O{i}" for i in range(n)],
                "rep": rng.choice([f"Rep {i:02d}" for i in range(12)], n),
                "stage": stage,
                "amount": rng.integers(1, 100, n).astype(float),
                "created_date": pd.Timestamp("2026-01-01")
                + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
                "close_date": pd.Timestamp("2026-05-01"),
            }
        ),
        STAGES,
        as_of=dt.date(2026, 6, 30),
    )


def _rows(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return dict(spec.get("datasets", {}))


def test_funnel_chart_carries_one_row_per_stage_and_segment(many_deals: Dataset) -> None:
    result = fn.compute_funnel(many_deals, Filters())
    spec = charts.funnel_chart(result).to_dict()
    datasets = _rows(spec)
    # Lost deals without history are "lost, stage unknown": one bar of their own.
    assert result.lost_stage_unknown > 0
    assert sum(len(rows) for rows in datasets.values()) <= 4 * 4 + 4 + 2
    bars, labels = (rows for rows in datasets.values())
    # The stacked segments add up to the reached count of each stage.
    for stage in result.stages:
        assert sum(r["count"] for r in bars if r["stage"] == stage.stage) == stage.reached
    assert [r["count"] for r in bars if r["stage"] == "Lost, stage unknown"] == [
        result.lost_stage_unknown]
    assert {r["segment"] for r in bars} == set(charts.SEGMENTS)
    assert labels[0]["label"].startswith(f"{result.stages[0].reached:,} · 100% of top")
    assert labels[-1]["label"] == f"{result.lost_stage_unknown:,} lost, at no step"
    bar_layer = spec["layer"][0]
    assert bar_layer["encoding"]["y"]["sort"] == ["Lead", "Demo", "Proposal", "Won",
                                                  "Lost, stage unknown"]
    assert bar_layer["encoding"]["color"]["scale"]["range"] == list(charts.SEGMENTS.values())


def test_empty_funnel_still_draws(many_deals: Dataset) -> None:
    spec = charts.funnel_chart(fn.compute_funnel(many_deals, Filters(rep=("Nobody",)))).to_dict()
    labels = list(_rows(spec).values())[-1]
    assert [r["label"] for r in labels][1] == "0 · — of top · — go on"


def test_heatmap_greys_small_samples(many_deals: Dataset) -> None:
    reps = fn.rep_transitions(many_deals, Filters(), min_count=120)
    spec = charts.rep_heatmap(reps).to_dict()
    (rows,) = _rows(spec).values()
    assert len(rows) == 12 * 3  # reps × steps, never deals
    few = [r for r in rows if not r["enough"]]
    assert few and all(r["gap_points"] is None and r["label"] == "few deals" for r in few)
    grey, coloured, _ = spec["layer"]
    assert grey["mark"] == {"type": "rect", "color": charts.GREY}
    assert grey["transform"] == [{"filter": "!datum.enough"}]
    assert coloured["encoding"]["color"]["scale"] == {"scheme": "redblue", "domainMid": 0}


def test_heatmap_writes_white_on_dark_cells() -> None:
    # Gaps of +20, +5, -40, -10 points: the scale runs 0 → +20 and 0 → -40, so +20 (100% of
    # its side) and -40 are dark; +5 (25%) and -10 (25%) stay light; grey cells stay black.
    reps = pd.DataFrame(
        {
            "rep": ["A", "B", "C", "D", "E"], "step": ["L → D"] * 5, "order": [0] * 5,
            "entered": [10] * 5, "advanced": [7, 6, 1, 4, 1],
            "rate": [0.7, 0.55, 0.1, 0.4, None], "team_rate": [0.5] * 5,
            "gap": [0.2, 0.05, -0.4, -0.1, None], "enough": [True, True, True, True, False],
        }
    )
    spec = charts.rep_heatmap(reps).to_dict()
    (rows,) = _rows(spec).values()
    assert [r["dark"] for r in rows] == [True, False, True, False, False]
    text = spec["layer"][2]["encoding"]["color"]
    assert text["condition"] == {"test": "datum.dark", "value": "white"}
    assert text["value"] == "black"


def test_breakage_chart_ranks_steps(many_deals: Dataset) -> None:
    result = fn.compute_funnel(many_deals, Filters())
    report = rank_breakages(result, [0.9, 0.1, None], 50.0, "targets")
    (rows,) = _rows(charts.breakage_chart(report).to_dict()).values()
    assert [r["step"] for r in rows] == ["Lead → Demo", "Demo → Proposal"]
    assert rows[0]["worse"] is True and rows[1]["worse"] is False


def test_plan_chart_uses_a_scale_that_keeps_its_bars() -> None:
    plan = pl.plan_reverse_funnel(140_000, 10_000, ["Calls", "Meeting", "Won"], [0.1, 0.5])
    spec = charts.plan_chart(plan).to_dict()
    (rows,) = _rows(spec).values()
    assert [(r["stage"], r["needed"]) for r in rows] == [("Calls", 280), ("Meeting", 28),
                                                          ("Won", 14)]
    assert spec["layer"][0]["encoding"]["x"]["scale"] == {"type": "symlog"}


def test_every_chart_describes_its_numbers_for_screen_readers() -> None:
    # Ten deals by hand: 10 at Lead, 6 went on to Demo, 3 to Proposal, 2 won.
    stage = ["Lead"] * 4 + ["Demo"] * 3 + ["Proposal"] + ["Won"] * 2
    dataset = build_dataset(
        pd.DataFrame({"opp_id": [f"O{i}" for i in range(10)], "rep": ["Ann", "Bo"] * 5,
                      "stage": stage, "amount": [10.0] * 10,
                      "created_date": pd.Timestamp("2026-01-05"),
                      "close_date": pd.Timestamp("2026-03-01")}),
        STAGES, as_of=dt.date(2026, 6, 30))
    result = fn.compute_funnel(dataset, Filters())
    assert charts.funnel_chart(result).to_dict()["description"] == (
        "Funnel: 10 reached Lead (100% of top); 6 reached Demo (60% of top); "
        "3 reached Proposal (30% of top); 2 reached Won (20% of top). Few deals behind the "
        "rate of Proposal → Won (2 of 3).")
    report = rank_breakages(result, [0.9, 0.1, None], 50.0, "targets")
    described = charts.breakage_chart(report).to_dict()["description"]
    assert described.startswith("Deals lost at each step against targets: Lead → Demo ")
    plan = pl.plan_reverse_funnel(140_000, 10_000, ["Calls", "Meeting", "Won"], [0.1, 0.5])
    assert charts.plan_chart(plan).to_dict()["description"] == (
        "Needed at each stage to make the target: Calls 280; Meeting 28; Won 14.")


def test_heatmap_description_names_each_steps_highest_and_lowest_rep() -> None:
    reps = pd.DataFrame({
        "rep": ["Ann", "Bo", "Cy", "Ann", "Bo", "Cy"],
        "step": ["Lead → Demo"] * 3 + ["Demo → Won"] * 3, "order": [0] * 3 + [1] * 3,
        "enough": [True, True, False, False, False, False],
        "rate": [0.5, 0.2, 0.9, 0.1, 0.1, 0.1], "gap": [0.15, -0.15, 0.55, 0.0, 0.0, 0.0],
        "entered": [10, 10, 2, 2, 2, 2],
    })
    assert charts.rep_heatmap(reps).to_dict()["description"] == (
        "Conversion of 3 reps at 2 steps, against the team: Lead → Demo: highest Ann 50%, "
        "lowest Bo 20%; Demo → Won: too few deals for every rep.")


def test_a_step_rate_on_few_deals_is_drawn_lighter_with_its_counts() -> None:
    # 10 at Lead, 6 at Demo, 3 at Proposal (2 of them won): Proposal → Won rests on 3 deals.
    stage = ["Lead"] * 4 + ["Demo"] * 3 + ["Proposal"] + ["Won"] * 2
    dataset = build_dataset(
        pd.DataFrame({"opp_id": [f"O{i}" for i in range(10)], "rep": ["Ann", "Bo"] * 5,
                      "stage": stage, "amount": [10.0] * 10,
                      "created_date": pd.Timestamp("2026-01-05"),
                      "close_date": pd.Timestamp("2026-03-01")}),
        STAGES, as_of=dt.date(2026, 6, 30))
    spec = charts.funnel_chart(fn.compute_funnel(dataset, Filters())).to_dict()
    bars, labels = (rows for rows in _rows(spec).values())
    assert {r["stage"] for r in bars if r["few"]} == {"Proposal"}
    assert [r["label"] for r in labels] == [
        "10 · 100% of top · 60% go on", "6 · 60% of top · 50% go on",
        "3 · 30% of top · 67% go on (2 of 3: few deals)", "2 · 20% of top"]
    opacity = spec["layer"][0]["encoding"]["opacity"]
    assert opacity["condition"] == {"test": "datum.few", "value": charts.FEW_OPACITY}
    assert opacity["value"] == 1.0 and charts.FEW_OPACITY < 1.0
