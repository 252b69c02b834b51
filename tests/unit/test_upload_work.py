"""How much work storing an upload takes: statements made, steps skipped, same answers."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from diagnostics import dataset as dataset_module
from diagnostics.dataset import connect_locked
from diagnostics.ingest import _assemble


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
