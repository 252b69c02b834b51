"""Typing and validating mapped files, assembling the Dataset, and the ``inspect`` command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics.errors import DiagnosticsError
from diagnostics.ingest import (
    RowsQuery,
    assemble_dataset,
    detect_date_order,
    detect_decimal_comma,
    parse_table,
    plan_columns,
    propose_table_mapping,
    typed_rows_sql,
)
from diagnostics.ingest._arrow import cast_cells, clean_edges, trimmed
from diagnostics.mapping import TableMapping
from diagnostics.readers import read_raw
from diagnostics.uploads import load_files

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 6, 30)


def _load(text: str, name: str = "deals.csv", encoding: str = "utf-8"):  # type: ignore[no-untyped-def]
    raw = read_raw(text.encode(encoding), name)
    return parse_table(raw, propose_table_mapping(raw), today=TODAY)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$1,234.00", 1234.0),
        ("1234", 1234.0),
        ("(500)", -500.0),
        ("-75.5", -75.5),
        ("USD 2,000", 2000.0),
        ("€ 99.99", 99.99),
        ("12.5 EUR", 12.5),
        ("", None),
    ],
)
def test_amounts_with_a_decimal_point(cell: str, expected: float | None) -> None:
    loaded = _load(f'Opportunity ID,Stage,Amount\n1,Demo,"{cell}"\n2,Demo,"$1,000.50"\n')
    assert loaded.table.column("amount").to_pylist()[0] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1.234,56 €", 1234.56), ("99,00 €", 99.0), ("(1.000,00)", -1000.0), ("12", 12.0)],
)
def test_amounts_with_a_decimal_comma(cell: str, expected: float) -> None:
    loaded = _load(f"Opportunity ID;Stage;Amount\n1;Demo;{cell}\n2;Won;2.500,00 €\n"
                   "3;Won;1.750,25 €\n", encoding="cp1252")
    assert loaded.mapping.decimal_comma["amount"] is True
    assert loaded.table.column("amount").to_pylist()[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "order", "ambiguous"),
    [
        (["2025-03-31", "2025-04-01"], "ymd", False),
        (["03/31/2025", "04/01/2025"], "mdy", False),
        (["31/03/2025", "01/04/2025"], "dmy", False),
        (["03/04/2025", "05/06/2025"], "mdy", True),
        (["03.04.2025", "05.06.2025"], "dmy", True),
        (["31/03/2025", "03/31/2025", "30/03/2025"], "dmy", True),
    ],
)
def test_date_order_is_decided_from_the_data(values: list[str], order: str,
                                             ambiguous: bool) -> None:
    assert detect_date_order(values) == (order, ambiguous)


def test_mixed_iso_and_us_dates_in_one_column_both_parse() -> None:
    loaded = _load("Opportunity ID,Stage,Close Date\n1,Won,03/31/2025\n2,Won,2025-04-02\n"
                   "3,Lost,4/5/25\n4,Lost,05 Jan 2025\n5,Lost,2025-04-02T10:00:00Z\n")
    assert loaded.table.column("close_date").to_pylist() == [
        dt.date(2025, 3, 31), dt.date(2025, 4, 2), dt.date(2025, 4, 5), dt.date(2025, 1, 5),
        dt.date(2025, 4, 2)]


def test_unreadable_values_are_counted_with_line_and_kept_as_missing() -> None:
    loaded = _load("Opportunity ID,Stage,Amount,Close Date\n1,Won,100,2025-01-01\n"
                   "2,Won,lots,2025-01-02\n3,Lost,50,someday\n")
    assert loaded.report.rows_kept == 3
    problems = {p.field: p for p in loaded.report.unparseable}
    assert problems["amount"].count == 1 and problems["amount"].examples == ((3, "lots"),)
    assert problems["close_date"].examples == ((4, "someday"),)
    assert any("could not be read" in p for p in loaded.report.problems())


def test_duplicate_ids_keep_the_first_row_and_count_the_rest() -> None:
    loaded = _load("Opportunity ID,Stage,Amount\nA,Demo,1\nB,Won,2\nA,Won,3\nA,Lost,4\n")
    assert loaded.table.column("opp_id").to_pylist() == ["A", "B"]
    assert loaded.report.duplicate_ids == 2
    assert [r.reason for r in loaded.report.rejected] == [
        "duplicate id (first seen on line 2)"] * 2


def test_rows_without_stage_or_id_and_blank_rows_are_rejected_with_reasons() -> None:
    loaded = _load("Opportunity ID,Stage,Amount\n1,Demo,5\n,Won,3\n2,,4\n,,\n")
    assert loaded.report.rows_read == 4 and loaded.report.rows_kept == 1
    assert loaded.report.rejected_by_reason == {
        "no opportunity id": 1, "no stage and no status": 1, "blank row": 1}


def test_future_dates_and_negative_amounts_are_reported() -> None:
    loaded = _load("Opportunity ID,Stage,Amount,Created Date,Close Date\n"
                   "1,Closed Won,-5,2027-01-01,2027-02-01\n2,Demo,5,2025-01-01,2027-03-01\n")
    assert loaded.report.future_dates == {"created_date": 1, "close_date": 1}
    assert loaded.report.negative_amounts == 1


def test_missing_required_column_names_the_field_and_the_columns() -> None:
    raw = read_raw(b"Owner,Amount\nAnn,5\n", "x.csv")
    with pytest.raises(DiagnosticsError) as err:
        parse_table(raw, TableMapping("opportunities", {"rep": "Owner"}))
    assert "Stage" in err.value.message and "Owner, Amount" in err.value.hint


def test_status_column_decides_outcome_pipedrive_style() -> None:
    raw = read_raw(b"Deal - ID,Deal - Title,Deal - Owner,Deal - Stage,Deal - Value,Deal - Status\n"
                   b"1,A,Ann,Negotiation,100,won\n2,B,Ann,Demo,50,lost\n3,C,Bo,Demo,20,open\n",
                   "pipedrive.csv")
    mapping = propose_table_mapping(raw)
    assert mapping.columns["status"] == "Deal - Status"
    assert mapping.columns["rep"] == "Deal - Owner" and mapping.columns["amount"] == "Deal - Value"
    result = assemble_dataset([parse_table(raw, mapping)])
    rows = result.dataset.query_df(
        "SELECT opp_id, status, reached_rank FROM opportunities ORDER BY opp_id")
    assert rows["status"].tolist() == ["won", "lost", "open"]
    demo_rank = result.stages.rank_of("Demo")
    assert rows["reached_rank"].tolist() == [len(result.stages.funnel) + 1, demo_rank, demo_rank]


def test_no_opportunities_file_is_a_clear_error() -> None:
    raw = read_raw(b"Assigned To,Type,Date\nAnn,Call,2025-01-02\n", "acts.csv")
    loaded = parse_table(raw, propose_table_mapping(raw))
    assert loaded.kind == "activities"
    with pytest.raises(DiagnosticsError, match="No opportunities file"):
        assemble_dataset([loaded])


def test_sample_exports_from_three_crms_agree_on_outcomes() -> None:
    outcomes = []
    for name in ("opportunities.csv", "salesforce_opportunities.csv", "hubspot_deals.csv"):
        result = load_files([(name, (ROOT / "sample_data" / name).read_bytes())])
        outcomes.append(result.dataset.query_df(
            "SELECT status, count(*) AS n, round(sum(amount)) AS total FROM opportunities "
            "GROUP BY 1 ORDER BY 1").to_dict("records"))
    assert outcomes[0] == outcomes[1] == outcomes[2]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.decimals(min_value=-10**7, max_value=10**7, places=2), min_size=2,
                max_size=12), st.booleans())
def test_formatted_amounts_read_back_exactly(values: list, european: bool) -> None:  # type: ignore[type-arg]
    def fmt(v: object) -> str:
        text = f"{abs(float(v)):,.2f}"  # type: ignore[arg-type]
        if european:
            text = text.replace(",", "_").replace(".", ",").replace("_", ".") + " €"
        else:
            text = "$" + text
        return f"({text})" if float(v) < 0 else text  # type: ignore[arg-type]

    delimiter = ";" if european else ","
    lines = [f"ID{delimiter}Stage{delimiter}Amount"] + [
        f'{i}{delimiter}Demo{delimiter}"{fmt(v)}"' for i, v in enumerate(values)]
    raw = read_raw(("\n".join(lines) + "\n").encode(), "p.csv")
    mapping = propose_table_mapping(raw)
    mapping.decimal_comma["amount"] = european
    got = parse_table(raw, mapping).table.column("amount").to_pylist()
    assert got == pytest.approx([float(v) for v in values])


def test_decimal_comma_detection() -> None:
    assert detect_decimal_comma(["1.234,56 €", "99,00 €", "12"]) is True
    assert detect_decimal_comma(["$1,234.00", "99.00", "12"]) is False
    assert detect_decimal_comma(["0.125", "$1"]) is False  # no thousands group starts with 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnostics", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_inspect_reports_mapping_stages_and_formats() -> None:
    done = _cli("inspect", "sample_data/hubspot_deals.csv", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["kind"] == "opportunities" and out["rows"] == 5000 and out["rejected"] == 0
    assert out["mapping"]["rep"] == "Deal owner" and out["mapping"]["opp_id"] == "Record ID"
    assert out["stages"][:3] == ["Lead", "Discovery", "Demo"]
    assert out["won_stages"] == ["Closed Won"] and out["lost_stages"] == ["Closed Lost"]
    assert out["date_format"] == {"close_date": "mdy", "created_date": "mdy"}


def test_cli_inspect_unusable_file_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01" * 100)
    done = _cli("inspect", str(bad), "--json")
    assert done.returncode == 2
    assert "binary" in done.stderr and "Traceback" not in done.stderr


def test_cli_inspect_reports_rejected_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("Opportunity ID,Stage,Amount\n1,Demo,5\n1,Won,6\n2,Won\n")
    out = json.loads(_cli("inspect", str(path), "--json").stdout)
    assert out["rejected"] == 2
    assert {(e["line"], e["reason"].split(" (")[0]) for e in out["rejected_examples"]} == {
        (3, "duplicate id"), (4, "has 2 fields where the header has 3")}


@pytest.mark.parametrize(
    ("header", "stage"),
    [('Date entered "Closed Won (Sales Pipeline)"', "Closed Won"),
     ("Date entered Demo", "Demo"), ("date entered: Proposal (Enterprise)", "Proposal"),
     ("Entered date", None), ("Close Date", None)],
)
def test_hubspot_date_entered_columns(header: str, stage: str | None) -> None:
    from diagnostics.ingest import entered_columns

    found = entered_columns(["Record ID", header])
    assert found == ([(1, stage)] if stage else [])


def test_date_entered_columns_become_stage_history() -> None:
    text = ('Record ID,Deal Stage,Amount,"Date entered ""Demo (P)""","Date entered ""Trial (P)""",'
            '"Date entered ""Closed Lost (P)"""\n'
            "1,Closed Lost,5,01/02/2025,01/09/2025,01/20/2025\n"
            "2,Demo,7,01/03/2025,,\n")
    raw = read_raw(text.encode(), "hubspot.csv")
    loaded = parse_table(raw, propose_table_mapping(raw), today=TODAY)
    assert loaded.history is not None
    assert sorted(loaded.history.to_pylist(), key=lambda r: (r["opp_id"], r["entered_date"])) == [
        {"opp_id": "1", "stage": "Demo", "entered_date": dt.date(2025, 1, 2)},
        {"opp_id": "1", "stage": "Trial", "entered_date": dt.date(2025, 1, 9)},
        {"opp_id": "1", "stage": "Closed Lost", "entered_date": dt.date(2025, 1, 20)},
        {"opp_id": "2", "stage": "Demo", "entered_date": dt.date(2025, 1, 3)}]
    result = assemble_dataset([loaded])
    ranks = dict(result.dataset.con.execute(
        "SELECT opp_id, reached_rank FROM opportunities").fetchall())
    assert result.stages.funnel == ("Demo", "Trial")
    assert ranks == {"1": 2, "2": 1}  # the lost deal got as far as Trial
    assert result.dataset.has_stage_history


