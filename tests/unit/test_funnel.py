"""Funnel counts and headline metrics on hand-checked datasets, plus invariants."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics import funnel as fn
from diagnostics.cli import funnel as cli_funnel
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset, connect_locked
from diagnostics.errors import DiagnosticsError

STAGES = StageConfig(funnel=("Lead", "Demo", "Proposal"), won=("Won",), lost=("Lost",))
AS_OF = dt.date(2026, 3, 31)
D = dt.date


def _opp(opp_id: str, rep: str, stage: str, amount: float, created: dt.date,
         close: dt.date | None, segment: str = "Ent") -> dict[str, object]:
    return {"opp_id": opp_id, "rep": rep, "team": "East", "stage": stage, "amount": amount,
            "created_date": created, "close_date": close, "segment": segment,
            "product": "Core", "region": "EU"}


# Furthest reach (hand-worked): A1 Won, A2 Won, B1 Demo (history), B2 lost with no history and
# no funnel stage ("lost, stage unknown": in the totals, at no step), B3 Proposal (open, no
# history: earlier stages count as reached), C1 Lead (open).
HAND_OPPS = [
    _opp("A1", "Ann", "Won", 100, D(2026, 1, 1), D(2026, 1, 11)),
    _opp("A2", "Ann", "Won", 300, D(2026, 1, 1), D(2026, 1, 31), "SMB"),
    _opp("B1", "Bob", "Lost", 500, D(2026, 1, 2), D(2026, 1, 20)),
    _opp("B2", "Bob", "Lost", 700, D(2026, 1, 2), D(2026, 2, 1)),
    _opp("B3", "Bob", "Proposal", 1000, D(2026, 1, 3), None),
    _opp("C1", "Cat", "Lead", 50, D(2026, 3, 1), None, "SMB"),
]
HAND_HISTORY = [
    {"opp_id": "B1", "stage": "Lead", "entered_date": D(2026, 1, 2)},
    {"opp_id": "B1", "stage": "Demo", "entered_date": D(2026, 1, 5)},
]


@pytest.fixture(scope="module")
def hand() -> Dataset:
    return build_dataset(pd.DataFrame(HAND_OPPS), STAGES,
                         stage_history=pd.DataFrame(HAND_HISTORY), as_of=AS_OF)


@pytest.mark.parametrize(
    ("filters", "reached", "next_rates"),
    [
        (Filters(), [5, 4, 3, 2], [4 / 5, 3 / 4, 2 / 3]),
        (Filters(segment=("SMB",)), [2, 1, 1, 1], [1 / 2, 1.0, 1.0]),
        (Filters(rep=("Bob",)), [2, 2, 1, 0], [1.0, 1 / 2, 0.0]),
        (Filters(segment=("Nope",)), [0, 0, 0, 0], [None, None, None]),
        (Filters(rep=("Ann",), segment=("Ent",)), [1, 1, 1, 1], [1.0, 1.0, 1.0]),  # single deal
        (Filters(start=D(2026, 1, 15), end=D(2026, 2, 28), cohort="closed"), [2, 2, 1, 1],
         [1.0, 1 / 2, 1.0]),
        (Filters(start=D(2026, 1, 2), end=D(2026, 1, 3)), [2, 2, 1, 0], [1.0, 1 / 2, 0.0]),
    ],
)
def test_furthest_stage_counts(
    hand: Dataset, filters: Filters, reached: list[int], next_rates: list[float | None]
) -> None:
    result = fn.compute_funnel(hand, filters)
    assert [s.stage for s in result.stages] == ["Lead", "Demo", "Proposal", "Won"]
    assert [s.reached for s in result.stages] == reached
    assert [s.next_step_conversion for s in result.stages] == pytest.approx([*next_rates, None])
    top = reached[0]
    expected_cum = [r / top if top else None for r in reached]
    assert [s.cumulative_conversion for s in result.stages] == pytest.approx(expected_cum)


def test_caveat_counts_lost_deals_nobody_placed(hand: Dataset) -> None:
    # B2 is lost with neither history nor a funnel stage; B1 has its history.
    assert fn.counting_caveat(hand, Filters()) == (
        "Lost, stage unknown: 1 lost deal with no record of how far they got. They count in the "
        "totals and the win rate, but at no step, so the step conversions count the deals that "
        "moved on and not all of those that stopped: read them as upper bounds. Stage history, "
        "“Date entered” columns or date columns named after stages would place them."
    )
    result = fn.compute_funnel(hand, Filters())
    assert result.lost_stage_unknown == 1 and result.lost_stage_known_share == 0.5
    assert list(result.to_frame()["Stage"])[-1] == "Lost, stage unknown"
    assert list(result.to_frame()["Lost here"]) == [0, 1, 0, 0, 1]
    assert fn.counting_caveat(hand, Filters(segment=("SMB",))) is None


def test_open_lost_won_are_told_apart(hand: Dataset) -> None:
    stages = fn.compute_funnel(hand, Filters()).stages
    assert [(s.open_here, s.lost_here, s.won_here) for s in stages] == [
        (1, 0, 0), (0, 1, 0), (1, 0, 0), (0, 0, 2)
    ]
    assert [s.moved_on for s in stages] == [4, 3, 2, 0]
    assert stages[0].amount == 1950  # B2's 700 is in no stage


def test_lost_deals_without_evidence_are_charged_to_no_step() -> None:
    opps = [_opp(f"L{i}", "Ann", "Lost", 10, D(2026, 1, 1), D(2026, 1, 9)) for i in range(4)]
    data = build_dataset(pd.DataFrame(opps), STAGES, as_of=AS_OF)
    result = fn.compute_funnel(data, Filters())
    assert [s.reached for s in result.stages] == [0, 0, 0, 0]
    assert result.lost_stage_unknown == 4 and result.lost_stage_known_share == 0.0
    assert "Lost, stage unknown: 4 lost deals" in str(fn.counting_caveat(data, Filters()))
    same, _ = fn.funnel_with_metrics(data, Filters())
    assert same.lost_stage_unknown == 4
    assert fn.counting_caveat(data, Filters(), same) == fn.counting_caveat(data, Filters())
    metrics = fn.headline_metrics(data, Filters())
    assert (metrics.win_rate, metrics.median_cycle_days, metrics.velocity_per_day) == (0.0, None,
                                                                                        None)


@pytest.mark.parametrize(
    ("filters", "stale_days", "expected"),
    [
        # won, lost, open, win rate, median cycle, avg won, pipeline, velocity, stale, and the
        # open deals velocity leaves out. 4 in 5 won deals (A1 in 10 days, A2 in 30) closed
        # within 30 days: B3, open since 3 Jan, is past that age on 31 Mar and not live
        # pipeline, so velocity counts C1 alone (1 × 0.5 × 200 ÷ 20 = 5).
        (Filters(), 60, (2, 2, 2, 0.5, 20.0, 200.0, 1050.0, 5.0, 1, 1)),
        (Filters(), 10, (2, 2, 2, 0.5, 20.0, 200.0, 1050.0, 5.0, 2, 1)),
        (Filters(rep=("Bob",)), 60, (0, 2, 1, 0.0, None, None, 1000.0, None, 1, 0)),  # no won
        (Filters(segment=("Nope",)), 60, (0, 0, 0, None, None, None, 0.0, None, 0, 0)),
        (Filters(segment=("SMB",)), 60, (1, 0, 1, 1.0, 30.0, 300.0, 50.0, 300 / 30, 0, 0)),
    ],
)
def test_headline_metrics(
    hand: Dataset, filters: Filters, stale_days: int, expected: tuple[object, ...]
) -> None:
    m = fn.headline_metrics(hand, filters, stale_days)
    got = (m.won, m.lost, m.open, m.win_rate, m.median_cycle_days, m.avg_won_amount,
           m.open_pipeline, m.velocity_per_day, m.stale_open, m.aged_open)
    assert got == pytest.approx(expected)
    result, same = fn.funnel_with_metrics(hand, filters, stale_days=stale_days)
    assert same == m
    assert result.stages == fn.compute_funnel(hand, filters).stages
    assert "nan" not in json.dumps(m.to_json()).lower()


def test_undefined_numbers_show_a_dash(hand: Dataset) -> None:
    empty = Filters(segment=("Nope",))
    items = dict((label, value) for label, value, _ in
                 fn.headline_metrics(hand, empty).display_items())
    assert items["Win rate"] == items["Median cycle (won)"] == items["Velocity per day"] == "—"
    table = fn.compute_funnel(hand, empty).to_frame()
    assert set(table["Next-step conversion"]) == {"—"}


# ---------------------------------------------------------------- strict and any-stage

RULE_OPPS = [
    _opp("H1", "Ann", "Won", 100, D(2026, 1, 1), D(2026, 1, 10)),
    _opp("H2", "Ann", "Lost", 100, D(2026, 1, 1), D(2026, 1, 9)),
    _opp("H3", "Bob", "Proposal", 100, D(2026, 1, 1), None),
    _opp("H4", "Bob", "Demo", 100, D(2026, 1, 1), None),
]
RULE_HISTORY = [
    ("H1", "Lead", D(2026, 1, 1)), ("H1", "Demo", D(2026, 1, 2)),
    ("H1", "Proposal", D(2026, 1, 3)), ("H1", "Won", D(2026, 1, 10)),
    ("H2", "Lead", D(2026, 1, 1)), ("H2", "Proposal", D(2026, 1, 5)),  # skipped Demo
    ("H3", "Lead", D(2026, 1, 1)), ("H3", "Demo", D(2026, 1, 10)),
    ("H3", "Proposal", D(2026, 1, 5)),  # Proposal entered before Demo: out of order
]


@pytest.fixture(scope="module")
def with_history() -> Dataset:
    history = pd.DataFrame(RULE_HISTORY, columns=["opp_id", "stage", "entered_date"])
    return build_dataset(pd.DataFrame(RULE_OPPS), STAGES, stage_history=history, as_of=AS_OF)


@pytest.mark.parametrize(
    ("rule", "reached", "next_rates", "cumulative"),
    [
        ("furthest", [4, 4, 3, 1], [1.0, 3 / 4, 1 / 3], [1.0, 1.0, 3 / 4, 1 / 4]),
        # H1 all; H2 stops at Lead (gap); H3 stops at Demo (order); H4 never entered Lead.
        ("strict", [3, 2, 1, 1], [2 / 3, 1 / 2, 1.0], [1.0, 2 / 3, 1 / 3, 1 / 3]),
        # Touched: H1 all, H2 Lead+Proposal, H3 Lead+Demo+Proposal, H4 Demo only.
        ("any", [3, 3, 3, 1], [2 / 3, 2 / 3, 1 / 3], [3 / 4, 3 / 4, 3 / 4, 1 / 4]),
    ],
)
def test_counting_rules(
    with_history: Dataset, rule: fn.Rule, reached: list[int], next_rates: list[float],
    cumulative: list[float],
) -> None:
    result = fn.compute_funnel(with_history, Filters(), rule)
    assert [s.reached for s in result.stages] == reached
    assert [s.next_step_conversion for s in result.stages] == pytest.approx([*next_rates, None])
    assert [s.cumulative_conversion for s in result.stages] == pytest.approx(cumulative)
    assert fn.RULES[rule] in result.description


def test_strict_needs_stage_history(with_history: Dataset) -> None:
    data = build_dataset(pd.DataFrame(HAND_OPPS), STAGES, as_of=AS_OF)
    assert fn.available_rules(data) == ["furthest"]
    assert fn.available_rules(with_history) == ["furthest", "strict", "any"]
    with pytest.raises(DiagnosticsError, match="stage history"):
        fn.compute_funnel(data, Filters(), "strict")
    with pytest.raises(DiagnosticsError, match="Unknown counting rule"):
        fn.compute_funnel(data, Filters(), "weird")  # type: ignore[arg-type]


def test_description_names_rule_and_cohort() -> None:
    text = fn.describe_rule("furthest", Filters(start=D(2026, 1, 1), end=D(2026, 3, 31),
                                                cohort="closed", segment=("SMB",)))
    assert text == ("Counting rule: furthest stage reached. Cohort: Deals won or lost "
                    "01 Jan 2026 – 31 Mar 2026; segment = SMB.")


# ---------------------------------------------------------------- reps


def _reps_dataset() -> Dataset:
    """Four reps with 10 leads each (Ann 9, Bob 6, Cat 5, Dan 2 demos) and Eve with 2 leads."""
    opps = []
    for rep, leads, demos in (("Ann", 10, 9), ("Bob", 10, 6), ("Cat", 10, 5), ("Dan", 10, 2),
                              ("Eve", 2, 2)):
        for i in range(leads):
            opps.append(_opp(f"{rep}{i}", rep, "Demo" if i < demos else "Lead", 10,
                             D(2026, 1, 5), None))
    return build_dataset(pd.DataFrame(opps), STAGES, as_of=AS_OF)


def test_rep_transitions_grey_out_small_samples() -> None:
    reps = fn.rep_transitions(_reps_dataset(), Filters(), min_count=5)
    first = reps[reps["order"] == 0].set_index("rep")
    assert first.loc["Ann", "rate"] == pytest.approx(0.9)
    assert first.loc["Ann", "team_rate"] == pytest.approx(24 / 42)
    assert first.loc["Ann", "gap"] == pytest.approx(0.9 - 24 / 42)
    assert not first.loc["Eve", "enough"] and pd.isna(first.loc["Eve", "rate"])
    assert (first.loc["Eve", "entered"], first.loc["Eve", "advanced"]) == (2, 2)
    assert len(reps) == 5 * 3  # every rep × every step


def stopped_at(opp_id: str, rep: str, stage: str, created: dt.date
               ) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Return a deal lost a month after it was created at ``stage`` (Lead or Demo), and the
    stage history that places it there."""
    reached = STAGES.funnel[: STAGES.funnel.index(stage) + 1]
    history = [{"opp_id": opp_id, "stage": s, "entered_date": created} for s in reached]
    return (_opp(opp_id, rep, "Lost", 100, created, created + dt.timedelta(days=30)), history)


