"""How much work storing an upload takes: statements made, steps skipped, same answers."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from diagnostics import dataset as dataset_module
from diagnostics import readers
from diagnostics.dataset import StageConfig, build_dataset, connect_locked
from diagnostics.ingest import _assemble, _parse
from diagnostics.readers import read_raw

D = dt.date


class _Counting:
    """A connection that counts the calls made on it (and forwards them)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.con, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return counted


def _coded(codes: list[int | None], values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values))


def test_each_enum_of_a_stored_table_takes_one_statement() -> None:
    con = _Counting(connect_locked())
    con.register("_rows", pa.table({"a": pa.array([0, 1, 1], pa.uint8()),
                                    "b": ["x", "y", "x"], "c": ["p", "p", "q"]}))
    con.calls.clear()
    dataset_module._create_compact(
        con, "demo", ("a", "b", "c"), "SELECT a, b, c FROM _rows",  # type: ignore[arg-type]
        values={"a": ("O'Brien", "=Dana"), "b": ("x", "y"), "c": ("p", "q")}, coded={"a"})
    # Drop the view and the table, one statement per ENUM, one check of the coded ENUMs'
    # order, the table and the view: no values registered and dropped again per ENUM.
    assert con.calls.count("execute") == 2 + 3 + 1 + 2
    assert "register" not in con.calls
    assert con.con.execute("SELECT a, b, c FROM demo").fetchall() == [
        ("O'Brien", "x", "p"), ("=Dana", "y", "p"), ("=Dana", "x", "q")]
    # Stored again on the same connection with other values: the ENUMs are replaced.
    dataset_module._create_compact(
        con, "demo", ("a", "b", "c"), "SELECT a, b, c FROM _rows",  # type: ignore[arg-type]
        values={"a": ("Ann", "Bo"), "b": ("x", "y"), "c": ()}, coded={"a"})
    assert con.con.execute("SELECT a, b, c FROM demo").fetchall() == [
        ("Ann", "x", "p"), ("Bo", "y", "p"), ("Bo", "x", "q")]


def test_stages_without_probabilities_or_statuses_are_counted_without_duckdb() -> None:
    deals = pa.table({
        "stage": pa.chunked_array([_coded([0, 1, None, 0], ["Demo", "Won"]),
                                   _coded([1, 0], ["Lost", "Demo"])]),
        "status": pa.nulls(6, pa.string()), "probability": pa.nulls(6, pa.float64())})
    con = _Counting(connect_locked())
    names, counts, position, probability, won, lost = _assemble._stage_evidence(
        con, deals, None)  # type: ignore[arg-type]
    assert con.calls == []
    assert (names, counts) == (["Demo", "Lost", "Won"], {"Demo": 3, "Won": 1, "Lost": 1})
    assert (position, probability, won, lost) == ({}, {}, [], [])


def test_stage_evidence_counted_in_arrow_matches_duckdb() -> None:
    stage = pa.chunked_array([_coded([0, 1, None, 0, 2], ["Demo", "Won", "Lost"])])
    blank = pa.table({"stage": stage, "status": pa.nulls(5, pa.string()),
                      "probability": pa.nulls(5, pa.float64())})
    # One probability sends the stages through DuckDB; it changes no count.
    given = blank.set_column(2, "probability", pa.array([None, None, None, None, 0.0]))
    con = connect_locked()
    fast = _assemble._stage_evidence(con, blank, None)
    slow = _assemble._stage_evidence(con, given, None)
    assert fast[:2] == slow[:2]
    assert slow[3] == {"Lost": 0.0}


_STAGES = StageConfig(funnel=("Lead", "Demo", "Trial"), won=("Won", "Closed Won"),
                      lost=("Lost",), excluded=("On hold",),
                      renames=(("Trial", "Pilot"), ("Closed Won", "Won")))


def test_stages_read_as_codes_carry_their_settings_per_code() -> None:
    stage = pa.chunked_array([_coded([0, 1, None], ["Trial", "Closed Won"]),
                              _coded([0, 1, 2, 3], ["Won", "Mystery", "Lead", "On hold"])])
    found = dataset_module._stages_by_code(pa.table({"stage": stage}), [
        (s, r, _STAGES.display_name(s), role) for s, r, role in (
            ("Lead", 1, "open"), ("Trial", 3, "open"), ("Won", 4, "won"),
            ("Closed Won", 4, "won"), ("On hold", None, "excluded"))])
    assert found is not None
    table, names, (ranks, roles, shown) = found
    codes = table["stage"].to_pylist()
    assert [None if c is None else (ranks[c], roles[c], names[shown[c]]) for c in codes] == [
        (3, "open", "Pilot"), (4, "won", "Won"), None, (4, "won", "Won"),
        (None, None, "Mystery"), (1, "open", "Lead"), (None, "excluded", "On hold")]
    # "Closed Won" is shown as "Won": one name; a stage no setting names keeps its own.
    assert sorted(names) == ["Lead", "Mystery", "On hold", "Pilot", "Won"]


