"""Funnel page, driven through AppTest from the app's router."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.dataset import Dataset, StageConfig, build_dataset
from diagnostics.formatting import format_amount
from diagnostics.funnel import NO_DEALS
from tests.app.conftest import OpenPage, shown
from ui.state import DATASET, FUNNEL_FILTERS_OPEN, FUNNEL_SETTINGS, FUNNEL_WIDGET_PREFIX

STAGES = StageConfig(funnel=("Lead", "Demo", "Proposal"), won=("Won",), lost=("Lost",))
D = dt.date


def _dataset(with_history: bool = True) -> Dataset:
    """Q1, SMB: 4 won, 3 lost at Demo, 3 open at Lead. Q2, Enterprise: 2 won, 8 lost at Lead.

    All: won / lost / open = 6 / 11 / 3. Lead → Demo converts 70% in Q1 and 20% in Q2.
    """
    opps, history = [], []
    for i in range(10):
        status = "won" if i < 4 else "lost" if i < 7 else "open"
        opps.append({"opp_id": f"S{i}", "rep": "Ann" if i % 2 else "Bob", "segment": "SMB",
                     "stage": {"won": "Won", "lost": "Lost", "open": "Lead"}[status],
                     "amount": 1000.0, "created_date": D(2026, 1, 10),
                     "close_date": None if status == "open" else D(2026, 2, 10)})
        if status == "lost":
            history += [(f"S{i}", "Lead", D(2026, 1, 10)), (f"S{i}", "Demo", D(2026, 1, 20))]
    for i in range(10):
        won = i < 2
        opps.append({"opp_id": f"E{i}", "rep": "Ann" if i % 2 else "Bob", "segment": "Ent",
                     "stage": "Won" if won else "Lost", "amount": 5000.0,
                     "created_date": D(2026, 4, 10),
                     "close_date": D(2026, 5, 10) if won else D(2026, 6, 30)})
        history.append((f"E{i}", "Lead", D(2026, 4, 10)))
    frame = pd.DataFrame(history, columns=["opp_id", "stage", "entered_date"])
    return build_dataset(pd.DataFrame(opps), STAGES, source="test",
                         stage_history=frame if with_history else None)


def _view(at: AppTest, view: str) -> None:
    at.radio(key=FUNNEL_WIDGET_PREFIX + "view").set_value(view).run()
    assert not at.exception


def _metric(at: AppTest, label: str) -> str:
    return str(next(m.value for m in at.metric if m.label == label))


def _counts(at: AppTest) -> tuple[str, str, str]:
    return _metric(at, "Won"), _metric(at, "Lost"), _metric(at, "Open")


def _captions(at: AppTest) -> str:
    return shown("\n".join(str(c.value) for c in at.caption))


def _headline(at: AppTest) -> str:
    return next(shown(i.body) for i in at.info if str(i.body).startswith("Where it breaks:"))


def _breakage(at: AppTest) -> str:
    """Return the first line of the headline: the breakage against the reference."""
    return _headline(at).split("\n")[0].rstrip()


def test_page_shows_the_funnel_the_rule_and_the_breakage(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    assert _counts(at) == ("6", "11", "3")
    assert _metric(at, "Win rate") == "35%"
    # 17 closed deals: the 35% comes with the range it could be, not as a firm figure.
    assert ("Few closed deals: the win rate of 35% rests on 6 won of 17 closed, and any rate "
            "from 17% to 59% fits them (95% interval).") in _captions(at)
    assert next(m.help for m in at.metric if m.label == "Win rate").endswith(
        "17 closed deals: 95% interval 17%–59%")
    # The default period is the whole range: deals without a date stay in it.
    assert "Every number on this page: Counting rule: furthest stage reached. Cohort: Deals " \
           "created at any time." in _captions(at)
    assert _breakage(at)
    assert len(at.get("vega_lite_chart")) == 1
    assert at.table[0].value["Reached"].tolist() == [20, 9, 6, 6]


def test_compare_two_periods(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2026, 4, 1), D(2026, 6, 30)))
    at.toggle(key=FUNNEL_WIDGET_PREFIX + "compare_on").set_value(True).run()
    table = at.dataframe[0].value
    # Short headers keep the Change column in view; the dates are in the caption.
    assert table.columns[1:].tolist() == [
        "Reached (this period)", "Next step (this period)",
        "Reached (other period)", "Next step (other period)", "Change"]
    assert table.iloc[0].tolist() == ["Lead", 10, "20%", 10, "70%", "-50 pts"]
    assert ("This period: 01 Apr 2026 – 30 Jun 2026. Other period: 01 Jan 2026 – 31 Mar 2026."
            in _captions(at))
    assert not at.info[1:]
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "compare").set_value((D(2025, 1, 1),
                                                                   D(2025, 3, 31))).run()
    assert [str(i.body) for i in at.info[1:]] == [
        "No deals in the other period: the data runs from 10 Jan 2026 to 30 Jun 2026."]
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "compare").set_value((D(2025, 1, 1),)).run()
    assert not at.exception
    assert [str(i.body) for i in at.info[1:]] == [
        "Pick a start and an end date for the other period."]


def test_a_filter_leaving_no_deals_says_so(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset(), FUNNEL_FILTERS_OPEN: True})
    at.multiselect(key=FUNNEL_WIDGET_PREFIX + "segment").select("SMB")
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2026, 4, 1),
                                                                  D(2026, 6, 30))).run()
    assert not at.exception
    assert _counts(at) == ("0", "0", "0") and _metric(at, "Win rate") == "—"
    assert _breakage(at) == f"Where it breaks: {NO_DEALS}"
    assert not at.get("vega_lite_chart")  # no empty axes
    _view(at, "Where it breaks")
    assert _breakage(at) == f"Where it breaks: {NO_DEALS}"
    assert not at.get("vega_lite_chart")


def test_reps_view_shows_the_heatmap(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    _view(at, "Reps")
    assert at.slider(key=FUNNEL_WIDGET_PREFIX + "min_count").value == 5
    assert "Grey cells had too few deals" in _captions(at)
    assert len(at.get("vega_lite_chart")) == 1
    at.slider(key=FUNNEL_WIDGET_PREFIX + "min_count").set_value(50).run()
    # Nobody has 50 deals at a step: no all-grey grid with an empty colour scale, a sentence.
    assert any(shown(i.value) == "No rep has 50 or more deals entering any step, so no rep is "
               "compared with the team. Lower the minimum to see rough rates." for i in at.info)
    assert not at.get("vega_lite_chart")
    _view(at, "Where it breaks")
    at.radio(key=FUNNEL_WIDGET_PREFIX + "reference").set_value("best_reps").run()
    # Nobody has 50 deals: the best-quartile reference has nothing to compare with.
    assert "Too few reps have 50 or more deals" in _breakage(at)


def test_filters_recompute_the_numbers(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    # The filters are sent only while their expander is open (opening it reruns the page).
    assert not at.multiselect
    at.session_state[FUNNEL_FILTERS_OPEN] = True
    at.run()
    at.multiselect(key=FUNNEL_WIDGET_PREFIX + "segment").select("SMB").run()
    assert _counts(at) == ("4", "3", "3")
    assert "segment = SMB" in _captions(at)
    # Closed again, the filter still applies and the caption still names it.
    at.session_state[FUNNEL_FILTERS_OPEN] = False
    at.run()
    assert not at.multiselect
    assert _counts(at) == ("4", "3", "3")
    assert "segment = SMB" in _captions(at)
    at.radio(key=FUNNEL_WIDGET_PREFIX + "cohort").set_value("closed").run()
    assert _counts(at) == ("4", "3", "3")  # open: the SMB pipeline open today
    assert "Cohort: Deals won or lost" in _captions(at)


def test_counting_rule_switch(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    rule = at.selectbox(key=FUNNEL_WIDGET_PREFIX + "rule")
    assert rule.options == ["furthest stage reached", "strict order (stage history)",
                            "any stage touched (stage history)"]
    rule.set_value("strict").run()
    assert not at.exception
    assert "Counting rule: strict order (stage history)." in _captions(at)
    without = open_page("pages/funnel.py", session={DATASET: _dataset(with_history=False)})
    assert without.selectbox(key=FUNNEL_WIDGET_PREFIX + "rule").options == [
        "furthest stage reached"]
    assert "need an uploaded stage history" in _captions(without)


def test_breakage_against_the_previous_quarter(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    _view(at, "Where it breaks")
    at.radio(key=FUNNEL_WIDGET_PREFIX + "reference").set_value("previous").run()
    # The whole range has no period before it: nothing to measure, so no empty chart or table
    # of dashes, only the sentence.
    assert "Pick a start and an end date" in _breakage(at)
    assert not at.get("vega_lite_chart") and not at.dataframe
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2026, 4, 1), D(2026, 6, 30)))
    at.run()
    # 10 leads in Q2 × (70% − 20%) = 5 more deals lost at Lead → Demo than in Q1.
    assert _breakage(at).startswith(
        "Where it breaks: Lead → Demo loses 5 more deals than the previous period "
        "(01 Jan 2026 – 31 Mar 2026) would (20% converting instead of 70%)"
    )
    assert len(at.get("vega_lite_chart")) == 1 and len(at.dataframe) == 1


def test_breakage_against_typed_targets(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    _view(at, "Where it breaks")
    at.radio(key=FUNNEL_WIDGET_PREFIX + "reference").set_value("targets").run()
    assert not at.exception
    assert FUNNEL_WIDGET_PREFIX + "targets" in at.session_state
    # Targets start from the team's best quarter, else its best reps; this small team has
    # neither (quarters under 20 deals, two reps), so they start at the actual rates.
    assert _breakage(at) == (
        "Where it breaks: No step loses more deals than your target rates would."
    )


def test_headline_names_the_weakest_step_beside_the_breakage(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    # The default reference is the team's own best quarter; this data has too few deals a
    # quarter for one, and says so. Lead → Demo converts 9 in 20 (45%), the lowest.
    assert _breakage(at).startswith("Where it breaks: No quarter has 20 or more deals")
    assert _headline(at).endswith(
        "Weakest step: Lead → Demo. Of the 20 deals that reach Lead, 45% get to Demo and 55% do "
        "not (or not yet), the lowest conversion of any step.")


def _all_open() -> Dataset:
    """Eight deals, none closed yet: three open at Lead, three at Demo, two at Proposal."""
    stages = ["Lead"] * 3 + ["Demo"] * 3 + ["Proposal"] * 2
    opps = [{"opp_id": f"O{i}", "rep": "Ann", "stage": stage, "amount": 1000.0,
             "created_date": D(2026, 3, 1 + i), "close_date": None}
            for i, stage in enumerate(stages)]
    return build_dataset(pd.DataFrame(opps), STAGES, source="test", as_of=D(2026, 3, 20))


def test_no_weakest_step_is_blamed_when_no_deal_has_stopped(open_page: OpenPage) -> None:
    # Demo → Proposal converts 2 of 5 (40%) and Proposal → Won 0 of 2, but every deal that did
    # not move on is still open: no step has lost a deal, and none is named the weakest.
    at = open_page("pages/funnel.py", session={DATASET: _all_open()})
    assert "Weakest step" not in _headline(at)
    assert _headline(at).endswith(
        "No step is named the weakest: at every step with 5 or more deals, those that did not "
        "move on are all still open, so none has been seen to stop there yet.")


def test_planner_inputs_drive_the_reverse_funnel(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    _view(at, "Planner: make your number")
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").set_value(10_000.0)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(140_000.0).run()
    assert _metric(at, "Deals needed") == "14"
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "pipeline").set_value(100_000.0)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").set_value(20.0).run()
    assert _metric(at, "Expected bookings") == "20k"
    assert any(shown(e.value).startswith("Unlikely:") for e in at.error)
    # 14 won ← 14 proposals (100%) ← 21 demos (6 in 9) ← 47 leads (9 in 20).
    assert _metric(at, "Lead needed") == "47"
    before = _metric(at, "Bookings from the same 47 at Lead")
    at.slider(key=FUNNEL_WIDGET_PREFIX + "wi_size").set_value(50).run()
    assert _metric(at, "Bookings from the same 47 at Lead") != before


def test_planner_invents_no_deal_size_or_pipeline_the_amounts_cannot_back(
    open_page: OpenPage,
) -> None:
    data = _dataset()
    frame = data.con.execute("SELECT * FROM opportunities").df()
    assert len(frame) == 20
    opps = pd.DataFrame({"opp_id": frame["opp_id"], "rep": frame["rep"], "stage": frame["stage"],
                         "amount": [None] * 20, "created_date": frame["created_date"],
                         "close_date": frame["close_date"]})
    unpriced = build_dataset(opps, STAGES, source="test")
    at = open_page("pages/funnel.py", session={DATASET: unpriced})
    _view(at, "Planner: make your number")
    # 6 won and 3 open deals, none with an amount: no deal size of 10,000 made up, no pipeline
    # of 0 that reads "unlikely"; both fields wait for a figure and the page says why.
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").value is None
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "pipeline").value is None
    assert any(shown(i.value).startswith(
        "None of the 6 won deals has an amount, so the data gives no deal size. Type an average "
        "deal size") for i in at.info)
    assert "None of the 3 open deals has an amount, so the open pipeline is unknown" in \
        _captions(at)
    assert not [m for m in at.metric if m.label == "Deals needed"]
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").set_value(10_000.0).run()
    assert not at.exception
    assert _metric(at, "Deals needed") == "100"  # the 1.0M default target ÷ 10,000
    assert not any(shown(e.value).startswith("Unlikely:") for e in at.error)
    assert any(shown(i.value).startswith("Enter the open pipeline") for i in at.info)


def test_planner_questions_a_likely_verdict_that_rests_on_old_open_deals(
    open_page: OpenPage,
) -> None:
    from tests.unit.test_planner import _aged_pipeline

    data = build_dataset(_aged_pipeline(), STAGES, source="test", as_of=D(2025, 6, 30))
    at = open_page("pages/funnel.py", session={DATASET: data})
    _view(at, "Planner: make your number")
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(100_000.0).run()
    assert not at.exception
    assert any(shown(s.value).startswith("Likely:") for s in at.success)
    assert any(shown(w.value).startswith(
        "5 of the 7 open deals, 500k of the 502k pipeline, were created more than 30 days ago")
        and "Without them — Unlikely:" in shown(w.value) for w in at.warning)


def test_planner_warns_of_step_rates_on_a_handful_of_deals(open_page: OpenPage) -> None:
    from pathlib import Path

    from diagnostics.uploads import load_dataset_from_paths

    export = (Path(__file__).resolve().parents[1] / "fixtures" / "exports"
              / "pipedrive_closed_at_stage.csv")
    at = open_page("pages/funnel.py", session={DATASET: load_dataset_from_paths([export])})
    _view(at, "Planner: make your number")
    assert not at.exception
    assert any(shown(w.value).startswith(
        "Few deals behind these step rates: Proposal Made → Negotiations Started 3 of 4 (75%); "
        "Negotiations Started → Won 3 of 3 (100%).") for w in at.warning)


def test_planner_shows_the_forecast_gap_beside_the_reverse_funnel(open_page: OpenPage) -> None:
    from diagnostics.forecast import forecast_check
    from diagnostics.sample import load_sample_dataset

    at = open_page("pages/funnel.py")  # the sample ends on 30 Jun 2026: the plan starts at Q3
    _view(at, "Planner: make your number")
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(9_000_000.0).run()
    assert not at.exception
    check = forecast_check(load_sample_dataset(), 9_000_000.0,
                           (dt.date(2026, 7, 1), dt.date(2026, 9, 30)))
    assert _metric(at, "Forecast for the period") == format_amount(check.expected_bookings)
    assert _metric(at, "Forecast gap") == format_amount(9_000_000.0 - check.expected_bookings)
    assert _metric(at, "Chance of the target (forecast)") == "0%"
    assert any("Forecast from the data for 01 Jul – 30 Sep 2026" in c.value for c in at.caption)


def _with_change(at: AppTest) -> str:
    boxes = [*at.success, *at.warning, *at.error, *at.info]
    return next(shown(b.value) for b in boxes if str(b.value).startswith("With this change"))


def test_planner_inputs_follow_the_period_and_what_if_moves_the_verdict(
    open_page: OpenPage,
) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    _view(at, "Planner: make your number")
    win = at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate")
    assert win.value == 35.3  # 6 won of 17 closed over the whole range
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(50_000.0).run()
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2026, 1, 10),
                                                                   D(2026, 3, 31))).run()
    assert not at.exception
    # Q1: 4 won of 7 closed, deals of 1,000; every input read from the data follows.
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 57.1
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").value == 1000.0
    assert "Deal size and open pipeline: Counting rule: furthest stage reached. Cohort: Deals " \
           "created 10 Jan 2026 – 31 Mar 2026." in _captions(at)
    # Q1 is older than the 31 days by which 4 in 5 won deals closed: its rates are its own.
    assert "Win rate and step rates from Deals created 10 Jan 2026 – 31 Mar 2026: 10 deals, 7 " \
           "of them closed. Each was created at least 31 days" in _captions(at)
    # The typed target is the user's, not the data's: it stays.
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").value == 50_000.0
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2026, 4, 1),
                                                                   D(2026, 6, 30))).run()
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 20.0
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").value == 5000.0
    # A share typed in the percent field is read as a share.
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").set_value(0.25).run()
    assert "Read 0.25 as 25%" in _captions(at)
    # The what-if verdict follows the sliders: 100k of pipeline at 25% against 50k is likely;
    # at 40k of pipeline it brings 10k (unlikely), and 50% bigger deals make it 15k.
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "pipeline").set_value(40_000.0).run()
    before = _with_change(at)
    assert before.startswith("With this change — Unlikely")
    at.slider(key=FUNNEL_WIDGET_PREFIX + "wi_size").set_value(50).run()
    assert _with_change(at) != before and "15k" in _with_change(at)


def test_settings_survive_a_page_switch(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    at.selectbox(key=FUNNEL_WIDGET_PREFIX + "rule").set_value("any").run()
    at.switch_page("pages/home.py").run()
    assert at.session_state[FUNNEL_SETTINGS]["rule"] == "any"
    at.switch_page("pages/funnel.py").run()
    assert at.selectbox(key=FUNNEL_WIDGET_PREFIX + "rule").value == "any"
    assert "Counting rule: any stage touched" in _captions(at)


def test_no_deals_shows_dashes_not_errors(open_page: OpenPage) -> None:
    empty = build_dataset(pd.DataFrame(columns=["opp_id", "stage"]), STAGES, source="empty",
                          as_of=D(2026, 3, 31))
    at = open_page("pages/funnel.py", session={DATASET: empty})
    assert _metric(at, "Win rate") == "—" and _metric(at, "Velocity per day") == "—"
    for view in ("Where it breaks", "Reps", "Planner: make your number"):
        _view(at, view)
    # No deal won: no deal size is made up, the planner asks for one.
    assert any(shown(i.value).startswith("No deal is won here, so the data gives no deal size.")
               for i in at.info)
    # Nothing entered any step: the planner then asks for the rates instead of failing.
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").set_value(10_000.0).run()
    assert not at.exception
    assert any("is blank" in str(e.value) for e in at.error)


def test_page_runs_on_the_bundled_sample(open_page: OpenPage) -> None:
    at = open_page("pages/funnel.py")
    # The sample's team-wide weak step, Demo → Trial, got worse lately: the team's own best
    # quarter sees it, and it is also the weakest step.
    assert _breakage(at).startswith("Where it breaks: Demo → Trial loses")
    assert "Weakest step: Demo → Trial." in _headline(at)
    assert "Counting rule: furthest stage reached." in _captions(at)


def test_planner_takes_its_rates_from_deals_old_enough_to_have_closed(
    open_page: OpenPage,
) -> None:
    from tests.unit.test_cohorts import _young_and_old

    at = open_page("pages/funnel.py", session={DATASET: _young_and_old()})
    _view(at, "Planner: make your number")
    # The whole range reads 16 won of 50 closed (32%) and 28 of 80 past Discovery (35%): the 30
    # June deals still open pull both down. The deals created by 1 May read 40% and 70%.
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 40.0
    rates = at.data_editor(key=FUNNEL_WIDGET_PREFIX + "plan_rates").value
    assert list(rates["Conversion (%)"]) == [70.0, pytest.approx(16 / 28 * 100, abs=0.05)]
    said = _captions(at)
    assert "Win rate and step rates from Deals created up to 01 May 2025: 40 deals, 40 of them " \
           "closed. Each was created at least 60 days before the data's last date" in said
    assert "Deals created after 01 May 2025 are left out: too young to have closed." in said
    # A period of young deals only: every older deal stands in, and the caption says so.
    at.date_input(key=FUNNEL_WIDGET_PREFIX + "period").set_value((D(2025, 6, 1),
                                                                   D(2025, 6, 30))).run()
    assert not at.exception
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 40.0
    assert "The period holds too few deals created by 01 May 2025 to have closed: every older " \
           "deal stands in." in _captions(at)


def test_planner_says_when_too_few_deals_have_had_time_to_close(open_page: OpenPage) -> None:
    from pathlib import Path

    from diagnostics.uploads import load_files

    path = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "young_cohort.csv"
    dataset = load_files([(path.name, path.read_bytes())]).dataset
    at = open_page("pages/funnel.py", session={DATASET: dataset})
    _view(at, "Planner: make your number")
    said = _captions(at)
    # Y-01 … Y-06, created by 20 Apr 2025 (the three won deals took 50, 59 and 51 days).
    assert "Win rate and step rates from Deals created up to 20 Apr 2025: 6 deals, 6 of them " \
           "closed." in said
    assert "Fewer than 20 closed deals: treat these rates as rough" in said
    # 3 won of the 6 matured deals; the whole range reads 3 of 7.
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 50.0


def test_planner_skips_the_steps_when_lost_deals_have_no_known_stage(
    open_page: OpenPage,
) -> None:
    # Without the history no lost deal is placed: the steps would read 100% beside a 30% win rate.
    at = open_page("pages/funnel.py", session={DATASET: _dataset(with_history=False)})
    _view(at, "Planner: make your number")
    rates = at.data_editor(key=FUNNEL_WIDGET_PREFIX + "plan_rates").value
    assert list(rates["Step"]) == ["Lead → Won"]
    # 6 won of 17 closed.
    assert list(rates["Conversion (%)"]) == [pytest.approx(6 / 17 * 100, abs=0.05)]
    assert "Only 0 of 11 lost deals (0%) have a known stage" in _captions(at)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").set_value(10_000.0)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(60_000.0).run()
    assert _metric(at, "Deals needed") == "6"
    assert _metric(at, "Lead needed") == "17"  # 6 won ÷ 35.3%


def test_velocity_and_stale_say_what_they_rest_on_beside_the_figures(
    open_page: OpenPage,
) -> None:
    # Without stage history nothing but the created date ages a deal; the 3 open deals were
    # created on 10 Jan, 171 days before the data's last date, while 4 in 5 won deals closed
    # within 31 days: they are not live pipeline, so velocity counts none of them.
    at = open_page("pages/funnel.py", session={DATASET: _dataset(with_history=False)})
    assert at.title[0].value == "Funnel"
    assert _metric(at, "Velocity per day") == "0"
    assert _metric(at, "Stale open (> 60 d)") == "3"
    captions = _captions(at)
    assert ("Counts 0 of 3 open deals: 3 created more than 31 days ago are left out, since 4 in "
            "5 won deals closed within 31 days.") in captions
    assert ("From created dates: no activity or change dates in the data, so an open deal "
            "created more than 60 days ago counts as stale") in captions
    help_text = next(m.help for m in at.metric if m.label == "Velocity per day")
    assert help_text.startswith("open deals × win rate × average won deal ÷ median cycle days.")


def test_planner_verdict_on_few_closed_deals_gives_its_range_or_no_verdict(
    open_page: OpenPage,
) -> None:
    # 6 won of 17 closed (35%): any rate from 17% to 59% fits them.
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    assert at.title[0].value == "Funnel"
    _view(at, "Planner: make your number")
    assert at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").value == 35.3
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "deal_size").set_value(10_000.0)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "target").set_value(140_000.0)
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "pipeline").set_value(100_000.0).run()
    assert not at.exception
    unlikely = [shown(e.value) for e in at.error]
    assert any(text.startswith("Unlikely (win rate from only 17 closed deals):")
               and "which fit any rate from 17% to 59% (95% interval)" in text
               and "short of the 140k still to book either way" in text for text in unlikely)
    # 400k × 17% to 59% = 70k to 236k: either side of 140k, so no firm verdict.
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "pipeline").set_value(400_000.0).run()
    assert not at.error and not at.success
    assert any(shown(i.value).startswith("Cannot tell on 17 closed deals: at a 35% win rate")
               for i in at.info)
    # A win rate typed over is the user's own: the plain verdict comes back.
    at.number_input(key=FUNNEL_WIDGET_PREFIX + "win_rate").set_value(40.0).run()
    assert any(shown(s.value).startswith("Likely: the open pipeline of 400k at a 40% win rate")
               for s in at.success)


def test_funnel_table_flags_step_rates_on_few_deals(open_page: OpenPage) -> None:
    # _dataset(): 20 at Lead, 9 at Demo, 6 at Proposal and Won: every rate on 5 or more deals.
    at = open_page("pages/funnel.py", session={DATASET: _dataset()})
    assert at.title[0].value == "Funnel"
    assert list(at.table[0].value["Step rests on"])[:3] == ["9 of 20", "6 of 9", "6 of 6"]
    assert "Few deals behind these step rates" not in _captions(at)
    # Bob's SMB deals: 5 at Lead, 4 at Demo (2 lost there), 2 at Proposal, both won.
    at.session_state[FUNNEL_FILTERS_OPEN] = True
    at.run()
    at.multiselect(key=FUNNEL_WIDGET_PREFIX + "segment").select("SMB")
    at.multiselect(key=FUNNEL_WIDGET_PREFIX + "rep").select("Bob").run()
    assert not at.exception
    assert list(at.table[0].value["Step rests on"])[:3] == [
        "4 of 5", "2 of 4 · few deals", "2 of 2 · few deals"]
    assert ("Few deals behind these step rates: Demo → Proposal 2 of 4 (50%); Proposal → Won "
            "2 of 2 (100%).") in _captions(at)
    assert "read them as rough (lighter bars in the chart, “few deals” in the table)" in \
        _captions(at)
