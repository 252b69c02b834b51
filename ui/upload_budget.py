"""Memory guard of the Data page: one session's files within the cap, every session within budget.

What each file would hold once read is estimated once, from its headers (see
:mod:`diagnostics.budget`), and kept in session state with its size. The session's total is held
in the process-wide ledger: a new upload is refused when it would not fit, and the ledger is given
back when files are removed or the session's state is dropped (a closed browser, after
``server.disconnectedSessionTTL``).
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Sequence
from typing import Protocol

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from diagnostics.budget import check_session_files, estimate_upload, ledger, upload_budget
from diagnostics.errors import DiagnosticsError
from ui.state import UPLOAD_ESTIMATES, UPLOAD_HOLD


class Upload(Protocol):
    """What the guard needs of a Streamlit UploadedFile."""

    name: str
    size: int

    def getvalue(self) -> bytes: ...


class _Hold:
    """Marks that a session holds memory in the ledger; releases it when garbage collected."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        weakref.finalize(self, ledger().release, owner)


def _owner() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "script"


def _known() -> dict[str, tuple[int, int]]:
    """Return file name → (size, estimated bytes held) for this session's files."""
    known: dict[str, tuple[int, int]] = st.session_state.setdefault(UPLOAD_ESTIMATES, {})
    return known


def admit_uploads(uploads: Sequence[Upload], keep: Collection[str] = ()) -> list[Upload]:
    """Return the uploads this session may read now (all or none); raise DiagnosticsError saying
    why when they are refused.

    ``keep`` names the files already read that stay beside the new ones. Together they must stay
    within the session cap, and what they hold must fit in the ledger next to other sessions'.
    """
    if not uploads:
        return []
    known = _known()
    sizes = {name: known[name][0] for name in keep if name in known}
    sizes.update({u.name: u.size for u in uploads})
    check_session_files(sizes)
    estimates = {name: known[name] for name in keep if name in known}
    for upload in uploads:
        try:
            held = estimate_upload(upload.getvalue(), upload.name).peak_bytes
        except DiagnosticsError:
            held = 0  # a damaged container: the reader says so, and holds nothing
        if held > upload_budget():
            held = 0  # the reader refuses it before reading: it holds nothing
        estimates[upload.name] = (upload.size, held)
    ledger().hold(_owner(), sum(held for _size, held in estimates.values()))
    st.session_state[UPLOAD_ESTIMATES] = estimates
    if not isinstance(st.session_state.get(UPLOAD_HOLD), _Hold):
        st.session_state[UPLOAD_HOLD] = _Hold(_owner())
    return list(uploads)


def hold_session_files(names: Collection[str]) -> None:
    """Hold in the ledger only what the files still in use need (after a removal, or none)."""
    known = {name: value for name, value in _known().items() if name in names}
    st.session_state[UPLOAD_ESTIMATES] = known
    total = sum(held for _size, held in known.values())
    if total:
        ledger().hold(_owner(), total)
    else:
        ledger().release(_owner())
