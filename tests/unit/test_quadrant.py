"""Rep quadrant on a hand-checked dataset: engagement, close ratios, quadrants, movement."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics import quadrant as q
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError

STAGES = StageConfig(funnel=("Lead", "Demo", "Proposal"), won=("Won",), lost=("Lost",))
START, END = dt.date(2026, 1, 5), dt.date(2026, 1, 18)  # Monday to Sunday: 10 working days
PERIOD = Filters(start=START, end=END)
IN_PERIOD = dt.date(2026, 1, 8)
BEFORE = dt.date(2025, 12, 1)
SATURDAY = dt.date(2026, 1, 10)

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
        stage = {"won": "Won", "lost": "Lost", "open": "Demo"}[status]
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
def result(dataset: Dataset) -> q.QuadrantResult:
    return q.classify_reps(dataset, PERIOD)


def _row(result: q.QuadrantResult, rep: str) -> q.RepRow:
    return next(r for r in result.reps if r.rep == rep)


def test_content_loads_and_names_every_quadrant() -> None:
    content = q.load_content()
    assert set(content.quadrants) == set(q.QUADRANTS)
    assert content.quadrants["star"].name == "Stars"
    assert content.quadrant_for(True, False) == "needs_coaching"
    assert content.quadrant_for(False, True) == "check_data"
    assert content.defaults.min_deals == 5


def test_content_rejects_unknown_fields(tmp_path: Path) -> None:
    text = q.CONTENT_PATH.read_text(encoding="utf-8") + '\n[quadrants.star2]\nname = "x"\n'
    bad = tmp_path / "quadrant.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticsError, match="not valid"):
        q.load_content(bad)
    extra = tmp_path / "extra.toml"
    extra.write_text(
        q.CONTENT_PATH.read_text(encoding="utf-8").replace(
            "min_deals = 5", "min_deals = 5\nmin_deal = 4"
        ),
        encoding="utf-8",
    )
    with pytest.raises(DiagnosticsError, match="min_deal"):
        q.load_content(extra)


def test_period_and_working_days(result: q.QuadrantResult) -> None:
    assert (result.start, result.end, result.working_days) == (START, END, 10)


@pytest.mark.parametrize(
    ("rep", "engagement", "won", "lost", "ratio", "quadrant"),
    [
        ("Ann", 2.0, 6, 2, 0.75, "star"),
        ("Bob", 3.0, 1, 5, 1 / 6, "needs_coaching"),
        ("Cat", 0.5, 1, 4, 0.2, "performance_plan"),
        ("Dan", 0.8, 4, 1, 0.8, "star"),  # on the engagement median: counts as high
        ("Eve", 1.2, 0, 0, None, "not_enough_data"),
        ("Fay", 0.0, 3, 2, 0.6, "check_data"),  # on the close median: counts as high
        ("Gus", 1.5, 2, 0, 1.0, "not_enough_data"),
    ],
)
def test_rep_rows_hand_checked(
    result: q.QuadrantResult,
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
    assert row.action == q.load_content().quadrants[quadrant].action


def test_thresholds_are_medians_of_reps_with_enough_deals(result: q.QuadrantResult) -> None:
    # Engagement of Ann, Bob, Cat, Dan, Fay: 2.0, 3.0, 0.5, 0.8, 0.0 → median 0.8.
    # Close ratios: 0.75, 1/6, 0.2, 0.8, 0.6 → median 0.6.
    assert result.thresholds.engagement == pytest.approx(0.8)
    assert result.thresholds.close_ratio == pytest.approx(0.6)
    assert result.thresholds.basis == "median"
    assert result.counts() == {
        "star": 2, "needs_coaching": 1, "performance_plan": 1, "check_data": 1,
        "not_enough_data": 2,
    }


def test_team_rate_and_intervals(result: q.QuadrantResult) -> None:
    assert result.team_close_ratio == pytest.approx(17 / 31)
    ann = _row(result, "Ann")
    assert ann.close_ratio_low == pytest.approx(0.4093, abs=1e-4)
    assert ann.close_ratio_high == pytest.approx(0.9285, abs=1e-4)
    assert _row(result, "Eve").close_ratio_low is None
    assert _row(result, "Eve").shrunk_close_ratio is None


def test_meetings_per_day(dataset: Dataset) -> None:
    result = q.classify_reps(dataset, PERIOD, engagement="meetings")
    assert _row(result, "Bob").engagement == pytest.approx(1.0)
    assert _row(result, "Ann").engagement == pytest.approx(0.4)


def test_opportunities_worked_per_week(dataset: Dataset) -> None:
    result = q.classify_reps(dataset, PERIOD, engagement="opportunities")
    # Ann: 8 deals closed in the period + 1 open deal = 9 worked over 10 working days = 2 weeks.
    assert _row(result, "Ann").engagement == pytest.approx(4.5)
    # Eve: only her open deal.
    assert _row(result, "Eve").engagement == pytest.approx(0.5)


def test_targets_replace_medians(dataset: Dataset) -> None:
    result = q.classify_reps(dataset, PERIOD, engagement_target=1.0, close_target=0.25)
    assert result.thresholds.to_dict() == {"engagement": 1.0, "close_ratio": 0.25,
                                           "basis": "target"}
    assert _row(result, "Dan").quadrant == "check_data"  # 0.8/day < 1, 80% >= 25%
    assert _row(result, "Bob").quadrant == "needs_coaching"
    mixed = q.classify_reps(dataset, PERIOD, close_target=0.25)
    assert mixed.thresholds.basis == "mixed"
    assert mixed.thresholds.engagement == pytest.approx(0.8)


@pytest.mark.parametrize(("min_deals", "not_enough"), [(1, 1), (5, 2), (6, 5), (9, 7)])
def test_min_deals_moves_reps_to_not_enough_data(
    dataset: Dataset, min_deals: int, not_enough: int
) -> None:
    result = q.classify_reps(dataset, PERIOD, min_deals=min_deals)
    assert result.counts()["not_enough_data"] == not_enough


def test_filters_team_and_segment(dataset: Dataset) -> None:
    west = q.classify_reps(dataset, Filters(start=START, end=END, team=("West",)))
    assert [r.rep for r in west.reps] == ["Dan", "Eve", "Fay", "Gus"]
    smb = q.classify_reps(dataset, Filters(start=START, end=END, segment=("SMB",)))
    # Only Ann has an SMB deal; her activities hang on an Ent deal, so none count.
    assert [(r.rep, r.won, r.lost, r.activities) for r in smb.reps] == [("Ann", 1, 0, 0)]


def test_whole_range_when_no_period(dataset: Dataset) -> None:
    result = q.classify_reps(dataset, Filters())
    assert result.start == dt.date(2025, 11, 3)
    assert result.end == dataset.as_of == END
    assert _row(result, "Ann").lost == 3  # the deal closed before January counts now


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
        q.classify_reps(dataset, PERIOD, **kwargs)  # type: ignore[arg-type]


def test_end_before_start_is_an_error(dataset: Dataset) -> None:
    with pytest.raises(DiagnosticsError, match="before it starts"):
        q.classify_reps(dataset, Filters(start=END, end=START))


def test_without_activities_defaults_to_opportunities() -> None:
    opps, _ = _frames()
    ds = build_dataset(opps, STAGES, source="no activities")
    result = q.classify_reps(ds, PERIOD)
    assert result.engagement == "opportunities"
    with pytest.raises(DiagnosticsError, match="activity file"):
        q.classify_reps(ds, PERIOD, engagement="meetings")


def test_empty_period_places_nobody(dataset: Dataset) -> None:
    weekend = q.classify_reps(dataset, Filters(start=SATURDAY, end=SATURDAY))
    assert weekend.working_days == 0
    assert all(r.quadrant == "not_enough_data" and r.engagement is None for r in weekend.reps)
    assert weekend.thresholds.engagement is None


def test_json_payload_shape(result: q.QuadrantResult) -> None:
    payload = result.to_dict()
    assert set(payload["thresholds"]) == {"engagement", "close_ratio", "basis"}
    assert set(payload["reps"][0]) == {
        "rep", "engagement", "close_ratio", "close_ratio_low", "close_ratio_high",
        "shrunk_close_ratio", "won", "lost", "quadrant",
    }
    eve = next(r for r in payload["reps"] if r["rep"] == "Eve")
    assert eve["close_ratio"] is None and eve["quadrant"] == "not_enough_data"


def test_export_frame_has_readable_headers(result: q.QuadrantResult) -> None:
    frame = q.export_frame(result)
    assert list(frame.columns)[:4] == ["Rep", "Team", "Activities per working day", "Close ratio"]
    assert frame.loc[frame["Rep"] == "Bob", "Quadrant"].item() == "Needs coaching"
    assert len(frame) == len(result.reps)


def test_funnel_plot_limits(result: q.QuadrantResult) -> None:
    limits = q.funnel_plot_limits(result)
    assert set(limits["level"]) == {"95.0%", "99.8%"}
    assert limits["closed"].max() == 8  # Ann has the most closed deals
    assert (limits["low"] <= 17 / 31).all() and (limits["high"] >= 17 / 31).all()


def test_movement_between_periods(dataset: Dataset) -> None:
    # Period A holds one December loss and one activity per rep: 0.1/day, 0% → performance plan
    # against fixed targets. In January Ann (2.0/day, 75%) and Gus (1.5/day, 100%) are Stars.
    december = (dt.date(2025, 11, 24), dt.date(2025, 12, 5))
    options = {"min_deals": 1, "engagement_target": 1.0, "close_target": 0.5}
    movement = q.compare_periods(dataset, Filters(), december, (START, END), **options)
    frame = movement.frame.set_index("rep")
    assert frame["quadrant_a"].tolist() == ["performance_plan"] * 7
    assert frame["quadrant_b"].to_dict() == {
        "Ann": "star", "Bob": "needs_coaching", "Cat": "performance_plan", "Dan": "check_data",
        "Eve": "not_enough_data", "Fay": "check_data", "Gus": "star",
    }
    assert frame.loc["Ann", "engagement_a"] == pytest.approx(0.1)
    assert frame.loc["Ann", "engagement_b"] == pytest.approx(2.0)
    assert (movement.moved_into_stars, movement.left_stars) == (2, 0)
    back = q.compare_periods(dataset, Filters(), (START, END), december, **options)
    assert (back.moved_into_stars, back.left_stars) == (0, 2)


def test_activity_trend_weekly(dataset: Dataset) -> None:
    trend = q.rep_activity_trend(dataset, PERIOD, "Bob")
    # Weeks of 5 Jan (Thursday + Saturday activities) and nothing after.
    assert trend["week"].tolist() == [pd.Timestamp(2026, 1, 5)]
    assert trend["rep"].tolist() == [30]
    # 90 activities by 6 active reps (Fay logged none).
    assert trend["team_average"].tolist() == [pytest.approx(90 / 6)]
    meetings = q.rep_activity_trend(dataset, PERIOD, "Bob", "meetings")
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
    result = q.classify_reps(ds, PERIOD, min_deals=min_deals,
                             engagement="activities" if ds.has_activities else None)
    assert [r.rep for r in result.reps] == [f"R{i:02d}" for i in range(len(reps))]
    assert sum(result.counts().values()) == len(reps)
    for row, (won, lost, _) in zip(result.reps, reps, strict=True):
        assert row.quadrant in q.QUADRANTS
        assert (row.quadrant == "not_enough_data") == (won + lost < min_deals)
        if row.close_ratio is not None:
            assert row.close_ratio_low is not None and row.close_ratio_high is not None
            assert row.close_ratio_low <= row.close_ratio <= row.close_ratio_high
            assert row.shrunk_close_ratio is not None and result.team_close_ratio is not None
            lo = min(row.close_ratio, result.team_close_ratio) - 1e-9
            hi = max(row.close_ratio, result.team_close_ratio) + 1e-9
            assert lo <= row.shrunk_close_ratio <= hi


def test_rep_funnel_names_where_the_rep_breaks(dataset: Dataset) -> None:
    bob = q.rep_funnel(dataset, PERIOD, "Bob")
    rep = bob.frame[bob.frame["who"] == "rep"].set_index("stage")
    team = bob.frame[bob.frame["who"] == "team"].set_index("stage")
    # Lost deals without history count at the first stage only; won deals reach every stage.
    assert rep["reached"].tolist() == [6, 1, 1, 1]
    assert team["reached"].tolist() == [31, 17, 17, 17]
    assert bob.weakest_step == "Lead → Demo"
    assert (bob.rep_rate, bob.team_rate) == (pytest.approx(1 / 6), pytest.approx(17 / 31))
    assert "Lead → Demo" in bob.sentence() and "17%" in bob.sentence()
    ann = q.rep_funnel(dataset, PERIOD, "Ann")
    assert ann.weakest_step is None
    assert "at least as well" in ann.sentence()
