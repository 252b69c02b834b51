"""Typed errors whose text a page or the command line can show to a person as is."""

from __future__ import annotations

import re

__all__ = ["DiagnosticsError", "public_text"]

# Where the server keeps things, and which process holds them, are nobody's business on a page:
# an absolute path of two or more parts (``/srv/data/workshops.duckdb``, ``C:\data\x``) and a
# process id (``PID 4242``). A date such as 05/02/2025 is not a path (its parts start with digits).
_SERVER_DETAILS = re.compile(
    r"(?<![\w/])/(?:[A-Za-z_.][\w.\-]*/)+[\w.\-]*|\b[A-Za-z]:\\[^\s\"'”):]+|"
    r"\(?\bPID\b[:=]?\s*\d+\)?",
    re.IGNORECASE,
)


def public_text(text: str) -> str:
    """Return ``text`` with server paths and process ids taken out."""
    return _SERVER_DETAILS.sub("…", text)


class DiagnosticsError(Exception):
    """A problem the user can fix: ``message`` says what is wrong, ``hint`` how to fix it.

    Both are cleaned of server paths and process ids, so any message can be shown as is.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        message, hint = public_text(message), public_text(hint)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()
