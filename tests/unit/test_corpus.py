"""Realistic exports (tests/fixtures/exports) and the bundled sample, read end to end.

Each fixture is small enough to check by hand: a Pipedrive export with won and lost dates in two
columns, a Salesforce and a HubSpot export whose lost deals carry only "Closed Lost", a homemade
file with date columns named after stages (and one named after no stage), undated deals and blank
amounts, a young cohort, and hostile names.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from diagnostics import funnel as fn
from diagnostics import quadrant as quad
from diagnostics.breakage import find_breakages
from diagnostics.cli import main as cli_main
from diagnostics.dataset import Filters, coverage
from diagnostics.ingest import IngestResult
from diagnostics.sample import SAMPLE_DIR, load_sample
from diagnostics.uploads import load_files

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
FIXTURES = sorted(p.name for p in EXPORTS.glob("*.csv"))
BUNDLED = ["salesforce_opportunities.csv", "hubspot_deals.csv", "opportunities.csv"]


def _read(name: str) -> IngestResult:
    path = EXPORTS / name if (EXPORTS / name).exists() else SAMPLE_DIR / name
    return load_files([(name, path.read_bytes())])


@pytest.mark.parametrize("name", [*FIXTURES, *BUNDLED, "sample"])
def test_quadrant_and_funnel_count_the_same_closed_deals_over_the_whole_range(name: str) -> None:
    dataset = (load_sample() if name == "sample" else _read(name)).dataset
    result, metrics = fn.funnel_with_metrics(dataset, Filters())
    reps = quad.classify_reps(dataset, Filters(), min_deals=1).reps
    assert (sum(r.won for r in reps), sum(r.lost for r in reps)) == (metrics.won, metrics.lost)
    # Every lost deal is at a step or "stage unknown"; none vanishes.
    assert sum(s.lost_here for s in result.stages) + result.lost_stage_unknown == metrics.lost


def test_pipedrive_lost_deals_take_their_close_date_from_lost_time() -> None:
    dataset = _read("pipedrive_deals.csv").dataset
    rows = dataset.query_df(
        "SELECT opp_id, status, close_date::VARCHAR AS d FROM opportunities "
        "WHERE status <> 'open' ORDER BY opp_id")
    assert rows.to_dict("list") == {
        "opp_id": ["101", "102", "103", "104", "105", "106", "107", "108"],
        "status": ["won", "lost", "won", "lost", "lost", "won", "lost", "won"],
        "d": ["2025-02-20", "2025-02-11", "2025-03-05", "2025-01-30", "2025-02-25",
              "2025-04-02", "2025-03-12", "2025-04-18"],
    }
    reps = {r.rep: r for r in quad.classify_reps(dataset, Filters(), min_deals=1).reps}
    assert (reps["Maria Lopez"].won, reps["Maria Lopez"].lost) == (1, 2)
    assert reps["Tom Becker"].close_ratio == pytest.approx(2 / 3)
    assert all(r.close_ratio != 1.0 for r in reps.values())
    # Pipedrive keeps the stage a deal was lost at: every lost deal has a known stage.
    result = fn.compute_funnel(dataset, Filters())
    assert result.lost_stage_unknown == 0


def test_pipedrive_stages_where_every_deal_is_won_or_lost_stay_funnel_steps() -> None:
    # 112 and 113 (open) are gone: every deal left at "Negotiations Started" is won and the
    # only one at "Contact Made" is lost. The status column says won or lost; the stage says
    # where the deal was.
    read = _read("pipedrive_closed_at_stage.csv")
    assert read.stages.funnel == ("Qualified", "Contact Made", "Demo Scheduled",
                                  "Proposal Made", "Negotiations Started")
    assert (read.stages.won, read.stages.lost) == ((), ())
    result, metrics = fn.funnel_with_metrics(read.dataset, Filters())
    assert (metrics.won, metrics.lost, metrics.open) == (4, 4, 3)
    assert [s.lost_here for s in result.stages] == [1, 1, 1, 1, 0, 0]
    assert [s.reached for s in result.stages] == [11, 9, 8, 6, 4, 4]
    assert result.lost_stage_unknown == 0
    # Every lost deal has a known stage: "Where it breaks" may name a step.
    assert result.lost_stage_known_share == 1.0


def test_stage_named_date_columns_place_lost_deals() -> None:
    read = _read("homemade_stage_dates.csv")
    (table,) = read.tables
    assert any("“demo_date”, “Proposal Sent On”, “Trial started”" in n
               for n in table.report.notes)
    # "Onboarding completed" is dated too, but no deal is at an "Onboarding" stage: not a step.
    assert any(n.startswith("Not stage evidence: “Onboarding completed”")
               for n in table.report.notes)
    assert read.stages.funnel == ("Lead", "Demo", "Trial", "Proposal")
    reached = dict(read.dataset.con.execute(
        "SELECT opp_id, reached_rank FROM opportunities WHERE status = 'lost'").fetchall())
    # D-02 reached Demo (demo_date), D-03 Proposal, D-06 Trial; D-05 and D-10 have no evidence.
    assert reached == {"D-02": 2, "D-03": 4, "D-06": 3, "D-05": None, "D-10": None}
    result = fn.compute_funnel(read.dataset, Filters())
    assert [s.lost_here for s in result.stages] == [0, 1, 1, 1, 0]
    assert result.lost_stage_unknown == 2


def test_undated_deals_and_blank_amounts_are_counted_and_said() -> None:
    read = _read("homemade_stage_dates.csv")
    cover = coverage(read.dataset)
    assert (cover.deals, cover.no_created, cover.closed, cover.closed_undated,
            cover.with_amount) == (11, 3, 7, 1, 7)
    notes = " ".join(read.dataset.notes)
    assert "3 of 11 deals have no created date" in notes
    assert "1 of 7 closed deals have no close date" in notes
    assert "Amounts known for 7 of 11 deals" in notes
    assert "2 of 5 lost deals have no evidence" in notes


@pytest.mark.parametrize("name", ["salesforce_closed_lost.csv", "hubspot_no_history.csv"])
def test_where_it_breaks_says_it_cannot_tell_without_stage_evidence(name: str) -> None:
    dataset = _read(name).dataset
    result = fn.compute_funnel(dataset, Filters())
    assert sum(s.lost_here for s in result.stages) == 0 and result.lost_stage_unknown > 0
    report = find_breakages(dataset, Filters(), result=result)
    assert report.biggest is None and report.breakages == ()
    assert report.sentence().startswith("This data cannot tell where deals are lost: only 0 of")
    assert "stage history" in report.sentence().lower()


def test_funnel_json_reports_lost_stage_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["funnel", str(EXPORTS / "salesforce_closed_lost.csv"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["lost_stage_unknown"] == 4 and out["lost"] == 4
    assert [s["lost"] for s in out["stages"]] == [0, 0, 0, 0]
    assert out["biggest_breakage"] is None


def test_stale_needs_a_last_activity_column() -> None:
    assert _read("salesforce_closed_lost.csv").dataset.has_last_touch is True
    assert _read("hostile_names.csv").dataset.has_last_touch is False


def test_the_bundled_sample_has_clean_names() -> None:
    for name in ("opportunities.csv", "activities.csv", "salesforce_opportunities.csv",
                 "hubspot_deals.csv"):
        text = (SAMPLE_DIR / name).read_text(encoding="utf-8")
        for line in text.splitlines()[1:]:
            assert not any(c.startswith(("=", "+", "@")) for c in line.split(",")), (name, line)


def test_a_young_cohort_is_marked_provisional() -> None:
    dataset = _read("young_cohort.csv").dataset
    young = dataset.period_filters(dt.date(2025, 5, 1), None)
    metrics = fn.headline_metrics(dataset, young)
    assert (metrics.won, metrics.lost, metrics.open) == (0, 1, 7)
    note = fn.provisional_note(metrics, young)
    assert note is not None and note.startswith("Provisional: 7 of 8 deals in this cohort")
    old = dataset.period_filters(None, dt.date(2025, 2, 28))
    assert fn.provisional_note(fn.headline_metrics(dataset, old), old) is None
    closed = dataset.period_filters(dt.date(2025, 5, 1), None, cohort="closed")
    assert fn.provisional_note(fn.headline_metrics(dataset, closed), closed) is None
