"""Amount columns mixing currencies or number formats (ingest._amounts): counted, one kept."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from diagnostics import funnel as fn
from diagnostics.cli import main as cli_main
from diagnostics.dataset import Filters
from diagnostics.ingest import (
    LoadedTable,
    parse_table,
    propose_table_mapping,
    read_amounts,
    scan_amounts,
)
from diagnostics.ingest._amounts import currency_codes, read_shape
from diagnostics.mapping import mapping_from_json, mapping_to_json, propose_mapping
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


# --------------------------------------------------------------- a currency column of its own

PIPEDRIVE = EXPORT.parent / "pipedrive_currencies.csv"


def _with_currency(rows: list[tuple[str, str]], currency: str | None = None) -> LoadedTable:
    text = '"Deal - ID","Deal - Stage","Deal - Value","Deal - Currency"\n' + "".join(
        f'{i},Won,"{amount}","{code}"\n' for i, (amount, code) in enumerate(rows, start=1))
    raw = read_raw(text.encode(), "deals.csv")
    mapping = propose_table_mapping(raw)
    assert mapping.columns["currency"] == "Deal - Currency"
    if currency is not None:
        mapping.currency["amount"] = currency
    return parse_table(raw, mapping)


@pytest.mark.parametrize("header", ["Deal - Currency", "Opportunity Currency", "Currency",
                                    "CurrencyIsoCode", "Deal currency code"])
def test_a_currency_column_is_recognised_by_its_crms_names(header: str) -> None:
    assert propose_mapping(["Opportunity ID", "Stage", "Amount", header],
                           "opportunities")["currency"] == header


def test_an_amount_converted_to_the_company_currency_takes_no_currency_column() -> None:
    # Salesforce's "Amount (converted)" is in the company's currency, whatever the deal's.
    mapping = propose_mapping(["Opportunity ID", "Stage", "Amount (converted)",
                               "Opportunity Currency"], "opportunities")
    assert "currency" not in mapping


def test_currency_cells_are_read_whatever_their_case_spacing_or_sign() -> None:
    cells = pa.chunked_array([pa.array(["EUR", "eur", " usd ", "€", "US $", "Euro", "THB",
                                        "", None, "Bitcoin"])])
    assert currency_codes(cells).to_pylist() == [
        "EUR", "EUR", "USD", "EUR", "USD", "EUR", "THB", "", "", "?"]


def test_a_currency_column_keeps_one_currency_of_plain_amounts() -> None:
    # Before, these were all summed as one currency: 1000 + 2000 + 3000 + ... in EUR and USD.
    loaded = _with_currency([("1000", "EUR"), ("2000", "eur"), ("3000", "USD"),
                             ("4000", "EUR"), ("5000", "USD"), ("", "USD")])
    assert loaded.table.column("amount").to_pylist() == [1000.0, 2000.0, None, 4000.0, None,
                                                         None]
    (report,) = loaded.report.amounts
    assert (report.currencies, report.kept, report.left_out) == (
        {"EUR": 3, "USD": 2}, "EUR", {"USD": 2})
    assert report.examples == ((4, "3000 (USD)"), (6, "5000 (USD)"))
    assert report.currency_column is not None
    assert report.currency_column.given == {"EUR": 3, "USD": 2}
    assert report.currency_rows()[0] == {"currency": "EUR", "amounts": 3,
                                         "marks": "from “Deal - Currency”", "used": "used"}
    problems = " ".join(loaded.report.problems())
    assert "“Deal - Value” holds amounts in 2 currencies" in problems
    assert "2 amounts (USD 2) are left out" in problems and "line 4: “3000 (USD)”" in problems
    assert loaded.report.blanks == {"amount": 1}  # the blank amount, not the USD ones
    assert report.data_note("deals.csv") == (
        "Money figures use the amounts in EUR only (“Deal - Value” in deals.csv mixes "
        "currencies, per “Deal - Currency”): 2 deals in other currencies (USD 2) count as "
        "deals without an amount.")
    # The same choice as for marked amounts: keep the dollars instead.
    chosen = _with_currency([("1000", "EUR"), ("3000", "USD"), ("5000", "usd")], "USD")
    assert chosen.table.column("amount").to_pylist() == [None, 3000.0, 5000.0]


def test_a_cells_own_mark_wins_over_its_rows_currency_and_the_conflict_is_counted() -> None:
    loaded = _with_currency([("1000", "EUR"), ("2000", "EUR"), ("$4,000.00", "EUR"),
                             ("€ 500", "EUR"), ("3000", "USD")])
    (report,) = loaded.report.amounts
    assert report.currencies == {"EUR": 3, "USD": 2}
    assert loaded.table.column("amount").to_pylist() == [1000.0, 2000.0, None, 500.0, None]
    assert report.currency_column is not None
    assert (report.currency_column.conflicts, report.currency_column.conflict_examples) == (
        1, ((4, "$4,000.00 (EUR)"),))
    assert ("1 amount in “Deal - Value” carries a currency mark other than the currency "
            "“Deal - Currency” gives its row (e.g. line 4: “$4,000.00 (EUR)”): it is read "
            "in the currency of its own mark.") in loaded.report.problems()


def test_blank_and_unknown_currencies_are_counted_and_said_how_they_were_read() -> None:
    one = _with_currency([("1000", "EUR"), ("2000", ""), ("3000", "Bitcoin"), ("4000", "EUR")])
    assert one.table.column("amount").to_pylist() == [1000.0, 2000.0, 3000.0, 4000.0]
    (report,) = one.report.amounts
    assert report.currency_column is not None
    assert (report.currency_column.blank, report.currency_column.unknown) == (1, 1)
    assert ("2 amounts without a currency mark have no usable currency in “Deal - Currency” "
            "(1 blank; 1 naming no currency known, e.g. line 4: “3000 (Bitcoin)”): they are "
            "read as amounts without a currency mark, taken as EUR like the others."
            ) in one.report.notes
    # With two currencies, they are left out with the currency not kept, and say so.
    two = _with_currency([("1000", "EUR"), ("2000", ""), ("3000", "USD"), ("4000", "EUR")])
    assert two.table.column("amount").to_pylist() == [1000.0, None, None, 4000.0]
    (report,) = two.report.amounts
    assert report.left_out == {"": 1, "USD": 1}
    assert any("left out with the other amounts not in EUR" in n for n in two.report.notes)
    assert "2 deals in other currencies (no currency 1, USD 1)" in (
        report.data_note("deals.csv") or "")


def test_cells_read_as_codes_take_their_rows_currency() -> None:
    amounts = pa.chunked_array([pa.array(["10", "20", "10", "30"]).dictionary_encode()])
    codes = pa.chunked_array([pa.array(["EUR", "USD", "USD", "EUR"]).dictionary_encode()])
    lines = pa.chunked_array([pa.array([2, 3, 4, 5])])
    column, report = read_amounts(amounts, lines, "amount", "Amount", False, None, codes,
                                  "Currency")
    assert column.to_pylist() == ["10", None, None, "30"]
    assert report.currencies == {"EUR": 2, "USD": 2}


def test_the_pipedrive_export_with_a_currency_column_keeps_euros() -> None:
    result = load_files([(PIPEDRIVE.name, PIPEDRIVE.read_bytes())])
    total = "SELECT count(*) AS n, count(amount) AS priced, sum(amount) AS s FROM opportunities"
    # 14 deals: 8 in EUR, 4 in USD, one with an amount and no currency, one with neither.
    assert result.dataset.query_df(total).to_dict("records") == [
        {"n": 14, "priced": 8, "s": 80000.0}]
    assert ("Money figures use the amounts in EUR only (“Deal - Value” in "
            "pipedrive_currencies.csv mixes currencies, per “Deal - Currency”): 5 deals in "
            "other currencies (USD 4, no currency 1) count as deals without an amount."
            ) in result.dataset.notes
    dollars = load_files([(PIPEDRIVE.name, PIPEDRIVE.read_bytes())], currency="USD")
    assert dollars.dataset.query_df(total).to_dict("records") == [
        {"n": 14, "priced": 4, "s": 48000.0}]


def test_the_command_line_reports_the_currency_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["inspect", str(PIPEDRIVE), "--json"]) == 0
    (amounts,) = json.loads(capsys.readouterr().out)["amounts"]
    assert (amounts["currencies"], amounts["currency_kept"]) == ({"EUR": 8, "USD": 4}, "EUR")
    assert amounts["currency_column"]["header"] == "Deal - Currency"
    assert (amounts["currency_column"]["blank"], amounts["left_out_total"]) == (1, 5)
    assert cli_main(["funnel", str(PIPEDRIVE), "--json", "--currency", "usd"]) == 0
    notes = json.loads(capsys.readouterr().out)["data_notes"]
    assert any("amounts in USD only" in n and "9 deals in other currencies" in n
               for n in notes)
