"""The canonical tables, furthest-stage ranks, filters and the connection lockdown."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from diagnostics import dataset as dataset_module
from diagnostics.dataset import (
    Filters,
    StageConfig,
    build_dataset,
    connect_locked,
    null_column,
    prepare_spare_connection,
)

STAGES = StageConfig(funnel=("Lead", "Demo", "Trial"), won=("Won",), lost=("Lost",),
                     excluded=("On hold",), renames=(("Trial", "Pilot"),))
D = dt.date


def _dataset():  # type: ignore[no-untyped-def]
    opp = pd.DataFrame({
        "opp_id": ["1", "2", "3", "4", "5", "6"],
        "rep": ["a", "a", "b", "b", "c", "c"],
        "stage": ["Demo", "Won", "Lost", "On hold", "Trial", "Lost"],
        "amount": [100.0, 200.0, 300.0, 400.0, None, 50.0],
        "created_date": [D(2025, 1, 1)] * 6,
        "close_date": [None, D(2025, 2, 1), D(2025, 3, 1), None, None, D(2025, 1, 10)],
        "segment": ["SMB", "SMB", "Ent", "Ent", "SMB", None],
    })
    hist = pd.DataFrame({"opp_id": ["3", "3", "3"], "stage": ["Lead", "Trial", "Lost"],
                         "entered_date": [D(2025, 1, 1), D(2025, 1, 9), D(2025, 3, 1)]})
    acts = pd.DataFrame({"rep": ["a", "a"], "type": ["Demo call", "Email"],
                         "activity_date": [D(2025, 4, 1), D(2025, 4, 2)], "opp_id": ["1", None]})
    return build_dataset(opp, STAGES, stage_history=hist, activities=acts)


def test_reached_rank_follows_the_furthest_stage_rule() -> None:
    ds = _dataset()
    ranks = dict(ds.con.execute("SELECT opp_id, reached_rank FROM opportunities").fetchall())
    # open Demo → 2; won → 4 (every stage); lost with history up to Trial → 3;
    # parked with no history → excluded (NULL); open Trial → 3; lost with no history and no
    # funnel stage → "lost, stage unknown" (NULL: charged to no step).
    assert ranks == {"1": 2, "2": 4, "3": 3, "4": None, "5": 3, "6": None}


def test_status_renames_and_last_touch() -> None:
    ds = _dataset()
    rows = ds.query_df("SELECT opp_id, status, stage, last_touch FROM opportunities "
                       "ORDER BY opp_id")
    assert rows["status"].tolist() == ["open", "won", "lost", "open", "open", "lost"]
    assert rows["stage"].tolist()[4] == "Pilot"
    assert rows["last_touch"].tolist()[0] == pd.Timestamp(2025, 4, 1)  # activity on the deal
    assert ds.query_df("SELECT stage FROM funnel_stages ORDER BY rank")["stage"].tolist() == [
        "Lead", "Demo", "Pilot", "Won"]
    assert ds.as_of == D(2025, 4, 2)
    assert ds.has_activities and ds.has_stage_history
    meetings = ds.query_df("SELECT type, is_meeting FROM activities ORDER BY type")
    assert meetings["is_meeting"].tolist() == [True, False]


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (Filters(), {"1", "2", "3", "4", "5", "6"}),
        (Filters(cohort="closed"), {"2", "3", "6"}),
        (Filters(cohort="closed", start=D(2025, 2, 1)), {"2", "3"}),
        (Filters(segment=("SMB",)), {"1", "2", "5"}),
        (Filters(rep=("b", "c"), segment=("Ent",)), {"3", "4"}),
        (Filters(start=D(2026, 1, 1)), set()),
    ],
)
def test_filters(filters: Filters, ids: set[str]) -> None:
    from diagnostics.dataset import opportunity_filter_sql

    ds = _dataset()
    where, params = opportunity_filter_sql(filters)
    got = {r[0] for r in ds.con.execute(f"SELECT opp_id FROM opportunities o WHERE {where}",
                                        params).fetchall()}
    assert got == ids


def test_filter_values_are_parameters_not_sql() -> None:
    from diagnostics.dataset import opportunity_filter_sql

    where, params = opportunity_filter_sql(Filters(rep=("x'); DROP TABLE opportunities; --",)))
    assert "DROP" not in where and params == ["x'); DROP TABLE opportunities; --"]
    with pytest.raises(ValueError):
        opportunity_filter_sql(Filters(), alias="o; DROP")


def test_locked_connection_cannot_read_files_or_change_settings() -> None:
    con = connect_locked()
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        con.execute("INSTALL httpfs")
    assert con.execute("SELECT current_setting('autoload_known_extensions')").fetchall()[0][0] \
        is False


def test_a_connection_made_ahead_is_locked_and_handed_out_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dataset_module, "_spare", [])
    prepare_spare_connection()
    prepare_spare_connection()  # one is ready already: no second one is made
    assert len(dataset_module._spare) == 1
    ahead = dataset_module._spare[0]
    con = connect_locked()
    assert con is ahead and dataset_module._spare == []
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != ""
    other = connect_locked()  # none ready: a fresh one, never the one handed out before
    assert other is not con
    prepare_spare_connection()
    # Other settings than the defaults are never served from the one made ahead.
    assert connect_locked(memory_limit="1GB") is not dataset_module._spare[0]
    assert len(dataset_module._spare) == 1


def test_describe_names_cohort_and_filters() -> None:
    text = Filters(start=D(2025, 1, 1), end=D(2025, 3, 31), cohort="closed",
                   region=("EMEA",)).describe()
    assert text == "Deals won or lost 01 Jan 2025 – 31 Mar 2025; region = EMEA"


def test_parked_deals_stay_out_even_with_stage_history() -> None:
    opp = pd.DataFrame({"opp_id": ["1"], "stage": ["On hold"], "created_date": [D(2025, 1, 1)]})
    hist = pd.DataFrame({"opp_id": ["1", "1"], "stage": ["Lead", "Demo"],
                         "entered_date": [D(2025, 1, 1), D(2025, 1, 5)]})
    ds = build_dataset(opp, STAGES, stage_history=hist)
    assert ds.con.execute("SELECT status, reached_rank FROM opportunities").fetchall() == [
        ("open", None)]


def _stored_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Return column → type, with every ENUM(...) shortened to ENUM."""
    return {column: "ENUM" if kind.startswith("ENUM(") else kind for column, kind in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
    ).fetchall()}


