"""Shared AppTest helpers: text as a reader sees it."""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: object) -> str:
    """Return Markdown source as it reads on screen: backslash escapes removed."""
    return _ESCAPED.sub(r"\1", str(markdown))
