"""What this browser remembers between visits: a participant's token, a facilitator's key.

A custom component with no build step (``ui/device_memory/index.html``) keeps the token in the
browser's localStorage, so that reopening the plain join link on the same device resumes.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

_memory = components.declare_component(
    "device_memory", path=str(Path(__file__).resolve().parent / "device_memory")
)


def remembered_token(code: str, token: str | None = None) -> str | None:
    """Return the token this browser holds for workshop ``code``, storing ``token`` first if given.

    Returns None on the first run (the browser answers on the next one) and wherever the
    component cannot run (tests without a browser, storage blocked).
    """
    value = _memory(code=code, token=token, key=f"device_memory_{code}", default=None)
    return value if isinstance(value, str) and value else None