def test_few_valued_text_is_stored_compactly_but_read_as_text() -> None:
    opp = pd.DataFrame({
        "opp_id": ["1", "2", "3"], "rep": ["O'Brien", "=Dana", "O'Brien"],
        "stage": ["Demo", "Won", "Lost"], "created_date": [D(2025, 1, 1)] * 3,
    })
    act = pd.DataFrame({"rep": ["O'Brien"], "type": ["Demo call"],
                        "activity_date": [D(2025, 1, 2)]})
    hist = pd.DataFrame({"opp_id": ["1"], "stage": ["Demo"], "entered_date": [D(2025, 1, 1)]})
    ds = build_dataset(opp, STAGES, activities=act, stage_history=hist)
    stored = _stored_types(ds.con, "_opportunities_store")
    assert stored["rep"] == stored["stage"] == stored["status"] == "ENUM"
    assert stored["opp_id"] == "VARCHAR"  # one value per deal: no gain from an ENUM
    assert _stored_types(ds.con, "_activities_store")["type"] == "ENUM"
    assert _stored_types(ds.con, "_stage_history_store")["stage"] == "ENUM"
    assert set(_stored_types(ds.con, "opportunities").values()) <= {
        "VARCHAR", "DOUBLE", "DATE", "INTEGER", "BIGINT"}
    rows = ds.con.execute("SELECT rep, count(*) FROM opportunities GROUP BY rep ORDER BY rep"
                          ).fetchall()
    assert rows == [("=Dana", 1), ("O'Brien", 2)]  # text order, not the ENUM's order
    assert ds.con.execute("SELECT count(*) FROM opportunities WHERE rep = ?",
                          ["Nobody"]).fetchall() == [(0,)]  # an unknown value is no error


def test_text_with_many_distinct_values_stays_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("diagnostics.dataset.MAX_ENUM_VALUES", 2)
    opp = pd.DataFrame({"opp_id": ["1", "2", "3"], "rep": ["Ann", "Bo", "Cy"],
                        "team": ["East", "East", "West"], "stage": ["Demo"] * 3,
                        "created_date": [D(2025, 1, 1)] * 3})
    ds = build_dataset(opp, STAGES)
    stored = _stored_types(ds.con, "_opportunities_store")
    assert (stored["rep"], stored["team"]) == ("VARCHAR", "ENUM")
    assert ds.con.execute("SELECT list(rep ORDER BY rep) FROM opportunities").fetchall() == [
        (["Ann", "Bo", "Cy"],)]



def _coded_text(chunks: list[tuple[list[int | None], list[str]]]) -> pa.ChunkedArray:
    """Return text read as codes: each chunk its own codes into its own list of values."""
    return pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                                            pa.array(values))
                             for codes, values in chunks])


