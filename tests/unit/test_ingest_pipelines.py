"""Exports holding several pipelines: one is read as the funnel, the others counted and named."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from diagnostics import funnel as fn
from diagnostics.cli import main as cli_main
from diagnostics.dataset import Filters
from diagnostics.ingest._pipelines import BLANK, keep_one_pipeline, pipeline_counts
from diagnostics.mapping import mapping_from_json
from diagnostics.uploads import UploadWorkspace, load_files

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "hubspot_two_pipelines.csv"
SALES = ("Appointment scheduled", "Qualified to buy", "Presentation scheduled", "Contract sent")


def _deals(pipelines: list[str | None]) -> pa.Table:
    ids = [f"d{i}" for i in range(len(pipelines))]
    return pa.table({"opp_id": ids, "stage": ["A"] * len(ids),
                     "pipeline": pa.array(pipelines, pa.string())})


def test_counts_put_blank_cells_together_most_deals_first() -> None:
    table = _deals(["Renewals", "Sales", None, "Sales", " ", "Sales", "Renewals"])
    assert pipeline_counts(table) == {"Sales": 3, "Renewals": 2, BLANK: 2}
    coded = table.set_column(2, "pipeline", table.column("pipeline").dictionary_encode())
    assert pipeline_counts(coded) == {"Sales": 3, "Renewals": 2, BLANK: 2}
    assert pipeline_counts(table.drop_columns(["pipeline"])) == {}


def test_the_largest_pipeline_is_kept_and_its_history_only() -> None:
    deals = _deals(["Sales", "Renewals", "Sales", None])
    history = pa.table({"opp_id": ["d0", "d1", "d1", "d2", "d9"],
                        "stage": ["A", "R", "S", "B", "A"]})
    kept, kept_history, choice = keep_one_pipeline(deals, history)
    assert kept.column("opp_id").to_pylist() == ["d0", "d2"]
    assert "pipeline" not in kept.column_names
    assert kept_history is not None
    assert kept_history.column("opp_id").to_pylist() == ["d0", "d2"]
    assert choice is not None and choice.used == "Sales" and choice.left_out == 2
    assert choice.note().startswith("The deals belong to 3 pipelines")
    assert "Sales (2 deals) is used and the 2 deals of Renewals (1), (no pipeline) (1) are left" \
        in choice.note()


def test_a_pipeline_asked_for_is_kept_even_the_blank_one() -> None:
    deals = _deals(["Sales", "Renewals", "Sales", None, ""])
    kept, _, choice = keep_one_pipeline(deals, None, "Renewals")
    assert kept.column("opp_id").to_pylist() == ["d1"]
    assert choice is not None and choice.asked is None
    assert "the 4 deals of Sales (2), (no pipeline) (2) are left out" in choice.note()
    kept, _, choice = keep_one_pipeline(deals, None, BLANK)
    assert kept.column("opp_id").to_pylist() == ["d3", "d4"]


def test_a_pipeline_not_in_the_data_falls_back_to_the_largest_and_says_so() -> None:
    kept, _, choice = keep_one_pipeline(_deals(["Sales", "Renewals", "Sales"]), None, "Partners")
    assert kept.num_rows == 2
    assert choice is not None and choice.used == "Sales" and choice.asked == "Partners"
    assert choice.note().startswith("There is no pipeline “Partners” in the data")


def test_one_pipeline_or_none_keeps_every_deal_without_a_word() -> None:
    for pipelines in (["Sales", "Sales"], [None, None]):
        kept, history, choice = keep_one_pipeline(_deals(pipelines), None)
        assert (kept.num_rows, history, choice) == (2, None, None)
        assert "pipeline" not in kept.column_names


def test_an_export_with_two_pipelines_reads_one_funnel() -> None:
    data = FIXTURE.read_bytes()
    result = load_files([(FIXTURE.name, data)])
    assert result.stages.funnel == SALES
    assert (result.stages.won, result.stages.lost) == (("Closed won",), ("Closed lost",))
    assert result.pipelines is not None
    assert result.pipelines.counts == {"Sales Pipeline": 36, "Renewals": 20, BLANK: 2}
    dataset = result.dataset
    assert dataset.con.execute("SELECT count(*) FROM opportunities").fetchone() == (36,)
    assert "pipeline Sales Pipeline (22 deals of other pipelines left out)" in dataset.source
    assert any("22 deals of Renewals (20), (no pipeline) (2)" in n for n in dataset.notes)
    # The renewals' stage dates ("Date entered … (Renewals)") no longer reach the history.
    stages = {s for (s,) in dataset.con.execute("SELECT DISTINCT stage FROM stage_history")
              .fetchall()}
    assert not stages & {"Renewal due", "Negotiating renewal", "Renewed", "Churned"}
    closed = fn.funnel_with_metrics(dataset, Filters())[1]
    assert closed.won + closed.lost + closed.open == 36

    renewals = load_files([(FIXTURE.name, data)], pipeline="Renewals")
    assert renewals.stages.funnel == ("Renewal due", "Negotiating renewal")
    assert (renewals.stages.won, renewals.stages.lost) == (("Renewed",), ("Churned",))


def test_switching_pipeline_starts_the_stage_settings_afresh_and_is_saved() -> None:
    uploads = UploadWorkspace.read([(FIXTURE.name, FIXTURE.read_bytes())])
    first = uploads.rebuild()
    assert first is not None and uploads.stages is not None
    uploads.set_stages(uploads.stages.with_changes(funnel=tuple(reversed(SALES))))
    uploads.set_pipeline("Renewals")
    assert uploads.stages is None
    second = uploads.rebuild()
    assert second is not None and second.stages.funnel == ("Renewal due", "Negotiating renewal")
    saved = mapping_from_json(uploads.mapping_json())
    assert saved.pipeline == "Renewals"
    again = UploadWorkspace.read([(FIXTURE.name, FIXTURE.read_bytes())], saved)
    result = again.rebuild()
    assert result is not None and result.pipelines is not None
    assert result.pipelines.used == "Renewals"
    # A saved mapping without a pipeline (files saved before) still reads.
    assert mapping_from_json(json.dumps({"version": 1, "tables": {}})).pipeline is None


def test_command_line_names_the_pipeline_and_the_deals_left_out(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["inspect", str(FIXTURE), "--pipeline-name", "Renewals", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["mapping"]["pipeline"] == "Pipeline"
    assert payload["pipelines"] == {
        "used": "Renewals", "deals": {"Sales Pipeline": 36, "Renewals": 20, BLANK: 2},
        "left_out": 38}
    assert payload["stages"] == ["Renewal due", "Negotiating renewal"]
    assert cli_main(["funnel", str(FIXTURE), "--json"]) == 0
    funnel = json.loads(capsys.readouterr().out)
    assert [s["stage"] for s in funnel["stages"]][:4] == list(SALES)
    assert any("left out of every page" in n for n in funnel["data_notes"])


def _two_pipelines_with_currencies() -> bytes:
    rows = [  # id, pipeline, amount: Sales holds 6 deals, Renewals 3
        ("1", "Sales", "1.000,00 €"), ("2", "Sales", "2.000,00 €"), ("3", "Sales", "$500.00"),
        ("4", "Sales", "lots"), ("5", "Renewals", "$700.00"), ("6", "Renewals", "$800.00"),
        ("7", "Renewals", "tbd"), ("8", "Sales", "3.000,00 €"), ("9", "Sales", "4.000,00 €")]
    return ("Deal ID;Pipeline;Deal Stage;Amount\n" + "".join(
        f"{i};{pipeline};Demo;{amount}\n" for i, pipeline, amount in rows)).encode()


def test_amounts_left_out_are_counted_among_the_deals_of_the_pipeline_read() -> None:
    result = load_files([("deals.csv", _two_pipelines_with_currencies())])
    assert result.pipelines is not None and result.pipelines.used == "Sales"
    # The file: 3 amounts in USD left out (1 in Sales, 2 in Renewals), 2 unreadable (1 each).
    (amounts,) = result.tables[0].report.amounts
    assert amounts.left_out == {"USD": 3}
    notes = result.dataset.notes
    assert ("Money figures use the amounts in EUR only (“Amount” in deals.csv mixes "
            "currencies): of the deals of pipeline Sales read, 1 is in another currency (USD 1) "
            "and counts as a deal without an amount (the file holds 3 over every pipeline)."
            ) in notes
    assert ("1 amount of the deals of pipeline Sales in “Amount” (deals.csv) could not be read "
            "and counts as a deal without an amount (the file's report counts 2 over every "
            "pipeline).") in notes
    assert result.dataset.query_df(
        "SELECT count(*) AS n, count(amount) AS priced FROM opportunities").to_dict(
            "records") == [{"n": 6, "priced": 4}]
    renewals = load_files([("deals.csv", _two_pipelines_with_currencies())],
                          pipeline="Renewals")
    assert any("of the deals of pipeline Renewals read, 2 are in other currencies (USD 2)"
               in n for n in renewals.dataset.notes)
