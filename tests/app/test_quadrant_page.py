"""Rep quadrant page, driven through AppTest from the app's router."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.dataset import Dataset, StageConfig, build_dataset
from diagnostics.quadrant import NOTHING_TO_DRAW
from diagnostics.quadrant import content as quad_content
from tests.app.conftest import OpenPage, shown
from ui.state import DATASET, QUADRANT_FILTERS_OPEN, QUADRANT_SETTINGS, QUADRANT_WIDGET

DAY = dt.date(2026, 3, 4)  # a Wednesday


def _dataset(with_activities: bool = True, west: tuple[str, ...] = ()) -> Dataset:
    """Six reps: closed deals 8, 6, 5, 5, 3 and 0; a formula-looking name among them.

    Every rep is in the East team but those named in ``west``."""
    closed = {"=HYPERLINK(\"x\")": (6, 2), "Bob": (1, 5), "Cat": (1, 4), "Dan": (4, 1),
              "Gus": (2, 1), "Eve": (0, 0)}
    opps, acts = [], []
    for rep, (won, lost) in closed.items():
        for i, status in enumerate(["won"] * won + ["lost"] * lost + ["open"]):
            opps.append({"opp_id": f"{rep}-{i}", "rep": rep,
                         "team": "West" if rep in west else "East", "segment": "SMB",
                         "stage": {"won": "Won", "lost": "Lost", "open": "Demo"}[status],
                         "status": status, "created_date": DAY,
                         "close_date": None if status == "open" else DAY})
        acts += [{"activity_id": f"{rep}-a{i}", "rep": rep, "activity_date": DAY,
                  "type": "Meeting" if i % 2 else "Call"} for i in range(len(rep) * 3)]
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    return build_dataset(pd.DataFrame(opps), stages, source="test",
                         activities=pd.DataFrame(acts) if with_activities else None)


def _metric(at: AppTest, label: str) -> int:
    return int(next(m for m in at.metric if m.label == label).value)


def test_quadrant_page_counts_reps_per_quadrant(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    # Gus has 3 closed deals and Eve none: neither is placed.
    assert _metric(at, "Not enough data") == 2
    placed = sum(_metric(at, name) for name in
                 ("Stars", "Needs coaching", "Performance plan", "Too close to call",
                  "Check the data"))
    assert placed == 4
    table = at.dataframe[0].value
    assert list(table["Rep"]) == sorted(table["Rep"])
    assert table.loc[table["Rep"] == "Eve", "Close ratio"].item() == "—"


def test_filters_are_sent_when_opened_and_still_apply_when_closed(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset(west=("Bob", "Cat"))})
    assert not at.multiselect  # closed: the four multi-selects are not drawn
    assert len(at.dataframe[0].value) == 6
    at.session_state[QUADRANT_FILTERS_OPEN] = True
    at.run()
    assert [m.key for m in at.multiselect] == [QUADRANT_WIDGET + n for n in
                                               ("team", "segment", "product", "region")]
    at.multiselect(key=QUADRANT_WIDGET + "team").select("West").run()
    assert list(at.dataframe[0].value["Rep"]) == ["Bob", "Cat"]
    assert not any("Only team" in c.value for c in at.caption)  # the open filters show it
    at.session_state[QUADRANT_FILTERS_OPEN] = False
    at.run()
    assert not at.multiselect
    assert list(at.dataframe[0].value["Rep"]) == ["Bob", "Cat"]  # still applied
    assert any(shown(c.value) == "Only team = West." for c in at.caption)  # and named


def test_the_rule_is_said_on_screen_and_follows_the_reps_compared(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    rule = next(shown(c.value) for c in at.caption if "Rule." in str(c.value))
    # Four reps with 5+ closed deals: 0.95^(1/4) = 98.7% each. The team's close ratio counts
    # every rep's closed deals: 14 won of 27 (8 + 6 + 5 + 5 + 3).
    assert "Close-ratio line: the team's close ratio, 51.9%" in rule
    assert "95% confidence for the team as a whole" in rule
    assert "allow for the number of reps compared (4 reps, so each interval is 98.7%)" in rule
    assert "98.7% interval" in at.dataframe[0].value.columns
    at.number_input(key=QUADRANT_WIDGET + "min_deals").set_value(7).run()
    rule = next(shown(c.value) for c in at.caption if "Rule." in str(c.value))
    assert "(1 rep, so each interval is 95%)" in rule
    at.button_group(key=QUADRANT_WIDGET + "view").set_value("Funnel plot").run()
    assert any("The rule's curves (95% for each rep" in shown(c.value) for c in at.caption)


def test_raising_min_deals_moves_reps_to_not_enough_data(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    at.number_input(key=QUADRANT_WIDGET + "min_deals").set_value(7).run()
    assert not at.exception
    assert _metric(at, "Not enough data") == 5  # only the 8-deal rep is placed
    # The setting is remembered for the next visit.
    assert at.session_state[QUADRANT_SETTINGS]["min_deals"] == 7


def test_targets_move_the_split_lines(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    at.radio(key=QUADRANT_WIDGET + "split").set_value("Targets").run()
    at.number_input(key=QUADRANT_WIDGET + "close_target").set_value(90.0).run()
    assert not at.exception
    # Nobody closes 90%: every placed rep is in a low-close quadrant.
    assert _metric(at, "Stars") == 0 and _metric(at, "Check the data") == 0
    captions = shown(" ".join(c.value for c in at.caption))
    assert "Engagement line: your target, 1.00 activities/day." in captions
    assert "Close-ratio line: your target, 90.0%." in captions


@pytest.mark.parametrize("view", ["Funnel plot", "Movement", "Rep drill-down"])
def test_every_view_renders(open_page: OpenPage, view: str) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    at.button_group(key=QUADRANT_WIDGET + "view").set_value(view).run()
    assert not at.exception
    assert at.title[0].value == "Rep quadrant"
    if view == "Movement":
        labels = [m.label for m in at.metric]
        assert "Moved into Stars" in labels and "Left Stars" in labels
    if view == "Rep drill-down":
        at.selectbox(key=QUADRANT_WIDGET + "rep").set_value("Bob").run()
        assert not at.exception
        assert any("Bob" in m.value for m in at.markdown)


def test_without_activities_engagement_is_opportunities(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset(with_activities=False)})
    assert at.selectbox(key=QUADRANT_WIDGET + "engagement").options == [
        "Opportunities worked per week"]


def test_export_buttons_are_offered(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    assert at.download_button(key=QUADRANT_WIDGET + "csv").label == "Download CSV"
    assert at.download_button(key=QUADRANT_WIDGET + "xlsx").label == "Download Excel"
    at.download_button(key=QUADRANT_WIDGET + "csv").click().run()
    assert not at.exception


def test_bundled_sample_loads_by_default(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py")
    assert sum(int(m.value) for m in at.metric) == len(at.dataframe[0].value) > 0


def test_sample_plans_only_reps_the_evidence_puts_there(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py")
    table = at.dataframe[0].value
    placed = table[table["Quadrant"] != "Not enough data"]
    plan = placed[placed["Quadrant"] == "Performance plan"]
    close = placed[placed["Quadrant"] == "Too close to call"]
    # A plan needs the whole interval below the line: a handful of reps, not a quarter.
    assert 0 < len(plan) <= len(placed) // 10
    assert len(close) > 0
    assert all(a.startswith("Watch; no plan yet")
               and re.search(r"About [\d,]+ more closed deals? at this close ratio", a)
               for a in close["Action"])
    # Weakness needs evidence on the busy side too: "Too close to call" holds reps on both
    # sides of the engagement line, and "Needs coaching" only busy ones.
    summary = next(shown(c.value) for c in at.caption if "Engagement line" in str(c.value))
    found = re.search(r"Engagement line: team median, ([\d.]+) activities/day", summary)
    assert found, summary
    busy = placed["Activities per working day"].astype(float) >= float(found.group(1))
    assert set(busy[placed["Quadrant"] == "Too close to call"]) == {True, False}
    assert busy[placed["Quadrant"] == "Needs coaching"].all()

    # When "Check the data" is not rare, the page says why, from the data.
    check = (placed["Quadrant"] == "Check the data").sum()
    notes = [w.value for w in at.warning if "placed reps" in w.value]
    assert bool(notes) == (check > max(1, 0.1 * len(placed)))


def _nobody_closed() -> Dataset:
    opps = [{"opp_id": f"o{i}", "rep": rep, "team": "East", "stage": "Demo", "status": "open",
             "created_date": DAY, "close_date": None} for i, rep in enumerate(["Ann", "Bob"])]
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    return build_dataset(pd.DataFrame(opps), stages, source="test")


@pytest.mark.parametrize("view", ["Quadrant", "Funnel plot"])
def test_nothing_to_draw_says_so_instead_of_empty_axes(open_page: OpenPage, view: str) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _nobody_closed()})
    at.button_group(key=QUADRANT_WIDGET + "view").set_value(view).run()
    assert not at.exception
    assert [i.value for i in at.info] == [NOTHING_TO_DRAW]
    assert _metric(at, "Not enough data") == 2


def test_movement_caption_names_the_targets_when_targets_split(open_page: OpenPage) -> None:
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    at.button_group(key=QUADRANT_WIDGET + "view").set_value("Movement").run()
    assert "own team lines (median engagement, team close ratio)" in shown(
        " ".join(c.value for c in at.caption))
    at.radio(key=QUADRANT_WIDGET + "split").set_value("Targets").run()
    captions = shown(" ".join(c.value for c in at.caption))
    assert not at.exception
    assert "Both periods use your targets." in captions and "own team lines" not in captions


def test_a_rerun_reuses_the_sessions_quadrant_results(open_page: OpenPage,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Classification, chart data and rep table are worked out once per setting and session."""
    from diagnostics import quadrant as quad

    calls: list[str] = []
    classify, to_frame = quad.classify_reps, quad.QuadrantResult.to_frame
    monkeypatch.setattr(quad, "classify_reps",
                        lambda *a, **k: (calls.append("classify"), classify(*a, **k))[1])
    monkeypatch.setattr(quad.QuadrantResult, "to_frame",
                        lambda self: (calls.append("frame"), to_frame(self))[1])
    at = open_page("pages/quadrant.py", session={DATASET: _dataset()})
    assert not at.exception
    first = list(calls)
    assert first.count("classify") == 1 and "frame" in first
    at.run()
    assert not at.exception
    assert calls == first  # nothing worked out again


