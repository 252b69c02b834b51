"""The forecast on synthetic processes whose answers are known in closed form, and its backtest."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.cli import main
from diagnostics.dataset import MAX_AMOUNT, Dataset, StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError
from diagnostics.forecast import (
    bookings_distribution,
    default_period,
    forecast_bookings,
    load_deals,
    quarter_of,
    run_backtest,
)
from diagnostics.forecast._backtest import forecast_mean
from diagnostics.forecast._deals import WON, day_number, usable_amounts
from diagnostics.forecast._model import estimate_timing

D = dt.date
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
AS_OF = D(2026, 3, 31)
ONE_STAGE = StageConfig(funnel=("Open",), won=("Won",), lost=("Lost",))
TWO_STAGES = StageConfig(funnel=("Early", "Late"), won=("Won",), lost=("Lost",))


def _exponential_days(n: int, rate: float) -> np.ndarray:
    """Return ``n`` whole days whose spread is exactly exponential at whole days (no noise).

    ceil(E) ≤ d ⟺ E ≤ d for whole d, so P(days ≤ d) = 1 − e^(−rate·d) up to 1/n.
    """
    u = (np.arange(n) + 0.5) / n
    return np.maximum(np.ceil(-np.log1p(-u) / rate), 1).astype(int)


def _deals(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in ("created_date", "close_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _closed_process(n: int, p: float, rate: float, end: dt.date, stage: str = "Open"
                    ) -> list[dict[str, object]]:
    """Return n closed deals, a share p won, both outcomes taking exponential days to close."""
    days = _exponential_days(n, rate)
    won = np.zeros(n, dtype=bool)
    won[:: int(round(1 / p))] = True  # every k-th deal of every duration: exactly p, same timing
    rows = []
    for i in range(n):
        close = end - dt.timedelta(days=200 + i % 50)
        rows.append({"opp_id": f"C{i}", "stage": "Won" if won[i] else "Lost",
                     "amount": 1000.0, "created_date": close - dt.timedelta(days=int(days[i])),
                     "close_date": close})
    return rows


def _dataset(rows: Sequence[dict[str, object]], stages: StageConfig = ONE_STAGE,
             history: Sequence[tuple[str, str, dt.date]] = ()) -> Dataset:
    hist = pd.DataFrame(list(history), columns=["opp_id", "stage", "entered_date"]) if history \
        else None
    return build_dataset(_deals(rows), stages, stage_history=hist, as_of=AS_OF)


# ---------------------------------------------------------------------------- timing


@pytest.mark.parametrize(
    ("days", "outcomes", "won_cdf", "lost_cdf"),
    [
        # No deal still open: the plain share closed within d days.
        ([10, 20, 30, 40, 5], [WON, WON, WON, WON, 2], {9: 0, 10: 0.25, 25: 0.5, 40: 1, 99: 1},
         {4: 0, 5: 1}),
        # A deal still open after 2 days (censored) goes on like the one deal left at risk,
        # won at day 3: two thirds of the wins come at day 3 (Aalen–Johansen), not half.
        ([1, 2, 3], [WON, 0, WON], {0: 0, 1: 1 / 3, 2: 1 / 3, 3: 1}, {3: 0}),
    ],
)
def test_timing_counts_open_deals_as_still_open(
    days: list[int], outcomes: list[int], won_cdf: dict[int, float], lost_cdf: dict[int, float]
) -> None:
    timing = estimate_timing(np.array(days, dtype=np.int32), np.array(outcomes, dtype=np.int8))
    for day, share in won_cdf.items():
        assert timing.cdf_won(day) == pytest.approx(share), day
    for day, share in lost_cdf.items():
        assert timing.cdf_lost(day) == pytest.approx(share), day
    assert timing.cdf_won(-1) == 0


# ---------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("age", [0, 25])
@pytest.mark.parametrize("horizon", [10, 30, 91])
def test_single_stage_exponential_cycle_matches_closed_form(age: int, horizon: int) -> None:
    """P(won by T) = p·(1 − e^(−λT)); memoryless, so the deal's age does not change it."""
    p, rate = 0.25, 1 / 30
    rows = _closed_process(4000, p, rate, AS_OF)
    rows.append({"opp_id": "OPEN", "stage": "Open", "amount": 1_000_000.0,
                 "created_date": AS_OF - dt.timedelta(days=age), "close_date": AS_OF})
    dataset = _dataset(rows)
    end = AS_OF + dt.timedelta(days=horizon)
    fc = forecast_bookings(dataset, 1e6, AS_OF + dt.timedelta(days=1), end)
    assert fc.evidence == "none"
    expected = p * (1 - math.exp(-rate * horizon))
    assert fc.from_open_pipeline / 1_000_000 == pytest.approx(expected, abs=0.005)
    assert fc.closed_so_far == 0


