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


@pytest.mark.parametrize(("raw", "shown"), [
    ("The workshop database /work/data/workshops.duckdb cannot be opened (IO Error: Could not "
     "set lock on file \"/work/data/workshops.duckdb\": Conflicting lock is held in "
     "/usr/bin/python3.11 (PID 4242) by user root).",
     "The workshop database … cannot be opened (IO Error: Could not set lock on file \"…\": "
     "Conflicting lock is held in … … by user root)."),
    ("Cannot read C:\\Users\\ann\\deals.csv: denied.", "Cannot read …: denied."),
    ("line 5: “05/02/2025” is not a date", "line 5: “05/02/2025” is not a date"),
    ("Use a/b or 3/4 of the deals.", "Use a/b or 3/4 of the deals."),
])
def test_messages_never_show_server_paths_or_process_ids(raw: str, shown: str) -> None:
    err = DiagnosticsError(raw, "Set MYN_WORKSHOP_DB to /srv/other.duckdb or a server.")
    assert err.message == shown
    assert err.hint == "Set MYN_WORKSHOP_DB to … or a server."
