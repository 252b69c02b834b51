"""Date orders and decimal separators decided per column from the data (ingest._formats)."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from diagnostics.ingest import _formats as formats
from diagnostics.ingest import parse_table, propose_table_mapping
from diagnostics.readers import RawTable, read_raw


def _raw(header: str, cells: list[str]) -> RawTable:
    text = "Opportunity ID;Stage;" + header + "\n" + "".join(
        f"{i};Demo;{cell}\n" for i, cell in enumerate(cells))
    return read_raw(text.encode(), "deals.csv")


@pytest.fixture
def small_sample(monkeypatch: pytest.MonkeyPatch) -> int:
    """Decide from the first 4 rows first, so that a short file has rows beyond the sample."""
    monkeypatch.setattr(formats, "SAMPLE_ROWS", 4)
    return 4


def test_a_date_order_is_decided_by_rows_not_by_distinct_values() -> None:
    # Three deals on 13 Jan (day first) against one on Jan 13 (month first): day first wins,
    # and the column is flagged, since both orders occur.
    raw = _raw("Close Date", ["13/01/2025"] * 3 + ["01/13/2025"])
    assert formats.column_date_order(raw, "Close Date") == ("dmy", True)


def test_times_after_a_date_do_not_change_its_order() -> None:
    raw = _raw("Close Date", ["31/03/2025 14:22", " 01/04/2025 09:00:05", "02/04/2025"])
    assert formats.column_date_order(raw, "Close Date") == ("dmy", False)


def test_dates_beyond_the_first_rows_decide_an_order_they_leave_open(small_sample: int) -> None:
    # The first rows fit both orders; a day above 12 further down settles it.
    cells = ["03/04/2025", "05/06/2025", "01/02/2025", "07/08/2025", "09/10/2025", "28/02/2025"]
    raw = _raw("Close Date", cells)
    assert formats.column_date_order(raw, "Close Date") == ("dmy", False)
    mapping = propose_table_mapping(raw)
    assert mapping.date_orders["close_date"] == "dmy"
    assert parse_table(raw, mapping).ambiguous_dates == ()


def test_an_order_no_row_decides_is_flagged(small_sample: int) -> None:
    raw = _raw("Close Date", ["03/04/2025", "05/06/2025", "01/02/2025", "07/08/2025",
                              "09/10/2025", "11/12/2025"])
    assert formats.column_date_order(raw, "Close Date") == ("mdy", True)
    mapping = propose_table_mapping(raw)
    assert parse_table(raw, mapping).ambiguous_dates == ("close_date",)


def test_mixed_orders_in_the_first_rows_are_flagged(small_sample: int) -> None:
    # Two exports pasted together: US dates, then European ones. The first rows are a tie, so
    # every row votes: month first by three to two, and the column is flagged.
    cells = ["03/31/2025", "04/30/2025", "31/03/2025", "15/01/2025", "01/15/2025"]
    assert formats.column_date_order(_raw("Close Date", cells), "Close Date") == ("mdy", True)


def test_a_decided_first_sample_is_not_read_further(small_sample: int) -> None:
    # The first rows are all US dates: the later European one is not read (the column is then
    # typed month-first, and 31/03 is reported as a value that could not be read).
    cells = ["03/31/2025", "04/30/2025", "01/15/2025", "02/20/2025", "31/03/2025"]
    raw = _raw("Close Date", cells)
    assert formats.column_date_order(raw, "Close Date") == ("mdy", False)
    loaded = parse_table(raw, propose_table_mapping(raw))
    problems = {p.field: p.count for p in loaded.report.unparseable}
    assert problems == {"close_date": 1}


def test_european_amounts_past_the_first_rows_decide_the_separator(small_sample: int) -> None:
    # Small round amounts say nothing; the thousands further down are European.
    cells = ["500", "750 €", "20", "900", "1.250,50 €", "2.000,00 €"]
    raw = _raw("Amount", cells)
    assert formats.column_decimal_comma(raw, "Amount") is True
    mapping = propose_table_mapping(raw)
    assert mapping.decimal_comma["amount"] is True
    amounts = parse_table(raw, mapping).table.column("amount").to_pylist()
    assert amounts == pytest.approx([500, 750, 20, 900, 1250.5, 2000])


@pytest.mark.parametrize(
    ("cells", "comma"),
    [
        (["1.234,56 €", "99,00 €", "12"], True),
        (["$1,234.00", "99.00", "12"], False),
        (["0.125", "$1"], False),  # no thousands group starts with 0
        (["12", "7"], False),  # nothing to tell: a decimal point
    ],
)
def test_the_separator_is_read_in_arrow_as_in_python(cells: list[str], comma: bool) -> None:
    assert formats.column_decimal_comma(_raw("Amount", cells), "Amount") is comma
    assert formats.detect_decimal_comma(cells) is comma


def _as_plain_text(raw: RawTable) -> RawTable:
    """Return the same file with every column as plain text (none read as codes)."""
    plain = raw.table.cast(pa.schema([
        pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
        for f in raw.table.schema]))
    return dataclasses.replace(raw, table=plain)


@pytest.mark.parametrize(
    ("header", "cells"),
    [
        ("Close Date", ["13/01/2025"] * 6 + [" 01/13/2025 10:00"] * 2 + ["02/03/2025"] * 4),
        ("Close Date", ["03/04/2025", "05/06/2025 09:00"] * 8),
        ("Amount", ["1.250,50 €"] * 3 + ["500"] * 9 + ["$1,234.00"] * 2),
        ("Amount", ["99.00", "12"] * 8),
    ],
)
def test_cells_read_as_codes_decide_formats_as_plain_text_does(
        header: str, cells: list[str], small_sample: int) -> None:
    raw = _raw(header, cells)
    assert pa.types.is_dictionary(raw.table.column("c2").type)  # repeated: read as codes
    plain = _as_plain_text(raw)
    if header == "Amount":
        assert formats.column_decimal_comma(raw, header) is formats.column_decimal_comma(
            plain, header)
        assert formats._separator_votes(raw.table.column("c2")) == formats._separator_votes(
            plain.table.column("c2"))
    else:
        assert formats.column_date_order(raw, header) == formats.column_date_order(plain, header)
        assert sorted(formats._date_prefix_counts(raw, header, None)) == sorted(
            formats._date_prefix_counts(plain, header, None))


def test_a_column_without_separators_is_told_from_its_bytes_and_never_wrongly() -> None:
    whole = pa.chunked_array([pa.array(["500", None, "20"]), pa.array(["7", "1200"])])
    assert formats._may_hold_separator(whole) is False
    assert formats._separator_votes(whole) == (0, 0)
    later = pa.chunked_array([pa.array(["500", "20"]), pa.array(["7", "1.250,50 €"])])
    assert formats._may_hold_separator(later) is True
    assert formats._separator_votes(later) == (1, 0)  # the late European amount still votes
    # A cut keeps the bytes of the cells left out: it may say "maybe", and the cells decide.
    cut = pa.chunked_array([pa.array(["500", "1,5"]).slice(0, 1)])
    assert formats._may_hold_separator(cut) is True
    assert formats._separator_votes(cut) == (0, 0)