def test_whole_range_counts_closed_deals_without_a_close_date_as_the_cli_does(
        open_page: OpenPage) -> None:
    from diagnostics.dataset import Filters
    from diagnostics.quadrant import classify_reps

    base = _dataset()
    frame = base.con.execute("SELECT * FROM opportunities").df()
    undated = frame[frame["rep"] == "Bob"].iloc[[0]].assign(opp_id="U1", status="lost",
                                                            stage="Lost", close_date=None)
    stages = StageConfig(funnel=("Lead", "Demo"), won=("Won",), lost=("Lost",))
    data = build_dataset(pd.concat([frame, undated]), stages, source="test",
                         activities=base.con.execute("SELECT * FROM activities").df())
    at = open_page("pages/quadrant.py", session={DATASET: data})
    assert not at.exception
    table = at.dataframe[0].value
    cli = {r.rep: r.lost for r in classify_reps(data, Filters()).reps}
    assert cli["Bob"] == 6  # five dated losses and the undated one
    assert dict(zip(table["Rep"], table["Lost"], strict=True)) == cli
    captions = shown(" ".join(c.value for c in at.caption))
    assert "1 closed deal without a close date counts in the close ratios" in captions


def test_activities_of_people_without_deals_are_not_taken_as_engagement(
        open_page: OpenPage) -> None:
    dataset = _dataset(with_activities=False)
    strangers = pd.DataFrame([{"activity_id": f"x{i}", "rep": "Zed Stranger",
                               "activity_date": DAY, "type": "Call"} for i in range(9)])
    dataset = build_dataset(dataset.query_df("SELECT * FROM opportunities"), dataset.stages,
                            source="test", activities=strangers)
    at = open_page("pages/quadrant.py", session={DATASET: dataset})
    assert not at.exception
    assert any("No activity in the activity file names a rep who owns a deal" in w.value
               for w in at.warning)
    engagement = at.selectbox(key=QUADRANT_WIDGET + "engagement")
    assert engagement.value == "opportunities"
    labels = {m: quad_content().engagement[m].label for m in ("activities", "opportunities")}
    assert labels["opportunities"] in engagement.options
    assert labels["activities"] not in engagement.options
