"""What reading a file produced: the typed table, its validation report, the assembled result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace

import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import Dataset, StageConfig
from diagnostics.ingest._currencies import CURRENCIES
from diagnostics.ingest._pipelines import PipelineChoice, in_pipeline
from diagnostics.mapping import Kind, TableMapping
from diagnostics.readers import RawTable, RejectedRow

MAX_EXAMPLES = 50  # rejected rows listed one by one; the rest are counted by reason


@dataclass(frozen=True)
class ColumnProblem:
    """Values of one mapped column that could not be read (kept as missing, row kept)."""

    field: str
    header: str
    count: int
    examples: tuple[tuple[int, str], ...]
    # Why each example could not be read ("too large to be an amount"), "" when the value
    # itself says it ("lots"); empty when no example needs a word.
    why: tuple[str, ...] = ()


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _examples(examples: tuple[tuple[int, str], ...]) -> str:
    return "; ".join(f"line {line}: “{text}”" for line, text in examples)


@dataclass(frozen=True)
class CurrencyColumn:
    """What a currency column (``header``: Pipedrive's "Deal - Currency") said of the amounts.

    ``given`` counts, per currency, the amounts without a mark of their own that take their
    row's currency; ``conflicts`` the amounts whose own mark names another currency than their
    row (the mark is used); ``blank`` and ``unknown`` the amounts without a mark whose row's
    currency is blank or names no currency known (read as amounts without a currency mark).
    """

    header: str
    given: dict[str, int] = dataclasses.field(default_factory=dict)
    conflicts: int = 0
    blank: int = 0
    unknown: int = 0
    conflict_examples: tuple[tuple[int, str], ...] = ()
    unknown_examples: tuple[tuple[int, str], ...] = ()

    @property
    def unread(self) -> int:
        """Return how many amounts the column gave no currency (blank or unknown)."""
        return self.blank + self.unknown

    def conflict_problem(self, amounts: str) -> str | None:
        """Return the sentence counting the amounts whose mark contradicts their row."""
        if not self.conflicts:
            return None
        sample = _examples(self.conflict_examples)
        one = self.conflicts == 1
        return (f"{_plural(self.conflicts, 'amount')} in “{amounts}” "
                f"{'carries' if one else 'carry'} a currency mark other than the currency "
                f"“{self.header}” gives {'its' if one else 'their'} row"
                + (f" (e.g. {sample})" if sample else "")
                + f": {'it is' if one else 'they are'} read in the currency of "
                f"{'its' if one else 'their'} own mark.")

    def unread_note(self, treated: str) -> str | None:
        """Return the sentence counting the amounts left without a currency, and how they were
        read (``treated``: "taken as EUR", "left out"…)."""
        if not self.unread:
            return None
        parts = ([f"{self.blank:,} blank"] if self.blank else []) + (
            [f"{self.unknown:,} naming no currency known"
             + (f", e.g. {_examples(self.unknown_examples)}" if self.unknown_examples else "")]
            if self.unknown else [])
        one = self.unread == 1
        return (f"{_plural(self.unread, 'amount')} without a currency mark "
                f"{'has' if one else 'have'} no usable currency in “{self.header}” "
                f"({'; '.join(parts)}): {'it is' if one else 'they are'} read as "
                f"{'an amount' if one else 'amounts'} without a currency mark, {treated}.")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "header": self.header, "currencies": dict(self.given),
            "conflicts": self.conflicts, "blank": self.blank, "unknown": self.unknown,
            "conflict_examples": [{"line": line, "value": text}
                                  for line, text in self.conflict_examples],
            "unknown_examples": [{"line": line, "value": text}
                                 for line, text in self.unknown_examples],
        }


@dataclass(frozen=True)
class AmountFormats:
    """What the cells of one amount column hold: currency marks and number formats, counted.

    ``currencies`` counts the cells marked with each currency (``EUR``; ``kr`` for a mark
    naming several), ``marks`` each mark as written (``€``, ``EUR``), ``unmarked`` the numbers
    without a currency mark. Over the cells kept: ``formats`` counts each way of writing
    numbers, named by an example (``1.234,56``); ``decimals`` those with a decimal point or
    comma ("point", "comma"; 1,234,567 counts as "point"); ``ambiguous`` those fitting both
    formats (``1.234``), by how the column's format read them ("thousands", "decimals");
    ``reread`` those read by their own format against the column's. With several currencies
    only ``kept`` (a code, or "" for the cells without a mark) is used: ``left_out`` counts
    the others by currency ("" for no mark), ``examples`` names the first with their line.
    ``chosen_absent`` is a currency asked for that the column does not hold.
    ``currency_column`` says what a mapped currency column gave (None without one): the
    amounts without a mark of their own are counted under their row's currency.
    """

    field: str
    header: str
    decimal_comma: bool
    currencies: dict[str, int] = dataclasses.field(default_factory=dict)
    marks: dict[str, int] = dataclasses.field(default_factory=dict)
    unmarked: int = 0
    formats: dict[str, int] = dataclasses.field(default_factory=dict)
    decimals: dict[str, int] = dataclasses.field(default_factory=dict)
    ambiguous: dict[str, int] = dataclasses.field(default_factory=dict)
    reread: int = 0
    either_comma: bool | None = None  # the format values fitting both were read with
    kept: str | None = None
    left_out: dict[str, int] = dataclasses.field(default_factory=dict)
    examples: tuple[tuple[int, str], ...] = ()
    chosen_absent: str | None = None
    currency_column: CurrencyColumn | None = None

    def with_examples(self, examples: tuple[tuple[int, str], ...]) -> AmountFormats:
        """Return the same report naming these cells left out."""
        return replace(self, examples=examples)

    @property
    def left_out_count(self) -> int:
        """Return how many amounts were left out as missing (another currency)."""
        return sum(self.left_out.values())

    @property
    def is_mixed_format(self) -> bool:
        """Return True when the amounts kept write decimals both with a point and a comma."""
        return len(self.decimals) > 1

    def choices(self) -> list[str]:
        """Return the currencies one could keep, most common first ("" for no mark)."""
        if len(self.currencies) < 2:
            return []
        ranked = sorted(self.currencies, key=lambda c: (-self.currencies[c], c))
        return ranked + ([""] if self.unmarked else [])

    def currency_label(self, currency: str) -> str:
        """Return a currency with its cells and the marks seen: "EUR, 51 amounts (€, EUR)"."""
        if currency == "":
            return f"{self._none_label()}, {_plural(self.unmarked, 'amount')}"
        seen = self._written(currency)
        return (f"{currency}, {_plural(self.currencies.get(currency, 0), 'amount')}"
                + (f" ({', '.join(seen)})" if seen else ""))

    def _none_label(self, short: bool = False) -> str:
        """Return what the amounts without a currency are called: without a mark, or, with a
        currency column, without a mark or a currency in that column."""
        if self.currency_column is None:
            return "no mark" if short else "no currency mark"
        return "no currency" if short else "no currency (no mark, no code)"

    def _written(self, currency: str) -> list[str]:
        """Return how a currency was seen: its marks as written, and the currency column when
        it gave amounts this currency (``from “Deal - Currency”``)."""
        seen = [m for m in self.marks if currency and CURRENCIES.get(m.upper()) == currency]
        column = self.currency_column
        if column is not None and column.given.get(currency):
            seen.append(f"from “{column.header}”")
        return seen

    def currency_rows(self) -> list[dict[str, object]]:
        """Return one row per currency one could keep: its amounts, the marks seen as written
        and whether it is used or left out (empty when the column holds one currency)."""
        rows: list[dict[str, object]] = []
        for currency in self.choices():
            marks = self._written(currency)
            rows.append({
                "currency": currency or self._none_label(),
                "amounts": self.currencies.get(currency, 0) if currency else self.unmarked,
                "marks": ", ".join(marks),
                "used": "used" if currency == self.kept else "left out",
            })
        return rows

    def _currency_problem(self) -> str | None:
        if self.kept is None:
            return None
        held = "; ".join(self.currency_label(c) for c in self.choices())
        gone = ", ".join(f"{self._none_label(short=True) if c == '' else c} {n:,}"
                         for c, n in sorted(self.left_out.items(), key=lambda kv: -kv[1]))
        sample = "; ".join(f"line {line}: “{text}”" for line, text in self.examples)
        kept = "the amounts without a currency mark" if self.kept == "" else (
            f"only the {self.kept} amounts")
        return (f"“{self.header}” holds amounts in {len(self.currencies)} currencies: "
                f"{held}. Amounts in different currencies cannot be added up, so {kept} "
                f"are used; {_plural(self.left_out_count, 'amount')} ({gone}) are left out "
                "and count as deals without an amount" + (f", e.g. {sample}" if sample else "")
                + ". Choose the currency to keep under “Currency kept” (--currency on the "
                "command line).")

    def _format_problem(self) -> str | None:
        if not self.is_mixed_format:
            return None
        written = ", ".join(f"{_plural(n, 'value')} written {style}" for style, n in
                            sorted(self.formats.items(), key=lambda kv: -kv[1])
                            if style not in ("1.234", "1,234"))
        own = "1.234,56" if self.decimal_comma else "1,234.56"
        one = self.reread == 1
        return (f"The amounts used in “{self.header}” mix number formats ({written}). The "
                f"column reads as {own}; {_plural(self.reread, 'value')} written the other "
                f"way {'is' if one else 'are'} read by {'its' if one else 'their'} own format, "
                "so nothing is left out.")

    def _gone(self, left_out: dict[str, int]) -> str:
        return ", ".join(f"{self._none_label(short=True) if c == '' else c} {n:,}"
                         for c, n in sorted(left_out.items(), key=lambda kv: -kv[1]))

    def data_note(
        self, file: str, read: dict[str, int] | None = None, pipeline: str | None = None
    ) -> str | None:
        """Return what every figure over the data should know: the one currency its amounts
        are in and the amounts left out (None when nothing was left out).

        ``read`` counts the amounts left out among the deals read, when only the deals of
        ``pipeline`` are: the file's own counts cover every pipeline."""
        if self.kept is None:
            return None
        kept = "without a currency mark" if self.kept == "" else f"in {self.kept}"
        per = (f", per “{self.currency_column.header}”" if self.currency_column is not None
               else "")
        head = (f"Money figures use the amounts {kept} only (“{self.header}” in {file} mixes "
                f"currencies{per}): ")
        if read is None:
            return (head + f"{_plural(self.left_out_count, 'deal')} in other currencies "
                    f"({self._gone(self.left_out)}) count as deals without an amount.")
        n = sum(read.values())
        of = f"of the deals of pipeline {pipeline} read, " if pipeline else ""
        said = (f"1 is in another currency ({self._gone(read)}) and counts as a deal without "
                "an amount" if n == 1 else f"{n:,} are in other currencies ({self._gone(read)}) "
                "and count as deals without an amount" if n else "none is in another currency")
        return (head + of + said
                + f" (the file holds {self.left_out_count:,} over every pipeline).")

    def problems(self) -> list[str]:
        """Return the sentences to check: several currencies, mixed number formats."""
        conflicts = (self.currency_column.conflict_problem(self.header)
                     if self.currency_column is not None else None)
        return [p for p in (self._currency_problem(), conflicts, self._format_problem()) if p]

    def _unmarked_treatment(self) -> str:
        """Return what became of the amounts without a currency mark."""
        if self.kept is None:
            if self.currencies:
                return f"taken as {next(iter(self.currencies))} like the others"
            return "used as they are (no amount has a known currency)"
        if self.kept == "":
            return "used (the currency kept)"
        return f"left out with the other amounts not in {self.kept}"

    def notes(self) -> list[str]:
        """Return the sentences for the record: the currency, values that read two ways."""
        out = []
        if self.kept is None and self.currencies:
            (currency,) = self.currencies
            also = (f"; {_plural(self.unmarked, 'amount')} without a mark are taken as "
                    f"{currency} too" if self.unmarked else "")
            out.append(f"Amounts in “{self.header}” are in {self.currency_label(currency)}"
                       f"{also}.")
        if self.currency_column is not None and (
                unread := self.currency_column.unread_note(self._unmarked_treatment())):
            out.append(unread)
        if self.chosen_absent is not None:
            asked = "no currency mark" if self.chosen_absent == "" else self.chosen_absent
            out.append(f"The currency asked for ({asked}) is not in “{self.header}”, so it "
                       "was not applied.")
        if self.reread and not self.is_mixed_format:
            own = "1.234,56" if self.decimal_comma else "1,234.56"
            out.append(f"The amounts used in “{self.header}” are written "
                       f"{'1,234.56' if self.decimal_comma else '1.234,56'}, unlike "
                       f"the column as a whole ({own}): {_plural(self.reread, 'value')} read "
                       "by their own format.")
        if self.ambiguous:
            total = sum(self.ambiguous.values())
            how = " and ".join(f"{n:,} as {way}" for way, n in sorted(self.ambiguous.items()))
            comma = self.decimal_comma if self.either_comma is None else self.either_comma
            whose = ("the column's format" if comma == self.decimal_comma else
                     f"the format of the {self.kept or 'unmarked'} amounts")
            out.append(f"{_plural(total, 'value')} in “{self.header}” (such as 1.234 or 1,234) "
                       f"{'fits' if total == 1 else 'fit'} both number formats; read with "
                       f"{whose} ({'1.234,56' if comma else '1,234.56'}): {how}.")
        return out

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form (the command line's load report)."""
        return {
            "field": self.field, "header": self.header,
            "decimal_separator": "," if self.decimal_comma else ".",
            "currencies": dict(self.currencies), "marks": dict(self.marks),
            "unmarked": self.unmarked, "formats": dict(self.formats),
            "ambiguous": dict(self.ambiguous), "read_by_own_format": self.reread,
            "currency_kept": self.kept, "left_out": dict(self.left_out),
            "left_out_total": self.left_out_count,
            "left_out_examples": [{"line": line, "value": text}
                                  for line, text in self.examples],
            "currency_not_found": self.chosen_absent,
            "currency_column": (self.currency_column.to_dict()
                                if self.currency_column is not None else None),
        }


def _opportunities(n: int) -> str:
    return f"{n:,} {'opportunity' if n == 1 else 'opportunities'}"


@dataclass(frozen=True)
class ProductLines:
    """An export with one row per product line: ``rows`` rows hold the lines of
    ``opportunities`` opportunities (each seen more than once), told apart by the product
    columns ``headers``; ``amounts_differ`` counts the opportunities whose amount is not the
    same on every line."""

    rows: int
    opportunities: int
    headers: tuple[str, ...]
    amounts_differ: int = 0

    def sentence(self, amount: str | None, product: str | None) -> str:
        """Return what the repeated rows are and what is kept of them; ``amount`` and
        ``product`` are the headers mapped to those fields."""
        shown = ", ".join(f"“{h}”" for h in self.headers[:6]) + (
            "…" if len(self.headers) > 6 else "")
        left = self.rows - self.opportunities
        out = (f"The export holds one row per product line: {self.rows:,} rows are the lines "
               f"of {_opportunities(self.opportunities)}, "
               f"which repeat the opportunity's id and stage while the product columns "
               f"({shown}) change. The first row of each opportunity is kept and the "
               f"{_plural(left, 'other line')} {'is' if left == 1 else 'are'} left out "
               "(counted as duplicate ids).")
        if amount is not None and not self.amounts_differ:
            out += (f" “{amount}” is the same on every line of an opportunity, so the row kept "
                    "carries the opportunity's amount, not a sum of its lines.")
        elif amount is not None:
            out += (f" “{amount}” differs from line to line in "
                    f"{_opportunities(self.amounts_differ)}"
                    ": only the first line's is kept there, which may not be the opportunity's "
                    "total; map the opportunity's own amount column if the export has one.")
        if product is not None and product in self.headers:
            out += f" “{product}” is read from the first line only."
        return out

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"rows": self.rows, "opportunities": self.opportunities,
                "columns": list(self.headers), "amounts_differ": self.amounts_differ}


@dataclass
class ValidationReport:
    """What happened to every row of one file."""

    file: str
    kind: Kind
    rows_read: int
    rows_kept: int
    rejected: list[RejectedRow]
    rejected_by_reason: dict[str, int]
    unparseable: list[ColumnProblem] = field(default_factory=list)
    duplicate_ids: int = 0
    future_dates: dict[str, int] = field(default_factory=dict)
    negative_amounts: int = 0
    notes: list[str] = field(default_factory=list)
    blanks: dict[str, int] = field(default_factory=dict)  # field → kept rows with a blank cell
    amounts: list[AmountFormats] = field(default_factory=list)  # per amount column read
    product_lines: ProductLines | None = None  # when the duplicate ids are product lines
    # The headers of the amount and product fields, for the product lines' sentence.
    line_fields: tuple[str | None, str | None] = (None, None)

    @property
    def rows_rejected(self) -> int:
        """Return how many rows were left out, over every reason."""
        return sum(self.rejected_by_reason.values())

    def problems(self) -> list[str]:
        """Return human-readable sentences, one per kind of problem found."""
        out: list[str] = []
        for reason, count in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            if reason == "duplicate id" and self.product_lines is not None:
                out.append(self.product_lines.sentence(*self.line_fields))
                continue
            out.append(f"{count:,} row{'s' if count != 1 else ''} left out: {reason}.")
        for p in self.unparseable:
            why = p.why or ("",) * len(p.examples)
            sample = "; ".join(f"line {line}: “{value}”" + (f" ({reason})" if reason else "")
                               for (line, value), reason in zip(p.examples, why, strict=True))
            out.append(
                f"{p.count:,} value{'s' if p.count != 1 else ''} in “{p.header}” could not be "
                f"read as {p.field.replace('_', ' ')} (kept as missing), e.g. {sample}."
            )
        for name, count in self.future_dates.items():
            out.append(f"{count:,} {name.replace('_', ' ')} value(s) are in the future.")
        if self.negative_amounts:
            out.append(f"{self.negative_amounts:,} negative amount(s) (credits or refunds?).")
        for amounts in self.amounts:
            out.extend(amounts.problems())
        for name, count in self.blanks.items():
            out.append(f"{count:,} of {self.rows_kept:,} rows have no {name.replace('_', ' ')} "
                       "(blank; kept as missing).")
        return out


@dataclass
class LoadedTable:
    """One file after mapping and typing: canonical Arrow table plus its report."""

    raw: RawTable
    mapping: TableMapping
    table: pa.Table
    report: ValidationReport
    ambiguous_dates: tuple[str, ...] = ()
    history: pa.Table | None = None  # stage history found in "Date entered <stage>" columns
    # Row for row with ``table`` when the file has a pipeline column: the currency of each
    # amount left out ("left_out", null when kept) and whether it could not be read.
    amount_gaps: pa.Table | None = None

    @property
    def kind(self) -> Kind:
        """Return the kind of table this file holds."""
        return self.mapping.kind


@dataclass
class IngestResult:
    """Every file read, the stage settings used, and the Dataset built from them."""

    dataset: Dataset
    tables: list[LoadedTable]
    stages: StageConfig
    stage_note: str
    pipelines: PipelineChoice | None = None  # the pipeline used when the deals span several


def _read_gaps(table: LoadedTable, used: str) -> tuple[dict[str, int], int] | None:
    """Return the amounts left out per currency, and those that could not be read, among the
    deals of pipeline ``used`` in one file (None when the file has no pipeline column)."""
    gaps = table.amount_gaps
    if gaps is None:
        return None
    read = gaps.filter(in_pipeline(table.table, used))
    counted = pc.value_counts(read.column("left_out").drop_null())
    left_out = {str(c): int(n) for c, n in zip(counted.field("values").to_pylist(),
                                                counted.field("counts").to_pylist(),
                                                strict=True)}
    return left_out, int(pc.sum(read.column("unreadable")).as_py() or 0)


def amount_notes(tables: list[LoadedTable], pipelines: PipelineChoice | None) -> list[str]:
    """Return the data notes on the amounts: the currency money figures use and the deals
    whose amount was left out, counted among the deals read when one pipeline is."""
    notes = []
    for t in tables:
        for amounts in t.report.amounts:
            read = (_read_gaps(t, pipelines.used) if pipelines is not None
                    and amounts.field == "amount" else None)
            note = amounts.data_note(t.raw.name, *((read[0], pipelines.used)
                                                   if read and pipelines else ()))
            if note is not None:
                notes.append(note)
            unread = next((p.count for p in t.report.unparseable if p.field == amounts.field), 0)
            if read is not None and pipelines is not None and unread:
                one = read[1] == 1
                notes.append(
                    f"{_plural(read[1], 'amount')} of the deals of pipeline {pipelines.used} "
                    f"in “{amounts.header}” ({t.raw.name}) could not be read and "
                    f"{'counts as a deal' if one else 'count as deals'} without an amount (the "
                    f"file's report counts {unread:,} over every pipeline).")
    return notes