def test_early_stage_deals_cannot_close_in_time_but_late_ones_can() -> None:
    """Wins take 60–90 days from the early stage and 5 days from the late one."""
    rows, history = [], []
    for i in range(60):
        created = D(2025, 6, 1) + dt.timedelta(days=i)
        won = i % 2 == 0
        late = created + dt.timedelta(days=55 + i % 30)
        close = late + dt.timedelta(days=5)
        rows.append({"opp_id": f"C{i}", "stage": "Won" if won else "Lost", "amount": 100.0,
                     "created_date": created, "close_date": close})
        history += [(f"C{i}", "Early", created), (f"C{i}", "Late", late)]
        history.append((f"C{i}", "Won" if won else "Lost", close))
    for name, stage in (("E", "Early"), ("L", "Late")):
        rows.append({"opp_id": name, "stage": stage, "amount": 10_000.0,
                     "created_date": AS_OF - dt.timedelta(days=1), "close_date": AS_OF})
        history.append((name, "Early", AS_OF - dt.timedelta(days=1)))
    history.append(("L", "Late", AS_OF))
    dataset = _dataset(rows, TWO_STAGES, history)
    fc = forecast_bookings(dataset, 1e4, AS_OF + dt.timedelta(days=1),
                           AS_OF + dt.timedelta(days=30))
    assert fc.evidence == "history"
    early, late = fc.by_stage
    assert (early.stage, early.open_deals, early.expected) == ("Early", 1, 0.0)
    assert early.win_probability == pytest.approx(0.5)  # it can be won, just not in time
    # Every deal that reached Late was won or lost 5 days later: half of 10,000.
    assert late.expected == pytest.approx(5_000.0)
    assert fc.from_open_pipeline == pytest.approx(5_000.0)
    assert [d.opp_id for d in fc.top_deals] == ["L"]


def test_a_deal_must_first_move_on_from_its_stage_as_long_stays_did() -> None:
    """Early lasts exactly 10 days (half move on); Late lasts 5 days (80% won).

    A deal 8 days into Early moves on in 2 days and is won 5 days later, inside a 10-day window,
    with chance P(move on at day 10) × p(Late), p(Late) shrunk toward the overall 40%. On day 10,
    201 deals were in Early (the 200 closed ones and the open one now 12 days in) and 100 moved
    on. The deal 12 days in has stayed longer than any deal that moved on: it gets nothing.
    """
    rows, history = [], []
    for i in range(200):
        created = D(2025, 6, 1) + dt.timedelta(days=i)
        late = created + dt.timedelta(days=10)
        moves, won = i % 2 == 0, i % 10 < 8 and i % 2 == 0
        close = late + dt.timedelta(days=5) if moves else late
        rows.append({"opp_id": f"C{i}", "stage": "Won" if won else "Lost", "amount": 1.0,
                     "created_date": created, "close_date": close})
        history.append((f"C{i}", "Early", created))
        if moves:
            history.append((f"C{i}", "Late", late))
    for name, age in (("E8", 8), ("E12", 12)):
        rows.append({"opp_id": name, "stage": "Early", "amount": 1000.0,
                     "created_date": AS_OF - dt.timedelta(days=age), "close_date": AS_OF})
        history.append((name, "Early", AS_OF - dt.timedelta(days=age)))
    dataset = _dataset(rows, TWO_STAGES, history)
    fc = forecast_bookings(dataset, 1e3, AS_OF + dt.timedelta(days=1),
                           AS_OF + dt.timedelta(days=10))
    overall = 80 / 200
    p_late = (80 + 10 * overall) / (100 + 10)
    chances = {d.opp_id: d.probability for d in fc.top_deals}
    assert chances == {"E8": pytest.approx(100 / 201 * p_late)}  # E12 gets nothing: not listed
    assert fc.from_open_pipeline == pytest.approx(1000 * 100 / 201 * p_late)
    short = forecast_bookings(dataset, 1e3, AS_OF + dt.timedelta(days=1),
                              AS_OF + dt.timedelta(days=6))
    assert short.from_open_pipeline == 0  # won on day 7 at the earliest


