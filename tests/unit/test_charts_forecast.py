"""Forecast charts: specs built from a handful of aggregate rows, whatever the number of deals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from diagnostics.charts import forecast as charts
from diagnostics.dataset import StageConfig, build_dataset
from diagnostics.forecast import Backtest, BacktestPoint, Forecast, forecast_bookings

D = dt.date
AS_OF = D(2026, 3, 31)


@pytest.fixture(scope="module")
def forecast() -> Forecast:
    """3,000 deals: far more than the chart may carry; 600 are open."""
    rng = np.random.default_rng(3)
    n = 3000
    created = pd.Timestamp("2025-04-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
    stage = rng.choice(["Lead", "Proposal", "Won", "Lost", "Lost"], n)
    close = created + pd.to_timedelta(rng.integers(5, 60, n), unit="D")
    frame = pd.DataFrame({"opp_id": [f"O{i}" for i in range(n)], "stage": stage,
                          "amount": rng.integers(1, 100, n) * 100.0,
                          "created_date": created, "close_date": close})
    stages = StageConfig(funnel=("Lead", "Proposal"), won=("Won",), lost=("Lost",))
    dataset = build_dataset(frame, stages, as_of=AS_OF)
    return forecast_bookings(dataset, 150_000.0, D(2026, 4, 1), D(2026, 6, 30))


def _layer(spec: dict[str, Any], mark: str) -> list[dict[str, Any]]:
    return [layer for layer in spec["layer"]
            if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"])
            == mark]


def test_distribution_is_sixty_bars_with_the_target_and_percentiles_marked(
    forecast: Forecast,
) -> None:
    spec = charts.distribution_chart(forecast).to_dict()
    datasets = spec["datasets"]
    bars = next(rows for rows in datasets.values() if rows and "probability" in rows[0])
    assert len(bars) == charts.BARS
    assert sum(row["probability"] for row in bars) == pytest.approx(1.0, abs=0.01)
    marks = max((rows for rows in datasets.values() if rows and "label" in rows[0]), key=len)
    assert [m["label"] for m in marks] == ["P10", "P50", "P90", "Target"]
    assert marks[3]["amount"] == 150_000.0
    rules = _layer(spec, "rule")
    assert [r["mark"]["color"] for r in rules] == ["#555555", charts.TARGET_COLOUR]
    assert spec["layer"][0]["encoding"]["y2"] == {"datum": 0}
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Short of the target", "Reaches the target"]


def test_bars_beyond_the_target_are_coloured_as_reaching_it(forecast: Forecast) -> None:
    rows = charts.distribution_rows(forecast)
    reaching = rows[rows["outcome"] == "Reaches the target"]
    assert (reaching["from"] >= forecast.target).all()
    assert (rows[rows["outcome"] != "Reaches the target"]["from"] < forecast.target).all()
    assert reaching["probability"].sum() == pytest.approx(forecast.p_target, abs=0.05)


def test_backtest_chart_has_two_bars_a_quarter() -> None:
    backtest = Backtest((
        BacktestPoint(D(2025, 11, 15), D(2025, 10, 1), D(2025, 12, 31), 120.0, 100.0),
        BacktestPoint(D(2026, 2, 14), D(2026, 1, 1), D(2026, 3, 31), 90.0, 100.0),
    ), "note")
    spec = charts.backtest_chart(backtest).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [(r["quarter"], r["series"], r["amount"]) for r in rows] == [
        ("Q4 2025", "Forecast at mid-quarter", 120.0), ("Q4 2025", "Actually booked", 100.0),
        ("Q1 2026", "Forecast at mid-quarter", 90.0), ("Q1 2026", "Actually booked", 100.0)]
    assert spec["encoding"]["x"]["sort"] == ["Q4 2025", "Q1 2026"]
    assert backtest.mean_abs_pct_error == pytest.approx(0.15)


def test_both_charts_describe_their_numbers_for_screen_readers(forecast: Forecast) -> None:
    described = charts.distribution_chart(forecast).to_dict()["description"]
    assert described.startswith("Likely bookings in the period: P10 ")
    assert "target 150k, reached with a " in described and described.endswith(" chance.")
    backtest = Backtest((
        BacktestPoint(D(2025, 11, 15), D(2025, 10, 1), D(2025, 12, 31), 120_000.0, 100_000.0),
        BacktestPoint(D(2026, 2, 14), D(2026, 1, 1), D(2026, 3, 31), 90_000.0, 100_000.0),
    ), "note")
    assert charts.backtest_chart(backtest).to_dict()["description"] == (
        "Forecast at mid-quarter against what was booked: Q4 2025 forecast 120k, booked 100k; "
        "Q1 2026 forecast 90k, booked 100k.")
