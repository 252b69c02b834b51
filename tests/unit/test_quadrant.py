"""Rep quadrant on a hand-checked dataset: engagement, close ratios, quadrants, movement."""

from __future__ import annotations

import datetime as dt
import gc
import io
import itertools
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics import quadrant as quad
from diagnostics import stats
from diagnostics.cli import main as cli_main
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes, to_excel_bytes
from diagnostics.sample import load_sample_dataset

STAGES = StageConfig(funnel=("Lead", "Demo", "Proposal"), won=("Won",), lost=("Lost",))
START, END = dt.date(2026, 1, 5), dt.date(2026, 1, 18)  # Monday to Sunday: 10 working days
PERIOD = Filters(start=START, end=END)
IN_PERIOD = dt.date(2026, 1, 8)
BEFORE = dt.date(2025, 12, 1)
SATURDAY = dt.date(2026, 1, 10)
EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"

# rep: (team, won, lost, activities, meetings)
REPS = {
    "Ann": ("East", 6, 2, 20, 4),
    "Bob": ("East", 1, 5, 30, 10),
    "Cat": ("East", 1, 4, 5, 0),
    "Dan": ("West", 4, 1, 8, 2),
    "Eve": ("West", 0, 0, 12, 3),  # activities, no closed deal
    "Fay": ("West", 3, 2, 0, 0),  # closed deals, no activity logged
    "Gus": ("West", 2, 0, 15, 5),  # too few closed deals
}


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = itertools.count(1)
    opps: list[dict[str, object]] = []
    acts: list[dict[str, object]] = []

    def deal(rep: str, team: str, status: str, close: dt.date | None, segment: str = "Ent") -> str:
        opp_id = f"O{next(ids)}"
        # Lost deals keep the stage they were lost at (as Pipedrive exports do): the first one.
        stage = {"won": "Won", "lost": "Lead", "open": "Demo"}[status]
        opps.append({"opp_id": opp_id, "rep": rep, "team": team, "stage": stage,
                     "status": status, "amount": 1000.0, "created_date": dt.date(2025, 11, 3),
                     "close_date": close, "segment": segment, "product": "Core",
                     "region": "EU"})
        return opp_id

    for rep, (team, won, lost, n_act, n_meet) in REPS.items():
        for i in range(won):
            # Ann's first win is the only SMB deal, for the segment filter test.
            deal(rep, team, "won", IN_PERIOD, "SMB" if rep == "Ann" and i == 0 else "Ent")
        for _ in range(lost):
            deal(rep, team, "lost", END)
        # Closed before the period: must not count.
        deal(rep, team, "lost", BEFORE)
        anchor = deal(rep, team, "open", None)
        for i in range(n_act):
            day = SATURDAY if i == 0 else IN_PERIOD  # weekend work counts; weekends add no days
            acts.append({"activity_id": f"A{next(ids)}", "rep": rep,
                         "type": "Meeting" if i < n_meet else "Call",
                         "activity_date": day, "opp_id": anchor})
        # Outside the period: must not count.
        acts.append({"activity_id": f"A{next(ids)}", "rep": rep, "type": "Meeting",
                     "activity_date": BEFORE, "opp_id": anchor})
    return pd.DataFrame(opps), pd.DataFrame(acts)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    opps, acts = _frames()
    return build_dataset(opps, STAGES, activities=acts, source="test")


@pytest.fixture(scope="module")
def result(dataset: Dataset) -> quad.QuadrantResult:
    return quad.classify_reps(dataset, PERIOD)


def _row(result: quad.QuadrantResult, rep: str) -> quad.RepRow:
    return next(r for r in result.reps if r.rep == rep)


def test_content_loads_and_names_every_quadrant() -> None:
    content = quad.load_content()
    assert set(content.quadrants) == set(quad.QUADRANTS)
    assert content.quadrants["star"].name == "Stars"
    assert content.quadrant_for(True, False) == "needs_coaching"
    assert content.quadrant_for(False, True) == "check_data"
    assert content.defaults.min_deals == 5


def test_content_rejects_unknown_fields(tmp_path: Path) -> None:
    text = quad.CONTENT_PATH.read_text(encoding="utf-8") + '\n[quadrants.star2]\nname = "x"\n'
    bad = tmp_path / "quadrant.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticsError, match="not valid"):
        quad.load_content(bad)
    extra = tmp_path / "extra.toml"
    extra.write_text(
        quad.CONTENT_PATH.read_text(encoding="utf-8").replace(
            "min_deals = 5", "min_deals = 5\nmin_deal = 4"
        ),
        encoding="utf-8",
    )
    with pytest.raises(DiagnosticsError, match="min_deal"):
        quad.load_content(extra)


def test_period_and_working_days(result: quad.QuadrantResult) -> None:
    assert (result.start, result.end, result.working_days) == (START, END, 10)


@pytest.mark.parametrize(
    ("rep", "engagement", "won", "lost", "ratio", "quadrant"),
    [
        # The close-ratio line is the team's close ratio, 17/31 = 54.8%; five reps are compared,
        # so each is tested at 0.95^(1/5) = 98.98% (z = 2.569).
        ("Ann", 2.0, 6, 2, 0.75, "star"),
        # Bob: busy, 1 of 6 (17%): the limits around 54.8% at n = 6 are
        # 54.8% ± 2.569·√(0.2477/6) = 2.7%–100%, so 17% may sit on the line: no coaching yet.
        ("Bob", 3.0, 1, 5, 1 / 6, "too_close"),
        # Cat: low engagement, 20% on 5 deals: the limits at n = 5 reach below 0%.
        ("Cat", 0.5, 1, 4, 0.2, "too_close"),
        ("Dan", 0.8, 4, 1, 0.8, "star"),  # on the engagement median: counts as high
        ("Eve", 1.2, 0, 0, None, "not_enough_data"),
        ("Fay", 0.0, 3, 2, 0.6, "too_close"),  # above the line, low engagement, within limits
        ("Gus", 1.5, 2, 0, 1.0, "not_enough_data"),
    ],
)
def test_rep_rows_hand_checked(
    result: quad.QuadrantResult,
    rep: str,
    engagement: float,
    won: int,
    lost: int,
    ratio: float | None,
    quadrant: str,
) -> None:
    row = _row(result, rep)
    assert row.engagement == pytest.approx(engagement)
    assert (row.won, row.lost, row.quadrant) == (won, lost, quadrant)
    assert row.close_ratio == (None if ratio is None else pytest.approx(ratio))
    assert row.action.startswith(quad.load_content().quadrants[quadrant].action)