def test_slipped_deals_are_judged_by_how_old_they_are() -> None:
    """A deal past its close date and older than any deal ever won gets nothing."""
    rows = _closed_process(400, 0.25, 1 / 10, AS_OF)  # the longest cycle is about 60 days
    rows += [
        {"opp_id": "OLD", "stage": "Open", "amount": 50_000.0,
         "created_date": AS_OF - dt.timedelta(days=300), "close_date": AS_OF - dt.timedelta(60)},
        {"opp_id": "LATE", "stage": "Open", "amount": 20_000.0,
         "created_date": AS_OF - dt.timedelta(days=5), "close_date": AS_OF - dt.timedelta(1)},
    ]
    fc = forecast_bookings(_dataset(rows), 1e5, AS_OF + dt.timedelta(days=1),
                           AS_OF + dt.timedelta(days=90))
    count, amount, _expected = fc.slipped
    assert (count, amount) == (2, 70_000.0)
    by_id = {d.opp_id: d for d in fc.slipped_deals}
    assert list(by_id) == ["OLD", "LATE"]  # largest first
    assert by_id["OLD"].probability == 0.0
    # Memoryless cycle: 5 days old changes nothing, 90 days ahead is all but certain.
    assert by_id["LATE"].probability == pytest.approx(0.25 * (1 - math.exp(-9)), abs=0.01)


def test_without_stage_evidence_every_stage_gets_the_overall_rate() -> None:
    stages = StageConfig(funnel=("Lead", "Proposal"), won=("Won",), lost=("Lost",))
    rows = _closed_process(100, 0.5, 1 / 20, AS_OF)
    rows += [{"opp_id": f"O{s}", "stage": s, "amount": 1000.0,
              "created_date": AS_OF, "close_date": AS_OF} for s in ("Lead", "Proposal")]
    fc = forecast_bookings(_dataset(rows, stages), 5e3, *default_period(AS_OF))
    assert fc.evidence == "none"
    lead, proposal = fc.by_stage
    assert lead.win_probability == proposal.win_probability == pytest.approx(0.5)
    assert lead.expected == pytest.approx(proposal.expected)
    assert "without stage evidence" in fc.method
    assert any("No stage evidence" in note for note in fc.notes)
    assert not [lever for lever in fc.levers if lever.kind == "conversion"]


def test_lost_deals_with_no_stage_evidence_still_count_at_the_first_stage() -> None:
    """Six deals with a history (3 won), four lost with none: 3 of 10 reached Early and won."""
    rows, history = [], []
    for i in range(10):
        created = D(2025, 6, 1) + dt.timedelta(days=i)
        won = i < 3
        rows.append({"opp_id": f"C{i}", "stage": "Won" if won else "Lost", "amount": 1.0,
                     "created_date": created, "close_date": created + dt.timedelta(days=9)})
        if i < 6:
            history += [(f"C{i}", "Early", created),
                        (f"C{i}", "Late", created + dt.timedelta(days=4))]
    fc = forecast_bookings(_dataset(rows, TWO_STAGES, history), 1.0, *default_period(AS_OF))
    assert fc.evidence == "history"
    early, late = fc.by_stage
    assert (early.closed_deals, late.closed_deals) == (10, 6)
    assert early.win_probability == pytest.approx(0.3)  # 3 of 10, shrunk toward 3 of 10


def test_small_stages_are_shrunk_toward_the_overall_rate() -> None:
    rows, history = _closed_process(200, 0.2, 1 / 20, AS_OF), []
    history = [(str(r["opp_id"]), "Early", r["created_date"]) for r in rows]
    history += [(str(r["opp_id"]), str(r["stage"]), r["close_date"]) for r in rows]
    # Two deals reached Late and both were won: 2 of 2, shrunk with 10 deals at 20% + 2 wins.
    for i in range(2):
        close = AS_OF - dt.timedelta(days=100 + i)
        rows.append({"opp_id": f"W{i}", "stage": "Won", "amount": 1.0,
                     "created_date": close - dt.timedelta(10), "close_date": close})
        history += [(f"W{i}", "Early", close - dt.timedelta(10)),
                    (f"W{i}", "Late", close - dt.timedelta(5)), (f"W{i}", "Won", close)]
    fc = forecast_bookings(_dataset(rows, TWO_STAGES, history), 1.0, *default_period(AS_OF))
    overall = 42 / 202
    late = fc.by_stage[1]
    assert late.win_probability == pytest.approx((42 + 10 * overall) / (42 + 10))
    assert fc.by_stage[0].win_probability == pytest.approx((42 + 10 * overall) / (202 + 10))