def _two_quarters() -> Dataset:
    """Q1: 10 leads, 8 demos; Q2: 10 leads, 4 demos. Every deal is lost where it stopped."""
    opps, history = [], []
    for quarter, created, demos in (("q1", D(2026, 1, 15), 8), ("q2", D(2026, 4, 15), 4)):
        for i in range(10):
            opp, rows = stopped_at(f"{quarter}-{i}", "Ann", "Demo" if i < demos else "Lead",
                                   created)
            opps.append(opp)
            history += rows
    return build_dataset(pd.DataFrame(opps), STAGES, stage_history=pd.DataFrame(history),
                         as_of=D(2026, 6, 30))


def test_compare_two_periods_side_by_side() -> None:
    data = _two_quarters()
    a = fn.compute_funnel(data, Filters(start=D(2026, 4, 1), end=D(2026, 6, 30)))
    b = fn.compute_funnel(data, Filters(start=D(2026, 1, 1), end=D(2026, 3, 31)))
    table = fn.compare_funnels(a, b, ("Q2", "Q1"))
    row = table.iloc[0]
    assert (row["Reached (Q2)"], row["Reached (Q1)"], row["Change"]) == (10, 10, "-40 pts")
    assert table.iloc[-1]["Change"] == "—"
    # Q2's 4 deals at Demo all stopped there: a rate on few deals, with its counts.
    demo = table.iloc[1]
    assert demo["Next step (Q2)"] == "0% (0 of 4: few deals)"
    assert demo["Change"].endswith(" pts (few deals)")
    assert row["Next step (Q2)"] == "40%"  # 10 deals: no counts needed