def test_too_close_to_call_says_how_many_deals_would_settle_it(result: quad.QuadrantResult) -> None:
    # Cat at 20% against 54.8% (L(1-L) = 0.2477): settled once
    # n > 2.569² × 0.2477 / 0.3484² = 13.46, i.e. at 14 deals: 9 more.
    cat = _row(result, "Cat")
    assert cat.deals_to_settle == 9
    assert cat.action.endswith("About 9 more closed deals at this close ratio would settle it.")
    # Fay at 60%, 5.2 points above: n > 2.569² × 0.2477 / 0.0516² = 613.5 → 614, 609 more.
    fay = _row(result, "Fay")
    assert fay.deals_to_settle == 609
    assert "Watch; no plan yet" in fay.action
    # A ratio exactly on the line: no number of deals settles it at the same ratio.
    fox = _row(quad.classify_reps(_team(TEAM), PERIOD, engagement_target=1.0, close_target=0.4),
               "Fox")
    assert fox.deals_to_settle is None and "sits on the line" in fox.action


def test_lines_are_median_engagement_and_team_close_ratio(result: quad.QuadrantResult) -> None:
    # Engagement of Ann, Bob, Cat, Dan, Fay (5+ closed deals): 2.0, 3.0, 0.5, 0.8, 0.0 → 0.8.
    # Close ratio: the team's, every rep's deals closed in the period: 17 won of 31 (not the
    # median of the five ratios, 0.6, which moves with each rep's luck).
    assert result.thresholds.engagement == pytest.approx(0.8)
    assert result.thresholds.close_ratio == pytest.approx(17 / 31)
    assert result.thresholds.basis == "team"
    assert (result.rule.source, result.rule.compared) == ("team", 5)
    assert result.rule.rep_confidence == pytest.approx(0.95 ** (1 / 5))
    assert result.counts() == {
        "star": 2, "needs_coaching": 0, "performance_plan": 0, "too_close": 3, "check_data": 0,
        "not_enough_data": 2,
    }


def test_team_rate_and_intervals(result: quad.QuadrantResult) -> None:
    assert result.team_close_ratio == pytest.approx(17 / 31)
    ann = _row(result, "Ann")
    # The interval the rule tests: Wilson at 0.95^(1/5) (z 2.569), wider than the 95% one
    # (40.9%–92.8%, hand-checked in test_stats).
    assert (ann.close_ratio_low, ann.close_ratio_high) == stats.wilson_interval(6, 8, 0.95 ** 0.2)
    assert ann.close_ratio_low == pytest.approx(0.3247, abs=1e-4)
    assert ann.close_ratio_high == pytest.approx(0.9493, abs=1e-4)
    assert _row(result, "Eve").close_ratio_low is None
    assert _row(result, "Eve").shrunk_close_ratio is None


def test_meetings_per_day(dataset: Dataset) -> None:
    result = quad.classify_reps(dataset, PERIOD, engagement="meetings")
    assert _row(result, "Bob").engagement == pytest.approx(1.0)
    assert _row(result, "Ann").engagement == pytest.approx(0.4)


def test_opportunities_worked_per_week(dataset: Dataset) -> None:
    result = quad.classify_reps(dataset, PERIOD, engagement="opportunities")
    # Ann: 8 deals closed in the period + 1 open deal = 9 worked over 10 working days = 2 weeks.
    assert _row(result, "Ann").engagement == pytest.approx(4.5)
    # Eve: only her open deal.
    assert _row(result, "Eve").engagement == pytest.approx(0.5)


def test_targets_replace_medians(dataset: Dataset) -> None:
    result = quad.classify_reps(dataset, PERIOD, engagement_target=1.0, close_target=0.25)
    assert result.thresholds.to_dict() == {"engagement": 1.0, "close_ratio": 0.25,
                                           "basis": "target"}
    # Dan: 0.8/day < 1; 80% on 5 deals is above the limits around 25% (5 reps compared, z 2.569):
    # 25% + 2.569·√(0.1875/5) = 74.7%.
    assert _row(result, "Dan").quadrant == "check_data"
    assert result.rule.source == "target" and "your target, 25.0%" in result.rule.text()
    # Bob: busy, 1 of 6 (17%) against 25%: the limits at n = 6 are
    # 25% ± 2.569·√(0.1875/6) = 0%–70%, so the interval reaches the line: too close, not coaching.
    assert _row(result, "Bob").quadrant == "too_close"
    mixed = quad.classify_reps(dataset, PERIOD, close_target=0.25)
    assert mixed.thresholds.basis == "mixed"
    assert mixed.thresholds.engagement == pytest.approx(0.8)


@pytest.mark.parametrize(("min_deals", "not_enough"), [(1, 1), (5, 2), (6, 5), (9, 7)])
def test_min_deals_moves_reps_to_not_enough_data(
    dataset: Dataset, min_deals: int, not_enough: int
) -> None:
    result = quad.classify_reps(dataset, PERIOD, min_deals=min_deals)
    assert result.counts()["not_enough_data"] == not_enough


def test_filters_team_and_segment(dataset: Dataset) -> None:
    west = quad.classify_reps(dataset, Filters(start=START, end=END, team=("West",)))
    assert [r.rep for r in west.reps] == ["Dan", "Eve", "Fay", "Gus"]
    smb = quad.classify_reps(dataset, Filters(start=START, end=END, segment=("SMB",)))
    # Only Ann has an SMB deal; her activities hang on an Ent deal, so none count.
    assert [(r.rep, r.won, r.lost, r.activities) for r in smb.reps] == [("Ann", 1, 0, 0)]


def test_whole_range_when_no_period(dataset: Dataset) -> None:
    result = quad.classify_reps(dataset, Filters())
    assert result.start == dt.date(2025, 11, 3)
    assert result.end == dataset.as_of == END
    assert _row(result, "Ann").lost == 3  # the deal closed before January counts now