def test_outcomes_only_file_says_the_funnel_has_no_steps() -> None:
    result = load_files([("lost.csv", b"Opportunity ID,Stage\n1,Closed Lost\n2,Closed Won\n")])
    assert result.stages.funnel == ()
    assert any("no steps" in note for note in result.dataset.notes)


def test_totals_line_with_the_right_field_count_is_named_a_footer() -> None:
    loaded = _load("Opportunity ID,Stage,Amount\n1,Demo,5\nTotal,,5\nGrand Totals (2 records),,\n")
    assert loaded.report.rejected_by_reason == {"report footer or totals line, not a record": 2}
    assert loaded.report.rows_kept == 1


def test_line_numbers_stay_exact_across_blank_lines() -> None:
    loaded = _load("Opportunity ID,Stage,Amount\n1,Demo,5\n\n\n2,Won,x\n1,Lost,3\n")
    assert loaded.report.rejected_by_reason == {"blank row": 2, "duplicate id": 1}
    assert [(r.line, r.reason) for r in loaded.report.rejected] == [
        (3, "blank row"), (4, "blank row"), (6, "duplicate id (first seen on line 2)")]
    assert loaded.report.unparseable[0].examples == ((5, "x"),)


def test_text_cells_are_trimmed_and_space_only_cells_are_missing() -> None:
    loaded = _load('Opportunity ID,Stage,Opportunity Owner\n1,Demo,"  Ann  "\n2,Won,"   "\n')
    assert loaded.table.column("rep").to_pylist() == ["Ann", None]