def test_text_read_as_codes_is_stored_by_its_codes_with_the_same_values() -> None:
    # Two chunks with their own value lists (as Arrow's CSV reader makes them), a missing rep,
    # and a segment list repeating a value, which no ENUM can hold: it is read as text instead.
    rep = _coded_text([([0, 1, None], ["Ann", "Bo"]), ([0, 1, 0], ["Cy", "Ann"])])
    segment = _coded_text([([0, 1, 0, 2, 2, 2], ["SMB", "SMB", "Ent"])])
    opp = pa.table({
        "opp_id": [str(i) for i in range(6)], "rep": rep, "segment": segment,
        "stage": ["Demo", "Won", "Lost", "Demo", "Trial", "Won"],
        "created_date": pa.array([D(2025, 1, 1)] * 6, pa.date32()),
    })
    act = pa.table({"rep": _coded_text([([1, 0], ["Bo", "Ann"])]), "type": ["Demo call", "Email"],
                    "activity_date": pa.array([D(2025, 1, 2)] * 2, pa.date32()),
                    "opp_id": ["0", "1"]})
    ds = build_dataset(opp, STAGES, activities=act)
    rows = ds.con.execute("SELECT opp_id, rep, segment FROM opportunities ORDER BY opp_id"
                          ).fetchall()
    assert rows == [("0", "Ann", "SMB"), ("1", "Bo", "SMB"), ("2", None, "SMB"),
                    ("3", "Cy", "Ent"), ("4", "Ann", "Ent"), ("5", "Cy", "Ent")]
    assert ds.con.execute("SELECT list(rep ORDER BY activity_date, rep) FROM activities"
                          ).fetchall() == [(["Ann", "Bo"],)]
    stored = _stored_types(ds.con, "_opportunities_store")
    assert stored["rep"] == stored["segment"] == "ENUM"
    assert _stored_types(ds.con, "_activities_store")["rep"] == "ENUM"
    assert dataset_module._codes(segment) is None  # the repeated value: looked up as text
    assert ds.con.execute("SELECT rep, count(*) FROM opportunities WHERE rep IS NOT NULL "
                          "GROUP BY rep ORDER BY rep").fetchall() == [
        ("Ann", 2), ("Bo", 1), ("Cy", 2)]

def test_building_again_on_the_same_connection_replaces_the_tables() -> None:
    con = connect_locked()
    first = pd.DataFrame({"opp_id": ["1"], "rep": ["Ann"], "stage": ["Demo"],
                          "created_date": [D(2025, 1, 1)]})
    second = first.assign(rep=["Bo"])
    build_dataset(first, STAGES, con=con)
    ds = build_dataset(second, STAGES, con=con)
    assert ds.con.execute("SELECT rep FROM opportunities").fetchall() == [("Bo",)]


def test_periods_end_at_the_as_of_date_and_the_whole_range_keeps_undated_deals() -> None:
    opps = pd.DataFrame({
        "opp_id": ["1", "2", "3"], "stage": ["Demo", "Won", "Demo"], "amount": [1.0, 2.0, 3.0],
        "created_date": [dt.date(2025, 1, 5), dt.date(2025, 2, 1), None],
        "close_date": [dt.date(2027, 1, 1), dt.date(2025, 3, 1), None]})  # 1: expected close
    data = build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",)))
    assert data.as_of == dt.date(2025, 3, 1)
    assert data.date_range() == (dt.date(2025, 1, 5), dt.date(2025, 3, 1))
    whole = data.period_filters(dt.date(2025, 1, 5), dt.date(2025, 3, 1), cohort="created")
    assert whole == Filters(cohort="created")
    part = data.period_filters(dt.date(2025, 1, 10), dt.date(2025, 3, 1))
    assert (part.start, part.end) == (dt.date(2025, 1, 10), dt.date(2025, 3, 1))


@pytest.mark.parametrize(
    ("start", "end", "before"),
    [
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30), (dt.date(2026, 1, 1), dt.date(2026, 3, 31))),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
        (dt.date(2026, 3, 10), dt.date(2026, 3, 19), (dt.date(2026, 2, 28), dt.date(2026, 3, 9))),
    ],
    ids=["quarter", "month", "year", "ten days"],
)
def test_previous_period_keeps_the_other_filters(
    start: dt.date, end: dt.date, before: tuple[dt.date, dt.date]
) -> None:
    prev = Filters(start=start, end=end, segment=("SMB",)).previous_period()
    assert prev is not None
    assert (prev.start, prev.end, prev.segment) == (*before, ("SMB",))
    assert Filters(start=start).previous_period() is None
    assert Filters(start=end, end=start).previous_period() is None


