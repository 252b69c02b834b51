"""The typed-rows query: text cells → typed values, "could not read" flags and reasons to reject.

Every name in this SQL is chosen by code: canonical fields, ``_line``, ``_entered<k>``. Uploaded
headers and values never become SQL text; they reach DuckDB as cells of a registered table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from diagnostics.dataset import MAX_AMOUNT
from diagnostics.mapping import DateOrder, Kind, field_specs

ValueKind = Literal["amount", "date", "number", "status"]

_MONEY_SHAPE = "^[^0-9]{0,6}[0-9][0-9.,'' \u00a0]*[^0-9]{0,6}$"  # '' is a quote in SQL
_NEGATIVE = r"^\s*\(.*\)\s*$|^[^0-9]*-|-\s*$"
_ORDER_FORMATS: dict[DateOrder, str] = {
    "mdy": "['%m/%d/%Y', '%m-%d-%Y', '%m.%d.%Y']",
    "dmy": "['%d/%m/%Y', '%d-%m-%Y', '%d.%m.%Y']",
    "ymd": "['%Y/%m/%d', '%Y.%m.%d']",
}
_NAMED_FORMATS = (
    "['%Y/%m/%d', '%d %b %Y', '%b %d, %Y', '%d-%b-%Y', '%d-%b-%y', '%B %d, %Y', '%d %B %Y']"
)
_TOTALS = r"^(grand\s+)?(sub)?totals?\b|^(sum|count|average)\b"
# Fields a reason to reject may look at: NULL when the file does not map them.
_LOOKED_AT = ("opp_id", "stage", "status", "rep", "activity_date", "entered_date")


def amount_sql(col: str, decimal_comma: bool) -> str:
    """Return SQL reading ``$1,234.00``, ``1.234,56 €``, ``(500)`` and the like as a DOUBLE."""
    keep = "[^0-9,]" if decimal_comma else "[^0-9.]"
    digits = f"regexp_replace({col}, '{keep}', '', 'g')"
    number = f"replace({digits}, ',', '.')" if decimal_comma else digits
    formatted = (
        f"CASE WHEN NOT regexp_matches({col}, '{_MONEY_SHAPE}') THEN NULL "
        f"ELSE (CASE WHEN regexp_matches({col}, '{_NEGATIVE}') THEN -1 ELSE 1 END) "
        f"* TRY_CAST({number} AS DOUBLE) END"
    )
    if decimal_comma:
        return formatted
    # Plain numbers (most cells of most exports) take the fast cast; the rest the full reading.
    return f"coalesce(TRY_CAST({col} AS DOUBLE), {formatted})"


def date_sql(col: str, order: DateOrder) -> str:
    """Return SQL giving a DATE (before the year sanity check) for a trimmed text column."""
    token = f"split_part(replace({col}, 'T', ' '), ' ', 1)"
    # The lenient DATE cast reads 4/5/25 as 2004-05-25: only give it text shaped YYYY-…
    return (
        f"coalesce("
        f"CASE WHEN substr({col}, 5, 1) = '-' "
        f"THEN coalesce(TRY_CAST({col} AS DATE), TRY_CAST({token} AS DATE)) END, "
        f"try_strptime({token}, {_ORDER_FORMATS[order]})::DATE, "
        f"try_strptime({col}, {_NAMED_FORMATS})::DATE)"
    )


def date_fix_sql(col: str, text: str | None = None) -> str:
    """Return SQL turning two-digit years (05/02/25 → year 25) into this century; junk → NULL."""
    # ``text`` is the cell the date was read from: a year written with four digits (0001) is
    # taken as written, so it is flagged as unreadable instead of becoming 2001.
    short = f" AND NOT regexp_matches({text}, '\\d{{4}}')" if text else ""
    fixed = (f"(CASE WHEN year({col}) < 100{short} THEN ({col} + INTERVAL 2000 YEAR)::DATE "
             f"ELSE {col} END)")
    return f"(CASE WHEN year({fixed}) BETWEEN 1950 AND 2200 THEN {fixed} END)"


def number_sql(col: str) -> str:
    """Return SQL reading ``12,5 %`` or ``40`` as a DOUBLE."""
    return f"TRY_CAST(replace(regexp_replace({col}, '[%\\s]', '', 'g'), ',', '.') AS DOUBLE)"


def status_sql(col: str) -> str:
    """Return SQL reading a status cell as 'won', 'lost', 'open' or NULL."""
    low = f"lower({col})"
    return (
        f"CASE WHEN regexp_matches({low}, '\\bwon\\b|^win') THEN 'won' "
        f"WHEN regexp_matches({low}, '\\blost\\b|^loss') THEN 'lost' "
        f"WHEN regexp_matches({low}, '\\bopen\\b|progress|active') THEN 'open' END"
    )


def reject_reasons(kind: Kind, mapped: set[str] | frozenset[str]) -> list[tuple[str, str]]:
    """Return (SQL condition, reason) pairs, checked in order, for rows that cannot be used."""
    if kind == "opportunities":
        reasons = [("opp_id IS NULL", "no opportunity id")] if "opp_id" in mapped else []
        return [*reasons, ("stage IS NULL AND status IS NULL", "no stage and no status")]
    if kind == "activities":
        return [("rep IS NULL", "no rep / owner"),
                ("activity_date IS NULL", "no readable activity date")]
    return [("opp_id IS NULL", "no opportunity id"), ("stage IS NULL", "no stage"),
            ("entered_date IS NULL", "no readable date entered")]


@dataclass(frozen=True)
class RowsQuery:
    """What the typed-rows SQL reads from the ``_parse_cells`` table.

    ``typed`` maps each field to type (in the file's mapping order) to its kind of value;
    those in ``plain`` arrive typed by Arrow under their own name, the others as trimmed text
    named ``<field>__raw``. ``untyped`` text fields arrive as they are. ``entered`` counts the
    "Date entered" columns (``_entered<k>``, or ``_entered<k>__raw`` unless in
    ``entered_plain``). ``_line`` and ``_first`` (the first cell) are always there, ``_blank``
    when ``has_blank``.
    """

    kind: Kind
    typed: Mapping[str, ValueKind]
    untyped: Sequence[str] = ()
    plain: frozenset[str] = frozenset()
    mapped: frozenset[str] = frozenset()
    date_orders: Mapping[str, DateOrder] = field(default_factory=dict)
    decimal_comma: Mapping[str, bool] = field(default_factory=dict)
    entered: int = 0
    entered_plain: frozenset[int] = frozenset()
    entered_order: DateOrder = "ymd"
    has_blank: bool = False
    key_field: str | None = None

    @property
    def computed(self) -> list[str]:
        """Return the typed fields DuckDB computes (the rest Arrow typed already)."""
        return [n for n in self.typed if n not in self.plain]

    @property
    def checks_future_close(self) -> bool:
        """Return True when the query flags closed-looking deals closing after ``$today``."""
        return (self.kind == "opportunities" and "stage" in self.mapped
                and "close_date" in self.typed)

    @property
    def outputs(self) -> list[str]:
        """Return the columns the query returns, in order."""
        return [*self.computed, *(f"{n}__bad" for n in self.computed if n != "status"),
                *(f"_entered{k}" for k in range(self.entered) if k not in self.entered_plain),
                *(["_won_lost"] if self.checks_future_close else []), "_reason", "_key"]


def _value_sql(name: str, kind: ValueKind, query: RowsQuery) -> str:
    source = f"{name}__raw"
    if kind == "amount":
        return amount_sql(source, query.decimal_comma.get(name, False))
    if kind == "date":
        return date_sql(source, query.date_orders.get(name, "ymd"))
    if kind == "number":
        return number_sql(source)
    return status_sql(source)


def _checked_sql(name: str, kind: ValueKind) -> str:
    if kind == "date":
        return date_fix_sql(name, f"{name}__raw")
    if kind == "amount":
        # "inf", "nan" and 1e308 are not amounts; one comparison does for all three, as DuckDB
        # orders NaN above every number (and infinity).
        return f"(CASE WHEN abs({name}) <= {MAX_AMOUNT!r} THEN {name} END)"
    if kind == "number":
        return f"(CASE WHEN isfinite({name}) THEN {name} END)"  # "inf" and "nan" are not numbers
    return name


def unread_why_sql(col: str, kind: ValueKind, decimal_comma: bool = False) -> str:
    """Return SQL saying why a cell the typed-rows query kept as missing could not be read.

    ``col`` is the cell's text. The answer is NULL when the cell does not read as a number at
    all (``lots``): the value itself says why.
    """
    if kind not in ("amount", "number"):
        return "NULL::VARCHAR"
    text = f"trim({col})"
    value = amount_sql(text, decimal_comma) if kind == "amount" else number_sql(text)
    return (f"CASE WHEN isnan({value}) THEN 'not a number' WHEN isinf({value}) THEN 'infinite' "
            f"WHEN {value} IS NOT NULL THEN 'too large to be an amount' END")


def _layers(query: RowsQuery) -> tuple[list[str], list[str]]:
    """Return the inner (typed values) and outer (sanity fixes, "could not read") select lists."""
    blank = "_blank" if query.has_blank else "false AS _blank"
    typed = ["_line", blank, "_first", *query.untyped]
    final = ["_line", "_blank", "_first", *query.untyped]
    for name, kind in query.typed.items():
        if name in query.plain:
            typed.append(name)
            final += [name, f"false AS {name}__bad"]
            continue
        value = _checked_sql(name, kind)
        typed += [f"{_value_sql(name, kind, query)} AS {name}", f"{name}__raw"]
        final += [f"{value} AS {name}", f"({name}__raw IS NOT NULL AND {value} IS NULL) "
                  f"AS {name}__bad"]
    for k in range(query.entered):
        if k in query.entered_plain:
            typed.append(f"_entered{k}")
            final.append(f"_entered{k}")
        else:
            typed += [f"{date_sql(f'_entered{k}__raw', query.entered_order)} AS _entered{k}",
                      f"_entered{k}__raw"]
            final.append(f"{date_fix_sql(f'_entered{k}', f'_entered{k}__raw')} AS _entered{k}")
    if query.kind == "opportunities" and "opp_id" not in query.mapped:
        final.append("'row-' || _line AS opp_id")
    fields = {s.name for s in field_specs()[query.kind]}
    for name in _LOOKED_AT:
        if name in fields and name not in query.mapped and not (
                name == "opp_id" and query.kind == "opportunities"):
            final.append(f"NULL AS {name}")
    return typed, final


def typed_rows_sql(query: RowsQuery) -> str:
    """Return the SQL typing ``_parse_cells`` row for row, in the file's order.

    It returns :attr:`RowsQuery.outputs`: each computed field, its ``__bad`` flag (a value was
    there but could not be read), the "Date entered" dates DuckDB typed, ``_won_lost`` (only
    with :attr:`RowsQuery.checks_future_close`, which takes a ``$today`` parameter), the
    ``_reason`` a row is left out (NULL when kept) and ``_key``, a hash of the row's id.
    """
    typed, final = _layers(query)
    reasons = reject_reasons(query.kind, query.mapped)
    cases = " ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in reasons)
    keep = [*query.computed, *(f"{n}__bad" for n in query.computed if n != "status"),
            *(f"_entered{k}" for k in range(query.entered) if k not in query.entered_plain)]
    if query.checks_future_close:  # for the future-close check: only deals closing after today
        keep.append("CASE WHEN close_date > $today THEN coalesce(contains(lower(stage), 'won')"
                    " OR contains(lower(stage), 'lost'), false) ELSE false END AS _won_lost")
    key = query.key_field
    return f"""
        SELECT {''.join(f'{k}, ' for k in keep)}
               CASE WHEN _blank THEN 'blank row'
                    -- "Total;;;;" lines fail a check below; only those pay for the regex.
                    WHEN ({' OR '.join(f'({c})' for c, _ in reasons) or 'false'})
                         AND regexp_matches(lower(trim(_first)), '{_TOTALS}')
                    THEN 'report footer or totals line, not a record'
                    {cases} END AS _reason,
               {f'CASE WHEN {key} IS NOT NULL THEN hash({key}) END'
                if key else 'NULL::UBIGINT'} AS _key
        FROM (SELECT {', '.join(final)} FROM (SELECT {', '.join(typed)} FROM _parse_cells))
        """