def test_closed_deals_without_a_close_date_count_only_over_the_whole_range() -> None:
    opps, acts = _frames()
    undated = opps[opps["rep"] == "Ann"].iloc[[0]].assign(opp_id="U1", status="lost",
                                                          stage="Lead", close_date=None)
    data = build_dataset(pd.concat([opps, undated]), STAGES, activities=acts, source="test")
    whole = quad.classify_reps(data, Filters())
    assert (_row(whole, "Ann").lost, whole.undated_closed, whole.undated_counted) == (4, 1, True)
    assert "1 closed deal without a close date count" in (whole.undated_note() or "")
    period = quad.classify_reps(data, PERIOD)
    assert (_row(period, "Ann").lost, period.undated_closed, period.undated_counted) == (
        2, 1, False)
    assert "1 closed deal without a close date is left out of this period's" in (
        period.undated_note() or "")
    assert period.to_dict()["undated_closed"] == {"deals": 1, "counted": False}
    # A team filter that leaves Ann out leaves her undated deal out too.
    west = quad.classify_reps(data, Filters(team=("West",)))
    assert west.undated_closed == 0 and west.undated_note() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_deals": 0}, "at least 1"),
        ({"close_target": 25.0}, "0.25"),
        ({"engagement_target": -1.0}, "negative"),
        ({"engagement": "emails"}, "Unknown engagement"),
    ],
)
def test_bad_options_raise_readable_errors(
    dataset: Dataset, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        quad.classify_reps(dataset, PERIOD, **kwargs)  # type: ignore[arg-type]


def test_end_before_start_is_an_error(dataset: Dataset) -> None:
    with pytest.raises(DiagnosticsError, match="before it starts"):
        quad.classify_reps(dataset, Filters(start=END, end=START))


def test_without_activities_defaults_to_opportunities() -> None:
    opps, _ = _frames()
    ds = build_dataset(opps, STAGES, source="no activities")
    result = quad.classify_reps(ds, PERIOD)
    assert result.engagement == "opportunities"
    with pytest.raises(DiagnosticsError, match="activity file"):
        quad.classify_reps(ds, PERIOD, engagement="meetings")


def test_empty_period_places_nobody(dataset: Dataset) -> None:
    weekend = quad.classify_reps(dataset, Filters(start=SATURDAY, end=SATURDAY))
    assert weekend.working_days == 0
    assert all(r.quadrant == "not_enough_data" and r.engagement is None for r in weekend.reps)
    assert weekend.thresholds.engagement is None


def test_json_payload_shape(result: quad.QuadrantResult) -> None:
    payload = result.to_dict()
    assert set(payload["thresholds"]) == {"engagement", "close_ratio", "basis"}
    assert payload["rule"] == {
        "close_line": "team", "confidence": 0.95, "reps_compared": 5,
        "rep_confidence": pytest.approx(0.95 ** 0.2), "text": result.rule.text(),
    }
    assert set(payload["reps"][0]) == {
        "rep", "engagement", "close_ratio", "close_ratio_low", "close_ratio_high",
        "shrunk_close_ratio", "won", "lost", "quadrant",
    }
    eve = next(r for r in payload["reps"] if r["rep"] == "Eve")
    assert eve["close_ratio"] is None and eve["quadrant"] == "not_enough_data"


def test_export_frame_has_readable_headers(result: quad.QuadrantResult) -> None:
    frame = quad.export_frame(result)
    assert list(frame.columns)[:4] == ["Rep", "Team", "Activities per working day", "Close ratio"]
    assert frame.loc[frame["Rep"] == "Bob", "Quadrant"].item() == "Too close to call"
    assert list(frame.columns)[4:7] == ["Close ratio low", "Close ratio high",
                                        "Interval confidence"]
    assert (frame["Interval confidence"] == round(0.95 ** 0.2, 4)).all()
    assert len(frame) == len(result.reps)


def test_funnel_plot_limits(result: quad.QuadrantResult) -> None:
    limits = quad.funnel_plot_limits(result)
    rule, warning = "Rule: 99% per rep, 95% for the team", "Warning: 95% for one rep"
    assert [label for _, label in quad.funnel_plot_levels(result)] == [rule, warning]
    assert list(dict.fromkeys(limits["level"])) == [rule, warning]
    assert limits["closed"].max() == 8  # Ann has the most closed deals
    # Drawn around the close-ratio line, the team's close ratio (17/31).
    line = 17 / 31
    assert quad.funnel_plot_line(result) == pytest.approx(line)
    assert (limits["low"] <= line).all() and (limits["high"] >= line).all()
    at_8 = limits[limits["closed"] == 8].set_index("level")
    # The rule's curve at the per-rep confidence of five reps (z 2.569), the warning at 1.96.
    spread = (line * (1 - line) / 8) ** 0.5
    assert at_8.loc[rule, "low"] == pytest.approx(line - 2.568763 * spread)
    assert at_8.loc[warning, "low"] == pytest.approx(line - 1.959964 * spread)


def test_warning_curves_are_drawn_only_inside_the_rule_s() -> None:
    # One rep compared: the rule is 95% for that rep, the warning would be the same curve.
    alone = quad.classify_reps(_team({"Ada": (12, 8, 20)}), PERIOD)
    assert [label for _, label in quad.funnel_plot_levels(alone)] == [
        "Rule: 95% per rep, 95% for the team"]
    assert "warning" not in quad.funnel_plot_note(alone)
    team = quad.classify_reps(_team(TEAM), PERIOD, engagement_target=1.0, close_target=0.4)
    note = quad.funnel_plot_note(team)
    assert note.startswith("Close ratio against the number of closed deals, around the "
                           "close-ratio line (your target).")
    assert "(99.4% for each rep, so 95% for the team as a whole)" in note
    assert "warning curves (95% for one rep alone)" in note


def test_funnel_plot_claims_no_rule_when_nobody_is_judged() -> None:
    # Three closed deals each, below the default minimum: nobody is placed against the line.
    few = quad.classify_reps(_team({"Ada": (2, 1, 5), "Bo": (1, 2, 5)}), PERIOD)
    assert few.rule.compared == 0
    assert [label for _, label in quad.funnel_plot_levels(few)] == ["95% for one rep"]
    note = quad.funnel_plot_note(few)
    assert "No rep has enough closed deals to be judged against the line" in note
    assert "Rule" not in note and "for the team as a whole" not in note


def test_funnel_plot_limits_pass_through_every_rep_s_own_sample_size() -> None:
    # Ivy has 141 closed deals, so the grid steps by 2 from 1 (1, 3, …, 141): without rows of
    # their own, the others' 20 deals would fall between two rows, where a straight segment is
    # not the curve.
    team = {**TEAM, "Ivy": (30, 111, 20)}
    result = quad.classify_reps(_team(team), PERIOD, engagement_target=1.0, close_target=0.4)
    limits = quad.funnel_plot_limits(result).set_index(["level", "closed"])
    rule = quad.funnel_plot_levels(result)[0][1]
    for row in result.reps:
        ((low, high),) = stats.funnel_limits(0.4, [row.closed], result.rule.rep_confidence)
        assert limits.loc[(rule, row.closed), "low"] == pytest.approx(low)
        assert limits.loc[(rule, row.closed), "high"] == pytest.approx(high)


def test_movement_between_periods(dataset: Dataset) -> None:
    # Period A holds one December loss and one activity per rep: 0.1/day, 0% on one deal, which
    # cannot be told from the 50% target: too close to call. In January Ann (2.0/day, 75%) and
    # Gus (1.5/day, 100%) are Stars; six reps are compared (z 2.63 each): the quiet reps' ratios
    # on five deals stay within 50% ± 59%, and busy Bob's 1 of 6 (17%) within 50% ± 54%: too
    # close to call.
    december = (dt.date(2025, 11, 24), dt.date(2025, 12, 5))
    options = {"min_deals": 1, "engagement_target": 1.0, "close_target": 0.5}
    movement = quad.compare_periods(dataset, Filters(), december, (START, END), **options)
    frame = movement.frame.set_index("rep")
    assert frame["quadrant_a"].tolist() == ["too_close"] * 7
    assert frame["quadrant_b"].to_dict() == {
        "Ann": "star", "Bob": "too_close", "Cat": "too_close", "Dan": "too_close",
        "Eve": "not_enough_data", "Fay": "too_close", "Gus": "star",
    }
    assert frame.loc["Ann", "engagement_a"] == pytest.approx(0.1)
    assert frame.loc["Ann", "engagement_b"] == pytest.approx(2.0)
    assert (movement.moved_into_stars, movement.left_stars) == (2, 0)
    back = quad.compare_periods(dataset, Filters(), (START, END), december, **options)
    assert (back.moved_into_stars, back.left_stars) == (0, 2)


def test_activity_trend_weekly(dataset: Dataset) -> None:
    trend = quad.rep_activity_trend(dataset, PERIOD, "Bob")
    # Weeks of 5 Jan (Thursday + Saturday activities) and nothing after.
    assert trend["week"].tolist() == [pd.Timestamp(2026, 1, 5)]
    assert trend["rep"].tolist() == [30]
    # 90 activities by 6 active reps (Fay logged none).
    assert trend["team_average"].tolist() == [pytest.approx(90 / 6)]
    meetings = quad.rep_activity_trend(dataset, PERIOD, "Bob", "meetings")
    assert meetings["rep"].tolist() == [10]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=12),  # won
            st.integers(min_value=0, max_value=12),  # lost
            st.integers(min_value=0, max_value=30),  # activities
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=8),
)
def test_every_rep_gets_exactly_one_quadrant(
    reps: list[tuple[int, int, int]], min_deals: int
) -> None:
    ids = itertools.count()
    opps, acts = [], []
    for i, (won, lost, n_act) in enumerate(reps):
        rep = f"R{i:02d}"
        for status in ["won"] * won + ["lost"] * lost:
            opps.append({"opp_id": f"O{next(ids)}", "rep": rep, "team": "T",
                         "stage": status.title(), "status": status, "created_date": START,
                         "close_date": IN_PERIOD})
        opps.append({"opp_id": f"O{next(ids)}", "rep": rep, "team": "T", "stage": "Lead",
                     "status": "open", "created_date": START, "close_date": None})
        acts += [{"activity_id": f"A{next(ids)}", "rep": rep, "type": "Call",
                  "activity_date": IN_PERIOD} for _ in range(n_act)]
    ds = build_dataset(pd.DataFrame(opps), STAGES, activities=pd.DataFrame(acts or None),
                       as_of=END)
    result = quad.classify_reps(ds, PERIOD, min_deals=min_deals,
                             engagement="activities" if ds.has_activities else None)
    assert [r.rep for r in result.reps] == [f"R{i:02d}" for i in range(len(reps))]
    assert sum(result.counts().values()) == len(reps)
    for row, (won, lost, _) in zip(result.reps, reps, strict=True):
        assert row.quadrant in quad.QUADRANTS
        assert (row.quadrant == "not_enough_data") == (won + lost < min_deals)
        if row.close_ratio is not None:
            assert row.close_ratio_low is not None and row.close_ratio_high is not None
            assert row.close_ratio_low <= row.close_ratio <= row.close_ratio_high
            assert row.shrunk_close_ratio is not None and result.team_close_ratio is not None
            lo = min(row.close_ratio, result.team_close_ratio) - 1e-9
            hi = max(row.close_ratio, result.team_close_ratio) + 1e-9
            assert lo <= row.shrunk_close_ratio <= hi
        _assert_label_agrees_with_funnel_plot(result, row)