@pytest.mark.parametrize(
    ("cells", "clean"),
    [
        (["Ann Lee", "Bo"], True),
        ([None, "Ann", None], True),
        ([None, None], True),
        ([" Ann"], False),
        (["Ann\t"], False),
        (["Ann\u00a0"], False),  # Excel's non-breaking space
        (["\u3000Ann"], False),  # ideographic space
        (["Ann", ""], False),  # an empty cell must become missing
        (["José"], False),  # non-ASCII at an edge: checked the slow way, a false alarm only
    ],
)
def test_edge_check_never_calls_a_cell_with_spaces_clean(cells: list[str | None],
                                                         clean: bool) -> None:
    assert clean_edges(pa.array(cells, pa.string())) is clean
    assert clean_edges(pa.array(cells, pa.large_string())) is clean


def test_edge_check_reads_a_slice_of_a_column_not_its_neighbours() -> None:
    column = pa.array([" padded", "Ann", "Bo", "trailing "])
    assert clean_edges(column.slice(1, 2))
    assert not clean_edges(column.slice(0, 2))
    assert not clean_edges(column.slice(2, 2))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab é\t\u00a0\u2003,", max_size=6)),
                min_size=1, max_size=30),
       st.integers(min_value=1, max_value=4))
def test_trimmed_text_matches_a_full_trim_whatever_the_cells(cells: list[str | None],
                                                              chunks: int) -> None:
    size = -(-len(cells) // chunks)
    column = pa.chunked_array(
        [pa.array(cells[i:i + size], pa.string()) for i in range(0, len(cells), size)],
        pa.string())
    expected = [None if c is None or not c.strip(" \t\u00a0\u2003") else
                c.strip(" \t\u00a0\u2003") for c in cells]
    assert trimmed(column).to_pylist() == expected


def test_trimmed_gives_back_a_clean_column_without_copying_it() -> None:
    column = pa.chunked_array([pa.array(["Ann", "Bo"]), pa.array([None, "Cy"])])
    assert trimmed(column) is column


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
                          st.dates(dt.date(1950, 1, 1), dt.date(2200, 12, 31))),
                min_size=1, max_size=20))