def test_rates_round_trip_through_an_editable_table() -> None:
    frame = fn.rates_frame(["A → B", "B → C"], [0.355, None])
    assert list(frame["Rate (%)"].fillna(-1)) == [35.5, -1]
    assert fn.rates_from_frame(frame) == pytest.approx([0.355, None])


# ---------------------------------------------------------------- invariants


@st.composite
def _deals(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    n = draw(st.integers(0, 25))
    opps, history, reach = [], [], []
    for i in range(n):
        status = draw(st.sampled_from(["won", "lost", "open"]))
        depth = draw(st.integers(0, 3))  # stages in the history (0 = none)
        if status == "won":
            stage, r = "Won", 4
        elif status == "open":
            open_rank = draw(st.integers(1, 3))
            stage, r = STAGES.funnel[open_rank - 1], max(open_rank, depth)
        else:
            stage, r = "Lost", depth  # no history: stage unknown, at no step
        created = D(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 60)))
        close = created + dt.timedelta(days=draw(st.integers(0, 40))) if status != "open" else None
        opps.append(_opp(f"X{i}", draw(st.sampled_from(["Ann", "Bob"])), stage,
                         float(draw(st.integers(0, 100))), created, close,
                         draw(st.sampled_from(["SMB", "Ent"]))))
        history += [{"opp_id": f"X{i}", "stage": STAGES.funnel[k],
                     "entered_date": created + dt.timedelta(days=k)} for k in range(depth)]
        reach.append(r)
    columns = ["opp_id", "stage", "entered_date"]
    return pd.DataFrame(opps, columns=list(_opp("", "", "", 0, AS_OF, None))), pd.DataFrame(
        history, columns=columns), reach