def test_new_pipeline_is_creation_rate_times_the_chance_of_winning_in_time() -> None:
    """One deal a day, all won the same day they are created: 30 days ahead bring 30 wins."""
    rows = [{"opp_id": f"C{i}", "stage": "Won", "amount": 100.0,
             "created_date": AS_OF - dt.timedelta(days=i), "close_date":
             AS_OF - dt.timedelta(days=i)} for i in range(200)]
    fc = forecast_bookings(_dataset(rows), 3000.0, AS_OF + dt.timedelta(1),
                           AS_OF + dt.timedelta(30))
    assert fc.new_pipeline[0] == pytest.approx(1.0)  # 91 deals in the last 91 days
    assert fc.from_new_pipeline == pytest.approx(30 * 100.0)
    assert fc.from_open_pipeline == 0
    # Wins are a Poisson number with mean 30: P(at least 30) = 1 − P(N ≤ 29).
    below = sum(math.exp(-30) * 30**k / math.factorial(k) for k in range(30))
    assert fc.p_target == pytest.approx(1 - below, abs=0.01)


def test_closed_so_far_counts_won_deals_in_the_period_up_to_the_as_of_date() -> None:
    rows = _closed_process(100, 0.5, 1 / 20, AS_OF)
    rows += [{"opp_id": "IN", "stage": "Won", "amount": 700.0, "created_date": D(2026, 1, 5),
              "close_date": D(2026, 2, 1)},
             {"opp_id": "BEFORE", "stage": "Won", "amount": 900.0, "created_date":
              D(2025, 12, 1), "close_date": D(2025, 12, 31)}]
    fc = forecast_bookings(_dataset(rows), 1000.0, D(2026, 1, 1), D(2026, 3, 31))
    assert fc.closed_so_far == 700.0
    assert fc.from_open_pipeline == 0 and fc.from_new_pipeline == 0  # nothing left in the period
    assert fc.p_target == 0.0 and fc.expected_bookings == 700.0


@pytest.mark.parametrize(
    ("as_of", "period"),
    [
        (D(2026, 5, 15), (D(2026, 4, 1), D(2026, 6, 30))),
        (D(2026, 6, 30), (D(2026, 7, 1), D(2026, 9, 30))),  # a finished quarter: the next one
        (D(2025, 12, 31), (D(2026, 1, 1), D(2026, 3, 31))),
        (D(2026, 1, 1), (D(2026, 1, 1), D(2026, 3, 31))),
    ],
)
def test_default_period_is_the_quarter_still_being_played(
    as_of: dt.date, period: tuple[dt.date, dt.date]
) -> None:
    assert default_period(as_of) == period


@pytest.mark.parametrize(
    ("day", "quarter"),
    [(D(2026, 2, 14), (D(2026, 1, 1), D(2026, 3, 31))),
     (D(2026, 10, 1), (D(2026, 10, 1), D(2026, 12, 31))),
     (D(2024, 8, 31), (D(2024, 7, 1), D(2024, 9, 30)))],
)
def test_quarter_of(day: dt.date, quarter: tuple[dt.date, dt.date]) -> None:
    assert quarter_of(day) == quarter


@pytest.mark.parametrize(
    ("rows", "target", "start", "end", "message"),
    [
        ([{"opp_id": "A", "stage": "Lost", "amount": 1.0, "created_date": D(2026, 1, 1),
           "close_date": D(2026, 1, 2)}], 1.0, D(2026, 4, 1), D(2026, 6, 30), "no won deal"),
        ([{"opp_id": "A", "stage": "Won", "amount": 1.0, "created_date": D(2026, 1, 1),
           "close_date": D(2026, 1, 2)}], 0.0, D(2026, 4, 1), D(2026, 6, 30), "positive"),
        ([{"opp_id": "A", "stage": "Won", "amount": 1.0, "created_date": D(2026, 1, 1),
           "close_date": D(2026, 1, 2)}], 1.0, D(2026, 6, 30), D(2026, 4, 1), "ends before"),
    ],
)
def test_unusable_inputs_raise_a_readable_error(
    rows: list[dict[str, object]], target: float, start: dt.date, end: dt.date, message: str
) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        forecast_bookings(_dataset(rows), target, start, end)


