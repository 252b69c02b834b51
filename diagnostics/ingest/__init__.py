"""CRM exports → canonical, typed tables with a validation report → the session's Dataset.

The flow, used by the Data page, the CLI and the sample loader alike (through
:class:`diagnostics.uploads.UploadWorkspace`):

1. :func:`diagnostics.readers.read_raw` reads bytes into text cells (rows it cannot split are
   rejected with their line number);
2. :func:`propose_table_mapping` detects the kind of table, maps headers to canonical fields and
   picks a date order and decimal separator per column from the data;
3. :func:`parse_table` types every mapped column (plain ones with Arrow, the rest in DuckDB),
   rejects unusable rows (counted, with line and reason) and reports unreadable values, duplicate
   ids, future dates, negative amounts; an amount column mixing currencies keeps one (the others
   count as missing amounts) and one mixing number formats reads each value by its own;
4. :func:`assemble_dataset` proposes (or applies) the stage settings and builds the Dataset.

SQL here only ever names positional raw columns (``c0``, ``c1``…) and canonical fields chosen by
code; uploaded headers and values never become SQL text.
"""

from diagnostics.ingest._amounts import NO_MARK, read_amounts, scan_amounts
from diagnostics.ingest._assemble import assemble_dataset, reconcile_stages
from diagnostics.ingest._currencies import CURRENCIES
from diagnostics.ingest._formats import (
    detect_date_order,
    detect_decimal_comma,
    entered_columns,
    propose_table_mapping,
    stage_date_columns,
)
from diagnostics.ingest._parse import ColumnPlan, parse_table, plan_columns
from diagnostics.ingest._report import (
    AmountFormats,
    ColumnProblem,
    IngestResult,
    LoadedTable,
    ValidationReport,
)
from diagnostics.ingest._sql import RowsQuery, typed_rows_sql

__all__ = [
    "CURRENCIES",
    "NO_MARK",
    "AmountFormats",
    "ColumnPlan",
    "ColumnProblem",
    "IngestResult",
    "LoadedTable",
    "RowsQuery",
    "ValidationReport",
    "assemble_dataset",
    "detect_date_order",
    "detect_decimal_comma",
    "entered_columns",
    "parse_table",
    "plan_columns",
    "propose_table_mapping",
    "read_amounts",
    "reconcile_stages",
    "scan_amounts",
    "stage_date_columns",
    "typed_rows_sql",
]
