"""Chart descriptions for screen readers: lists cut to a readable length."""

from __future__ import annotations

import pytest

from diagnostics.charts.describe import LIMIT, listing


@pytest.mark.parametrize(("items", "limit", "expected"), [
    ([], LIMIT, "none"),
    (["a"], LIMIT, "a"),
    (["a", "b", "c"], 3, "a; b; c"),
    (["a", "b", "c", "d"], 2, "a; b; and 2 more"),
    ([str(i) for i in range(1_002)], 1, "0; and 1,001 more"),
])
def test_listing_joins_and_cuts_with_a_count(items: list[str], limit: int, expected: str) -> None:
    assert listing(items, limit) == expected