# ---------------------------------------------------------------------------- unusable amounts

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("raw", "kept", "unusable"),
    [
        (NAN, NAN, False),  # missing: NaN, counted as "no amount" by the caller
        (INF, NAN, True),
        (-INF, NAN, True),
        (1e308, NAN, True),  # finite, but five of them add up to infinity
        (-2 * MAX_AMOUNT, NAN, True),
        (MAX_AMOUNT, MAX_AMOUNT, False),
        (-500.0, -500.0, False),
        (0.0, 0.0, False),
    ],
)
def test_usable_amounts_turn_infinite_and_absurd_amounts_into_missing_ones(
    raw: float, kept: float, unusable: bool
) -> None:
    amounts, flags = usable_amounts(np.array([raw]))
    assert (math.isnan(amounts[0]) and math.isnan(kept)) or amounts[0] == kept
    assert bool(flags[0]) is unusable


def _open_pair(amount: float) -> list[dict[str, object]]:
    """Return a closed history, an open 1,000 deal and an open deal of ``amount``."""
    rows = _closed_process(200, 0.5, 1 / 20, AS_OF)
    for opp_id, value in (("GOOD", 1000.0), ("OTHER", amount)):
        rows.append({"opp_id": opp_id, "stage": "Open", "amount": value,
                     "created_date": AS_OF - dt.timedelta(days=5), "close_date": AS_OF})
    return rows


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(
    ("amount", "reason", "why"),
    [
        (INF, "unusable_amount", "an amount no deal can have"),
        (1e308, "unusable_amount", "an amount no deal can have"),
        (NAN, "no_amount", "without an amount"),
        (-500.0, "negative_amount", "a negative amount"),
    ],
)
def test_an_open_deal_without_a_usable_amount_is_left_out_counted_and_said(
    amount: float, reason: str, why: str
) -> None:
    period = (AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=90))
    clean = forecast_bookings(_dataset(_open_pair(0.0)), 1e6, *period)  # a deal worth nothing
    fc = forecast_bookings(_dataset(_open_pair(amount)), 1e6, *period)
    # The range is the one without the deal, and its mean is still the expected bookings.
    assert fc.from_open_pipeline == pytest.approx(clean.from_open_pipeline)
    for q in (0.1, 0.5, 0.9):
        assert fc.percentile(q) == pytest.approx(clean.percentile(q))
    dist = fc.distribution
    assert float((dist.values * dist.probabilities).sum()) == pytest.approx(fc.expected_bookings)
    assert fc.by_stage[0].open_amount == 1000.0
    gaps = fc.left_out.open_pipeline.to_json()
    assert gaps == {"deals": 1, "no_amount": 0, "unusable_amount": 0, "negative_amount": 0,
                    reason: 1}
    (note,) = [n for n in fc.notes if n.startswith("1 open deal is left out")]
    assert why in note
    assert not clean.left_out.deals and not any("left out of" in n for n in clean.notes)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_won_deals_with_absurd_amounts_do_not_overflow_closed_so_far() -> None:
    """Five won deals at 1e308 each (as in a hostile upload) summed to infinity: no range."""
    rows = _closed_process(100, 0.5, 1 / 20, AS_OF)
    rows += [{"opp_id": f"HUGE{i}", "stage": "Won", "amount": 1e308,
              "created_date": D(2026, 1, 5), "close_date": D(2026, 2, 1)} for i in range(5)]
    rows += [{"opp_id": "NONE", "stage": "Won", "amount": NAN, "created_date": D(2026, 1, 5),
              "close_date": D(2026, 2, 1)},
             {"opp_id": "IN", "stage": "Won", "amount": 700.0, "created_date": D(2026, 1, 5),
              "close_date": D(2026, 2, 1)}]
    dataset = _dataset(rows)
    fc = forecast_bookings(dataset, 1000.0, D(2026, 1, 1), D(2026, 3, 31))
    assert fc.closed_so_far == 700.0
    assert fc.percentile(0.1) == fc.percentile(0.9) == 700.0
    assert fc.left_out.closed_so_far.to_json() == {
        "deals": 6, "no_amount": 1, "unusable_amount": 5, "negative_amount": 0}
    # The average won amount is that of the 51 won deals with an amount (50 × 1,000 and 700).
    assert fc.left_out.average_won.to_json()["deals"] == 6
    assert "6 won deals of the period are left out of closed so far: 1 without an amount, 5 " \
        "with an amount no deal can have" in " ".join(fc.notes)
    backtest = run_backtest(load_deals(dataset), AS_OF)
    assert all(math.isfinite(p.forecast) and math.isfinite(p.actual) for p in backtest.points)