def test_plain_columns_read_the_same_as_formatted_ones(rows: list[tuple[float, dt.date]]) -> None:
    def read(extra: str) -> pa.Table:
        lines = [f"{i},Demo,{amount!r},{day.isoformat()}" for i, (amount, day) in
                 enumerate(rows)]
        text = "Opportunity ID,Stage,Amount,Created Date\n" + "\n".join(lines + [extra]) + "\n"
        return _load(text).table

    plain = read(f"{len(rows)},Demo,1,2025-01-01")  # Arrow's strict casts type these columns
    full = read(f"{len(rows)},Demo,$1,2025-01-01 10:00")  # one formatted cell: DuckDB reads all
    for name in ("amount", "created_date"):
        assert plain.column(name).to_pylist() == full.column(name).to_pylist()


def test_plain_dates_outside_the_sane_years_are_reported_not_kept() -> None:
    loaded = _load("Opportunity ID,Stage,Created Date,Amount\n1,Demo,1900-01-01,5\n"
                   "2,Won,2025-03-04,inf\n")
    assert loaded.table.column("created_date").to_pylist() == [None, dt.date(2025, 3, 4)]
    assert {p.field: p.count for p in loaded.report.unparseable} == {"created_date": 1,
                                                                      "amount": 1}
    assert loaded.table.column("amount").to_pylist() == [5.0, None]  # "inf" is no amount