_SHARED_CON = connect_locked()  # one connection for every example: tables are replaced


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_deals(), st.sampled_from([(), ("SMB",)]))
def test_funnel_matches_plain_pandas_and_stays_in_bounds(
    deals: tuple[pd.DataFrame, pd.DataFrame, list[int]], segment: tuple[str, ...]
) -> None:
    opps, history, reach = deals
    data = build_dataset(opps, STAGES, stage_history=history if len(history) else None,
                         as_of=AS_OF, con=_SHARED_CON)
    result = fn.compute_funnel(data, Filters(segment=segment))
    frame = opps.assign(reach=reach)
    if segment:
        frame = frame[frame["segment"].isin(segment)]
    expected = [int((frame["reach"] >= rank).sum()) for rank in range(1, 5)]
    got = [s.reached for s in result.stages]
    assert got == expected
    assert all(a >= b for a, b in zip(got, got[1:], strict=False))
    for rule in ("furthest", "strict", "any") if data.has_stage_history else ("furthest",):
        for s in fn.compute_funnel(data, Filters(segment=segment), rule).stages:
            for rate in (s.next_step_conversion, s.cumulative_conversion):
                assert rate is None or 0.0 <= rate <= 1.0
    m = fn.headline_metrics(data, Filters(segment=segment))
    assert m.win_rate is None or 0.0 <= m.win_rate <= 1.0
    assert (m.won, m.lost) == (int((frame["stage"] == "Won").sum()),
                               int((frame["stage"] == "Lost").sum()))
    unknown = int(((frame["stage"] == "Lost") & (frame["reach"] == 0)).sum())
    assert result.lost_stage_unknown == unknown
    assert sum(s.lost_here for s in result.stages) + unknown == m.lost  # nothing vanishes


