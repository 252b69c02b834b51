"""User-facing errors read as one sentence: what is wrong, then how to fix it."""

from __future__ import annotations

import pytest

from diagnostics.errors import DiagnosticsError


@pytest.mark.parametrize(
    ("message", "hint", "text"),
    [
        ("The file is empty.", "Export it again.", "The file is empty. Export it again."),
        ("The file is empty.", "", "The file is empty."),
    ],
)
def test_message_then_hint(message: str, hint: str, text: str) -> None:
    err = DiagnosticsError(message, hint)
    assert str(err) == text
    assert (err.message, err.hint) == (message, hint)
    assert isinstance(err, Exception)