def test_stages_not_read_as_codes_or_listed_twice_are_looked_up_by_name() -> None:
    rows = [("Lead", 1, "Lead", "open")]
    assert dataset_module._stages_by_code(pa.table({"stage": ["Lead"]}), rows) is None
    coded = pa.table({"stage": pa.chunked_array([_coded([0], ["Lead"])])})
    assert dataset_module._stages_by_code(coded, rows * 2) is None


def test_deals_stored_by_stage_codes_read_as_deals_looked_up_by_name() -> None:
    stages = ["Trial", "Closed Won", None, "Won", "Mystery", "Lead", "On hold", "Lost", "Lost"]
    ids = [str(i) for i in range(len(stages))]
    deals = pd.DataFrame({
        "opp_id": ids, "stage": stages,
        "status": [None, None, "lost", None, None, "won", None, None, "open"],
        "amount": [float(i) for i in range(len(stages))],
        "created_date": [D(2025, 1, i + 1) for i in range(len(stages))],
        "close_date": [D(2025, 3, i + 1) for i in range(len(stages))],
        "won_date": [None] * 3 + [D(2025, 2, 1)] + [None] * 5})
    history = pd.DataFrame({"opp_id": ["7", "7"], "stage": ["Lead", "Trial"],
                            "entered_date": [D(2025, 1, 1), D(2025, 1, 5)]})
    coded = pa.Table.from_pandas(deals, preserve_index=False)
    coded = coded.set_column(coded.schema.get_field_index("stage"), "stage",
                             coded["stage"].cast(pa.string()).dictionary_encode())
    by_name = build_dataset(deals, _STAGES, stage_history=history)
    by_code = build_dataset(coded, _STAGES, stage_history=history)
    query = "SELECT * FROM opportunities ORDER BY opp_id"
    assert by_code.con.execute(query).fetchall() == by_name.con.execute(query).fetchall()
    assert by_code.con.execute(
        "SELECT stage, status, reached_rank FROM opportunities WHERE opp_id IN ('1', '7', '8') "
        "ORDER BY opp_id").fetchall() == [("Won", "won", 4), ("Lost", "lost", 3),
                                          ("Lost", "open", 1)]


def test_lines_of_a_quoted_file_are_counted_while_arrow_reads_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    counted_on: list[str] = []
    count = readers._line_breaks

    def recorded(data: bytes | str, start: int = 0) -> int:
        if isinstance(data, bytes):
            counted_on.append(threading.current_thread().name)
        return count(data, start)

    monkeypatch.setattr(readers, "_line_breaks", recorded)
    raw = read_raw(b'id,stage,note\n1,Demo,"two\nlines"\n2,Won,plain\n', "deals.csv")
    assert counted_on and threading.main_thread().name not in counted_on
    assert raw.table.column("_line").to_pylist() == [2, 4]  # the quoted cell spans lines 2-3


def test_rows_of_which_none_is_left_out_are_not_queried_for_reasons() -> None:
    raw = read_raw(b"id,stage\n1,Demo\n2,Won\n", "deals.csv")
    rows = pa.table({"_line": [2, 3], "_reason": pa.nulls(2, pa.string())})
    con = _Counting(connect_locked())
    assert _parse._rejections(con, raw, rows) == ({}, [])  # type: ignore[arg-type]
    assert con.calls == []
    left_out = rows.set_column(1, "_reason", pa.array([None, "no stage and no status"]))
    con.con.register("_parse_typed", left_out)
    by_reason, examples = _parse._rejections(con, raw, left_out)  # type: ignore[arg-type]
    assert by_reason == {"no stage and no status": 1}
    assert [(r.line, r.reason) for r in examples] == [(3, "no stage and no status")]


def test_line_breaks_are_counted_a_megabyte_at_a_time_across_the_cuts() -> None:
    # Counting runs beside Arrow's reading: its working arrays stay small (4 MB pieces raised
    # the peak memory of a 1M-deal upload by about 5 MB).
    assert readers._COUNT_BYTES <= 1 << 20
    line = b"x" * (readers._COUNT_BYTES - 1) + b"\r\n"  # the \r\n straddles the first cut
    assert readers._line_breaks(line * 3 + b"tail\rlast") == 4
    assert readers._line_breaks(line * 3, start=5) == 3