def _assert_label_agrees_with_funnel_plot(result: quad.QuadrantResult, row: quad.RepRow) -> None:
    """A placed rep's label says what the funnel plot's rule limits around the line show.

    Weak (needs coaching, performance plan) exactly when below the lower limit; check the data
    only above the upper limit; too close to call only inside the limits; a star never below.
    The limits are the funnel plot's own rows at the rep's sample size.
    """
    line = quad.funnel_plot_line(result)
    if row.quadrant == "not_enough_data" or line is None:
        return
    limits = quad.funnel_plot_limits(result)
    rule = quad.funnel_plot_levels(result)[0][1]
    at_n = limits[(limits["closed"] == row.closed) & (limits["level"] == rule)]
    low, high = at_n["low"].item(), at_n["high"].item()
    assert row.close_ratio is not None
    weak = row.quadrant in ("performance_plan", "needs_coaching")
    assert weak == (row.close_ratio < low)
    assert (row.quadrant == "check_data") == (
        row.close_ratio > high and row.engagement is not None
        and row.engagement < (result.thresholds.engagement or 0))
    if row.quadrant == "too_close":
        assert low <= row.close_ratio <= high
    if row.quadrant == "star":
        assert row.close_ratio >= line
    if weak:
        assert row.close_ratio_high is not None and row.close_ratio_high < line + 1e-9


