"""The data beside the room: each finding says how many deals it rests on, and "few deals" with
the range below the app's small-sample rules (the planner's and the Funnel's)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from diagnostics import workshop as ws
from diagnostics.cohorts import rate_rests_on, rough_rate_range
from diagnostics.dataset import Dataset, StageConfig, build_dataset
from diagnostics.formatting import format_amount, format_rate
from diagnostics.sample import load_sample_dataset

STAGES = StageConfig(funnel=("Demo", "Trial"), won=("Won",), lost=("Lost",))
AS_OF = dt.date(2026, 4, 15)  # last full quarter: Jan–Mar 2026, compared with Oct–Dec 2025
Q1, Q4 = dt.date(2026, 2, 10), dt.date(2025, 11, 10)


def _deals(rows: list[tuple[str, str, dt.date | None]]) -> Dataset:
    """Deals (stage, status, close date), created 1 Sep 2025, one open deal worth 10,000."""
    opps = pd.DataFrame({
        "opp_id": [str(i) for i in range(len(rows) + 1)],
        "rep": ["ann"] * (len(rows) + 1),
        "stage": [r[0] for r in rows] + ["Demo"],
        "status": [r[1] for r in rows] + ["open"],
        "amount": [100.0] * len(rows) + [10_000.0],
        "created_date": [dt.date(2025, 9, 1)] * (len(rows) + 1),
        "close_date": [r[2] for r in rows] + [None],
    })
    return build_dataset(opps, STAGES, as_of=AS_OF)


def _findings(dataset: Dataset) -> dict[str, str]:
    return {e.question_id: e.finding for e in ws.evidence_for(dataset)}


def test_a_win_rate_on_few_closed_deals_gives_its_count_and_range() -> None:
    # 4 won of 6 closed (Q1: 1 won, 2 lost at Demo; Q4: 3 won).
    dataset = _deals([("Won", "won", Q1), ("Demo", "lost", Q1), ("Demo", "lost", Q1)]
                     + [("Won", "won", Q4)] * 3)
    found = _findings(dataset)
    low, high = rough_rate_range(4, 6) or (0.0, 0.0)
    rests = (f"on only 6 closed deals (few deals: any rate from {format_rate(low)} to "
             f"{format_rate(high)} fits them, 95% interval)")
    assert rate_rests_on(4, 6) == rests
    assert found["plan_forecast"] == f"The data's win rate is 67%, {rests}."
    assert found["plan_coverage"] == (
        f"Open pipeline is 10k; at the data's win rate of 67%, {rests}, it would bring about "
        f"{format_amount(10_000 * 0.6667)}, anywhere from {format_amount(10_000 * low)} to "
        f"{format_amount(10_000 * high)} at the rates those deals fit.")
    # Both quarters' Demo → Trial rate rests on 3 deals: the move says so, with its counts.
    assert found["fun_conversion"] == (
        "Demo → Trial fell 67 points for deals closed in Jan–Mar 2026 (100% (3 of 3 deals) → "
        "33% (1 of 3 deals)), the largest move of any step, but on few deals: fewer than 5 "
        "entered it in a quarter, and one deal going the other way moves such a rate by 25 "
        "points or more.")


def test_a_move_on_enough_deals_comes_before_a_larger_one_on_few() -> None:
    # Q1: 10 at Demo, 4 go on and win (Trial → Won 4 of 4: few deals); Q4: 10 at Demo, 5 go on,
    # 3 win (Trial → Won 3 of 5).
    q1 = [("Demo", "lost", Q1)] * 6 + [("Won", "won", Q1)] * 4
    q4 = [("Demo", "lost", Q4)] * 5 + [("Trial", "lost", Q4)] * 2 + [("Won", "won", Q4)] * 3
    found = _findings(_deals(q1 + q4))
    assert found["fun_conversion"] == (
        "Demo → Trial fell 10 points for deals closed in Jan–Mar 2026 (50% (5 of 10 deals) → "
        "40% (4 of 10 deals)), the largest move of any step resting on 5 or more deals in both "
        "quarters.")
    assert "on 20 closed deals" in found["plan_forecast"] and "few" not in found["plan_forecast"]


def test_the_sample_data_findings_say_how_many_deals_they_rest_on() -> None:
    found = _findings(load_sample_dataset())
    assert found["plan_forecast"].endswith("%, on 3,888 closed deals.")
    assert ", on 3,888 closed deals, it would bring about " in found["plan_coverage"]
    assert "few deals" not in " ".join(found.values())
    assert " deals) → " in found["fun_conversion"]
