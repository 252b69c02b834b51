"""One rep, one name: spellings of the same rep across rows and files are merged and named."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from diagnostics import quadrant as quad
from diagnostics.dataset import Filters
from diagnostics.errors import DiagnosticsError
from diagnostics.ingest._reps import (
    merge_rep_spellings,
    rep_renames,
    unmatched_activities_note,
)
from diagnostics.uploads import load_files

DEALS = "Opportunity ID,Opportunity Owner,Stage,Amount,Created Date,Close Date\n"


def _deals_csv(owners: list[str]) -> bytes:
    stages = ["Closed Won", "Closed Lost", "Closed Lost", "Proposal"]
    rows = [f"O-{i},{owner},{stages[i % 4]},1000,2025-0{1 + i % 8}-01,2025-0{2 + i % 8}-01"
            for i, owner in enumerate(owners)]
    return (DEALS + "\n".join(rows) + "\n").encode()


def _activities_csv(reps: list[str]) -> bytes:
    rows = [f"T-{i},\"{rep}\",Call,2025-03-{1 + i % 28:02d}" for i, rep in enumerate(reps)]
    return ("Activity ID,Assigned,Task Subtype,Date\n" + "\n".join(rows) + "\n").encode()


def test_case_and_space_variants_merge_under_the_most_used_spelling() -> None:
    deals = Counter({"Ana Lima": 9, "ana lima": 2, "ANA  LIMA": 1, "Joe Park": 4})
    assert rep_renames(deals, Counter()) == {"ana lima": "Ana Lima", "ANA  LIMA": "Ana Lima"}


def test_last_first_and_email_merge_only_with_a_plainly_written_name() -> None:
    deals = Counter({"Ana Lima": 5, "Joe Park": 3})
    activities = Counter({"Lima, Ana": 40, "joe.park@acme.com": 12, "Smith, Jr.": 2,
                          "kim.wu@acme.com": 7})
    assert rep_renames(deals, activities) == {"Lima, Ana": "Ana Lima",
                                              "joe.park@acme.com": "Joe Park"}


def test_a_name_shown_plainly_beats_a_more_frequent_comma_form() -> None:
    # The activity file calls her "Lima, Ana" far more often; deals show "Ana Lima" once.
    assert rep_renames(Counter({"Ana Lima": 1}), Counter({"Lima, Ana": 500})) == {
        "Lima, Ana": "Ana Lima"}


def test_no_variant_leaves_the_tables_untouched() -> None:
    deals = pa.table({"rep": ["Ana Lima", "Joe Park"]})
    kept, acts, note = merge_rep_spellings(deals, None)
    assert kept is deals and acts is None and note is None


def test_merge_renames_both_tables_keeping_text_as_codes() -> None:
    deals = pa.table({"rep": pa.array(["Ana Lima", "ana lima", "Joe Park"]).dictionary_encode()})
    activities = pa.table({"rep": ["Lima, Ana", "Lima, Ana", "Park, Joe", "Bo Li"]})
    deals, activities, note = merge_rep_spellings(deals, activities)
    assert pa.types.is_dictionary(deals.column("rep").type)
    assert deals.column("rep").to_pylist() == ["Ana Lima", "Ana Lima", "Joe Park"]
    assert activities is not None
    assert activities.column("rep").to_pylist() == ["Ana Lima", "Ana Lima", "Joe Park", "Bo Li"]
    assert note is not None
    assert "“Lima, Ana”, “ana lima” → “Ana Lima”; “Park, Joe” → “Joe Park”" in note
    assert "(1 deals and 3 activities renamed)" in note
    lonely = unmatched_activities_note(deals, activities)
    assert lonely is not None and lonely.startswith("1 of 4 activities are by 1 people who own")
    assert "“Bo Li”" in lonely


def test_activities_naming_no_deal_rep_say_engagement_cannot_be_measured() -> None:
    deals = pa.table({"rep": ["Ana Lima"]})
    note = unmatched_activities_note(deals, pa.table({"rep": ["Bo Li", "Cy Vance", "Bo Li"]}))
    assert note is not None
    assert note.startswith("None of the 3 activities names a rep who owns a deal")
    assert "“Bo Li”, “Cy Vance”" in note
    assert unmatched_activities_note(deals, pa.table({"rep": ["Ana Lima"]})) is None


def test_a_rep_split_by_spelling_is_one_rep_on_the_quadrant() -> None:
    owners = ["Ana Lima"] * 8 + ["ana lima"] * 4 + ["Joe Park"] * 12
    logged = ["Lima, Ana"] * 30 + ["Park, Joe"] * 10
    result = load_files([("deals.csv", _deals_csv(owners)),
                         ("activities.csv", _activities_csv(logged))])
    reps = {r.rep: r for r in quad.classify_reps(result.dataset, Filters(), min_deals=1).reps}
    assert set(reps) == {"Ana Lima", "Joe Park"}
    assert reps["Ana Lima"].won + reps["Ana Lima"].lost == 9  # 12 deals, a quarter open
    assert any("→ “Ana Lima”" in n for n in result.dataset.notes)
    assert quad.activities_name_reps(result.dataset)
    assert quad.classify_reps(result.dataset, Filters()).engagement == "activities"


def test_activities_of_other_people_fall_back_to_opportunities_worked() -> None:
    result = load_files([("deals.csv", _deals_csv(["Ana Lima"] * 12)),
                         ("activities.csv", _activities_csv(["Bo Li"] * 20))])
    assert result.dataset.has_activities and not quad.activities_name_reps(result.dataset)
    assert quad.classify_reps(result.dataset, Filters()).engagement == "opportunities"
    with pytest.raises(DiagnosticsError, match="no activity names a rep who owns a deal"):
        quad.classify_reps(result.dataset, Filters(), engagement="activities")
