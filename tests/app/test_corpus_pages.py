"""Every data page on the realistic test exports: what each page says about their gaps."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import shown
from ui.data_views import EDIT_MAPPING, EDIT_STAGES
from ui.funnel_views import VIEWS as FUNNEL_VIEWS
from ui.quadrant_views import VIEWS as QUADRANT_VIEWS
from ui.state import DATASET, FUNNEL_WIDGET_PREFIX, MYN_FILL_FROM_DATA

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
PAGES = ["pages/home.py", "pages/funnel.py", "pages/quadrant.py", "pages/make_your_number.py",
         "pages/forecast.py", "pages/leadership.py", "pages/workshop.py", "pages/data.py"]


def _uploaded(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/data.py").run()
    assert at.title[0].value == "Data"
    at.get("file_uploader")[0].set_value(
        [(name, (EXPORTS / name).read_bytes(), "text/csv")]).run()
    assert not at.exception, at.exception
    assert at.session_state[DATASET].source.startswith(name)
    return at


def _texts(at: AppTest) -> str:
    return shown(" ".join(str(e.value) for e in (*at.info, *at.warning, *at.caption,
                                                  *at.success, *at.markdown)))


@pytest.mark.parametrize("name", sorted(p.name for p in EXPORTS.glob("*.csv")))
def test_every_data_page_renders_each_export(name: str, workshop_db: Path) -> None:
    at = _uploaded(name)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    # Every view of the Funnel and the Quadrant, and Fill from my data, on each export.
    at.switch_page("pages/funnel.py").run()
    for view in FUNNEL_VIEWS:
        at.radio(key=FUNNEL_WIDGET_PREFIX + "view").set_value(view).run()
        assert not at.exception, (view, at.exception)
    at.switch_page("pages/quadrant.py").run()
    for view in QUADRANT_VIEWS:
        at.get("button_group")[0].set_value(view).run()
        assert not at.exception, (view, at.exception)
    at.switch_page("pages/make_your_number.py").run()
    at.button(key=MYN_FILL_FROM_DATA).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_data_page_names_undated_deals_blank_amounts_and_unknown_stages(
    workshop_db: Path
) -> None:
    at = _uploaded("homemade_stage_dates.csv")
    said = _texts(at)
    assert "3 of 11 deals have no created date" in said
    assert "Amounts known for 7 of 11 deals" in said
    assert "2 of 5 lost deals have no evidence of how far they got" in said
    assert "“demo_date”, “Proposal Sent On”, “Trial started”" in said
    # A dated column named after no stage is listed as unused, not made a step.
    assert "Not stage evidence: “Onboarding completed” names no stage of the pipeline" in said
    assert "every mapped value understood" not in said
    assert any("have no amount" in w.value for w in at.warning)


def test_funnel_page_says_where_it_breaks_cannot_be_told(workshop_db: Path) -> None:
    at = _uploaded("salesforce_closed_lost.csv")
    at.switch_page("pages/funnel.py").run()
    assert at.title[0].value == "Funnel"
    said = _texts(at)
    assert "This data cannot tell where deals are lost: only 0 of 4" in said
    assert "Lost, stage unknown: 4 lost deals" in said
    frame = at.table[0].value
    assert shown(list(frame["Stage"])[-1]) == "Lost, stage unknown"
    assert list(frame.iloc[-1])[1:] == ["—", "—", "", "—", "—", 4, "—"]  # no step: no counts


def test_quadrant_page_counts_pipedrive_lost_deals(workshop_db: Path) -> None:
    at = _uploaded("pipedrive_deals.csv")
    at.switch_page("pages/quadrant.py").run()
    assert at.title[0].value == "Rep quadrant"
    dataset = at.session_state[DATASET]
    lost = dataset.con.execute(
        "SELECT count(*) FROM opportunities WHERE status = 'lost' AND close_date IS NOT NULL"
    ).fetchall()[0][0]
    assert lost == 4
    table = at.dataframe[0].value
    assert "100%" not in " ".join(str(v) for v in table.to_numpy().ravel())


def test_funnel_page_whole_range_keeps_undated_deals(workshop_db: Path) -> None:
    at = _uploaded("homemade_stage_dates.csv")
    at.switch_page("pages/funnel.py").run()
    assert at.title[0].value == "Funnel"
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Won"], metrics["Lost"], metrics["Open"]) == ("2", "5", "4")


def test_funnel_page_marks_a_young_cohort_provisional(workshop_db: Path) -> None:
    import datetime as dt

    at = _uploaded("young_cohort.csv")
    at.switch_page("pages/funnel.py").run()
    assert at.title[0].value == "Funnel"
    assert "Provisional: 7 of 14 deals" in _texts(at)  # half of the whole range is open
    at.date_input(key="funnel_w_period").set_value((dt.date(2025, 5, 1),
                                                    dt.date(2025, 6, 18))).run()
    assert not at.exception
    assert "Provisional: 7 of 8 deals in this cohort are still open" in _texts(at)


def test_quadrant_page_says_there_is_no_engagement_line_when_no_rep_is_placed(
    workshop_db: Path
) -> None:
    at = _uploaded("young_cohort.csv")
    at.switch_page("pages/quadrant.py").run()
    assert at.title[0].value == "Rep quadrant"
    assert not at.exception
    assert "Engagement line: none, as no rep is placed" in _texts(at)
    assert "team median, —" not in _texts(at)


@pytest.mark.parametrize("name", ["pipedrive_deals.csv", "pipedrive_closed_at_stage.csv"])
def test_pipedrive_reads_outcomes_from_status_and_keeps_every_stage_a_step(
    name: str, workshop_db: Path
) -> None:
    at = _uploaded(name)
    at.toggle(key=f"{EDIT_MAPPING}{name}").set_value(True).run()
    at.toggle(key=EDIT_STAGES).set_value(True).run()
    # Data page: the outcome comes from the status column, each close date from its own column.
    picked = {field: at.selectbox(key=f"col::{name}::{field}").value
              for field in ("status", "stage", "won_date", "lost_date")}
    assert picked == {"status": "Deal - Status", "stage": "Deal - Stage",
                      "won_date": "Deal - Won time", "lost_date": "Deal - Lost time"}
    roles = at.data_editor[0].value.set_index("stage")["role"].to_dict()
    assert roles == dict.fromkeys(("Qualified", "Contact Made", "Demo Scheduled",
                                   "Proposal Made", "Negotiations Started"), "open")
    at.switch_page("pages/funnel.py").run()
    assert at.title[0].value == "Funnel"
    frame = at.table[0].value
    assert [shown(s) for s in frame["Stage"]] == ["Qualified", "Contact Made", "Demo Scheduled",
                                    "Proposal Made", "Negotiations Started", "Won"]
    assert list(frame["Lost here"]) == [1, 1, 1, 1, 0, 0]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Won"], metrics["Lost"], metrics["Win rate"]) == ("4", "4", "50%")
    assert "Lost, stage unknown" not in _texts(at)
    at.switch_page("pages/quadrant.py").run()
    assert at.title[0].value == "Rep quadrant"
    table = at.dataframe[0].value
    # Maria 1 won / 2 lost, Tom 2 / 1, Aisha 1 / 1: the funnel's 4 and 4.
    assert (int(table["Won"].sum()), int(table["Lost"].sum())) == (4, 4)
