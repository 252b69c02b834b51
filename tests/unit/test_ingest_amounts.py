"""Amount columns mixing currencies or number formats (ingest._amounts): counted, one kept."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from diagnostics import funnel as fn
from diagnostics.cli import main as cli_main
from diagnostics.dataset import Filters
from diagnostics.ingest import parse_table, propose_table_mapping, read_amounts, scan_amounts
from diagnostics.ingest._amounts import read_shape
from diagnostics.mapping import mapping_from_json, mapping_to_json
from diagnostics.readers import RawTable, read_raw
from diagnostics.uploads import UploadWorkspace, load_files

EXPORT = (Path(__file__).resolve().parents[1] / "fixtures" / "exports"
          / "european_mixed_currencies.csv")


def _raw(cells: list[str], encoding: str = "utf-8") -> RawTable:
    text = "Opportunity ID;Stage;Amount\n" + "".join(
        f"{i};Demo;{cell}\n" for i, cell in enumerate(cells))
    return read_raw(text.encode(encoding), "deals.csv")


def _amounts(cells: list[str], currency: str | None = None) -> list[float | None]:
    raw = _raw(cells)
    mapping = propose_table_mapping(raw)
    if currency is not None:
        mapping.currency["amount"] = currency
    return parse_table(raw, mapping).table.column("amount").to_pylist()


@pytest.mark.parametrize(("cell", "currency", "style", "decimal"), [
    ("51.766,06 €", "EUR", "1.234,56", "comma"),
    ("$1,234.00", "USD", "1,234.56", "point"),
    ("1465,00", None, "1234,56", "comma"),
    ("USD 4,500.00", "USD", "1,234.56", "point"),
    ("£2,000.00", "GBP", "1,234.56", "point"),
    ("CHF 1'250.50", "CHF", "1'234.56", "point"),
    ("1 234,50 €", "EUR", "1 234,56", "comma"),
    ("1.234.567", None, "1.234.567", "comma"),
    ("1.234", None, "1.234", "either"),
    ("0.125", None, "1234.56", "point"),  # a thousands group never starts with 0
    ("(500) EUR", "EUR", "1234", ""),
    ("12 k", None, "1234", ""),  # a mark that is no currency
])
def test_each_shape_says_its_currency_and_format(
    cell: str, currency: str | None, style: str, decimal: str
) -> None:
    shape = cell.translate(str.maketrans("12345678", "99999999"))
    read = read_shape(shape)
    assert read is not None
    assert (read.currency, read.style, read.decimal) == (currency, style, decimal)


def test_text_without_a_number_has_no_shape() -> None:
    assert read_shape("lots") is None


def test_mixed_currencies_keep_the_most_common_and_count_the_others() -> None:
    # The old reader summed all of these as one currency (and read $1,234.00 as 1.234).
    cells = ["51.766,06 €", "1465,00", "$1,234.00", "12.000,00 €", "€ 3.500", ""]
    assert _amounts(cells) == [51766.06, None, None, 12000.0, 3500.0, None]
    raw = _raw(cells)
    loaded = parse_table(raw, propose_table_mapping(raw))
    (report,) = loaded.report.amounts
    assert report.currencies == {"EUR": 3, "USD": 1}
    assert (report.unmarked, report.kept, report.left_out) == (1, "EUR", {"": 1, "USD": 1})
    assert report.examples == ((3, "1465,00"), (4, "$1,234.00"))
    problems = " ".join(loaded.report.problems())
    assert "2 currencies" in problems and "2 amounts (no mark 1, USD 1) are left out" in problems
    # The blank cell is counted as blank, the left-out ones apart.
    assert loaded.report.blanks == {"amount": 1}


def test_the_user_chooses_the_currency_kept() -> None:
    cells = ["51.766,06 €", "1465,00", "$1,234.00", "12.000,00 €"]
    # $1,234.00 in a decimal-comma column is read by its own format: 1234, not 1.234.
    assert _amounts(cells, "USD") == [None, None, 1234.0, None]
    assert _amounts(cells, "") == [None, 1465.0, None, None]


def test_each_currency_held_is_a_row_saying_whether_it_is_used() -> None:
    raw = _raw(["51.766,06 €", "1465,00", "$1,234.00", "USD 5.00", "12.000,00 €"])
    (report,) = parse_table(raw, propose_table_mapping(raw)).report.amounts
    assert report.currency_rows() == [
        {"currency": "EUR", "amounts": 2, "marks": "€", "used": "used"},
        {"currency": "USD", "amounts": 2, "marks": "$, USD", "used": "left out"},
        {"currency": "no currency mark", "amounts": 1, "marks": "", "used": "left out"},
    ]
    one = parse_table(_raw(["5 €", "6 €"]), propose_table_mapping(_raw(["5 €", "6 €"])))
    assert one.report.amounts[0].currency_rows() == []


def test_values_fitting_both_formats_follow_the_kept_currencys_own_format() -> None:
    # The column reads as 1.234,56 (most values are euros); the dollars kept are written
    # 1,234.56, so "$1,500" is fifteen hundred dollars, not one and a half.
    cells = ["51.766,06 €", "12.000,00 €", "3.500,00 €", "$1,234.50", "$1,500"]
    assert _amounts(cells, "USD") == [None, None, None, 1234.5, 1500.0]
    raw = _raw(cells)
    mapping = propose_table_mapping(raw)
    mapping.currency["amount"] = "USD"
    loaded = parse_table(raw, mapping)
    (report,) = loaded.report.amounts
    assert (report.ambiguous, report.reread, report.either_comma) == (
        {"thousands": 1}, 1, False)
    assert any("read with the format of the USD amounts (1,234.56): 1 as thousands" in n
               for n in loaded.report.notes)
    # Euros kept (the default): the column's own format, as before.
    assert _amounts(cells) == [51766.06, 12000.0, 3500.0, None, None]


def test_one_currency_with_unmarked_amounts_keeps_them_all_and_says_so() -> None:
    raw = _raw(["1.200,00 €", "800,00", "2.500,00 EUR"])
    loaded = parse_table(raw, propose_table_mapping(raw))
    assert loaded.table.column("amount").to_pylist() == [1200.0, 800.0, 2500.0]
    (report,) = loaded.report.amounts
    assert (report.kept, report.left_out_count, report.marks) == (None, 0, {"€": 1, "EUR": 1})
    assert any("in EUR, 2 amounts (€, EUR); 1 amount without a mark" in n
               for n in loaded.report.notes)


def test_mixed_number_formats_in_one_currency_read_each_value_by_its_own() -> None:
    # Before, 1,234.50 in a mostly 1.234,56 column was read as 1.2345.
    cells = ["1.500,00", "2.250,75", "12.000,00", "1,234.50", "980,00"]
    assert _amounts(cells) == [1500.0, 2250.75, 12000.0, 1234.5, 980.0]
    raw = _raw(cells)
    loaded = parse_table(raw, propose_table_mapping(raw))
    (report,) = loaded.report.amounts
    assert report.is_mixed_format and report.reread == 1 and report.left_out_count == 0
    assert report.formats == {"1.234,56": 3, "1,234.56": 1, "1234,56": 1}
    assert any("mix number formats" in p and "nothing is left out" in p
               for p in loaded.report.problems())


def test_values_fitting_both_formats_follow_the_column_and_are_counted() -> None:
    cells = ["1.500", "2.250", "12.000,50", "7,5"]
    assert _amounts(cells) == [1500.0, 2250.0, 12000.5, 7.5]
    raw = _raw(cells)
    (report,) = parse_table(raw, propose_table_mapping(raw)).report.amounts
    assert report.ambiguous == {"thousands": 2}


def test_a_plain_number_column_is_left_as_it_is() -> None:
    column = pa.chunked_array([pa.array(["1200.5", "-80", None, "3"])])
    report, plan = scan_amounts(column, "amount", "Amount", decimal_comma=False)
    assert (report.currencies, report.formats, plan.drop, plan.swap) == (
        {}, {"1234.56": 3}, frozenset(), frozenset())
    assert read_amounts(column, pa.chunked_array([pa.array([2, 3, 4, 5])]), "amount",
                        "Amount", False)[0] is column


def test_cells_read_as_codes_are_counted_by_rows() -> None:
    codes = pa.chunked_array([pa.array(["€ 10,00", "$5.00", "€ 10,00", "€ 7,00"])
                              .dictionary_encode()])
    lines = pa.chunked_array([pa.array([2, 3, 4, 5])])
    column, report = read_amounts(codes, lines, "amount", "Amount", decimal_comma=True)
    assert report.currencies == {"EUR": 3, "USD": 1}
    assert column.to_pylist() == ["€ 10,00", None, "€ 10,00", "€ 7,00"]
    assert report.examples == ((3, "$5.00"),)


def test_a_cp1252_export_with_euro_signs_is_read_as_cp1252() -> None:
    raw = _raw(["51.766,06 €", "1.200,00 €"], encoding="cp1252")
    assert raw.encoding == "cp1252"
    assert raw.table.column("c2").to_pylist()[0] == "51.766,06 €"


def test_the_fixture_export_keeps_euros_and_every_page_sees_the_others_as_missing() -> None:
    result = load_files([(EXPORT.name, EXPORT.read_bytes())])
    rows = result.dataset.query_df(
        "SELECT count(*) AS n, count(amount) AS priced, sum(amount) AS total FROM opportunities")
    # 16 deals: 10 in EUR, 3 in USD, 1 in GBP, 1 without a mark, 1 blank.
    assert rows.to_dict("records") == [{"n": 16, "priced": 10, "total": pytest.approx(
        51766.06 + 12500 + 8900.5 + 23400 + 7250 + 980 + 15000 + 3300 + 2750 + 9999.99)}]
    _funnel, metrics = fn.funnel_with_metrics(result.dataset, Filters())
    assert metrics.won == 6
    # Every figure's caveats (the Data page, the commands' data_notes) say which currency.
    assert ("Money figures use the amounts in EUR only (“Amount” in "
            "european_mixed_currencies.csv mixes currencies): 5 deals in other currencies "
            "(USD 3, no mark 1, GBP 1) count as deals without an amount.") in result.dataset.notes


def test_the_currency_choice_is_saved_with_the_mapping() -> None:
    uploads = UploadWorkspace.read([(EXPORT.name, EXPORT.read_bytes())])
    uploads.set_currency(EXPORT.name, "amount", "USD")
    saved = mapping_from_json(uploads.mapping_json())
    assert saved.tables["opportunities"].currency == {"amount": "USD"}
    again = UploadWorkspace.read([(EXPORT.name, EXPORT.read_bytes())], saved)
    result = again.rebuild()
    assert result is not None
    assert result.dataset.query_df("SELECT sum(amount) AS s FROM opportunities")["s"][0] == (
        1234 + 4500 + 12000)
    assert "currency" not in json.loads(mapping_to_json(
        [UploadWorkspace.read([(EXPORT.name, EXPORT.read_bytes())]).files[EXPORT.name]
         .mapping], None))["tables"]["opportunities"]


def test_the_command_line_reports_amounts_and_takes_a_currency(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["inspect", str(EXPORT), "--json"]) == 0
    (amounts,) = json.loads(capsys.readouterr().out)["amounts"]
    assert amounts["currencies"] == {"EUR": 10, "USD": 3, "GBP": 1}
    assert (amounts["currency_kept"], amounts["left_out_total"]) == ("EUR", 5)
    assert amounts["left_out_examples"][0] == {"line": 5, "value": "1465,00"}
    assert cli_main(["inspect", str(EXPORT), "--json", "--currency", "$"]) == 0
    (amounts,) = json.loads(capsys.readouterr().out)["amounts"]
    assert (amounts["currency_kept"], amounts["left_out_total"]) == ("USD", 12)
    assert cli_main(["funnel", str(EXPORT), "--json", "--currency", "GBP"]) == 0
    notes = json.loads(capsys.readouterr().out)["data_notes"]
    assert any("amounts in GBP only" in n and "14 deals in other currencies" in n
               for n in notes)
    assert cli_main(["funnel", str(EXPORT), "--json", "--currency", "CHF"]) == 2
    assert "holds no amount in CHF" in capsys.readouterr().err
