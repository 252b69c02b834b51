"""Reverse funnel, coverage verdicts and what-ifs on hand-checked numbers, plus the plan command."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics import planner as pl
from diagnostics.cli import funnel as cli_funnel
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError

WORKED_STAGES = ["Calls", "First meeting", "Meeting", "Proposal", "Won"]
WORKED_RATES = [0.10, 0.35, 0.50, 0.40]
D = dt.date


def test_worked_example_from_sales_practice() -> None:
    plan = pl.plan_reverse_funnel(140_000, 10_000, WORKED_STAGES, WORKED_RATES)
    assert [(s.stage, s.needed) for s in plan.stages] == [
        ("Calls", 2000), ("First meeting", 200), ("Meeting", 70), ("Proposal", 35), ("Won", 14)
    ]
    assert (plan.deals_needed, plan.activities_needed) == (14, 2000)
    assert plan.meeting_stage == "First meeting"
    assert plan.meetings_per_rep_per_day is None  # no reps or days given
    assert plan.verdict_level == "unknown"


@pytest.mark.parametrize(
    ("target", "deal_size", "rates", "needed"),
    [
        (100_000, 30_000, [0.5], [8, 4]),  # 3.33 deals round up to 4
        (10_000, 10_000, [1.0, 1.0], [1, 1, 1]),
        (1, 10_000, [0.3], [4, 1]),  # any target needs at least one deal
        (90_000, 10_000, [0.3, 0.7], [44, 13, 9]),  # 9 / 0.7 = 12.9 → 13; 13 / 0.3 = 43.3 → 44
    ],
)
def test_each_stage_rounds_up(
    target: float, deal_size: float, rates: list[float], needed: list[int]
) -> None:
    stages = [f"S{i}" for i in range(len(rates) + 1)]
    plan = pl.plan_reverse_funnel(target, deal_size, stages, rates)
    assert [s.needed for s in plan.stages] == needed


def test_activity_step_and_per_rep_per_day() -> None:
    # 200 first meetings at 0.25 first meetings per call → 800 calls; 4 reps × 20 days = 80.
    plan = pl.plan_reverse_funnel(
        140_000, 10_000, WORKED_STAGES[1:], WORKED_RATES[1:], activity_rate=0.25,
        activity_label="Calls", reps=4, working_days=20,
    )
    assert [s.stage for s in plan.stages][:2] == ["Calls", "First meeting"]
    assert plan.activities_needed == 800
    assert [s.per_rep_per_day for s in plan.stages] == pytest.approx(
        [10.0, 2.5, 70 / 80, 35 / 80, 14 / 80])
    assert plan.meetings_per_rep_per_day == pytest.approx(2.5)
    assert list(plan.to_frame()["Per rep per working day"])[:2] == ["10.00", "2.50"]


@pytest.mark.parametrize(
    ("target", "booked", "pipeline", "win_rate", "level", "coverage", "expected"),
    [
        # $4.8M against $1.6M looks like 3×, but at 22% it lands about $1.06M: 66% of plan.
        (1_600_000, 0, 4_800_000, 0.22, "unlikely", 3.0, 1_056_000),
        (1_000_000, 0, 4_000_000, 0.25, "likely", 4.0, 1_000_000),  # exactly covered
        (1_000_000, 200_000, 3_000_000, 0.25, "at_risk", 3.75, 750_000),  # 94% of 800k
        (1_000_000, 0, 2_000_000, 0.25, "unlikely", 2.0, 500_000),  # 50%
        (1_000_000, 1_000_000, 0, 0.25, "made", None, 0),
        (1_000_000, 0, 1_000_000, 0.0, "unlikely", 1.0, 0),
        (1_000_000, 0, None, 0.25, "unknown", None, None),
    ],
)
def test_coverage_verdict(
    target: float, booked: float, pipeline: float | None, win_rate: float, level: str,
    coverage: float | None, expected: float | None,
) -> None:
    plan = pl.plan_reverse_funnel(target, 10_000, ["Proposal", "Won"], [0.4], pipeline=pipeline,
                                  win_rate=win_rate, booked=booked)
    assert plan.verdict_level == level
    assert plan.coverage == pytest.approx(coverage)
    assert plan.expected_bookings == pytest.approx(expected)
    assert plan.required_coverage == (pytest.approx(1 / win_rate) if win_rate else None)
    opening = {"likely": "Likely:", "at_risk": "At risk:", "unlikely": "Unlikely:",
               "made": "The target is already booked", "unknown": "Enter the open pipeline"}
    assert plan.verdict.startswith(opening[level])


def test_unlikely_verdict_names_the_missing_pipeline() -> None:
    plan = pl.plan_reverse_funnel(1_600_000, 10_000, ["Proposal", "Won"], [0.4],
                                  pipeline=4_800_000, win_rate=0.22)
    # 1.6M ÷ 22% = 7.27M needed, 4.8M there: about 2.5M more.
    assert "66% of the 1.6M still to book" in plan.verdict
    assert "About 2.5M more pipeline" in plan.verdict
    items = {label: value for label, value, _ in plan.display_items()}
    assert (items["Coverage"], items["Coverage needed"]) == ("3.0×", "4.5×")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rates": [0.1, 0.0, 0.5, 0.4]}, "must be above 0%"),
        ({"rates": [0.1, 1.2, 0.5, 0.4]}, "at most 100%"),
        ({"rates": [0.1, None, 0.5, 0.4]}, "First meeting to Meeting is blank"),
        ({"rates": [0.1, 0.35]}, "need 4 rates, got 2"),
        ({"target": -5}, "revenue target must be a positive"),
        ({"deal_size": 0}, "average deal size must be a positive"),
        ({"reps": 0}, "number of reps"),
        ({"working_days": 0}, "working days"),
        ({"win_rate": 1.5}, "win rate"),
        ({"pipeline": -1}, "pipeline cannot be negative"),
    ],
)
def test_unusable_inputs_raise_readable_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"target": 140_000, "deal_size": 10_000, "stages": WORKED_STAGES,
                               "rates": WORKED_RATES, **kwargs}
    with pytest.raises(DiagnosticsError, match=message):
        pl.plan_reverse_funnel(**args)  # type: ignore[arg-type]


def test_what_if_on_one_step_and_on_deal_size() -> None:
    plan = pl.plan_reverse_funnel(140_000, 10_000, WORKED_STAGES, WORKED_RATES,
                                  pipeline=500_000, win_rate=0.2)
    better_close = pl.what_if(plan, step=3, points=10)  # Proposal → Won 40% → 50%
    assert better_close.bookings_before == pytest.approx(140_000)
    assert better_close.bookings_after == pytest.approx(175_000)
    assert better_close.change == pytest.approx(35_000)
    assert better_close.activities_needed_after == 1600  # 14 ← 28 ← 56 ← 160 ← 1,600
    assert better_close.label == "Bookings from the same 2,000 at Calls"
    # Proposal → Won from 40% to 50% lifts the pipeline's win rate by the same factor, 20% → 25%:
    # 500k × 25% = 125k of the 140k to book (89%), so the verdict moves from unlikely to at risk.
    assert better_close.sentence() == (
        "The target would then need 1,600 at Calls instead of 2,000; expected bookings from the "
        "open pipeline: 125k."
    )
    assert plan.verdict_level == "unlikely"  # 100k of 140k = 71% < 75%
    assert better_close.win_rate_after == pytest.approx(0.25)
    assert better_close.verdict_level == "at_risk"
    assert better_close.verdict.startswith("At risk:")
    bigger = pl.what_if(plan, deal_size_pct=10)
    assert bigger.bookings_after == pytest.approx(154_000)
    assert bigger.expected_bookings_after == pytest.approx(110_000)  # 550k × 20% = 79%
    assert bigger.verdict_level == "at_risk"
    both = pl.what_if(plan, step=3, points=20, deal_size_pct=20)  # 600k × 30% = 180k
    assert both.verdict_level == "likely"
    capped = pl.what_if(plan, step=1, points=90)
    assert capped.bookings_after == pytest.approx(140_000 / 0.35)
    with pytest.raises(DiagnosticsError, match="no step 9"):
        pl.what_if(plan, step=9, points=1)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [(D(2026, 1, 5), D(2026, 1, 9), 5), (D(2026, 1, 5), D(2026, 1, 18), 10),
     (D(2026, 1, 10), D(2026, 1, 11), 0), (D(2026, 7, 1), D(2026, 9, 30), 66),
     (D(2026, 2, 1), D(2026, 1, 1), 0)],
)
def test_working_days(start: dt.date, end: dt.date, days: int) -> None:
    assert pl.working_days_between(start, end) == days


@pytest.mark.parametrize(
    ("day", "quarter"),
    [(D(2026, 6, 30), (D(2026, 7, 1), D(2026, 9, 30))),
     (D(2026, 11, 23), (D(2027, 1, 1), D(2027, 3, 31))),
     (D(2026, 1, 1), (D(2026, 4, 1), D(2026, 6, 30)))],
)
def test_next_quarter(day: dt.date, quarter: tuple[dt.date, dt.date]) -> None:
    assert pl.next_quarter(day) == quarter


@settings(max_examples=200, deadline=None)
@given(
    st.floats(1, 1e8),
    st.floats(1, 1e6),
    st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
)
def test_reverse_funnel_invariants(target: float, deal_size: float, rates: list[float]) -> None:
    stages = [f"S{i}" for i in range(len(rates) + 1)]
    plan = pl.plan_reverse_funnel(target, deal_size, stages, rates)
    needed = [s.needed for s in plan.stages]
    assert all(a >= b for a, b in zip(needed, needed[1:], strict=False))
    assert plan.deals_needed * deal_size >= target * (1 - 1e-9)
    for i, rate in enumerate(rates):
        assert needed[i] * rate >= needed[i + 1] * (1 - 1e-9)  # enough volume at every step


def test_plan_inputs_come_from_the_data() -> None:
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    opps = pd.DataFrame(
        [
            {"opp_id": "1", "rep": "Ann", "stage": "Won", "amount": 100.0,
             "created_date": D(2026, 1, 1), "close_date": D(2026, 1, 21)},
            {"opp_id": "2", "rep": "Bob", "stage": "Lost", "amount": 50.0,
             "created_date": D(2026, 1, 1), "close_date": D(2026, 1, 11)},
            {"opp_id": "3", "rep": "Bob", "stage": "Demo", "amount": 400.0,
             "created_date": D(2026, 1, 2), "close_date": None},
        ]
    )
    acts = pd.DataFrame(
        [{"activity_id": str(i), "rep": "Ann" if i < 4 else "Cy", "type": "Call",
          "activity_date": D(2026, 1, 3)} for i in range(6)]
    )
    # As of 28 Feb every deal is older than the 20 days the won deal took: all have matured.
    data = build_dataset(opps, stages, activities=acts, as_of=D(2026, 2, 28))
    inputs = pl.plan_inputs_from_data(data, Filters())
    assert inputs.rate_cohort is not None and inputs.rate_cohort.deals == 3
    # Bob's lost deal has no stage evidence ("lost, stage unknown"): it is at no step, so the
    # step rates (Lead → Demo 100%) would count only the deals that moved on. The plan goes
    # from the first stage straight to the won deal at the measured win rate, and says why.
    assert inputs.stages == ("Lead", "Won")
    assert inputs.rates == pytest.approx((1 / 2,))
    assert inputs.steps_note is not None and "Only 0 of 1 lost deals (0%)" in inputs.steps_note
    assert inputs.steps_note in inputs.rates_caption()
    assert (inputs.deal_size, inputs.win_rate, inputs.pipeline, inputs.reps) == (
        100.0, 0.5, 400.0, 2)
    # 2 placed first-stage deals per 4 of Ann's and Bob's activities (Cy has no deals): the
    # chain activities × rates gives 1 won per 4 activities, as in the data.
    assert inputs.activity_rate == pytest.approx(2 / 4)
    assert inputs.step_labels() == ["Lead → Won"]
    assert "furthest stage reached" in inputs.description


def test_plan_inputs_keep_every_step_when_lost_deals_have_a_known_stage() -> None:
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    opps = pd.DataFrame(
        [
            {"opp_id": "1", "rep": "Ann", "stage": "Won", "amount": 100.0,
             "created_date": D(2026, 1, 1), "close_date": D(2026, 1, 21)},
            {"opp_id": "2", "rep": "Bob", "stage": "Lost", "amount": 50.0,
             "created_date": D(2026, 1, 1), "close_date": D(2026, 1, 11)},
            {"opp_id": "3", "rep": "Bob", "stage": "Lost", "amount": 50.0,
             "created_date": D(2026, 1, 1), "close_date": D(2026, 1, 12)},
        ]
    )
    # The history places both lost deals: one stopped at Lead, one at Demo.
    history = pd.DataFrame(
        [
            {"opp_id": "1", "stage": "Lead", "entered_date": D(2026, 1, 1)},
            {"opp_id": "1", "stage": "Demo", "entered_date": D(2026, 1, 5)},
            {"opp_id": "1", "stage": "Won", "entered_date": D(2026, 1, 21)},
            {"opp_id": "2", "stage": "Lead", "entered_date": D(2026, 1, 1)},
            {"opp_id": "2", "stage": "Lost", "entered_date": D(2026, 1, 11)},
            {"opp_id": "3", "stage": "Lead", "entered_date": D(2026, 1, 1)},
            {"opp_id": "3", "stage": "Demo", "entered_date": D(2026, 1, 6)},
            {"opp_id": "3", "stage": "Lost", "entered_date": D(2026, 1, 12)},
        ]
    )
    data = build_dataset(opps, stages, stage_history=history, as_of=D(2026, 2, 28))
    inputs = pl.plan_inputs_from_data(data, Filters())
    assert inputs.steps_note is None
    assert inputs.stages == ("Lead", "Demo", "Won")
    assert inputs.rates == pytest.approx((2 / 3, 1 / 2))
    assert inputs.win_rate == pytest.approx(1 / 3)


# ---------------------------------------------------------------- command line


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    cli_funnel.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_plan_command_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(["plan", "--target", "140000", "--deal-size", "10000", "--stages",
                "Calls,First meeting,Meeting,Proposal,Won", "--rates", "0.10,35%,0.50,0.40",
                "--reps", "2", "--working-days", "20", "--pipeline", "400000", "--win-rate",
                "0.22", "--json"], capsys)
    assert out["stages"] == [
        {"stage": "Calls", "needed": 2000}, {"stage": "First meeting", "needed": 200},
        {"stage": "Meeting", "needed": 70}, {"stage": "Proposal", "needed": 35},
        {"stage": "Won", "needed": 14},
    ]
    assert (out["deals_needed"], out["activities_needed"]) == (14, 2000)
    per_day = out["per_rep_per_day"]
    assert isinstance(per_day, list) and per_day[0] == {"stage": "Calls", "per_rep_per_day": 50.0}
    assert out["coverage"] == pytest.approx(400_000 / 140_000)
    assert out["required_coverage"] == pytest.approx(1 / 0.22)
    assert out["expected_bookings"] == pytest.approx(88_000)
    assert str(out["verdict"]).startswith("Unlikely")


def test_plan_command_from_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "opportunities.csv"
    out = _run(["plan", "--target", "1000000", "--from-file", str(sample), "--working-days",
                "60", "--json"], capsys)
    stages = out["stages"]
    assert isinstance(stages, list) and stages[-1]["stage"] == "Won"
    assert out["deals_needed"] == stages[-1]["needed"] > 0
    assert out["verdict_level"] in {"likely", "at_risk", "unlikely"}


def test_plan_command_needs_rates_or_a_file() -> None:
    parser = argparse.ArgumentParser()
    cli_funnel.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["plan", "--target", "1000", "--deal-size", "10"])
    with pytest.raises(DiagnosticsError, match="--from-file"):
        args.func(args)


@pytest.mark.parametrize(("per_day", "words"), [(2.5, "above"), (1.0, "right at"),
                                                  (0.4, "within"), (None, None)])
def test_meeting_standard_sentence(per_day: float | None, words: str | None) -> None:
    import dataclasses

    plan = pl.plan_reverse_funnel(140_000, 10_000, ["Calls", "First meeting", "Meeting", "Proposal",
                                                 "Won"], [0.10, 0.35, 0.50, 0.40])
    plan = dataclasses.replace(plan, meetings_per_rep_per_day=per_day,
                               meeting_stage="Meeting" if per_day is not None else None)
    sentence = plan.meeting_standard()
    assert (sentence is None) if words is None else (words in (sentence or ""))


@pytest.mark.parametrize(
    ("typed", "share", "note"),
    [
        (25.0, 0.25, None),
        (0.25, 0.25, "Read 0.25 as 25% (a share, not 0.25%)."),
        (0.0, 0.0, None),
        (1.0, 0.01, None),
        (100.0, 1.0, None),
    ],
)
def test_a_win_rate_typed_as_a_share_is_read_as_one(typed: float, share: float,
                                                    note: str | None) -> None:
    assert pl.read_win_rate(typed) == (pytest.approx(share), note)


@pytest.mark.parametrize("typed", [100.5, 250.0, -1.0])
def test_win_rates_outside_0_to_100_are_refused(typed: float) -> None:
    with pytest.raises(DiagnosticsError, match="not possible"):
        pl.read_win_rate(typed)


def test_conversion_rates_below_1_percent_are_questioned_above_100_refused() -> None:
    labels = ["Calls → Meeting", "Meeting → Won"]
    assert pl.implausible_rates(labels, [0.0025, 0.5]) == [
        "Calls → Meeting is 0.25%: did you mean 25%? Type 25 in the percent column if so."]
    assert pl.implausible_rates(labels, [0.1, None]) == []
    with pytest.raises(DiagnosticsError, match="more than 100%"):
        pl.implausible_rates(labels, [0.1, 1.2])


def test_planner_inputs_follow_the_period() -> None:
    # Q1: deals of 1,000, 2 won of 3 closed; Q2: deals of 5,000, 1 won of 2 closed.
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    rows = [("a", "Won", 1000.0, D(2026, 1, 5), D(2026, 2, 1)),
            ("b", "Won", 1000.0, D(2026, 1, 6), D(2026, 2, 2)),
            ("c", "Lost", 1000.0, D(2026, 1, 7), D(2026, 2, 3)),
            ("d", "Won", 5000.0, D(2026, 4, 5), D(2026, 5, 1)),
            ("e", "Lost", 5000.0, D(2026, 4, 6), D(2026, 5, 2))]
    opps = pd.DataFrame([{"opp_id": i, "rep": "Ann", "stage": st, "amount": amt,
                          "created_date": c, "close_date": cl} for i, st, amt, c, cl in rows])
    data = build_dataset(opps, stages, as_of=D(2026, 6, 30))
    q1 = pl.plan_inputs_from_data(data, Filters(start=D(2026, 1, 1), end=D(2026, 3, 31)))
    q2 = pl.plan_inputs_from_data(data, Filters(start=D(2026, 4, 1), end=D(2026, 6, 30)))
    assert (q1.deal_size, q1.win_rate) == (1000.0, pytest.approx(2 / 3))
    assert (q2.deal_size, q2.win_rate) == (5000.0, pytest.approx(1 / 2))
    # The key a page uses to reset its inputs changes with the period, not on a rerun.
    assert q1.source_key() != q2.source_key()
    again = pl.plan_inputs_from_data(data, Filters(start=D(2026, 1, 1), end=D(2026, 3, 31)))
    assert again.source_key() == q1.source_key()


def test_plan_from_file_names_the_deals_its_rates_come_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pathlib import Path

    young = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "young_cohort.csv"
    out = _run(["plan", "--target", "100000", "--from-file", str(young), "--json"], capsys)
    # Y-01 … Y-06 were created by 20 Apr 2025 (59 days before the last date): 3 won, 3 lost.
    assert out["win_rate"] == 0.5
    assert str(out["rates_from"]).startswith(
        "Win rate and step rates from Deals created up to 20 Apr 2025: 6 deals, 6 of them closed.")


def _unpriced() -> pd.DataFrame:
    """Two reps: 4 won (one with an amount, 9,000), 2 lost, 3 open with no amount at all."""
    rows = [("W1", "Won", 9000.0), ("W2", "Won", None), ("W3", "Won", None), ("W4", "Won", None),
            ("L1", "Lost", 500.0), ("L2", "Lost", None),
            ("O1", "Lead", None), ("O2", "Demo", None), ("O3", "Demo", None)]
    return pd.DataFrame([
        {"opp_id": key, "rep": "Ann" if i % 2 else "Bob", "stage": stage, "amount": amount,
         "created_date": D(2025, 1, 2 + i),
         "close_date": None if stage not in ("Won", "Lost") else D(2025, 2, 2 + i)}
        for i, (key, stage, amount) in enumerate(rows)])


def test_plan_inputs_say_what_amounts_they_rest_on_and_leave_an_unpriced_pipeline_unknown() -> None:
    data = build_dataset(_unpriced(), StageConfig(funnel=("Lead", "Demo"), won=("Won",),
                                                  lost=("Lost",)), as_of=D(2025, 6, 30))
    inputs = pl.plan_inputs_from_data(data, Filters())
    # Three open deals and not one amount: the pipeline is unknown, not 0, so the coverage
    # verdict waits for a typed figure instead of reading "unlikely".
    assert inputs.pipeline is None
    assert inputs.deal_size == 9000.0  # the one won deal with an amount
    assert inputs.amount_notes() == [
        "Average deal size from the 1 of 4 won deals that have an amount.",
        "None of the 3 open deals has an amount, so the open pipeline is unknown (not 0): type "
        "it to check coverage.",
    ]
    assert "Average deal size from the 1 of 4 won deals" in inputs.rates_caption()
    plan = pl.plan_reverse_funnel(90_000, inputs.deal_size, inputs.stages,
                                  [r or 0.5 for r in inputs.rates], pipeline=inputs.pipeline,
                                  win_rate=inputs.win_rate)
    assert plan.verdict_level == "unknown"


def test_plan_inputs_without_a_priced_win_give_no_deal_size() -> None:
    frame = _unpriced()
    frame.loc[frame["opp_id"] == "W1", "amount"] = None
    data = build_dataset(frame, StageConfig(funnel=("Lead", "Demo"), won=("Won",),
                                            lost=("Lost",)), as_of=D(2025, 6, 30))
    inputs = pl.plan_inputs_from_data(data, Filters())
    assert inputs.deal_size is None
    assert inputs.missing_deal_size() == (
        "None of the 4 won deals has an amount, so the data gives no deal size.")
    assert inputs.amount_notes()[0] == inputs.missing_deal_size()


def test_plan_command_says_the_won_deals_have_no_amount(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _unpriced()
    frame.loc[frame["opp_id"] == "W1", "amount"] = None
    data = build_dataset(frame, StageConfig(funnel=("Lead", "Demo"), won=("Won",),
                                            lost=("Lost",)), as_of=D(2025, 6, 30))
    monkeypatch.setattr(cli_funnel, "_load", lambda files, mapping: data)
    with pytest.raises(DiagnosticsError, match="None of the 4 won deals has an amount"):
        _run(["plan", "--target", "100000", "--from-file", "deals.csv", "--json"], capsys)
    # Given a deal size, the plan runs, with no pipeline invented for the coverage check.
    out = _run(["plan", "--target", "100000", "--from-file", "deals.csv", "--deal-size", "5000",
                "--json"], capsys)
    assert out["pipeline"] is None and out["verdict_level"] == "unknown"
    assert "None of the 3 open deals has an amount" in str(out["rates_from"])


def _aged_pipeline() -> pd.DataFrame:
    """10 won in 30 days and 10 lost (Jan–Feb 2025); 5 open since January at 100,000 each and
    2 open since June at 1,000 each; the data ends on 30 June 2025."""
    rows = []
    for i in range(10):
        created = D(2025, 1, 2 + i)
        rows.append((f"W{i}", "Won", 1000.0, created, created + dt.timedelta(days=30)))
        rows.append((f"L{i}", "Lost", 1000.0, created, created + dt.timedelta(days=10)))
    rows += [(f"A{i}", "Demo", 100_000.0, D(2025, 1, 15 + i), None) for i in range(5)]
    rows += [(f"F{i}", "Lead", 1000.0, D(2025, 6, 20 + i), None) for i in range(2)]
    return pd.DataFrame([{"opp_id": k, "rep": "Ann", "stage": st_, "amount": a,
                          "created_date": c, "close_date": x} for k, st_, a, c, x in rows])


def test_a_verdict_resting_on_open_deals_older_than_won_deals_take_is_questioned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build_dataset(_aged_pipeline(), StageConfig(funnel=("Lead", "Demo"), won=("Won",),
                                                      lost=("Lost",)), as_of=D(2025, 6, 30))
    inputs = pl.plan_inputs_from_data(data, Filters())
    # Every won deal took 30 days: the five January deals still open are 5 months old.
    assert (inputs.aged_days, inputs.aged_deals, inputs.aged_pipeline) == (30, 5, 500_000.0)
    plan = pl.plan_reverse_funnel(100_000, 1000, ["Lead", "Won"], [0.5],
                                  pipeline=inputs.pipeline, win_rate=inputs.win_rate)
    assert plan.verdict_level == "likely"  # 502,000 × 50% = 251,000 against 100,000
    assert pl.aged_pipeline_warning(inputs, plan) == (
        "5 of the 7 open deals, 500k of the 502k pipeline, were created more than 30 days ago "
        "and are still open; only 1 in 5 won deals took that long to close, yet the check above "
        "counts them at the full win rate. Without them — Unlikely: the open pipeline of 2,000 "
        "at a 50% win rate should bring about 1,000, 1% of the 100k still to book (coverage "
        "0.0× against the 2.0× this win rate needs). About 198k more pipeline would close it.")
    # A pipeline typed in is the user's own: nothing to say about the data's old deals.
    typed = pl.plan_reverse_funnel(100_000, 1000, ["Lead", "Won"], [0.5], pipeline=400_000,
                                   win_rate=inputs.win_rate)
    assert pl.aged_pipeline_warning(inputs, typed) is None
    # A verdict the old deals do not change is left alone (1,000 to book: likely either way).
    small = pl.plan_reverse_funnel(1_000, 1000, ["Lead", "Won"], [0.5],
                                   pipeline=inputs.pipeline, win_rate=inputs.win_rate)
    assert pl.aged_pipeline_warning(inputs, small) is None
    monkeypatch.setattr(cli_funnel, "_load", lambda files, mapping: data)
    out = _run(["plan", "--target", "100000", "--from-file", "deals.csv", "--json"], capsys)
    assert str(out["aged_pipeline"]).startswith("5 of the 7 open deals, 500k of the 502k")


def test_step_rates_resting_on_a_handful_of_deals_are_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pathlib import Path

    from diagnostics.uploads import load_dataset_from_paths

    export = (Path(__file__).resolve().parents[1] / "fixtures" / "exports"
              / "pipedrive_closed_at_stage.csv")
    inputs = pl.plan_inputs_from_data(load_dataset_from_paths([export]), Filters())
    # Of the matured deals, 4 reached Proposal Made and 3 of them Negotiations Started, which
    # all 3 won: 75% and 100% on 4 and 3 deals.
    assert inputs.thin_steps == (("Proposal Made → Negotiations Started", 4, 3),
                                 ("Negotiations Started → Won", 3, 3))
    assert inputs.thin_steps_note() == (
        "Few deals behind these step rates: Proposal Made → Negotiations Started 3 of 4 (75%); "
        "Negotiations Started → Won 3 of 3 (100%). With fewer than 5 deals, one deal going the "
        "other way moves a rate by 25 points or more: edit it if you know better.")
    out = _run(["plan", "--target", "100000", "--from-file", str(export), "--json"], capsys)
    assert out["thin_steps"] == inputs.thin_steps_note()
    # Steps with 5 or more deals each say nothing.
    assert pl.plan_inputs_from_data(_aged_data(), Filters()).thin_steps_note() is None


def _aged_data() -> Dataset:
    return build_dataset(_aged_pipeline(), StageConfig(funnel=("Lead", "Demo"), won=("Won",),
                                                      lost=("Lost",)), as_of=D(2025, 6, 30))


# 2 won of 5 closed: the 95% Wilson interval is 11.8%–76.9% (hand-checked: centre
# (0.4 + 1.96² / 10) / (1 + 1.96² / 5) = 0.4434, half-width
# 1.96 × sqrt(0.24 / 5 + 1.96² / 100) / (1 + 1.96² / 5) = 0.3259).
FEW = (2, 5)


def test_a_verdict_on_a_win_rate_from_few_closed_deals_gives_the_range_of_outcomes() -> None:
    plan = pl.plan_reverse_funnel(200_000, 10_000, ["Proposal", "Won"], [0.4],
                                  pipeline=100_000, win_rate=0.4, win_rate_basis=FEW)
    # 100k × 11.8% to 100k × 76.9%: short of the 200k at either end, so still "unlikely", but
    # the verdict itself says on how few deals and what range of outcomes they allow.
    assert plan.verdict_level == "unlikely"
    assert plan.verdict.startswith("Unlikely (win rate from only 5 closed deals): the open "
                                   "pipeline of 100k at a 40% win rate should bring about 40k")
    assert plan.verdict.endswith(
        "Rough: the win rate rests on 5 closed deals, which fit any rate from 12% to 77% (95% "
        "interval), and the open pipeline would then bring from 12k to 77k, short of the 200k "
        "still to book either way.")
    assert plan.win_rate_range == pytest.approx((0.1176, 0.7693), abs=1e-4)
    assert plan.expected_range == pytest.approx((11_762, 76_928), abs=1)
    items = {label: note for label, _, note in plan.display_items()}
    assert items["Expected bookings"] == ("open pipeline × win rate; from 12k to 77k over the "
                                          "win rates its 5 closed deals fit")
    out = plan.to_json()
    assert out["win_rate_closed_deals"] == 5
    assert out["win_rate_range"] == pytest.approx([0.1176, 0.7693], abs=1e-4)
    assert out["expected_bookings_range"] == pytest.approx([11_762, 76_928], abs=1)


def test_no_firm_verdict_when_the_range_of_outcomes_straddles_the_target() -> None:
    plan = pl.plan_reverse_funnel(200_000, 10_000, ["Proposal", "Won"], [0.4],
                                  pipeline=400_000, win_rate=0.4, win_rate_basis=FEW)
    # 47k to 308k against 200k: the point estimate (160k, "at risk") means little.
    assert plan.verdict_level == "uncertain"
    assert plan.verdict == (
        "Cannot tell on 5 closed deals: at a 40% win rate the open pipeline of 400k should "
        "bring about 160k against the 200k still to book, but the win rate rests on 5 closed "
        "deals, which fit any rate from 12% to 77% (95% interval), and the open pipeline would "
        "then bring from 47k to 308k, either side of the target. More closed deals, or a win "
        "rate you know, would settle it.")
    # Without the basis (a win rate typed in) the same numbers give the plain verdict.
    typed = pl.plan_reverse_funnel(200_000, 10_000, ["Proposal", "Won"], [0.4],
                                   pipeline=400_000, win_rate=0.4)
    assert typed.verdict_level == "at_risk" and typed.to_json()["win_rate_range"] is None


@pytest.mark.parametrize(("basis", "hedged"), [((8, 20), False), ((2, 19), True),
                                               ((0, 0), False), (None, False)])
def test_the_range_is_given_below_20_closed_deals_only(
    basis: tuple[int, int] | None, hedged: bool
) -> None:
    plan = pl.plan_reverse_funnel(200_000, 10_000, ["Proposal", "Won"], [0.4],
                                  pipeline=100_000, win_rate=0.4, win_rate_basis=basis)
    assert ("Rough:" in plan.verdict) is hedged
    assert (plan.win_rate_range is not None) is hedged


def test_what_if_and_the_aged_pipeline_check_keep_the_range() -> None:
    plan = pl.plan_reverse_funnel(200_000, 10_000, ["Lead", "Proposal", "Won"], [0.5, 0.4],
                                  pipeline=100_000, win_rate=0.4, win_rate_basis=FEW)
    change = pl.what_if(plan, 0, 10)  # Lead → Proposal 50% → 60%: win rate × 1.2 = 48%
    assert change.verdict_level == "unlikely"
    assert "from 14% to 92% (95% interval, moved with this change)" in change.verdict
    straddling = pl.what_if(pl.plan_reverse_funnel(
        200_000, 10_000, ["Lead", "Proposal", "Won"], [0.5, 0.4], pipeline=400_000,
        win_rate=0.4, win_rate_basis=FEW), 0, 0)
    assert straddling.verdict_level == "uncertain"


def test_plan_inputs_carry_the_closed_deals_behind_the_win_rate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _aged_data()
    inputs = pl.plan_inputs_from_data(data, Filters())
    cohort = inputs.rate_cohort
    assert cohort is not None and inputs.win_rate_basis is not None
    won, closed = inputs.win_rate_basis
    assert closed == cohort.closed and inputs.win_rate == pytest.approx(won / closed)
    monkeypatch.setattr(cli_funnel, "_load", lambda files, mapping: data)
    out = _run(["plan", "--target", "100000", "--from-file", "deals.csv", "--json"], capsys)
    assert out["win_rate_closed_deals"] == closed
    assert (out["win_rate_range"] is None) is (closed >= 20)
    # A win rate given on the command line is the user's own: no range from the data's deals.
    typed = _run(["plan", "--target", "100000", "--from-file", "deals.csv", "--win-rate", "0.5",
                  "--json"], capsys)
    assert typed["win_rate_closed_deals"] is None and typed["win_rate_range"] is None
