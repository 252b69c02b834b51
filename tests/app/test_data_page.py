"""The Data page: sample by default, uploads mapped and reported, sessions kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from diagnostics import funnel as fn
from tests.app.conftest import OpenPage, shown
from ui.data_views import EDIT_MAPPING, EDIT_STAGES, NOT_MAPPED
from ui.state import DATASET, FUNNEL_PREFETCH, WORKSPACE

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


def _upload(at: AppTest, *files: tuple[str, bytes]) -> None:
    at.get("file_uploader")[0].set_value([(n, b, "text/csv") for n, b in files]).run()


def _edit_mapping(at: AppTest, name: str) -> None:
    at.toggle(key=f"{EDIT_MAPPING}{name}").set_value(True).run()


def test_starts_on_the_sample(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    assert not at.exception
    assert "bundled sample" in at.session_state[DATASET].source
    assert any("bundled sample" in i.value for i in at.info)


def test_salesforce_upload_is_mapped_and_reported(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("salesforce_opportunities.csv",
                 (SAMPLE / "salesforce_opportunities.csv").read_bytes()))
    assert not at.exception
    dataset = at.session_state[DATASET]
    assert dataset.source == "salesforce_opportunities.csv"
    # How the file was read shows at once; the mapping editor is one click away.
    assert any("Rep / owner ← “Opportunity Owner”" in shown(c.value) for c in at.caption)
    assert not at.selectbox
    _edit_mapping(at, "salesforce_opportunities.csv")
    won = dataset.con.execute("SELECT count(*) FROM opportunities WHERE status='won'").fetchone()
    assert won[0] > 0
    owner = at.selectbox(key="col::salesforce_opportunities.csv::rep")
    assert owner.value == "Opportunity Owner"
    assert [m.value for m in at.metric][:2] == ["5,001", "5,000"] or \
        [m.value for m in at.metric][:2] == ["5,000", "5,000"]


def test_bad_file_shows_a_message_not_a_traceback(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("broken.csv", b"\x00\x01\x02binary\x00" * 50))
    assert not at.exception
    assert any("binary" in e.value for e in at.error)
    assert "bundled sample" in at.session_state[DATASET].source


def test_changing_a_column_mapping_rebuilds_the_dataset(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("hubspot_deals.csv", (SAMPLE / "hubspot_deals.csv").read_bytes()))
    before = at.session_state[DATASET].filter_values("segment")
    assert "Enterprise" in before
    _edit_mapping(at, "hubspot_deals.csv")
    at.selectbox(key="col::hubspot_deals.csv::segment").set_value("Product").run()
    assert not at.exception
    assert "Core" in at.session_state[DATASET].filter_values("segment")


def test_use_sample_restores_the_bundled_data(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("hubspot_deals.csv", (SAMPLE / "hubspot_deals.csv").read_bytes()))
    assert at.session_state[DATASET].source == "hubspot_deals.csv"
    at.button(key="use_sample").click().run()
    assert "bundled sample" in at.session_state[DATASET].source


def test_two_sessions_never_see_each_others_upload(open_page: OpenPage) -> None:
    alice, bob = open_page("pages/data.py"), open_page("pages/data.py")
    _upload(alice, ("mine.csv", b"Opportunity ID,Stage,Amount,Opportunity Owner\n"
                                b"X-1,Closed Won,100,Secret Rep\nX-2,Demo,50,Secret Rep\n"))
    assert alice.session_state[DATASET].filter_values("rep") == ["Secret Rep"]
    bob.run()
    assert "Secret Rep" not in bob.session_state[DATASET].filter_values("rep")
    assert alice.session_state[DATASET].con is not bob.session_state[DATASET].con


def _deals(name: str, rep: str) -> tuple[str, bytes]:
    return (name, f"Opportunity ID,Stage,Amount,Opportunity Owner\n{name}-1,Closed Won,100,{rep}\n"
                  f"{name}-2,Demo,50,{rep}\n".encode())


def _listed(at: AppTest) -> list[str]:
    return [t.value.split(" — ")[0] for t in at.text]


def test_a_new_upload_replaces_the_data_even_after_leaving_the_page(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, _deals("a.csv", "Ann"))
    assert _listed(at) == ["a.csv"]
    at.switch_page("pages/funnel.py").run()
    at.switch_page("pages/data.py").run()
    assert _listed(at) == ["a.csv"]  # coming back shows the files in use
    _upload(at, _deals("b.csv", "Bo"))
    assert not at.exception
    assert _listed(at) == ["b.csv"]
    assert at.session_state[DATASET].filter_values("rep") == ["Bo"]
    assert any("Active data:** b.csv" in shown(m.value) for m in at.markdown)


def test_adding_a_file_is_a_choice_and_its_cross_removes_its_data(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, _deals("a.csv", "Ann"))
    at.radio(key="upload_mode").set_value("Add to the current data").run()
    _upload(at, _deals("b.csv", "Bo"))
    assert _listed(at) == ["a.csv", "b.csv"]
    assert at.session_state[DATASET].filter_values("rep") == ["Ann", "Bo"]
    at.button(key="remove_file_1").click().run()
    assert not at.exception
    assert _listed(at) == ["a.csv"]
    assert at.session_state[DATASET].filter_values("rep") == ["Ann"]
    at.button(key="remove_file_0").click().run()
    assert _listed(at) == [] and "bundled sample" in at.session_state[DATASET].source


def test_an_upload_is_read_and_shown_in_one_run(open_page: OpenPage,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The uploader's callback builds the data before the frame runs: no second run follows."""
    at = open_page("pages/data.py")
    reruns: list[object] = []
    real_rerun = st.rerun
    monkeypatch.setattr(st, "rerun", lambda *a, **k: (reruns.append(a), real_rerun(*a, **k)))
    _upload(at, _deals("a.csv", "Ann"))
    assert not at.exception
    assert reruns == []
    assert at.session_state[DATASET].source == "a.csv"
    assert any("Active data:** a.csv" in shown(m.value) for m in at.markdown)
    assert any("Using a.csv" in shown(s.value) for s in at.success)
    assert not at.get("file_uploader")[0].value  # the drop zone is empty, the file listed below
    assert _listed(at) == ["a.csv"]