def test_open_deals_without_amounts_leave_the_pipeline_unknown_not_zero() -> None:
    opps = pd.DataFrame({"opp_id": ["W", "V", "O1", "O2"], "rep": ["Ann"] * 4,
                         "stage": ["Won", "Won", "Lead", "Demo"],
                         "amount": [800.0, None, None, None],
                         "created_date": [D(2026, 1, 5)] * 4,
                         "close_date": [D(2026, 2, 5), D(2026, 2, 9), None, None]})
    data = build_dataset(opps, STAGES, as_of=AS_OF)
    m = fn.headline_metrics(data, Filters())
    assert (m.open, m.open_with_amount, m.open_pipeline) == (2, 0, 0.0)
    assert m.pipeline_known is None
    items = {label: (value, note) for label, value, note in m.display_items()}
    assert items["Open pipeline"][0] == "—"
    assert items["Average won deal"] == ("800", "won deals; amounts known for 1 of 2 deals")
    # The CLI's JSON says the same as the page: unknown, and from how many won deals.
    out = m.to_json()
    assert out["open_pipeline"] is None
    assert (out["won_with_amount"], out["open_with_amount"]) == (1, 0)


def _closed(won: int, lost: int) -> fn.HeadlineMetrics:
    return fn.HeadlineMetrics(won=won, lost=lost, open=0,
                              win_rate=won / (won + lost) if won + lost else None,
                              median_cycle_days=None, avg_won_amount=None, open_pipeline=0.0,
                              velocity_per_day=None, stale_open=None, stale_days=60)


def test_a_win_rate_on_few_closed_deals_is_given_with_its_range() -> None:
    # 3 won of 6: the 95% Wilson interval is 18.8%–81.2% (hand-checked: centre 0.5, half-width
    # 1.96 × sqrt(0.25 / 6 + 1.96² / 144) / (1 + 1.96² / 6)).
    assert fn.small_sample_note(_closed(3, 3)) == (
        "Few closed deals: the win rate of 50% rests on 3 won of 6 closed, and any rate from "
        "19% to 81% fits them (95% interval). Below 20 closed deals, read it and the step "
        "conversions as rough.")
    assert fn.small_sample_note(_closed(10, 10)) is None  # 20 closed: enough to plan with
    assert fn.small_sample_note(_closed(0, 0)) is None  # no rate at all: "—" says it
    help_text = {label: note for label, _, note in _closed(3, 3).display_items()}["Win rate"]
    assert help_text == ("won ÷ (won + lost), closed deals only; 6 closed deals: 95% interval "
                         "19%–81%")
    assert {label: note for label, _, note in _closed(0, 0).display_items()}["Win rate"] == (
        "won ÷ (won + lost), closed deals only")


def test_reps_with_too_few_deals_everywhere_are_said_not_compared(hand: Dataset) -> None:
    assert fn.unrated_reps_note(fn.rep_transitions(hand, Filters(), min_count=1), 1) is None
    reps = fn.rep_transitions(hand, Filters(), min_count=50)
    assert not reps.empty and not reps["enough"].any()
    assert fn.unrated_reps_note(reps, 50) == (
        "No rep has 50 or more deals entering any step, so no rep is compared with the team. "
        "Lower the minimum to see rough rates.")


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli_funnel.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_funnel_command_prints_the_documented_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _two_quarters()
    monkeypatch.setattr(cli_funnel, "_load", lambda file, mapping: data)
    args = _parser().parse_args(
        ["funnel", "deals.csv", "--from", "2026-04-01", "--to", "2026-06-30", "--reference",
         "previous", "--json"]
    )
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["stage"] for s in out["stages"]] == ["Lead", "Demo", "Proposal", "Won"]
    # 0 of the 4 deals at Demo went on: a rate on fewer than 5 deals, flagged as the page does.
    assert out["stages"][1] == {"stage": "Demo", "reached": 4, "next_step_conversion": 0.0,
                                "next_step_deals": 0, "few_deals": True,
                                "cumulative_conversion": 0.4, "open": 0, "lost": 4, "won": 0}
    assert out["stages"][0]["few_deals"] is False and out["stages"][0]["next_step_deals"] == 4
    assert out["few_deals"] == (
        "Few deals behind these step rates: Demo → Proposal 0 of 4 (0%). With fewer than 5 "
        "deals, one deal going the other way moves a rate by 25 points or more: read them as "
        "rough (lighter bars in the chart, “few deals” in the table).")
    assert (out["won"], out["lost"], out["open"], out["win_rate"]) == (0, 10, 0, 0.0)
    for key in ("median_cycle_days", "avg_won_amount", "velocity_per_day", "stale_open"):
        assert key in out
    assert out["biggest_breakage"] == {
        "from_stage": "Lead", "to_stage": "Demo", "lost_opportunities": 4, "lost_revenue": None,
        "actual_rate": 0.4, "reference_rate": 0.8, "beyond_noise": True, "pending": False,
    }
    # Lead → Demo converts 4 of 10, Demo → Proposal 0 of 4: too few deals to be named, so the
    # weakest step the data can judge is Lead → Demo, named in plain words with its count.
    assert out["weakest_step"].startswith(
        "Weakest step: Lead → Demo. Of the 10 deals that reach Lead, 40% get to Demo")
    assert out["rule"]["counting"] == "furthest" and out["rule"]["cohort"] == "created"
    assert "furthest stage reached" in out["rule"]["description"]
    assert out["caveat"] is None  # nothing was lost
    # Ten closed deals: the page's warning, word for word.
    assert out["small_sample"] == fn.small_sample_note(_closed(0, 10))
    assert out["small_sample"].startswith("Few closed deals: the win rate of 0% rests on 0 won "
                                          "of 10 closed, and any rate from 0% to 28%")