def test_rep_funnel_names_where_the_rep_breaks(dataset: Dataset) -> None:
    bob = quad.rep_funnel(dataset, PERIOD, "Bob")
    rep = bob.frame[bob.frame["who"] == "rep"].set_index("stage")
    team = bob.frame[bob.frame["who"] == "team"].set_index("stage")
    # Lost deals were lost at the first stage; won deals reach every stage.
    assert rep["reached"].tolist() == [6, 1, 1, 1]
    assert team["reached"].tolist() == [31, 17, 17, 17]
    assert bob.weakest_step == "Lead → Demo"
    assert (bob.rep_rate, bob.team_rate) == (pytest.approx(1 / 6), pytest.approx(17 / 31))
    assert "Lead → Demo" in bob.sentence() and "17%" in bob.sentence()
    ann = quad.rep_funnel(dataset, PERIOD, "Ann")
    assert ann.weakest_step is None
    assert "within 5 points" in ann.sentence()


def test_rep_funnel_does_not_praise_a_rep_without_enough_deals(dataset: Dataset) -> None:
    # Eve closed nothing and Gus two deals: no step has the 5 deals needed to judge it, so
    # "within 5 points of the team at every step with 5 or more deals" would be empty praise.
    assert quad.rep_funnel(dataset, PERIOD, "Eve").sentence() == (
        "Eve closed no deal in this period: there is no funnel to compare."
    )
    assert quad.rep_funnel(dataset, PERIOD, "Gus").sentence() == (
        "Gus has fewer than 5 closed deals at every step: too few to say where their funnel "
        "breaks."
    )


def test_exports_neutralise_formula_names() -> None:
    opps, acts = _frames()
    opps["rep"] = opps["rep"].replace({"Ann": "=HYPERLINK(\"http://x\")"})
    acts["rep"] = acts["rep"].replace({"Ann": "=HYPERLINK(\"http://x\")"})
    result = quad.classify_reps(build_dataset(opps, STAGES, activities=acts), PERIOD)
    csv = to_csv_bytes(quad.export_frame(result)).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(quad.export_frame(result))))
    cells = [c for c in book.active["A"] if c.value == "=HYPERLINK(\"http://x\")"]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)  # text, exact


def test_display_frame_shows_dashes(result: quad.QuadrantResult) -> None:
    frame = quad.display_frame(result).set_index("Rep")
    # The header names the rule's confidence per rep: 0.95^(1/5) = 98.98%, shown as 99%.
    assert frame.loc["Eve", "Close ratio"] == "—" and frame.loc["Eve", "99% interval"] == "—"
    assert frame.loc["Ann", "Close ratio"] == "75%"
    assert frame.loc["Ann", "99% interval"] == "32%–95%"
    assert frame.loc["Bob", "Quadrant"] == "Too close to call"