def test_a_refused_upload_says_why_until_the_next_upload(open_page: OpenPage,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYN_SESSION_FILES_MB", "1")
    at = open_page("pages/data.py")
    big = ("big.csv", b"Opportunity ID,Stage,Amount\n" + b"X-1,Demo,100\n" * 100_000)
    _upload(at, big)
    assert not at.exception
    assert any("more than the 1 MB one session may upload" in shown(e.value) for e in at.error)
    assert "bundled sample" in at.session_state[DATASET].source  # nothing was read
    at.run()  # another run of the page keeps saying why
    assert any("one session may upload" in shown(e.value) for e in at.error)
    _upload(at, _deals("a.csv", "Ann"))
    assert not at.error
    assert at.session_state[DATASET].source == "a.csv"


def test_a_saved_mapping_remaps_the_files_in_use(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("hubspot_deals.csv", (SAMPLE / "hubspot_deals.csv").read_bytes()))
    saved = json.loads(at.session_state[WORKSPACE].mapping_json())
    columns = saved["tables"]["opportunities"]["columns"]
    columns["segment"], columns["product"] = "Product", "Segment"  # swapped in the saved file
    at.get("file_uploader")[1].set_value(
        ("mapping.json", json.dumps(saved).encode(), "application/json")).run()
    assert not at.exception
    assert "Core" in at.session_state[DATASET].filter_values("segment")
    bad = ("broken.json", b"{not json", "application/json")
    at.get("file_uploader")[1].set_value(bad).run()
    assert not at.exception
    assert at.error  # the mapping is refused with a message; the data stays as it was
    assert "Core" in at.session_state[DATASET].filter_values("segment")


def test_the_stages_show_as_text_and_their_editor_on_demand(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("salesforce_opportunities.csv",
                 (SAMPLE / "salesforce_opportunities.csv").read_bytes()))
    summary = [shown(m.value) for m in at.markdown if "Funnel, in order:" in m.value]
    assert len(summary) == 1 and "→" in summary[0] and "**Won:** Closed Won" in summary[0]
    assert not at.data_editor
    at.toggle(key=EDIT_STAGES).set_value(True).run()
    rows = at.data_editor[0].value
    assert "Closed Won" in set(rows["stage"])


def test_an_uploads_first_funnel_view_is_worked_out_once_ahead(
    open_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload starts the Funnel's numbers in the background; the Funnel page reuses them."""
    calls: list[tuple[object, tuple[object, ...]]] = []
    real = fn.funnel_with_metrics
    monkeypatch.setattr(fn, "funnel_with_metrics",
                        lambda *a, **k: (calls.append((a[0].stages, a[1:])), real(*a, **k))[1])
    at = open_page("pages/data.py")
    _upload(at, ("salesforce_opportunities.csv",
                 (SAMPLE / "salesforce_opportunities.csv").read_bytes()))
    # Asked for in the upload's callback, started once the page's run was over.
    assert at.session_state[FUNNEL_PREFETCH][1] is not None
    at.switch_page("pages/funnel.py").run()
    assert not at.exception
    assert at.title[0].value == "Funnel"
    dataset = at.session_state[DATASET]

    def ours() -> list[tuple[object, ...]]:
        # Another test's upload may still be worked out in the background of this process:
        # only the calls for this session's data (its job shares the Dataset's stages) count.
        return [args for stages, args in calls if stages is dataset.stages]

    assert len(ours()) == 1  # worked out ahead, not again by the page
    assert FUNNEL_PREFETCH not in at.session_state
    result, _metrics = fn.funnel_with_metrics(dataset, *ours()[0])
    assert [shown(s) for s in at.table[0].value["Stage"]] == list(result.to_frame()["Stage"])
    at.run()  # a rerun reuses the session's results
    assert len(ours()) == 2  # only the check above


def test_rows_left_out_are_counted_and_listed_with_their_line(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("a.csv", b"Opportunity ID,Stage,Amount,Opportunity Owner\n"
                          b"X-1,Closed Won,100,Ann\nX-2,,50,Ann\n,Demo,5,Bo\n"))
    assert not at.exception
    assert [m.value for m in at.metric] == ["3", "1", "2"]  # read, used, left out
    (table,) = at.table
    assert table.value["line"].tolist() == [3, 4]
    assert [shown(r) for r in table.value["reason"]] == ["no stage and no status",
                                                         "no opportunity id"]


def test_the_active_datas_deals_are_charted_by_month_created(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    (chart,) = at.get("vega_lite_chart")  # the bundled sample
    assert json.loads(chart.proto.spec)["title"] == "Deals by month created"
    assert any(c.value.startswith("5,000 deals by the month they were created")
               for c in at.caption)
    _upload(at, ("a.csv", b"Opportunity ID,Stage,Amount,Opportunity Owner,Created Date\n"
                          b"X-1,Closed Won,100,Ann,2025-01-03\nX-2,Demo,50,Ann,2025-03-04\n"
                          b"X-3,Demo,5,Bo,\nX-4,On hold,5,Bo,2025-03-09\n"))
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    assert "from Jan 2025 to Mar 2025" in json.loads(chart.proto.spec)["description"]
    assert any(c.value == "3 deals by the month they were created, split by where they stand "
               "now; 1 more has no created date and is not in the chart. Of the 3 charted, 1 is "
               "parked: open in an excluded stage (on hold), out of the funnel."
               for c in at.caption)


def test_a_first_funnel_view_never_started_is_worked_out_by_the_page(
    open_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Data page run cut short never starts the job: the Funnel page computes for itself."""
    at = open_page("pages/data.py")
    _upload(at, ("salesforce_opportunities.csv",
                 (SAMPLE / "salesforce_opportunities.csv").read_bytes()))
    dataset = at.session_state[DATASET]
    held = at.session_state[FUNNEL_PREFETCH]
    held[1].result()  # this run's job is over: only the page can compute from here on
    at.session_state[FUNNEL_PREFETCH] = (held[0], None)  # as if the run had been cut short
    calls: list[object] = []
    real = fn.funnel_with_metrics
    monkeypatch.setattr(fn, "funnel_with_metrics",
                        lambda *a, **k: (calls.append(a[0].stages), real(*a, **k))[1])
    at.switch_page("pages/funnel.py").run()
    assert not at.exception
    assert at.title[0].value == "Funnel"
    # Only this session's calls count (another test's job may run in this process).
    assert [c for c in calls if c is dataset.stages] == [dataset.stages]
    assert FUNNEL_PREFETCH not in at.session_state
    stages = [shown(s) for s in at.table[0].value["Stage"]]
    assert stages[:len(dataset.stages.funnel)] == [
        dataset.stages.display_name(s) for s in dataset.stages.funnel]


def test_an_export_with_several_pipelines_reads_one_and_lets_the_user_pick(
        open_page: OpenPage) -> None:
    path = ROOT / "tests" / "fixtures" / "exports" / "hubspot_two_pipelines.csv"
    at = open_page("pages/data.py")
    _upload(at, (path.name, path.read_bytes()))
    assert not at.exception
    picker = at.selectbox(key="pipeline_1")
    assert picker.label == "Pipeline read as the funnel"
    assert picker.value == "Sales Pipeline"
    assert picker.options == ["Sales Pipeline (36 deals)", "Renewals (20 deals)",
                              "(no pipeline) (2 deals)"]
    dataset = at.session_state[DATASET]
    assert dataset.con.execute("SELECT count(*) FROM opportunities").fetchone() == (36,)
    assert any("the 22 deals of Renewals (20), (no pipeline) (2) are left out of every page"
               in shown(i.value) for i in at.info)
    assert any("pipeline Sales Pipeline" in shown(s.value) for s in at.success)

    picker.set_value("Renewals").run()
    assert not at.exception
    dataset = at.session_state[DATASET]
    assert dataset.con.execute("SELECT count(*) FROM opportunities").fetchone() == (20,)
    assert at.session_state[WORKSPACE].stages.funnel == ("Renewal due", "Negotiating renewal")
    assert any("the 38 deals of Sales Pipeline (36), (no pipeline) (2) are left out"
               in shown(i.value) for i in at.info)


def test_an_export_with_one_pipeline_offers_no_choice(open_page: OpenPage) -> None:
    at = open_page("pages/data.py")
    _upload(at, ("hubspot_deals.csv", (SAMPLE / "hubspot_deals.csv").read_bytes()))
    assert not at.exception
    assert at.session_state[DATASET].source == "hubspot_deals.csv"
    assert not [s for s in at.selectbox if s.label == "Pipeline read as the funnel"]
MIXED = ROOT / "tests" / "fixtures" / "exports" / "european_mixed_currencies.csv"


def test_an_amount_column_mixing_currencies_is_shown_and_the_currency_kept_chosen(
    open_page: OpenPage,
) -> None:
    at = open_page("pages/data.py")
    _upload(at, (MIXED.name, MIXED.read_bytes()))
    assert not at.exception
    warned = " ".join(shown(w.value) for w in at.warning)
    assert "“Amount” holds amounts in 3 currencies" in warned
    assert "5 amounts (USD 3, no mark 1, GBP 1) are left out" in warned
    assert "line 6: “$1,234.00”" in warned
    assert any("Money figures use the amounts in EUR only" in shown(i.value) for i in at.info)
    # What each currency holds, and which is used, as a table.
    held = at.table[0].value
    assert held["currency"].tolist() == ["EUR", "USD", "GBP", "no currency mark"]
    assert held["amounts"].tolist() == [10, 3, 1, 1]
    assert held["used"].tolist() == ["used", "left out", "left out", "left out"]
    kept = at.selectbox(key=f"currency::{MIXED.name}::amount")
    assert kept.value == "EUR"
    total = "SELECT count(amount) AS n, sum(amount) AS s FROM opportunities"
    assert at.session_state[DATASET].query_df(total)["n"][0] == 10
    kept.set_value("USD").run()
    assert not at.exception
    assert at.session_state[DATASET].query_df(total).to_dict("records") == [
        {"n": 3, "s": 1234.0 + 4500.0 + 12000.0}]
    assert "only the USD amounts are used" in " ".join(shown(w.value) for w in at.warning)
    assert at.selectbox(key=f"currency::{MIXED.name}::amount").value == "USD"


PIPEDRIVE = ROOT / "tests" / "fixtures" / "exports" / "pipedrive_currencies.csv"


def test_a_currency_column_splits_the_amounts_and_the_currency_kept_is_chosen(
    open_page: OpenPage,
) -> None:
    at = open_page("pages/data.py")
    _upload(at, (PIPEDRIVE.name, PIPEDRIVE.read_bytes()))
    assert not at.exception
    warned = " ".join(shown(w.value) for w in at.warning)
    assert "“Deal - Value” holds amounts in 2 currencies" in warned
    assert "5 amounts (USD 4, no currency 1) are left out" in warned
    assert "line 4: “15000 (USD)”" in warned
    assert any("Money figures use the amounts in EUR only" in shown(i.value)
               and "per “Deal - Currency”" in shown(i.value) for i in at.info)
    assert any("1 amount without a currency mark has no usable currency in “Deal - Currency” "
               "(1 blank)" in shown(c.value) for c in at.caption)
    held = at.table[0].value
    assert held["currency"].tolist() == ["EUR", "USD", "no currency (no mark, no code)"]
    assert held["amounts"].tolist() == [8, 4, 1]
    assert shown(held["marks"].tolist()[0]) == "from “Deal - Currency”"
    kept = at.selectbox(key=f"currency::{PIPEDRIVE.name}::amount")
    assert kept.value == "EUR"
    kept.set_value("USD").run()
    assert not at.exception
    total = "SELECT count(amount) AS n, sum(amount) AS s FROM opportunities"
    assert at.session_state[DATASET].query_df(total).to_dict("records") == [
        {"n": 4, "s": 48000.0}]
    assert any("Money figures use the amounts in USD only" in shown(i.value) for i in at.info)
    # The currency column is a field of the mapping like any other: set aside, the amounts
    # are one currency again (the user's choice).
    _edit_mapping(at, PIPEDRIVE.name)
    column = at.selectbox(key=f"col::{PIPEDRIVE.name}::currency")
    assert column.value == "Deal - Currency"
    column.set_value(NOT_MAPPED).run()
    assert not at.exception
    assert at.session_state[DATASET].query_df(total)["n"][0] == 13
    assert not [s for s in at.selectbox if s.key == f"currency::{PIPEDRIVE.name}::amount"]