def test_funnel_command_rejects_reversed_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_funnel, "_load", lambda file, mapping: _two_quarters())
    args = _parser().parse_args(["funnel", "x.csv", "--from", "2026-06-01", "--to", "2026-01-01"])
    with pytest.raises(DiagnosticsError, match="before"):
        args.func(args)


def test_funnel_command_reads_a_real_export(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "hubspot_deals.csv"
    args = _parser().parse_args(["funnel", str(sample), "--segment", "SMB", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stages"][0]["reached"] > out["stages"][-1]["reached"] > 0
    assert out["won"] == out["stages"][-1]["reached"]  # furthest stage: every won deal reached Won
    assert "segment = SMB" in out["rule"]["description"]


def test_closed_in_period_shows_the_pipeline_open_today(hand: Dataset) -> None:
    closed = Filters(start=D(2026, 1, 15), end=D(2026, 2, 28), cohort="closed")
    m = fn.headline_metrics(hand, closed)
    assert (m.won, m.lost) == (1, 2)  # A2 won, B1 and B2 lost in the period
    assert (m.open, m.open_pipeline) == (2, 1050.0)  # B3 and C1, open today
    _, same = fn.funnel_with_metrics(hand, closed)
    assert same == m


def test_stale_is_aged_from_created_dates_without_any_date_of_change() -> None:
    # No activity, history or last-activity column: the created date is all that ages a deal.
    opps = [_opp("O1", "Ann", "Demo", 10, D(2025, 1, 1), None),
            _opp("O2", "Ann", "Lead", 10, D(2026, 3, 20), None),
            _opp("O3", "Ann", "Lead", 10, None, None)]  # type: ignore[arg-type]
    data = build_dataset(pd.DataFrame(opps), STAGES, as_of=AS_OF)
    assert data.has_last_touch is False
    m = fn.headline_metrics(data, Filters())
    assert (m.open, m.stale_open, m.undated_open, m.stale_from_created) == (3, 1, 1, True)
    stale = [item for item in m.display_items() if item[0].startswith("Stale")][0]
    assert stale[1] == "1"
    note = ("From created dates: no activity or change dates in the data, so an open deal "
            "created more than 60 days ago counts as stale (it may have moved since); 1 with "
            "no created date are not counted.")
    assert m.stale_note() == note and stale[2].endswith(note)
    assert m.display_notes()["Stale open (> 60 d)"] == note
    out = m.to_json()
    assert (out["stale_open"], out["stale_basis"], out["stale_note"]) == (1, "created", note)


def test_stale_is_unknown_when_no_open_deal_has_a_date() -> None:
    opps = [_opp("O1", "Ann", "Demo", 10, None, None)]  # type: ignore[arg-type]
    data = build_dataset(pd.DataFrame(opps), STAGES, as_of=AS_OF)
    m = fn.headline_metrics(data, Filters())
    assert m.stale_open is None and m.to_json()["stale_basis"] is None
    stale = [item for item in m.display_items() if item[0].startswith("Stale")][0]
    assert stale[1] == "—" and "no last-activity" in stale[2] and "created date" in stale[2]


def test_stale_rests_on_activity_when_the_data_has_it(hand: Dataset) -> None:
    m = fn.headline_metrics(hand, Filters())  # hand has a stage history
    assert not m.stale_from_created and m.stale_note() is None
    assert m.to_json()["stale_basis"] == "activity"


def test_velocity_leaves_out_open_deals_older_than_won_deals_take(hand: Dataset) -> None:
    m = fn.headline_metrics(hand, Filters())
    assert (m.live_days, m.open, m.aged_open, m.live_open) == (30, 2, 1, 1)
    note = ("Counts 1 of 2 open deals: 1 created more than 30 days ago are left out, since 4 in "
            "5 won deals closed within 30 days; velocity rests on 1 open deal (few deals): read "
            "it as rough.")
    assert m.velocity_note() == note
    items = {label: (value, text) for label, value, text in m.display_items()}
    assert items["Velocity per day"] == (
        "5 · few deals", f"open deals × win rate × average won deal ÷ median cycle days. {note}")
    assert m.display_notes() == {"Velocity per day": note}
    out = m.to_json()
    assert (out["velocity_open_deals"], out["velocity_left_out"], out["live_days"],
            out["velocity_note"]) == (1, 1, 30, note)
    # Nothing left out: the note says only how few deals velocity rests on.
    smb = fn.headline_metrics(hand, Filters(segment=("SMB",)))
    assert smb.velocity_note() == (f"Velocity rests on {smb.live_open} open deal (few deals): "
                                   "read it as rough.")
    # The closed-in-period view ages the deals open today the same way.
    closed = fn.headline_metrics(hand, Filters(start=D(2026, 1, 15), end=D(2026, 2, 28),
                                               cohort="closed"))
    assert (closed.open, closed.aged_open) == (2, 1)


def test_velocity_and_the_planner_leave_out_the_same_old_deals(hand: Dataset) -> None:
    from diagnostics.planner import plan_inputs_from_data

    for filters in (Filters(), Filters(rep=("Bob",)),
                    Filters(start=D(2026, 1, 15), end=D(2026, 2, 28), cohort="closed")):
        m = fn.headline_metrics(hand, filters)
        inputs = plan_inputs_from_data(hand, filters, metrics=m)
        assert (inputs.aged_deals, inputs.aged_days) == (m.aged_open, m.live_days)


def test_funnel_command_reads_a_stage_history_beside_the_deals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    args = _parser().parse_args(["funnel", str(sample / "opportunities.csv"),
                                 str(sample / "stage_history.csv"), "--json"])
    assert args.func(args) == 0
    with_history = json.loads(capsys.readouterr().out)
    args = _parser().parse_args(["funnel", str(sample / "opportunities.csv"), "--json"])
    assert args.func(args) == 0
    alone = json.loads(capsys.readouterr().out)
    # The history places every lost deal; the deals alone cannot say where any was lost.
    assert with_history["lost_stage_unknown"] == 0 and with_history["weakest_step"]
    assert alone["lost_stage_unknown"] == alone["lost"] > 0 and alone["weakest_step"] is None
    assert (with_history["won"], with_history["lost"]) == (alone["won"], alone["lost"])


@pytest.mark.parametrize("rule", ["furthest", "strict", "any"])
@pytest.mark.parametrize("filters", [Filters(), Filters(cohort="closed"),
                                     Filters(segment=("SMB",), start=D(2025, 1, 1))])
def test_quarterly_stages_count_each_quarter_as_its_own_funnel(rule: fn.Rule,
                                                               filters: Filters) -> None:
    from diagnostics.sample import load_sample_dataset

    sample = load_sample_dataset()
    names, by_quarter = fn.quarterly_stages(sample, filters, rule)
    first, last = sample.date_range()
    quarters = [(dt.date(y, m, 1), dt.date(y + m // 10, m % 12 + 3 if m < 10 else 1, 1))
                for y in range(first.year, last.year + 1) for m in (1, 4, 7, 10)]
    seen = 0
    for start, next_start in quarters:
        alone = fn.compute_funnel(sample, filters.with_period(
            max(start, filters.start or start), next_start - dt.timedelta(days=1)), rule)
        assert [s.stage for s in alone.stages] == names
        if alone.total:
            seen += 1
            assert by_quarter[fn.quarter_number(start)] == alone.stages
        else:
            assert fn.quarter_number(start) not in by_quarter
    assert seen >= 4 and len(by_quarter) == seen


def test_absurd_amounts_are_counted_and_left_out_of_the_average_won_deal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # Two won deals of 1e308 add up to infinity: kept, they left no average at all.
    deals = tmp_path / "deals.csv"
    deals.write_text("Opportunity ID,Stage,Amount\n1,Won,1e308\n2,Won,1e308\n3,Won,100\n"
                     '4,Won,"$1,000"\n5,Lost,5\n')
    args = _parser().parse_args(["funnel", str(deals), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["won"] == 4 and out["avg_won_amount"] == pytest.approx(550.0)
    from diagnostics.cli import main

    assert main(["inspect", str(deals), "--json"]) == 0
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems == ["2 values in “Amount” could not be read as amount (kept as missing), "
                        "e.g. line 2: “1e308” (too large to be an amount); line 3: “1e308” "
                        "(too large to be an amount)."]


def test_step_rates_on_few_deals_show_their_counts_and_are_flagged(hand: Dataset) -> None:
    # Lead → Demo 4 of 5, Demo → Proposal 3 of 4, Proposal → Won 2 of 3 (hand-worked above).
    result = fn.compute_funnel(hand, Filters())
    assert result.thin_steps() == (("Demo → Proposal", 4, 3), ("Proposal → Won", 3, 2))
    table = result.to_frame()
    assert list(table["Step rests on"]) == ["4 of 5", "3 of 4 · few deals",
                                            "2 of 3 · few deals", "", ""]
    assert list(table.columns[:4]) == ["Stage", "Reached", "Next-step conversion",
                                       "Step rests on"]
    assert fn.thin_steps_note(result) == (
        "Few deals behind these step rates: Demo → Proposal 3 of 4 (75%); Proposal → Won 2 of 3 "
        "(67%). With fewer than 5 deals, one deal going the other way moves a rate by 25 points "
        "or more: read them as rough (lighter bars in the chart, “few deals” in the table).")
    assert [s["few_deals"] for s in result.to_json()] == [False, True, True, False]
    # Nothing entered a step: its rate is undefined ("—"), not a rate on few deals.
    empty = fn.compute_funnel(hand, Filters(segment=("Nope",)))
    assert empty.thin_steps() == () and fn.thin_steps_note(empty) is None



def test_velocity_leaves_out_open_deals_of_unknown_age_and_is_unknown_on_them_alone() -> None:
    # Won deals close within 10 and 20 days; as of 31 March, O-young is 11 days old, O-old
    # 90 days and O-undated has no created date: its age is unknown, so it is not taken as live.
    won = [_opp("W1", "Ann", "Won", 100, D(2026, 1, 1), D(2026, 1, 11)),
           _opp("W2", "Ann", "Won", 100, D(2026, 1, 1), D(2026, 1, 21)),
           _opp("L1", "Ann", "Lost", 100, D(2026, 1, 1), D(2026, 1, 21))]
    young = _opp("O-young", "Ann", "Lead", 50, D(2026, 3, 20), None)
    old = _opp("O-old", "Ann", "Lead", 50, D(2025, 12, 31), None)
    undated = _opp("O-undated", "Ann", "Lead", 50, None, None)  # type: ignore[arg-type]
    data = build_dataset(pd.DataFrame([*won, young, old, undated]), STAGES, as_of=AS_OF)
    m = fn.headline_metrics(data, Filters())
    assert (m.open, m.aged_open, m.undated_open, m.live_open) == (3, 1, 1, 1)
    assert m.velocity_note() == (
        "Counts 1 of 3 open deals: 1 created more than 20 days ago are left out, since 4 in 5 "
        "won deals closed within 20 days; 1 with no created date are left out too (their age "
        "is unknown); velocity rests on 1 open deal (few deals): read it as rough.")
    assert m.velocity_per_day == pytest.approx(1 * (2 / 3) * 100 / 15)
    assert m.to_json()["velocity_left_out"] == 2
    # With only deals of unknown age left, velocity is unknown, not a figure resting on them.
    alone = build_dataset(pd.DataFrame([*won, old, undated]), STAGES, as_of=AS_OF)
    m = fn.headline_metrics(alone, Filters())
    assert (m.live_open, m.velocity_per_day) == (0, None)
    assert m.velocity_note() is not None and "1 with no created date" in m.velocity_note()
    # Every open deal aged past the age deals are won at: no live pipeline, velocity 0.
    aged = fn.headline_metrics(build_dataset(pd.DataFrame([*won, old]), STAGES, as_of=AS_OF),
                               Filters())
    assert (aged.live_open, aged.velocity_per_day) == (0, 0.0)


def test_velocity_on_fewer_than_five_open_deals_says_few_deals_and_on_five_does_not() -> None:
    won = [_opp(f"W{i}", "Ann", "Won", 100, D(2026, 3, 1), D(2026, 3, 11)) for i in range(3)]
    lost = [_opp("L1", "Ann", "Lost", 100, D(2026, 3, 1), D(2026, 3, 21))]

    def metrics(open_deals: int) -> fn.HeadlineMetrics:
        opened = [_opp(f"O{i}", "Ann", "Lead", 50, D(2026, 3, 25), None)
                  for i in range(open_deals)]
        data = build_dataset(pd.DataFrame([*won, *lost, *opened]), STAGES, as_of=AS_OF)
        return fn.headline_metrics(data, Filters())

    few, enough = metrics(4), metrics(5)
    assert (few.live_open, few.velocity_few_deals) == (4, True)
    assert dict((k, v) for k, v, _ in few.display_items())["Velocity per day"].endswith(
        " · few deals")
    assert few.velocity_note() == "Velocity rests on 4 open deals (few deals): read it as rough."
    assert few.to_json()["velocity_few_deals"] is True
    assert (enough.live_open, enough.velocity_few_deals, enough.velocity_note()) == (5, False, None)
    assert "few" not in dict((k, v) for k, v, _ in enough.display_items())["Velocity per day"]