@pytest.mark.parametrize("cell", ["5", "$5.00"])  # a plain column (Arrow) and a formatted one
def test_amounts_beyond_a_billion_billion_are_reported_not_kept(cell: str) -> None:
    loaded = _load("Opportunity ID,Stage,Amount\n"
                   f'1,Won,"{cell}"\n2,Won,1e308\n3,Won,-2e18\n4,Won,1e18\n'
                   '5,Won,"$100,000,000,000,000,000,000"\n6,Won,nan\n7,Won,1e309\n')
    assert loaded.table.column("amount").to_pylist() == [5.0, None, None, 1e18, None, None, None]
    (problem,) = loaded.report.unparseable
    assert (problem.field, problem.count) == ("amount", 5)
    assert problem.examples == ((3, "1e308"), (4, "-2e18"), (6, "$100,000,000,000,000,000,000"))
    assert problem.why == ("too large to be an amount",) * 3
    assert ("5 values in “Amount” could not be read as amount (kept as missing), e.g. line 3: "
            "“1e308” (too large to be an amount); line 4: “-2e18” (too large to be an amount); "
            "line 6: “$100,000,000,000,000,000,000” (too large to be an amount).") in (
        loaded.report.problems())


def test_an_unreadable_amount_says_why_only_when_the_value_does_not() -> None:
    loaded = _load("Opportunity ID,Stage,Amount\n1,Won,lots\n2,Won,NaN\n3,Won,-inf\n")
    (problem,) = loaded.report.unparseable
    assert problem.why == ("", "not a number", "infinite")
    assert problem.count == 3 and "line 2: “lots”; line 3: “NaN” (not a number); line 4: " \
        "“-inf” (infinite)." in loaded.report.problems()[0]


def test_activities_without_ids_are_not_duplicates_of_each_other() -> None:
    loaded = _load("Activity ID,Assigned To,Activity Type,Date\n,Ann,Call,2025-03-01\n"
                   ",Ann,Email,2025-03-02\nA1,Bo,Call,2025-03-03\nA1,Bo,Call,2025-03-04\n",
                   name="activities.csv")
    assert loaded.kind == "activities"
    assert loaded.report.duplicate_ids == 1
    assert loaded.report.rows_kept == 3
    assert [(r.line, r.reason) for r in loaded.report.rejected] == [
        (5, "duplicate id (first seen on line 4)")]


# ---------------------------------------------------------------- the typed-rows query, pinned

_OPP = RowsQuery(
    kind="opportunities", typed={"amount": "amount", "close_date": "date", "status": "status"},
    untyped=("opp_id", "stage"), mapped=frozenset({"opp_id", "stage", "amount", "close_date",
                                                  "status"}),
    date_orders={"close_date": "mdy"}, key_field="opp_id", has_blank=True)


