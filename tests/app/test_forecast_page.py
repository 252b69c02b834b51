"""Forecast page, driven through AppTest from the app's router."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.dataset import Dataset, StageConfig, build_dataset
from tests.app.conftest import OpenPage, markdown_tables
from ui.state import DATASET, FORECAST_METHOD_OPEN, FORECAST_SETTINGS, FORECAST_WIDGET

D = dt.date
AS_OF = D(2026, 3, 31)


def _dataset(won: bool = True, extra: tuple[dict[str, object], ...] = ()) -> Dataset:
    """Eight closed deals a month for a year (one in four won, 20 days each), two open deals."""
    rows: list[dict[str, object]] = [*extra]
    for i in range(96):
        created = D(2025, 3, 1) + dt.timedelta(days=3 * i)
        rows.append({"opp_id": f"C{i}", "rep": "Ann", "amount": 1000.0,
                     "stage": "Won" if won and i % 4 == 0 else "Lost",
                     "created_date": created, "close_date": created + dt.timedelta(days=20)})
    rows += [{"opp_id": "BIG", "rep": "Bob", "stage": "Proposal", "amount": 50_000.0,
              "created_date": AS_OF - dt.timedelta(days=5), "close_date": AS_OF},
             {"opp_id": "OLD", "rep": "Bob", "stage": "Lead", "amount": 9_000.0,
              "created_date": D(2025, 6, 1), "close_date": D(2025, 9, 1)}]
    stages = StageConfig(funnel=("Lead", "Proposal"), won=("Won",), lost=("Lost",))
    return build_dataset(pd.DataFrame(rows), stages, as_of=AS_OF)


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_sample_forecast_shows_every_section(open_page: OpenPage) -> None:
    at = open_page("pages/forecast.py")
    assert _metric(at, "Closed so far") == "0"  # the sample ends on the last day of a quarter
    assert _metric(at, "Chance of the target").endswith("%")
    subheaders = [h.value for h in at.subheader]
    assert subheaders == ["Where it comes from", "The deals that matter most",
                          "What would close the gap",
                          "How good this forecast has been on your data"]
    stage_table = markdown_tables(at)[0]
    assert list(stage_table["Stage"]) == ["Lead", "Discovery", "Demo", "Trial", "Proposal",
                                          "Negotiation"]
    assert _metric(at, "Mean absolute percentage error").endswith("%")
    assert any("parked" in c.value for c in at.caption)
    assert at.date_input(key=FORECAST_WIDGET + "period").value == (D(2026, 7, 1), D(2026, 9, 30))


def test_the_method_is_sent_only_while_its_expander_is_open(open_page: OpenPage) -> None:
    at = open_page("pages/forecast.py")
    (method,) = [e for e in at.expander if e.label.startswith("How this forecast works")]
    assert not method.children
    at.session_state[FORECAST_METHOD_OPEN] = True
    at.run()
    (method,) = [e for e in at.expander if e.label.startswith("How this forecast works")]
    assert any("What history says." in m.value for m in method.markdown)


def test_target_and_period_change_the_forecast_and_survive_a_page_switch(
    open_page: OpenPage
) -> None:
    at = open_page("pages/forecast.py", session={DATASET: _dataset()})
    assert _metric(at, "Closed so far") == "0"
    at.number_input(key=FORECAST_WIDGET + "target").set_value(1_000_000.0).run()
    assert _metric(at, "Chance of the target") == "0%"
    assert "What it takes" in markdown_tables(at)[-1].columns  # the levers table
    at.number_input(key=FORECAST_WIDGET + "target").set_value(1.0).run()
    assert any("no gap to close" in s.value for s in at.success)
    at.date_input(key=FORECAST_WIDGET + "period").set_value((D(2025, 10, 1), D(2025, 12, 31))).run()
    assert _metric(at, "Closed so far") == "7,000"  # Q4 2025, all closed by the as-of date
    at.switch_page("pages/funnel.py").run()
    at.switch_page("pages/forecast.py").run()
    assert at.session_state[FORECAST_SETTINGS]["target"] == 1.0
    assert at.number_input(key=FORECAST_WIDGET + "target").value == 1.0
    assert _metric(at, "Closed so far") == "7,000"


def test_deals_that_matter_and_slipped_deals_are_listed(open_page: OpenPage) -> None:
    at = open_page("pages/forecast.py", session={DATASET: _dataset()})
    tables = markdown_tables(at)
    top = next(t for t in tables if "Chance in period" in t.columns)
    assert list(top["Deal"])[0] == "BIG"
    slipped = [t for t in tables if "Chance in period" in t.columns][1]
    assert list(slipped["Deal"]) == ["OLD", "BIG"] or list(slipped["Deal"]) == ["OLD"]


def test_data_that_cannot_support_a_forecast_shows_a_message_not_a_traceback(
    open_page: OpenPage
) -> None:
    at = open_page("pages/forecast.py", session={DATASET: _dataset(won=False)})
    assert "no won deal" in at.error[0].value
    assert not at.metric


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_deals_whose_amount_cannot_be_used_are_counted_under_the_headline(
    open_page: OpenPage
) -> None:
    bad = tuple({"opp_id": f"BAD{i}", "rep": "Bob", "stage": "Proposal", "amount": amount,
                 "created_date": AS_OF - dt.timedelta(days=5), "close_date": AS_OF}
                for i, amount in enumerate([float("inf"), 1e308, float("nan")]))
    at = open_page("pages/forecast.py", session={DATASET: _dataset(extra=bad)})
    assert not at.exception
    assert at.title[0].value == "Forecast"
    assert "–" in _metric(at, "Range (P10 – P90)") and "—" not in _metric(at, "Range (P10 – P90)")
    (note,) = [c.value.replace("\\", "") for c in at.caption  # notes are escaped Markdown
               if "left out of the open pipeline" in c.value]
    assert "3 open deals are left out of the open pipeline and the range: 1 without an amount, " \
        "2 with an amount no deal can have" in note


def test_an_export_with_closed_deals_dated_after_today_is_read_as_of_today(
    open_page: OpenPage,
) -> None:
    today = dt.date.today()
    rows = [{"opp_id": f"C{i}", "rep": "Ann", "amount": 1000.0,
             "stage": "Won" if i % 3 == 0 else "Lost",
             "created_date": today - dt.timedelta(days=200 - i),
             "close_date": today - dt.timedelta(days=150 - i)} for i in range(60)]
    rows.append({"opp_id": "TYPO", "rep": "Ann", "amount": 1000.0, "stage": "Won",
                 "created_date": today - dt.timedelta(days=30),
                 "close_date": today + dt.timedelta(days=400)})  # a closed deal in the future
    stages = StageConfig(funnel=("Lead", "Proposal"), won=("Won",), lost=("Lost",))
    at = open_page("pages/forecast.py",
                   session={DATASET: build_dataset(pd.DataFrame(rows), stages)})
    (caption,) = [c.value for c in at.caption if c.value.startswith("As of")]
    assert caption.startswith(f"As of {today:%d %b %Y}, today (the data holds later dates")
    assert at.date_input(key=FORECAST_WIDGET + "period").value[1] >= today
