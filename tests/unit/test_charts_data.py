"""The Data page's deals-by-month chart (spec checked through to_dict)."""

from __future__ import annotations

import pandas as pd

from diagnostics.charts.data import deals_by_month_chart


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-03-01"]),
        "status": ["won", "open", "lost"],
        "deals": [3, 1200, 2],
    })


def test_chart_stacks_each_months_deals_by_status_in_the_palette_colours() -> None:
    spec = deals_by_month_chart(_frame()).to_dict()
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"], enc["x"]["timeUnit"]) == (
        "month", "temporal", "yearmonth")
    assert (enc["y"]["field"], enc["y"]["stack"]) == ("deals", "zero")
    assert enc["color"]["scale"]["domain"] == ["won", "lost", "open", "parked"]
    assert len(set(enc["color"]["scale"]["range"])) == 4
    rows = next(iter(spec["datasets"].values()))
    assert sorted(r["deals"] for r in rows) == [2, 3, 1200]


def test_description_names_the_span_and_each_months_total() -> None:
    described = deals_by_month_chart(_frame()).to_dict()["description"]
    assert described.startswith("Deals by the month they were created from Jan 2025 to Mar 2025")
    assert "Jan 2025 1,203; Mar 2025 2." in described  # February: no deal, no bar