@pytest.mark.parametrize(
    ("query", "cells", "expected"),
    [
        (_OPP,  # a US export: money text, month-first dates, a status column
         {"opp_id": ["1"], "stage": ["Demo"], "amount__raw": ["$1,234.00"],
          "close_date__raw": ["4/5/25"], "status__raw": ["Won"], "_blank": [False]},
         {"amount": 1234.0, "amount__bad": False, "close_date": dt.date(2025, 4, 5),
          "close_date__bad": False, "status": "won", "_reason": None}),
        (_OPP,  # unreadable values are flagged, the row is kept
         {"opp_id": ["2"], "stage": ["Demo"], "amount__raw": ["lots"],
          "close_date__raw": ["someday"], "status__raw": ["pending"], "_blank": [False]},
         {"amount": None, "amount__bad": True, "close_date": None, "close_date__bad": True,
          "status": None, "_reason": None}),
        (_OPP,  # "inf" is not an amount; a year outside 1950–2200 is not a date
         {"opp_id": ["3"], "stage": ["Demo"], "amount__raw": ["inf"],
          "close_date__raw": ["01/01/1900"], "status__raw": [None], "_blank": [False]},
         {"amount": None, "amount__bad": True, "close_date": None, "close_date__bad": True,
          "_reason": None}),
        (_OPP,  # finite, but more than a billion billion: a typo, not an amount
         {"opp_id": ["4"], "stage": ["Demo"], "amount__raw": ["1e308"],
          "close_date__raw": [None], "status__raw": [None], "_blank": [False]},
         {"amount": None, "amount__bad": True, "_reason": None}),
        (_OPP,  # a totals line
         {"opp_id": [None], "stage": [None], "amount__raw": ["9,999"],
          "close_date__raw": [None], "status__raw": [None], "_blank": [False],
          "_first": ["Grand Total"]},
         {"amount": 9999.0, "_reason": "report footer or totals line, not a record"}),
        (_OPP,
         {"opp_id": [None], "stage": [None], "amount__raw": [None], "close_date__raw": [None],
          "status__raw": [None], "_blank": [True]},
         {"_reason": "blank row", "_key": None}),
        (_OPP,
         {"opp_id": [None], "stage": ["Demo"], "amount__raw": ["5"], "close_date__raw": [None],
          "status__raw": [None], "_blank": [False]},
         {"_reason": "no opportunity id"}),
        (RowsQuery(kind="opportunities", typed={"amount": "amount"}, untyped=("stage",),
                   mapped=frozenset({"stage", "amount"}), decimal_comma={"amount": True}),
         {"stage": ["Demo"], "amount__raw": ["(1.000,50 €)"]},
         {"amount": -1000.5, "_reason": None, "_key": None}),
        (RowsQuery(kind="activities", typed={"activity_date": "date"}, untyped=("rep",),
                   plain=frozenset({"activity_date"}), mapped=frozenset({"rep", "activity_date"})),
         {"rep": [None], "activity_date": pa.array([dt.date(2025, 1, 2)], pa.date32())},
         {"_reason": "no rep / owner"}),
        (RowsQuery(kind="stage_history", typed={"entered_date": "date"},
                   untyped=("opp_id", "stage"), date_orders={"entered_date": "dmy"},
                   mapped=frozenset({"opp_id", "stage", "entered_date"})),
         {"opp_id": ["7"], "stage": ["Demo"], "entered_date__raw": ["31.01.2025"]},
         {"entered_date": dt.date(2025, 1, 31), "_reason": None}),
        (RowsQuery(kind="opportunities", typed={}, untyped=("opp_id", "stage"),
                   mapped=frozenset({"opp_id", "stage"}), entered=2, entered_plain=frozenset({1}),
                   entered_order="dmy"),
         {"opp_id": ["8"], "stage": ["Won"], "_entered0__raw": ["02/03/2025"],
          "_entered1": pa.array([dt.date(2025, 4, 1)], pa.date32())},
         {"_entered0": dt.date(2025, 3, 2), "_reason": None}),
    ],
)
def test_typed_rows_sql_reads_each_kind_of_cell(
    query: RowsQuery, cells: dict[str, object], expected: dict[str, object]
) -> None:
    from diagnostics.dataset import connect_locked

    table = {"_line": [2], "_first": ["x"], **cells}
    con = connect_locked()
    con.register("_parse_cells", pa.table(table))
    sql = typed_rows_sql(query)
    result = con.sql(sql, params={"today": TODAY} if query.checks_future_close else {})
    assert result.columns == query.outputs
    row = dict(zip(result.columns, result.fetchall()[0], strict=True))
    assert {k: row[k] for k in expected} == expected


def test_plan_columns_names_raw_columns_and_what_to_type() -> None:
    raw = read_raw(b"Deal ID,Stage,Amount,Close Date,Date entered Demo (Sales Pipeline)\n"
                   b"1,Demo,5,2025-01-01,2024-12-01\n", "hubspot.csv")
    plan = plan_columns(raw, propose_table_mapping(raw))
    assert plan.column_of == {"opp_id": "c0", "stage": "c1", "amount": "c2", "close_date": "c3"}
    assert plan.typed == {"amount": "amount", "close_date": "date"}
    assert plan.needed == ("amount", "close_date", "opp_id", "stage")
    assert plan.entered == ((4, "Demo"),) and plan.key_field == "opp_id"


def test_parse_table_uses_the_given_connection_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import diagnostics.ingest._parse as parse
    from diagnostics.dataset import connect_locked

    opened: list[object] = []
    monkeypatch.setattr(parse, "connect_locked", lambda: opened.append(1) or connect_locked())
    raw = read_raw(b"Deal ID,Stage,Date entered Demo\n1,Demo,2025-01-01\n2,Won,\n", "h.csv")
    con = connect_locked()
    loaded = parse_table(raw, propose_table_mapping(raw), today=TODAY, con=con)
    assert opened == [] and loaded.history is not None and loaded.history.num_rows == 1
    assert con.execute("SELECT 1").fetchall() == [(1,)]  # still open for the Dataset
    parse_table(raw, propose_table_mapping(raw), today=TODAY)
    assert opened == [1]


def test_a_decimal_comma_column_of_plain_looking_cells_reads_its_thousands() -> None:
    # "1.125" reads as a thousands group (nothing in the column is a decimal point): the fast
    # path for plain-looking columns must read it the same way as the full reading.
    plain = _load("Opportunity ID,Stage,Amount\n1,Demo,1.125\n2,Demo,1\n").table
    assert plain.column("amount").to_pylist() == [1125.0, 1.0]