@pytest.mark.parametrize(
    ("amounts", "probabilities", "new_wins", "new_amounts"),
    [
        ([100.0, INF], [0.5, 0.5], 0.0, []),
        ([100.0, NAN], [0.5, 0.5], 0.0, []),
        ([100.0, 1e308], [0.5, 0.5], 0.0, []),
        ([100.0, 200.0], [0.5, NAN], 0.0, []),
        ([100.0, 200.0], [0.5, INF], 0.0, []),
        ([100.0], [0.5], 2.0, [10.0, NAN]),
        ([100.0], [0.5], 2.0, [10.0, 1e308]),
        ([100.0], [0.5], NAN, [10.0]),
    ],
)
def test_the_range_is_never_computed_from_nan_or_infinite_values(
    amounts: list[float], probabilities: list[float], new_wins: float, new_amounts: list[float]
) -> None:
    with pytest.raises(ValueError, match="finite"):
        bookings_distribution(np.array(amounts), np.array(probabilities), new_wins,
                              np.array(new_amounts))


# ---------------------------------------------------------------------------- the range


def test_two_coins_give_the_exact_distribution() -> None:
    dist = bookings_distribution(np.array([100.0, 200.0]), np.array([0.5, 0.5]), 0.0,
                                 np.array([]))
    assert dist.probability_at_least(300) == pytest.approx(0.25, abs=1e-6)
    assert dist.probability_at_least(150) == pytest.approx(0.5, abs=1e-6)
    assert dist.probability_at_least(0) == pytest.approx(1.0)
    assert dist.quantile(0.1) == pytest.approx(0, abs=0.2)
    assert dist.quantile(0.6) == pytest.approx(200, abs=0.2)


def test_many_small_deals_follow_the_normal_curve() -> None:
    """5,000 coins of 1 at 50%: mean 2,500, sd √1250; P10 = mean − 1.2816·sd."""
    dist = bookings_distribution(np.ones(5000), np.full(5000, 0.5), 0.0, np.array([]))
    sd = math.sqrt(1250)
    assert dist.quantile(0.1) == pytest.approx(2500 - 1.2816 * sd, abs=1.5)
    assert dist.quantile(0.5) == pytest.approx(2500, abs=1.5)


def test_new_pipeline_is_a_compound_poisson() -> None:
    dist = bookings_distribution(np.array([]), np.array([]), 3.0, np.array([10.0]))
    assert dist.probability_at_least(10) == pytest.approx(1 - math.exp(-3), abs=1e-6)
    assert dist.probability_at_least(40) == pytest.approx(
        1 - sum(math.exp(-3) * 3**k / math.factorial(k) for k in range(4)), abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 1e6), st.floats(0, 1)), min_size=0, max_size=30),
       st.floats(0, 20), st.floats(0, 3e6))
def test_range_is_ordered_and_probabilities_are_probabilities(
    deals: list[tuple[float, float]], new_wins: float, target: float
) -> None:
    amounts = np.array([a for a, _ in deals])
    probabilities = np.array([p for _, p in deals])
    dist = bookings_distribution(amounts, probabilities, new_wins, np.array([5_000.0, 20_000.0]))
    p10, p50, p90 = (dist.quantile(q) for q in (0.1, 0.5, 0.9))
    assert p10 <= p50 <= p90
    assert 0.0 <= dist.probability_at_least(target) <= 1.0
    assert dist.probability_at_least(target) >= dist.probability_at_least(target + 1e5)
    assert dist.probabilities.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------- backtest


