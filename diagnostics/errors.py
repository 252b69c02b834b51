"""Typed errors whose text a page or the command line can show to a person as is."""

from __future__ import annotations

__all__ = ["DiagnosticsError"]


class DiagnosticsError(Exception):
    """A problem the user can fix: ``message`` says what is wrong, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()