@pytest.mark.parametrize(
    ("header", "stages", "expected"),
    [
        ("demo_date", ["Demo"], "Demo"),
        ("Proposal Sent On", ["Proposal Sent", "Proposal"], "Proposal Sent"),
        ("Proposal Sent On", ["Proposal"], "Proposal"),
        ("Trial started", ["Trial"], "Trial"),
        ("Date reached Negotiation", ["Negotiation"], "Negotiation"),
        ("Contract signed date", ["Contract Signed"], "Contract Signed"),
        # Named after nothing the pipeline has: ordinary columns, however date-like.
        ("Trial started", ["Demo", "Proposal"], None),
        ("Onboarding completed", ["Demo", "Won"], None),
        ("Contract signed date", ["Contract", "Demo"], None),
        ("Demo", ["Demo"], None),  # no date word: the stage column itself
    ],
)
def test_a_date_column_is_stage_evidence_only_when_it_names_a_stage(
    header: str, stages: list[str], expected: str | None
) -> None:
    from diagnostics.ingest import stage_date_columns

    found = stage_date_columns(["Deal ID", header], stages)
    assert found == ([] if expected is None else [(1, expected)])


DEALS_WITH_ONBOARDING = (
    "Deal ID,Stage,Created,Close Date,demo_date,Onboarding completed\n"
    "1,Won,2025-01-02,2025-02-01,2025-01-05,2025-02-10\n"
    "2,Lost,2025-01-03,2025-01-20,2025-01-06,\n"
    "3,Demo,2025-01-04,,2025-01-07,\n"
)


def test_a_date_column_named_after_no_stage_stays_an_unused_column() -> None:
    from diagnostics.uploads import load_files

    read = load_files([("deals.csv", DEALS_WITH_ONBOARDING.encode())])
    assert read.stages.funnel == ("Demo",)
    (table,) = read.tables
    notes = " ".join(table.report.notes)
    assert "Not stage evidence: “Onboarding completed” names no stage of the pipeline" in notes
    assert "(“demo_date”)" in notes  # the stage-named one is read as evidence
    reached = dict(read.dataset.con.execute(
        "SELECT opp_id, reached_rank FROM opportunities").fetchall())
    assert reached == {"1": 2, "2": 1, "3": 1}  # Won is rank 2: no Onboarding step in between


def test_a_stage_history_file_makes_its_stages_names_a_date_column_can_take() -> None:
    from diagnostics.uploads import load_files

    history = ("opportunity_id,stage,entered_date\n1,Demo,2025-01-05\n"
               "1,Onboarding,2025-02-10\n")
    read = load_files([("deals.csv", DEALS_WITH_ONBOARDING.encode()),
                       ("history.csv", history.encode())])
    assert "Onboarding" in read.stages.funnel
    deals = next(t for t in read.tables if t.mapping.kind == "opportunities")
    assert not any("Not stage evidence" in n for n in deals.report.notes)
    assert any("“demo_date”, “Onboarding completed”" in n for n in deals.report.notes)


def test_unused_columns_are_named_and_a_long_list_is_counted() -> None:
    headers = ",".join(["Deal ID", "Stage", *(f"Extra {i}" for i in range(15))])
    row = ",".join(["1", "Demo", *("x" for _ in range(15))])
    loaded = _load(f"{headers}\n{row}\n")
    note = next(n for n in loaded.report.notes if n.startswith("Not used"))
    assert note.startswith("Not used (no field is mapped to them): “Extra 0”, “Extra 1”")
    assert note.endswith("“Extra 11” and 3 more.")


def test_cells_read_as_codes_are_trimmed_through_their_values() -> None:
    codes = pa.chunked_array([pa.array([" Ann", "Ann ", "  ", None, "Bo"]).dictionary_encode(),
                              pa.array(["Cy", "Cy "]).dictionary_encode()])
    out = trimmed(codes)
    assert pa.types.is_dictionary(out.type)
    assert out.to_pylist() == ["Ann", "Ann", None, None, "Bo", "Cy", "Cy"]
    assert sorted(out.chunk(0).dictionary.to_pylist()) == ["Ann", "Bo"]  # " Ann", "Ann " merged
    clean = pa.chunked_array([pa.array(["Ann", "Bo", "Ann"]).dictionary_encode()])
    assert trimmed(clean) is clean  # nothing to trim: no copy