def test_default_periods_are_back_to_back() -> None:
    first, second = quad.default_periods(dt.date(2026, 6, 30), 30)
    assert second == (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert first == (dt.date(2026, 5, 2), dt.date(2026, 5, 31))


def _write_cli_files(folder: Path) -> tuple[Path, Path]:
    """Three reps closing in the week of 5 Jan 2026 (5 working days)."""
    rows = ["opportunity_id,sales_agent,team,deal_stage,amount,created_date,close_date"]
    n = 0
    for rep, won, lost in [("Ann", 3, 1), ("Bob", 1, 4), ("Cy", 1, 0)]:
        for stage in ["Won"] * won + ["Lost"] * lost:
            n += 1
            rows.append(f"O{n},{rep},East,{stage},100,2026-01-01,2026-01-07")
    rows.append("O99,Ann,East,Demo,100,2026-01-01,")
    acts = ["activity_id,sales_agent,activity_type,activity_date,opportunity_id"]
    for rep, count in [("Ann", 10), ("Bob", 20), ("Cy", 2)]:
        acts += [f"A{rep}{k},{rep},{'Meeting' if k % 2 else 'Call'},2026-01-06," for k in
                 range(count)]
    opps_path, acts_path = folder / "opps.csv", folder / "acts.csv"
    opps_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    acts_path.write_text("\n".join(acts) + "\n", encoding="utf-8")
    return opps_path, acts_path


def test_cli_prints_hand_checked_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opps_path, acts_path = _write_cli_files(tmp_path)
    code = cli_main(["quadrant", str(opps_path), "--activities", str(acts_path),
                     "--from", "2026-01-05", "--to", "2026-01-09", "--min-deals", "4", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    # Engagement 10, 20 and 2 activities over 5 days; median of Ann and Bob (4+ closed deals).
    # Close-ratio line: the team's, 5 won of 10 closed (Cy's deal counts too).
    assert payload["thresholds"] == {"engagement": 3.0, "close_ratio": pytest.approx(0.5),
                                     "basis": "team"}
    assert payload["rule"]["reps_compared"] == 2  # Ann and Bob: 0.95^(1/2) = 97.5% each, z 2.24
    reps = {r["rep"]: r for r in payload["reps"]}
    assert {k: (v["engagement"], v["won"], v["lost"], v["quadrant"]) for k, v in reps.items()} == {
        # Ann: quiet, 75% on 4 deals vs a 50% line (limits 50% ± 2.24·√(0.25/4), 0%–100%):
        # too close to call.
        "Ann": (2.0, 3, 1, "too_close"),
        # Bob: busy, 20% on 5 deals vs 50% (limits 0%–100%): too close, not coaching.
        "Bob": (4.0, 1, 4, "too_close"),
        "Cy": (0.4, 1, 0, "not_enough_data"),
    }
    # Bob's interval is the rule's: Wilson at 97.5%.
    assert reps["Bob"]["close_ratio_low"] == pytest.approx(0.0298, abs=1e-4)
    assert payload["period"]["working_days"] == 5


def test_cli_targets_and_meetings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opps_path, acts_path = _write_cli_files(tmp_path)
    code = cli_main(["quadrant", str(opps_path), "--activities", str(acts_path),
                     "--from", "2026-01-05", "--to", "2026-01-09", "--engagement", "meetings",
                     "--engagement-target", "1", "--close-target", "50%", "--min-deals", "1",
                     "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["thresholds"] == {"engagement": 1.0, "close_ratio": 0.5, "basis": "target"}
    quadrants = {r["rep"]: r["quadrant"] for r in payload["reps"]}
    # Meetings: Ann 5, Bob 10, Cy 1 over 5 days.
    # Cy: 1 win of 1 against 50% cannot be told from the line; nor can busy Bob's 1 of 5
    # (20%; three reps compared, z 2.39: the limits around 50% at n = 5 are 0%–100%).
    assert quadrants == {"Ann": "star", "Bob": "too_close", "Cy": "too_close"}


def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opps_path, _ = _write_cli_files(tmp_path)
    assert cli_main(["quadrant", str(opps_path), "--engagement", "meetings", "--json"]) == 2
    assert "activity file" in capsys.readouterr().err
    assert cli_main(["quadrant", str(opps_path), "--from", "2026-02-01", "--to",
                     "2026-01-01"]) == 2
    assert cli_main(["quadrant", str(tmp_path / "missing.csv")]) == 2


def test_summary_sentence(result: quad.QuadrantResult, dataset: Dataset) -> None:
    assert result.summary() == (
        "10 working days, 05 Jan 2026 – 18 Jan 2026. Engagement line: team median, "
        "0.80 activities/day. Close-ratio line: team close ratio, 54.8%."
    )
    weekend = quad.classify_reps(dataset, Filters(start=SATURDAY, end=SATURDAY), close_target=0.3)
    # No working day: no rep has an engagement figure, so none is placed and there is no
    # median to draw; no deal closed on that Saturday either.
    assert weekend.summary().endswith(
        "Engagement line: none, as no rep is placed (the team median is taken over reps with 5 "
        "or more closed deals and an engagement figure). Close-ratio line: your target, 30.0%. "
        "No team close ratio: no deal closed in the period.")
    nobody = quad.classify_reps(dataset, Filters(start=SATURDAY, end=SATURDAY))
    assert nobody.summary().endswith(
        "Close-ratio line: none, as no deal closed in the period.")
    busy = quad.classify_reps(dataset, PERIOD, engagement_target=1.0)
    assert busy.summary().endswith(
        "Engagement line: your target, 1.00 activities/day. Close-ratio line: team close ratio, "
        "54.8%.")


@pytest.mark.parametrize("name", ["young_cohort.csv", "hubspot_no_history.csv"])
def test_with_no_rep_placed_the_summary_says_there_is_no_engagement_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every rep has fewer than 5 closed deals: no median, and no "—" posing as a line."""
    assert cli_main(["quadrant", str(EXPORTS / name), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["counts"]["not_enough_data"] == len(payload["reps"]) > 0
    assert payload["thresholds"]["engagement"] is None
    assert payload["thresholds"]["close_ratio"] is not None
    assert "Engagement line: none, as no rep is placed (the team median is taken over reps " \
        "with 5 or more closed deals and an engagement figure). Close-ratio line: team close " \
        "ratio, " in payload["summary"]
    assert "—" not in payload["summary"]


def test_activity_rollup_belongs_to_its_dataset() -> None:
    opps, acts = _frames()
    first = build_dataset(opps, STAGES, activities=acts)
    key = id(first)
    assert _row(quad.classify_reps(first, PERIOD), "Bob").activities == 30
    assert key in quad._ROLLUPS
    del first
    gc.collect()
    assert key not in quad._ROLLUPS  # a later dataset reusing the id builds its own rollup
    fewer = acts[acts["rep"] != "Bob"]
    second = build_dataset(opps, STAGES, activities=fewer)
    assert _row(quad.classify_reps(second, PERIOD), "Bob").activities == 0


def test_new_deal_trend_without_activities(dataset: Dataset) -> None:
    trend = quad.rep_activity_trend(dataset, Filters(), "Bob", "opportunities")
    # Every deal was created on Monday 3 Nov 2025: Bob 8 of 45 deals by 7 reps.
    assert trend["week"].tolist() == [pd.Timestamp(2025, 11, 3)]
    assert trend["rep"].tolist() == [8]
    assert trend["team_average"].tolist() == [pytest.approx(45 / 7)]
    west = quad.rep_activity_trend(dataset, Filters(team=("West",)), "Dan")
    # West activities: one each in the week of 1 Dec; in the week of 5 Jan Dan 8, Eve 12, Gus 15.
    assert west["rep"].sum() == 9
    assert west["team_average"].iloc[-1] == pytest.approx((8 + 12 + 15) / 3)


def test_rollup_and_raw_activity_paths_agree(dataset: Dataset, result: quad.QuadrantResult) -> None:
    # Every activity hangs on the rep's open Ent deal: filtering on Ent (read from the
    # activities themselves) must count what the (rep, day) rollup counts without a filter.
    ent = quad.classify_reps(dataset, Filters(start=START, end=END, segment=("Ent",)))
    assert {r.rep: r.activities for r in ent.reps} == {r.rep: r.activities for r in result.reps}
    meetings = quad.rep_activity_trend(dataset, Filters(segment=("Ent",)), "Bob", "meetings")
    assert meetings["rep"].tolist() == [1, 10]  # the December meeting, then 10 in January


# ---- placement by evidence: the whole interval against the line, allowing for the reps -------


def _team(reps: dict[str, tuple[int, int, int]]) -> Dataset:
    """Return a dataset of reps given as name → (won, lost, activities) in the period."""
    ids = itertools.count()
    opps, acts = [], []
    for rep, (won, lost, n_act) in reps.items():
        for status in ["won"] * won + ["lost"] * lost:
            opps.append({"opp_id": f"O{next(ids)}", "rep": rep, "team": "T",
                         "stage": status.title(), "status": status, "created_date": START,
                         "close_date": IN_PERIOD})
        acts += [{"activity_id": f"A{next(ids)}", "rep": rep, "type": "Call",
                  "activity_date": IN_PERIOD} for _ in range(n_act)]
    return build_dataset(pd.DataFrame(opps), STAGES, activities=pd.DataFrame(acts), as_of=END)


# Targets: 1 activity a day, 40% close. Eight reps are compared, so each is tested at
# 0.95^(1/8) = 99.36% (z 2.727): on 20 closed deals the limits around 40% are
# 40% ± 2.727·√(0.4·0.6/20) = 10.1%–69.9% (for one rep alone, at 95%: 18.5%–61.5%).
TEAM = {
    "Ada": (12, 8, 20),   # 2/day, 60%: star
    "Bea": (1, 19, 20),   # 2/day, 5% < 10.1%: the whole interval is below → needs coaching
    "Ben": (3, 17, 20),   # 2/day, 15%: below one rep's 95% limit, within the rule's → too close
    "Hal": (8, 12, 20),   # 2/day, exactly 40%: at the line → star
    "Cal": (1, 19, 5),    # 0.5/day, 5% < 10.1%: the whole interval is below → performance plan
    "Dee": (6, 14, 5),    # 0.5/day, 30%: within the limits → too close to call
    "Eli": (18, 2, 5),    # 0.5/day, 90% > 69.9%: clearly above → check the data
    "Fox": (8, 12, 5),    # 0.5/day, exactly 40%: on the line → too close, never settled
}


@pytest.mark.parametrize(
    ("rep", "quadrant", "settle"),
    [("Ada", "star", None), ("Bea", "needs_coaching", None),
     # Ben: n must exceed 2.727² × 0.24 / 0.25² = 28.56 → 29 deals, 9 more than his 20.
     ("Ben", "too_close", 9), ("Hal", "star", None), ("Cal", "performance_plan", None),
     # Dee: n must exceed 2.727² × 0.24 / 0.1² = 178.5 → 179 deals, 159 more than her 20.
     ("Dee", "too_close", 159), ("Eli", "check_data", None), ("Fox", "too_close", None)],
)
def test_interval_based_placement(rep: str, quadrant: str, settle: int | None) -> None:
    result = quad.classify_reps(_team(TEAM), PERIOD, engagement_target=1.0, close_target=0.4)
    row = _row(result, rep)
    assert (row.quadrant, row.deals_to_settle) == (quadrant, settle)
    _assert_label_agrees_with_funnel_plot(result, row)
    if quadrant == "performance_plan":
        assert row.close_ratio_high is not None and row.close_ratio_high < 0.4
    if quadrant == "too_close":
        assert row.close_ratio_low is not None and row.close_ratio_high is not None
        assert row.close_ratio_low <= 0.4 <= row.close_ratio_high


@pytest.mark.parametrize(
    ("high_engagement", "ratio", "side", "quadrant"),
    [
        # Against a 40% line. Busy reps: at or above the line → star, whatever the interval.
        (True, 0.6, 0, "star"),
        (True, 0.4, 0, "star"),
        (True, 0.9, 1, "star"),
        # Busy, below the line: weak only when the whole interval is below it.
        (True, 0.15, -1, "needs_coaching"),
        (True, 0.2, 0, "too_close"),
        # Quiet reps: the interval decides either way.
        (False, 0.05, -1, "performance_plan"),
        (False, 0.3, 0, "too_close"),
        (False, 0.4, 0, "too_close"),
        (False, 0.5, 0, "too_close"),
        (False, 0.9, 1, "check_data"),
    ],
)
def test_place_needs_evidence_for_weakness_on_both_sides(
    high_engagement: bool, ratio: float, side: int, quadrant: str
) -> None:
    assert quad.content().place(high_engagement, ratio, 0.4, side) == quadrant


def test_too_close_is_one_state_on_both_sides_of_the_engagement_line(tmp_path: Path) -> None:
    too_close = quad.content().quadrants["too_close"]
    assert (too_close.engagement, too_close.close) == (None, "around")
    assert "low activity" not in too_close.action.lower()
    bad = tmp_path / "quadrant.toml"
    bad.write_text(quad.CONTENT_PATH.read_text(encoding="utf-8").replace(
        'name = "Too close to call"\n', 'name = "Too close to call"\nengagement = "low"\n'),
        encoding="utf-8")
    with pytest.raises(DiagnosticsError, match="too_close"):
        quad.load_content(bad)


def test_labels_and_funnel_plot_agree_on_the_bundled_sample() -> None:
    result = quad.classify_reps(load_sample_dataset(), Filters())
    placed = [r for r in result.reps if r.quadrant != "not_enough_data"]
    assert placed
    for row in placed:
        _assert_label_agrees_with_funnel_plot(result, row)
    # Both sides of the engagement line hold reps too close to call on the sample.
    line = result.thresholds.engagement
    assert line is not None
    sides = {(r.engagement or 0) >= line for r in placed if r.quadrant == "too_close"}
    assert sides == {True, False}


def test_json_keeps_its_keys_and_names_the_new_state() -> None:
    payload = quad.classify_reps(_team(TEAM), PERIOD, engagement_target=1.0,
                              close_target=0.4).to_dict()
    assert set(payload["reps"][0]) == {"rep", "engagement", "close_ratio", "close_ratio_low",
                                       "close_ratio_high", "shrunk_close_ratio", "won", "lost",
                                       "quadrant"}
    assert payload["counts"]["too_close"] == 3  # Ben (busy), Dee and Fox (quiet)
    assert quad.content().quadrants["too_close"].name == "Too close to call"


def test_check_the_data_is_explained_when_it_is_not_rare() -> None:
    quiet = quad.classify_reps(_team(TEAM), PERIOD, engagement_target=1.0, close_target=0.4)
    assert quiet.check_data_note() is None  # 1 of 8 placed: rare enough
    # A second quiet high closer, with no activity logged: 2 of 9 placed.
    team = {**TEAM, "Gil": (19, 1, 0)}
    result = quad.classify_reps(_team(team), PERIOD, engagement_target=1.0, close_target=0.4)
    note = result.check_data_note()
    assert note is not None
    assert note.startswith("2 of 9 placed reps (22%) have low engagement")
    assert "1 of them logged no activity at all" in note
    assert "your targets" in note


# ---- the rule on noise: a team of identical reps is (almost) never judged ------------------

TRUE_RATE = 0.35
PERIODS = 400


def _period(rng: np.random.Generator, reps: int) -> list[tuple[int, int]]:
    """Return (won, lost) per rep for one period: 30 to 300 closed deals each, all at 35%."""
    closed = rng.integers(30, 301, size=reps)
    won = rng.binomial(closed, TRUE_RATE)
    return [(int(w), int(n - w)) for w, n in zip(won, closed, strict=True)]


def _flags(won_lost: list[tuple[int, int]]) -> int:
    """Return how many reps the quadrant's rule puts clearly below or above its line."""
    rule = quad.close_rule(won_lost, len(won_lost))
    return sum(rule.side(w, w + lost) != 0 for w, lost in won_lost)


@pytest.mark.parametrize("reps", [3, 7, 20, 40])
def test_identical_reps_are_almost_never_judged(reps: int) -> None:
    """Every rep closes at 35%: over 400 simulated periods almost nobody is flagged.

    The bound: the rule holds 95% for the team as a whole, so a period flags anyone with chance
    at most 5% (Šidák over the reps compared; the team line includes the rep, which only makes a
    flag rarer). The periods with a flag are then at most Binomial(400, 0.05): mean 20, sd 4.4,
    and 40 (10%) is 4.5 sd above it. A rep is flagged with chance about 5%/k, so the share of
    flagged reps stays below 2% for any team size. Seeds are fixed: the test is deterministic.
    """
    flagged = [_flags(_period(np.random.default_rng(seed), reps)) for seed in range(PERIODS)]
    periods_with_a_flag = sum(f > 0 for f in flagged)
    assert periods_with_a_flag <= 0.10 * PERIODS
    assert sum(flagged) <= 0.02 * PERIODS * reps


def test_the_rule_it_replaced_judged_identical_reps_in_most_periods() -> None:
    """The same simulation catches the old rule: median line, 95% interval for each rep.

    With 7 reps a median line and a 95% interval per rep flag someone in about a third of the
    periods (137 of these 400; the case reported: one of seven identical reps on "Needs
    coaching"), against at most 10% asserted of the rule above.
    """
    flagged = 0
    for seed in range(PERIODS):
        won_lost = _period(np.random.default_rng(seed), 7)
        median = float(np.median([w / (w + lost) for w, lost in won_lost]))
        flagged += any(stats.side_of_line(w, w + lost, median, 0.95) != 0
                       for w, lost in won_lost)
    assert flagged >= 0.25 * PERIODS


def test_a_truly_weak_rep_is_still_flagged() -> None:
    """One rep closes at 15% against six at 35%, 200 closed deals each: flagged in ≥ 97.5%.

    The bound: the team rate is about 32%, the rule's lower limit at n = 200 with 7 reps
    32% - 2.68·√(0.32·0.68/200) ≈ 23%, and the weak rep's ratio is 15% ± 2.5% (one sd): it
    clears 23% with chance below 0.1%. No 35% rep is put below the line because of the weak
    one beyond the 5% of periods the rule allows (the weak rep pulls the line down, so it is
    rarer still). They do sit above it, truly: some come out clearly above it, which is right.
    """
    weak_flagged, others_flagged = 0, 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        won = rng.binomial(200, [0.15] + [TRUE_RATE] * 6)
        won_lost = [(int(w), 200 - int(w)) for w in won]
        rule = quad.close_rule(won_lost, len(won_lost))
        sides = [rule.side(w, w + lost) for w, lost in won_lost]
        weak_flagged += sides[0] == -1
        others_flagged += any(s == -1 for s in sides[1:])
    assert weak_flagged >= 195
    assert others_flagged <= 10


# The case reported on a 3,000-deal export: seven reps with the same true close rate. With the
# median line (36.1%) and a 95% interval each, the first rep (74 of 251, 29.5%, interval 24–35%)
# was put on "Needs coaching". (won, lost, activities over the 10 working days)
IDENTICAL = {"Ana": (74, 177, 40), "Bo": (109, 176, 41), "Cy": (91, 161, 39),
             "Di": (85, 178, 39), "Ed": (14, 16, 5), "Flo": (94, 159, 40), "Gil": (82, 176, 37)}


def test_seven_identical_reps_get_no_judgement() -> None:
    result = quad.classify_reps(_team(IDENTICAL), PERIOD)
    # The line is the team's close ratio, 549 of 1,592 = 34.5%; seven reps at 99.27% each
    # (z 2.683): Ana's lower limit at n = 251 is 34.5% - 2.683·√(0.345·0.655/251) = 26.4%.
    assert result.thresholds.close_ratio == pytest.approx(549 / 1592)
    assert result.rule.compared == 7
    ana = _row(result, "Ana")
    assert ana.quadrant == "too_close"
    assert ana.close_ratio_low is not None and ana.close_ratio_low < 549 / 1592
    judged = {r.rep for r in result.reps
              if r.quadrant in ("needs_coaching", "performance_plan", "check_data")}
    assert judged == set()
    # How many more deals would settle Ana at 29.5%: n > 2.683² × 0.2259 / 0.0500² = 649.9.
    assert ana.deals_to_settle == 650 - 251


def test_a_weak_rep_among_identical_ones_is_flagged() -> None:
    # Six reps at 35% of 200 closed deals, one busy and one quiet rep at 15%: the team rate is
    # (6·70 + 2·30) / 1,600 = 30%, the rule's lower limit at n = 200 with 8 reps
    # 30% - 2.727·√(0.3·0.7/200) = 21.2%: both weak reps are clearly below it.
    team = {f"R{i}": (70, 130, 20) for i in range(6)}
    team |= {"Busy": (30, 170, 30), "Quiet": (30, 170, 5)}
    result = quad.classify_reps(_team(team), PERIOD)
    assert result.thresholds.close_ratio == pytest.approx(0.3)
    assert _row(result, "Busy").quadrant == "needs_coaching"
    assert _row(result, "Quiet").quadrant == "performance_plan"
    for row in result.reps:
        _assert_label_agrees_with_funnel_plot(result, row)
    assert result.counts()["check_data"] == 0


def test_check_the_data_names_reps_just_under_the_engagement_line() -> None:
    # Engagement over 10 working days: four reps at 2.0/day, two at 1.9 and one silent rep; the
    # median is 2.0, so 1.9 is "low" by two activities. Team close ratio 194/440 = 44%; the
    # three 95% closers (40 deals each) are clearly above it even at 7 reps compared.
    team = {f"R{i}": (20, 60, 20) for i in range(4)}
    team |= {"Near1": (38, 2, 19), "Near2": (38, 2, 19), "Silent": (38, 2, 0)}
    result = quad.classify_reps(_team(team), PERIOD)
    assert {r.rep for r in result.reps if r.quadrant == "check_data"} == {
        "Near1", "Near2", "Silent"}
    assert result.check_data_note() == (
        "3 of 7 placed reps (43%) have low engagement and a close ratio clearly above the line, "
        "where only a few are expected. 1 of them logged no activity at all in the period, which "
        "points to activities kept outside the CRM; 2 of them sit within 10% of the engagement "
        "line, where a few more activities would make them Stars.")
