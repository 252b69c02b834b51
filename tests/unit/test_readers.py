"""Reading uploaded bytes: a corpus of bad and awkward files, each with its expected outcome."""

from __future__ import annotations

import io

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from diagnostics.errors import DiagnosticsError
from diagnostics.readers import read_raw

HEADER = "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date\n"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


UNUSABLE = [
    ("empty", b"", "empty"),
    ("whitespace only", b"  \n\n \r\n", "empty"),
    ("bom only", b"\xef\xbb\xbf", "empty"),
    ("binary", bytes(range(256)) * 20, "binary"),
    ("header only", HEADER.encode(), "no rows"),
    ("one column", b"name\nAnn\nBob\n", "one column"),
    ("old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("fake xlsx", b"not,a,workbook\n1,2,3\n", "named like"),
    ("broken zip", b"PK\x03\x04" + b"garbage" * 20, "not an Excel workbook"),
    ("header-only xlsx", _xlsx([["Stage", "Amount"]]), "no rows"),
]


@pytest.mark.parametrize(("case", "data", "message"), UNUSABLE, ids=[c[0] for c in UNUSABLE])
def test_unusable_files_raise_a_plain_message(case: str, data: bytes, message: str) -> None:
    name = "export.xlsx" if case in ("fake xlsx", "header-only xlsx", "broken zip") else "a.csv"
    with pytest.raises(DiagnosticsError) as err:
        read_raw(data, name)
    assert message in str(err.value)
    assert err.value.hint  # every message says how to fix it


def test_semicolon_delimiter_and_cp1252_euro() -> None:
    data = "Stage;Amount;Owner\nDemo;1.234,56 €;José\nWon;99,00 €;Zoë\n".encode("cp1252")
    raw = read_raw(data, "eu.csv")
    assert raw.delimiter == ";" and raw.encoding == "cp1252"
    assert raw.table.column("c1").to_pylist() == ["1.234,56 €", "99,00 €"]
    assert raw.table.column("c2").to_pylist() == ["José", "Zoë"]


def test_utf8_bom_is_stripped_from_the_first_header() -> None:
    raw = read_raw(b"\xef\xbb\xbfStage,Amount\nDemo,1\n", "bom.csv")
    assert raw.headers == ["Stage", "Amount"]
    assert raw.encoding == "utf-8 (with BOM)"


def test_utf16_export() -> None:
    raw = read_raw("Stage\tAmount\nDemo\t5\n".encode("utf-16"), "u16.txt")
    assert raw.headers == ["Stage", "Amount"] and raw.delimiter == "\t"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_common_delimiter_is_detected(delimiter: str) -> None:
    text = delimiter.join(["Stage", "Amount", "Owner"]) + "\n" + delimiter.join(
        ["Demo", "10", "Ann"]) + "\n"
    raw = read_raw(text.encode(), "d.csv")
    assert raw.delimiter == delimiter and raw.table.column("c2").to_pylist() == ["Ann"]


def test_ragged_rows_are_rejected_with_their_line_numbers() -> None:
    data = (HEADER + "1,Ann,Demo,10,01/02/2025\n2,Bob\n3,Cy,Won,5,01/03/2025,extra\n"
            "4,Di,Lost,7,01/04/2025\n").encode()
    raw = read_raw(data, "ragged.csv")
    assert raw.rows == 2
    assert [(r.line, "field" in r.reason) for r in raw.rejected] == [(3, True), (4, True)]
    assert raw.table.column("_line").to_pylist() == [2, 5]


def test_trailing_report_footer_is_named_as_such() -> None:
    data = (HEADER + "1,Ann,Demo,10,01/02/2025\n\nGrand Totals (1 records)\n"
            "Confidential Information - Do Not Distribute\n").encode()
    raw = read_raw(data, "sf.csv")
    assert raw.rows == 2  # the record, and the blank line (left out later, as a blank row)
    assert [(r.line, "footer" in r.reason) for r in raw.rejected] == [(4, True), (5, True)]
    assert raw.table.column("_line").to_pylist() == [2, 3]


def test_duplicate_and_blank_headers_are_made_unique() -> None:
    raw = read_raw(b"Amount,Amount,,Stage\n1,2,3,Demo\n", "dup.csv")
    assert raw.headers == ["Amount", "Amount (2)", "Column 3", "Stage"]


def test_huge_cell_is_read_whole() -> None:
    big = "x" * 3_000_000
    raw = read_raw(f"Stage,Note\nDemo,{big}\nWon,short\n".encode(), "huge.csv")
    assert raw.rows == 2 and len(raw.table.column("c1")[0].as_py()) == 3_000_000


def test_quoted_newlines_and_formula_cells_are_kept_as_text() -> None:
    data = b'Stage,Owner,Note\nDemo,=HYPERLINK("x"),"two\nlines"\nWon,@SUM(A1),ok\n'
    raw = read_raw(data, "q.csv")
    assert raw.table.column("c1").to_pylist() == ['=HYPERLINK("x")', "@SUM(A1)"]
    assert raw.table.column("c2").to_pylist() == ["two\nlines", "ok"]


def test_blank_cells_are_missing_not_empty_strings() -> None:
    raw = read_raw(b"Stage,Amount\nDemo,\n,5\n", "blank.csv")
    assert raw.table.column("c1").to_pylist() == [None, "5"]
    assert raw.table.column("c0").to_pylist() == ["Demo", None]


def test_xlsx_with_dates_numbers_and_a_title_gap() -> None:
    import datetime as dt

    data = _xlsx([[], ["Stage", "Amount", "Close Date"], ["Demo", 1234.5, dt.datetime(2025, 3, 31)],
                  [None, None, None], ["Won", 10, dt.datetime(2025, 4, 1, 15, 30)]])
    raw = read_raw(data, "deals.xlsx")
    assert raw.headers == ["Stage", "Amount", "Close Date"] and raw.file_format == "xlsx"
    assert raw.table.column("c1").to_pylist() == ["1234.5", "10"]
    assert raw.table.column("c2").to_pylist() == ["2025-03-31", "2025-04-01 15:30:00"]
    assert raw.table.column("_line").to_pylist() == [3, 5]


def test_parquet_columns_become_text() -> None:
    import datetime as dt

    table = pa.table({"Stage": ["Demo", "Won"], "Amount": [1.5, 2.0],
                      "Created": [dt.date(2025, 1, 2), dt.date(2025, 1, 3)]})
    raw = read_raw(_parquet(table), "deals.parquet")
    assert raw.file_format == "parquet"
    assert raw.table.column("c2").to_pylist() == ["2025-01-02", "2025-01-03"]


def test_cp1252_bytes_far_below_a_clean_utf8_top_are_transcoded() -> None:
    top = "Stage,Amount,Owner\n" + "Demo,1,Ann\n" * 40_000  # > the sniffed sample
    data = top.encode() + "Won,2,Zoë €\n".encode("cp1252")
    raw = read_raw(data, "late.csv")
    assert raw.encoding == "cp1252" and raw.rows == 40_001
    assert raw.table.column("c2")[-1].as_py() == "Zoë €"


def test_rows_after_a_quoted_multiline_cell_keep_their_physical_lines() -> None:
    data = b'Stage,Notes,Amount\nDemo,"two\nlines",1\nWon,plain,2\nLost,x,3,extra\n'
    raw = read_raw(data, "notes.csv")
    assert raw.table.column("_line").to_pylist() == [2, 4]
    assert [(r.line, r.reason) for r in raw.rejected] == [(5, "has 4 fields where the header "
                                                              "has 3")]


@pytest.mark.parametrize(("newline", "expected"), [("\r", 3), ("\r\n", 3), ("\n", 3)])
def test_any_line_ending_with_a_quoted_cell(newline: str, expected: int) -> None:
    lines = ["Stage,Owner,Amount", 'Demo,"Ann",1', 'Won,"Bo, Jr",2', "Lost,Cy,3"]
    raw = read_raw(newline.join(lines).encode(), "mac.csv")
    assert raw.rows == expected
    assert raw.table.column("c1").to_pylist() == ["Ann", "Bo, Jr", "Cy"]


@pytest.mark.parametrize("text", [b"a\r\nb\r\nc\r\n", b"a\rb\r\nc\nd", b"ab\r\n\r\n\n\r",
                                  b"abc\rd\re\n", b"", b"\r\n" * 9, b"x\ny\nz"])
@pytest.mark.parametrize("start", [0, 1, 3])
def test_line_breaks_are_counted_a_few_bytes_at_a_time_across_the_cuts(
    text: bytes, start: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnostics import readers

    whole = readers._line_breaks(text, start)
    rest = text[start:]
    newlines, returns = rest.count(b"\n"), rest.count(b"\r")
    # Mixed endings count a lone \r too; as many \r as \n means \r\n endings.
    expected = (newlines if returns in (0, newlines)
                else newlines + returns - rest.count(b"\r\n"))
    assert whole == expected
    for size in (1, 2, 3, 5):  # a \r\n cut in two by the counting still counts once
        monkeypatch.setattr(readers, "_COUNT_BYTES", size)
        assert readers._line_breaks(text, start) == whole


def test_an_unterminated_quote_costs_one_line_not_the_rest_of_the_file() -> None:
    lines = ["Stage,Owner,Amount"] + [f"Demo,Rep {i},{i}" for i in range(1, 11)]
    lines[5] = 'Demo,"Rep 5,5'
    raw = read_raw("\n".join(lines).encode(), "q.csv")
    assert raw.rows == 9
    assert [r.line for r in raw.rejected] == [6]
    assert raw.table.column("_line").to_pylist() == [2, 3, 4, 5, 7, 8, 9, 10, 11]
    assert "Broken quote on line 6" in raw.notes[-1]


def test_a_reader_failure_never_escapes_as_a_traceback() -> None:
    with pytest.raises(DiagnosticsError) as err:
        read_raw(b"PAR1" + b"\x00" * 64 + b"PAR1", "bad.parquet")
    assert "“bad.parquet”" in err.value.message and err.value.hint


def test_repeated_values_are_read_as_codes_and_read_back_as_the_same_text() -> None:
    rows = [f"OPP-{i},{'Ann' if i % 2 else 'Bo'},Demo,{i}.5,2025-01-{i % 3 + 1:02d}"
            for i in range(40)]
    raw = read_raw((HEADER + "\n".join(rows) + "\n").encode(), "deals.csv")
    types = {h: raw.table.column(f"c{i}").type for i, h in enumerate(raw.headers)}
    assert pa.types.is_dictionary(types["Opportunity Owner"])
    assert pa.types.is_dictionary(types["Stage"]) and pa.types.is_dictionary(types["Close Date"])
    assert types["Opportunity ID"] == types["Amount"] == pa.string()  # every value differs
    assert raw.table.column("c1").to_pylist() == ["Bo", "Ann"] * 20
    assert raw.table.column("c4").to_pylist()[:4] == [
        "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"]


def test_a_few_rows_are_read_as_plain_text() -> None:
    raw = read_raw((HEADER + "1,Ann,Demo,5,2025-01-01\n2,Ann,Demo,6,2025-01-01\n").encode(),
                   "deals.csv")
    assert {raw.table.column(f"c{i}").type for i in range(5)} == {pa.string()}
