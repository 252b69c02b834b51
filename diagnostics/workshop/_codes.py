"""Workshop codes, facilitator keys and participant tokens, links and the QR code; roles."""

from __future__ import annotations

import hashlib
import io
import re

from diagnostics.roles import load_roles, match_role, role_label

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "ROLES",
    "facilitator_path",
    "format_code",
    "hash_secret",
    "match_role",
    "normalise_code",
    "participant_path",
    "qr_png",
    "role_label",
]

# Role id -> label, in display order: the app's one role list (content/roles.toml).
ROLES: dict[str, str] = load_roles().labels

# No 0/O, 1/I/L: a code read off a projector is typed without ambiguity. 31 symbols ** 8 is
# about 8.5e11 codes, so guessing a live one by trying is not practical.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest of a key or participant token (only hashes are stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(raw: object) -> str | None:
    """Return a workshop code in canonical form (upper case, no spaces or dashes), or None."""
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    """Return a code split in two halves for reading aloud (``ABCD-EFGH``)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def qr_png(url: str, scale: int = 8) -> bytes:
    """Return a PNG of the QR code for ``url`` (for the projector)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def participant_path(code: str) -> str:
    """Return the app-relative link participants open (``/workshop?workshop=CODE``)."""
    return f"/workshop?workshop={code}"


# The ``view`` of the dashboard's own address: the key stays in the session, out of the address bar
# a projector shows.
FACILITATOR_VIEW = "facilitator"


def dashboard_path(code: str) -> str:
    """Return the dashboard's address once opened: no key in it (the session holds the key)."""
    return f"/workshop?workshop={code}&view={FACILITATOR_VIEW}"


def facilitator_path(code: str, key: str) -> str:
    """Return the app-relative facilitator link (keep it private: it holds the key)."""
    return f"/workshop?workshop={code}&key={key}"