def test_cells_read_as_codes_are_cast_once_per_value() -> None:
    codes = pa.chunked_array([pa.array(["1.5", None, "1.5"]).dictionary_encode(),
                              pa.array(["2"]).dictionary_encode()])
    assert cast_cells(codes, pa.float64()).to_pylist() == [1.5, None, 1.5, 2.0]
    assert cast_cells(pa.chunked_array([["7"]]), pa.float64()).to_pylist() == [7.0]


def test_files_read_as_codes_and_as_plain_text_load_together() -> None:
    many = "Opportunity ID,Stage,Amount,Created Date\n" + "".join(
        f"A{i},{'Demo' if i % 3 else 'Closed Won'},{i},2025-01-0{i % 2 + 1}\n" for i in range(30))
    few = "Opportunity ID,Stage,Amount,Created Date\nB1,Demo,5,2025-02-01\n"
    result = load_files([("many.csv", many.encode()), ("few.csv", few.encode())])
    counts = dict(result.dataset.con.execute(
        "SELECT stage, count(*) FROM opportunities GROUP BY 1").fetchall())
    assert counts == {"Demo": 21, "Closed Won": 10}
    assert pa.types.is_dictionary(result.tables[0].table.column("stage").type)
    assert result.tables[1].table.column("stage").type == pa.string()


LINES = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / (
    "salesforce_opportunity_products.csv")


def test_an_export_of_product_lines_says_so_and_keeps_each_opportunitys_amount_once() -> None:
    result = load_files([(LINES.name, LINES.read_bytes())])
    report = result.tables[0].report
    assert (report.duplicate_ids, report.rejected_by_reason) == (5, {"duplicate id": 5})
    assert report.product_lines is not None
    assert (report.product_lines.rows, report.product_lines.opportunities) == (8, 3)
    said = report.problems()
    assert said[0] == (
        "The export holds one row per product line: 8 rows are the lines of 3 opportunities, "
        "which repeat the opportunity's id and stage while the product columns (“Product "
        "Name”, “Product Code”, “Quantity”, “Sales Price”, “Total Price”) change. The first "
        "row of each opportunity is kept and the 5 other lines are left out (counted as "
        "duplicate ids). “Amount” is the same on every line of an opportunity, so the row kept "
        "carries the opportunity's amount, not a sum of its lines. “Product Name” is read "
        "from the first line only.")
    assert not any("left out: duplicate id" in p for p in said)
    # Each opportunity once, with its own amount (the sum of its lines, not counted twice).
    rows = result.dataset.query_df(
        "SELECT count(*) AS n, sum(amount) AS s FROM opportunities").to_dict("records")
    assert rows == [{"n": 7, "s": 18000 + 9500 + 27500 + 14400 + 21000 + 4200 + 7200}]


def test_repeated_ids_that_are_not_product_lines_stay_plain_duplicates() -> None:
    text = ("Opportunity ID,Stage,Amount,Product Name\n"
            "A,Demo,100,Widget\nA,Won,100,Gadget\nB,Demo,50,Widget\nB,Demo,50,Widget\n")
    raw = read_raw(text.encode(), "deals.csv")
    report = parse_table(raw, propose_table_mapping(raw)).report
    assert report.product_lines is None  # A changes stage; B's rows are the same line twice
    assert "2 rows left out: duplicate id." in report.problems()


def test_inspect_reports_product_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from diagnostics.cli import main as cli_main

    assert cli_main(["inspect", str(LINES), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["product_lines"] == {
        "rows": 8, "opportunities": 3, "amounts_differ": 0,
        "columns": ["Product Name", "Product Code", "Quantity", "Sales Price", "Total Price"]}


def test_product_lines_whose_amount_changes_say_only_the_first_lines_is_kept() -> None:
    text = ("Opportunity ID,Stage,Total Price,Product Name\n"
            "A,Demo,100,Widget\nA,Demo,250,Gadget\nB,Won,80,Widget\n")
    raw = read_raw(text.encode(), "lines.csv")
    mapping = propose_table_mapping(raw)
    mapping.columns["amount"] = "Total Price"
    report = parse_table(raw, mapping).report
    assert report.product_lines is not None and report.product_lines.amounts_differ == 1
    assert ("“Total Price” differs from line to line in 1 opportunity: only the first line's "
            "is kept there, which may not be the opportunity's total") in report.problems()[0]
