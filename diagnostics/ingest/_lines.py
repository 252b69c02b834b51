"""Exports with one row per product line: the repeated opportunity ids told apart from mistakes.

Salesforce's "Opportunities with Products" report (and its likes) repeats each opportunity's id,
name, stage and amount on every product line, beside the line's product, quantity and prices.
The repeated rows are left out as duplicate ids like any others; this module only says what
they are, when every opportunity repeated keeps its stage while its product columns change from
line to line. The SQL names only positional raw columns (``c<i>``) and canonical fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from diagnostics.ingest._report import ProductLines
from diagnostics.mapping import normalise_header

# Headers of a product line's own columns (compared in normalised form).
_LINE_HEADER = re.compile(
    r"\b(product|products|quantity|qty|sales price|unit price|list price|total price|"
    r"line item|line items|line description|line total|sku|discount|item)\b")


def line_columns(headers: Sequence[str]) -> list[int]:
    """Return the indexes of the columns that describe a product line (``Product Name``,
    ``Quantity``, ``Total Price``…)."""
    return [i for i, h in enumerate(headers) if _LINE_HEADER.search(normalise_header(h))]


def product_lines(
    con: duckdb.DuckDBPyConnection, headers: Sequence[str], key_field: str,
    mapped: set[str] | frozenset[str],
) -> ProductLines | None:
    """Return what the repeated ids of a typed file are when they are product lines, else None.

    Reads ``_parse_typed`` (with its duplicate-id reasons), ``_parse_cells`` and ``_parse_raw``
    on ``con``. The repeats are product lines when, for every id seen more than once, its rows
    differ in their product columns and agree on the stage.
    """
    columns = line_columns(headers)
    if not columns:
        return None
    line = "concat_ws(chr(31), " + ", ".join(f"coalesce(r.c{i}, '')" for i in columns) + ")"
    stage = "count(DISTINCT c.stage)" if "stage" in mapped else "1"
    amount = "count(DISTINCT t.amount)" if "amount" in mapped else "1"
    row = con.execute(
        f"""
        SELECT count(*), sum(n), count(*) FILTER (WHERE stages <= 1 AND lines > 1),
               count(*) FILTER (WHERE amounts > 1)
        FROM (SELECT c.{key_field} AS id, count(*) AS n, {stage} AS stages,
                     {amount} AS amounts, count(DISTINCT {line}) AS lines
              FROM _parse_typed t JOIN _parse_cells c USING (_line)
                   JOIN _parse_raw r USING (_line)
              WHERE (t._reason IS NULL OR starts_with(t._reason, 'duplicate id'))
                    AND c.{key_field} IS NOT NULL
              GROUP BY 1 HAVING count(*) > 1)
        """).fetchone()
    if row is None or not row[0] or row[2] != row[0]:
        return None
    return ProductLines(rows=int(row[1]), opportunities=int(row[0]),
                        headers=tuple(headers[i] for i in columns),
                        amounts_differ=int(row[3]))
