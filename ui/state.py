"""Every session-state key the app uses, and accessors for per-session data.

Per-user data (uploads, answers) lives only in ``st.session_state``: never in ``st.cache_data`` or
``st.cache_resource``, which every session in the process shares.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from diagnostics.dataset import Dataset

# Data
DATASET = "dataset"  # diagnostics.dataset.Dataset: the active data of this session
UPLOADS = "uploads"  # data page: {file name: diagnostics.ingest.LoadedFile}
UPLOAD_SIGNATURE = "upload_signature"  # data page: hash of the files already read

# Make your number questionnaire
MYN_ROLE = "myn_role"  # str: the respondent's role id
MYN_ANSWERS = "myn_answers"  # dict[question_id, int | None]
MYN_NUMBERS = "myn_numbers"  # dict[str, float]: target, pipeline, win rate...
MYN_BANK = "myn_bank"  # a consultant's own question bank, or absent for the built-in one

# Leadership model
LEADERSHIP_ANSWERS = "leadership_answers"  # dict[question_id, option_id]
LEADERSHIP_WIDGET_PREFIX = "leadership_q_"  # + question id: radio widget of that question
LEADERSHIP_CLEAR = "leadership_clear"  # button that forgets the leadership answers

# Workshop
WORKSHOP_PARTICIPANT = "workshop_participant"  # participant id on this device for a workshop

# Funnel / quadrant settings that should survive page switches
FUNNEL_SETTINGS = "funnel_settings"
QUADRANT_SETTINGS = "quadrant_settings"


def active_dataset() -> Dataset:
    """Return this session's dataset, loading the bundled sample on first use."""
    if DATASET not in st.session_state:
        from diagnostics.sample import load_sample_dataset

        st.session_state[DATASET] = load_sample_dataset()
    dataset: Dataset = st.session_state[DATASET]
    return dataset


def session_dict(key: str) -> dict[str, Any]:
    """Return a plain dict kept in session state under ``key`` (created empty on first use)."""
    value = st.session_state.get(key)
    if not isinstance(value, dict):
        value = {}
        st.session_state[key] = value
    return value