def _steady_business(quarters: int) -> list[dict[str, object]]:
    """Two deals created a day, every fourth won, each closing 20 days after creation."""
    rows = []
    start = AS_OF - dt.timedelta(days=91 * quarters)
    for i in range(2 * 91 * quarters):
        created = start + dt.timedelta(days=i // 2)
        close = created + dt.timedelta(days=20)
        if close > AS_OF:
            rows.append({"opp_id": f"D{i}", "stage": "Open", "amount": 1000.0,
                         "created_date": created, "close_date": close})
        else:
            rows.append({"opp_id": f"D{i}", "stage": "Won" if i % 4 == 0 else "Lost",
                         "amount": 1000.0, "created_date": created, "close_date": close})
    return rows


def test_backtest_on_a_steady_business_is_close_and_uses_only_what_was_known() -> None:
    dataset = _dataset(_steady_business(6))
    deals = load_deals(dataset)
    backtest = run_backtest(deals, AS_OF)
    assert len(backtest.points) >= 4
    for point in backtest.points:
        assert point.period_start < point.as_of < point.period_end <= AS_OF
    errors = [abs(p.forecast - p.actual) / p.actual for p in backtest.points]
    assert backtest.mean_abs_pct_error == pytest.approx(sum(errors) / len(errors))
    assert backtest.mean_abs_pct_error < 0.1
    assert backtest.to_json()["points"][0]["as_of"] == backtest.points[0].as_of.isoformat()
    # A deal created after the as-of date changes what was booked, not what was forecast then.
    point = backtest.points[-1]
    extra = _steady_business(6) + [{"opp_id": "LATE", "stage": "Won", "amount": 1e6,
                                    "created_date": point.as_of + dt.timedelta(days=1),
                                    "close_date": point.as_of + dt.timedelta(days=2)}]
    later = load_deals(_dataset(extra))
    window = (day_number(point.period_start), day_number(point.period_end))
    assert forecast_mean(later, day_number(point.as_of), *window) == pytest.approx(point.forecast)


def test_backtest_says_when_history_is_too_short() -> None:
    backtest = run_backtest(load_deals(_dataset(_steady_business(1))), AS_OF)
    assert backtest.points == ()
    assert backtest.mean_abs_pct_error is None
    assert "too short" in backtest.note


def test_backtest_without_stage_history_says_so() -> None:
    backtest = run_backtest(load_deals(_dataset(_steady_business(6))), AS_OF)
    assert "Without a stage history" in backtest.note


# ---------------------------------------------------------------------------- sample and CLI


def test_sample_forecast_uses_the_stage_history() -> None:
    from diagnostics.sample import load_sample_dataset

    dataset = load_sample_dataset()
    deals = load_deals(dataset)
    fc = forecast_bookings(dataset, 6e6, *default_period(dataset.as_of), deals=deals)
    assert fc.evidence == "history"
    assert [line.stage for line in fc.by_stage] == list(dataset.stages.funnel)
    rates = [line.win_probability for line in fc.by_stage]
    assert rates == sorted(rates)  # later stages win more often
    assert fc.expected_bookings == pytest.approx(
        fc.closed_so_far + sum(line.expected for line in fc.by_stage) + fc.from_new_pipeline)
    assert fc.percentile(0.1) < fc.expected_bookings < fc.percentile(0.9)
    assert any("parked" in note for note in fc.notes)
    assert fc.gap > 0 and fc.levers  # 6M is above what is expected: levers close the gap
    backtest = run_backtest(deals, dataset.as_of)
    assert len(backtest.points) >= 4 and backtest.mean_abs_pct_error is not None


def test_forecast_check_gives_other_pages_the_numbers_of_the_quarter_being_played() -> None:
    from diagnostics.forecast import forecast_check

    rows = _closed_process(400, 0.25, 1 / 10, AS_OF)
    rows.append({"opp_id": "OPEN", "stage": "Open", "amount": 10_000.0,
                 "created_date": AS_OF, "close_date": AS_OF})
    dataset = _dataset(rows)
    check = forecast_check(dataset, 2_000.0)
    assert (check.period_start, check.period_end) == (D(2026, 4, 1), D(2026, 6, 30))
    full = forecast_bookings(dataset, 2_000.0, D(2026, 4, 1), D(2026, 6, 30))
    assert check.expected_bookings == pytest.approx(full.expected_bookings)
    assert check.numbers == {"target": 2_000.0, "closed_so_far": 0.0,
                             "expected_bookings": round(full.expected_bookings, 2),
                             "p_target": round(full.p_target, 4),
                             "forecast_closed_deals": 400.0, "forecast_won_deals": 100.0}
    assert (full.closed_deals, full.won_deals) == (400, 100)
    assert "It learned from a win rate of 25% on 400 closed deals." in check.sentence()
    assert "01 Apr – 30 Jun 2026" in check.sentence()
    assert check.left_out == 0 and "usable amount" not in check.sentence()
    # Without a target, what was won the quarter before stands in (none here: 1,000,000).
    assert forecast_check(dataset).target == 1_000_000.0


def test_forecast_check_says_how_many_deals_count_as_0() -> None:
    from diagnostics.forecast import forecast_check

    rows = _closed_process(400, 0.25, 1 / 10, AS_OF)
    rows += [{"opp_id": f"OPEN{i}", "stage": "Open", "amount": amount, "created_date": AS_OF,
              "close_date": AS_OF} for i, amount in enumerate([10_000.0, NAN, INF])]
    check = forecast_check(_dataset(rows), 2_000.0)
    assert check.left_out == 2
    assert check.sentence().endswith(
        " 2 deals have no usable amount and count as 0 (the Forecast page says why).")


CLI_KEYS = {"as_of", "period_start", "period_end", "target", "closed_so_far",
            "expected_bookings", "p10", "p50", "p90", "p_target", "from_open_pipeline",
            "from_new_pipeline", "by_stage", "backtest", "method", "left_out", "notes",
            "data_notes", "closed_deals", "won_deals"}


def test_forecast_command_prints_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["forecast", str(SAMPLE / "opportunities.csv"), str(SAMPLE / "stage_history.csv"),
                 "--target", "4000000", "--period-start", "2026-07-01", "--period-end",
                 "2026-09-30", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == CLI_KEYS
    assert payload["as_of"] == "2026-06-30"
    assert set(payload["by_stage"][0]) == {"stage", "open_deals", "open_amount",
                                           "win_probability", "expected"}
    assert set(payload["backtest"]) == {"points", "mean_abs_pct_error"}
    assert set(payload["backtest"]["points"][0]) == {"as_of", "period_start", "period_end",
                                                     "forecast", "actual"}
    assert payload["p10"] <= payload["p50"] <= payload["p90"]
    assert set(payload["left_out"]) == {"open_pipeline", "closed_so_far", "average_won"}
    assert set(payload["left_out"]["open_pipeline"]) == {"deals", "no_amount",
                                                         "unusable_amount", "negative_amount"}
    assert any("parked" in note for note in payload["notes"])


def test_forecast_command_as_of_an_earlier_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["forecast", str(SAMPLE / "opportunities.csv"), str(SAMPLE / "stage_history.csv"),
                 "--target", "4,000,000", "--period-start", "2026-04-01", "--period-end",
                 "2026-06-30", "--as-of", "2026-05-15", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["as_of"] == "2026-05-15"
    assert 0 < payload["closed_so_far"] < payload["expected_bookings"]


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_forecast_command_counts_the_deals_whose_amount_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Amounts as a hostile upload has them: neither "inf" nor 1e308 (more than a billion
    billion) is read as an amount, so each counts as a deal without one."""
    path = tmp_path / "deals.csv"
    amounts = ["1000", "1e308", "inf", "1e308", "", "2000"]
    path.write_text("opportunity_id,deal_stage,amount,created_date,close_date\n" + "".join(
        f"W{i},Closed Won,{a},2026-01-0{i + 1},2026-02-0{i + 1}\n" for i, a in enumerate(amounts)))
    code = main(["forecast", str(path), "--target", "1000", "--period-start", "2026-01-01",
                 "--period-end", "2026-03-31", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["closed_so_far"] == 3000.0
    assert payload["p10"] <= payload["p50"] <= payload["p90"]
    assert payload["left_out"]["closed_so_far"] == {
        "deals": 4, "no_amount": 4, "unusable_amount": 0, "negative_amount": 0}
    assert payload["notes"][0].startswith("4 won deals of the period are left out of closed so far")


def test_forecast_command_exits_2_when_the_files_cannot_support_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("opportunity_id,deal_stage,amount,created_date,close_date\n"
                    "A,Lost,100,2026-01-01,2026-01-05\nB,Prospecting,200,2026-01-02,2026-03-01\n")
    code = main(["forecast", str(path), "--target", "1000", "--period-start", "2026-01-01",
                 "--period-end", "2026-03-31", "--json"])
    assert code == 2
    assert "no won deal" in capsys.readouterr().err