def test_a_period_is_described_and_replaced() -> None:
    q2 = Filters(rep=("Ann",)).with_period(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert (q2.rep, q2.describe_period()) == (("Ann",), "01 Apr 2026 – 30 Jun 2026")
    assert Filters().describe_period() == "any date"


@pytest.mark.parametrize("rows", [0, 5, 65_536, 200_001])
def test_a_missing_column_holds_one_small_block_whatever_its_length(rows: int) -> None:
    import pyarrow as pa

    column = null_column(rows, pa.float64())
    assert (len(column), column.null_count, column.type) == (rows, rows, pa.float64())
    assert column.get_total_buffer_size() <= 65_536 * 8 + 65_536 // 8  # not 8 bytes a row
    con = connect_locked()
    con.register("t", pa.table({"x": column, "y": pa.array(range(rows), pa.int64())}))
    assert con.execute("SELECT count(*), count(x), sum(y) FROM t").fetchall()[0][:2] == (rows, 0)


def test_deals_by_month_counts_created_deals_by_status_and_leaves_undated_ones_out() -> None:
    from diagnostics.dataset import coverage, deals_by_month

    opp = pd.DataFrame({
        "opp_id": ["1", "2", "3", "4", "5"],
        "rep": ["a"] * 5,
        "stage": ["Demo", "Won", "Lost", "Won", "Demo"],
        "amount": [1.0] * 5,
        "created_date": [D(2025, 1, 5), D(2025, 1, 20), D(2025, 3, 1), D(2025, 3, 31), None],
        "close_date": [None, D(2025, 2, 1), D(2025, 3, 9), D(2025, 4, 2), None],
    })
    ds = build_dataset(opp, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))
    frame = deals_by_month(ds)
    rows = [(m.date(), s, n) for m, s, n in frame.itertuples(index=False)]
    # February has no deal created: no row, so the chart shows the gap.
    assert rows == [(D(2025, 1, 1), "open", 1), (D(2025, 1, 1), "won", 1),
                    (D(2025, 3, 1), "lost", 1), (D(2025, 3, 1), "won", 1)]
    assert coverage(ds).no_created == 1  # the fifth deal, said beside the chart


def test_deals_by_month_tells_parked_deals_from_open_ones() -> None:
    from diagnostics.dataset import deals_by_month

    opp = pd.DataFrame({
        "opp_id": ["1", "2", "3"],
        "rep": ["a"] * 3,
        "stage": ["Demo", "On hold", "On hold"],
        "amount": [1.0] * 3,
        "created_date": [D(2025, 1, 5), D(2025, 1, 20), D(2025, 2, 1)],
        "close_date": [None, None, None],
    })
    config = StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",), excluded=("On hold",))
    frame = deals_by_month(build_dataset(opp, config))
    rows = [(m.date(), s, n) for m, s, n in frame.itertuples(index=False)]
    # Deals on hold are open but out of the funnel and the pipeline: not drawn as open.
    assert rows == [(D(2025, 1, 1), "open", 1), (D(2025, 1, 1), "parked", 1),
                    (D(2025, 2, 1), "parked", 1)]


def _with_dates(created: dt.date, won_close: dt.date, open_close: dt.date):  # type: ignore[no-untyped-def]
    opp = pd.DataFrame({
        "opp_id": ["1", "2"], "rep": ["a", "a"], "stage": ["Won", "Demo"],
        "amount": [100.0, 200.0], "created_date": [created, created],
        "close_date": [won_close, open_close],
    })
    return build_dataset(opp, STAGES, notes=["read from x.csv"])


def test_as_of_is_the_latest_date_but_an_open_deals_expected_close_does_not_count() -> None:
    today = dt.date.today()
    ds = _with_dates(today - dt.timedelta(days=40), today - dt.timedelta(days=10),
                     today + dt.timedelta(days=200))
    assert ds.as_of == today - dt.timedelta(days=10)
    assert ds.as_of_reason == "the latest date in the data"
    assert ds.notes == ["read from x.csv"]


def test_a_closed_deal_closing_after_today_does_not_move_the_as_of_date_past_today() -> None:
    today = dt.date.today()
    later = today + dt.timedelta(days=33)
    ds = _with_dates(today - dt.timedelta(days=40), later, today + dt.timedelta(days=5))
    assert ds.as_of == today
    assert ds.as_of_reason.startswith("today")
    assert ds.notes[0] == "read from x.csv"
    assert f"the latest {later:%d %b %Y}" in ds.notes[1]
    assert f"read as of today, {today:%d %b %Y}" in ds.notes[1]
    assert ds.date_range()[1] == today  # periods end today, not in the future
