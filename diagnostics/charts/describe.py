"""Text descriptions of charts for screen readers, built from the rows a chart is drawn from.

Vega-Embed writes a chart's top-level ``description`` into the ``aria-label`` of the drawing, so
a screen reader reads what the chart shows instead of "graphics". A description states the
numbers; a long list is cut after ``LIMIT`` items and says how many more there are.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LIMIT", "listing"]

LIMIT = 12


def listing(items: Sequence[str], limit: int = LIMIT) -> str:
    """Return ``items`` joined with "; ", cut after ``limit`` with "and N more"; "none" if empty."""
    if not items:
        return "none"
    shown = "; ".join(items[:limit])
    more = len(items) - limit
    return f"{shown}; and {more:,} more" if more > 0 else shown
