"""Every session-state key the app uses, and accessors for per-session data.

Per-user data (uploads, answers) lives only in ``st.session_state``: never in ``st.cache_data`` or
``st.cache_resource``, which every session in the process shares.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from diagnostics.dataset import Dataset

# Frame
ROUTED = "routed"  # bool: this session has run a page through the app's navigation
MEMO = "memo"  # dict: results worked out from this session's own data (see ui.memo)

# Data
DATASET = "dataset"  # diagnostics.dataset.Dataset: the active data of this session
WORKSPACE = "workspace"  # diagnostics.uploads.UploadWorkspace: files, mappings, stages
STAGE_EDITOR_VERSION = "stage_editor_version"  # int: bumps to reset the stage editor
UPLOADER_VERSION = "uploader_version"  # int: bumps to empty the file uploaders
UPLOAD_BATCH = "upload_batch"  # int: bumps to empty the data uploader once its files are read
UPLOAD_MODE = "upload_mode"  # radio: a new upload replaces the current data, or is added to it
MAPPING_SIGNATURE = "mapping_signature"  # signature of the saved mapping already applied
UPLOAD_ESTIMATES = "upload_estimates"  # dict[file id, bytes]: what reading each upload holds
UPLOAD_HOLD = "upload_hold"  # ui.upload_budget._Hold: gives the ledger back when state is dropped
UPLOAD_NOTICE = "upload_notice"  # str: why the last upload was refused, shown until the next one

# Make your number questionnaire
MYN_ROLE = "myn_role"  # str: the respondent's role id
MYN_ANSWERS = "myn_answers"  # dict[question_id, int | None]
MYN_NUMBERS = "myn_numbers"  # dict[str, float]: target, pipeline, win rate...
MYN_BANK = "myn_bank"  # a consultant's own question bank, or absent for the built-in one
MYN_LINK = "myn_link"  # str: the share-link value last applied or written (avoids re-applying)
MYN_MESSAGE = "myn_message"  # tuple[kind, text]: feedback from a load/fill callback, shown once
MYN_WIDGET_PREFIX = "myn_q_"  # + question id: radio widget of that statement
MYN_NUMBER_PREFIX = "myn_n_"  # + number name: number input of that number
MYN_ROLE_WIDGET = "myn_role_select"  # role select box
MYN_ANSWERS_UPLOAD = "myn_answers_upload"  # file uploader for an answers JSON
MYN_BANK_UPLOAD = "myn_bank_upload"  # file uploader for a consultant's question bank
MYN_FILL_FROM_DATA = "myn_fill_from_data"  # button: take numbers from the active dataset
MYN_RATES_FROM = "myn_rates_from"  # (sentences, numbers): the deals filled numbers came from
MYN_BUILTIN_BANK = "myn_builtin_bank"  # button: go back to the built-in question bank
MYN_CLEAR = "myn_clear"  # button: forget every answer and number
MYN_LOADERS = "myn_loaders"  # expander holding the answers / question-bank loaders
MYN_DOWNLOADS = "myn_dl_"  # + "json" / "html" / "pdf": download buttons
MYN_DIMENSION = "myn_dimension"  # str: the dimension whose statements are shown
MYN_SCORED = "myn_scored"  # ((bank, answers), result or error): the verdict of those answers
MYN_GAPS_DRAWN = "myn_gaps_drawn"  # (next to answer, unanswered) as the page last drew them
MYN_UNANSWERED = "myn_unanswered"  # expander listing the statements not answered

# Leadership model
LEADERSHIP_ANSWERS = "leadership_answers"  # dict[question_id, option_id]
LEADERSHIP_WIDGET_PREFIX = "leadership_q_"  # + question id: radio widget of that question
LEADERSHIP_CLEAR = "leadership_clear"  # button that forgets the leadership answers
LEADERSHIP_EXAMPLES_OPEN = "leadership_examples_"  # + profile id: its examples expander is open

# Workshop
WORKSHOP_PARTICIPANT = "workshop_participant"  # dict[workshop code, participant token]
WORKSHOP_KEYS = "workshop_keys"  # dict[code, facilitator key]: workshops this session may list
WORKSHOP_REVEAL = "workshop_reveal"  # bool toggle: projector mode, names hidden
WORKSHOP_NOTICE = "workshop_notice"  # str: a refused answer's message, shown on the next run
WORKSHOP_ANSWER_PREFIX = "workshop_answer_"  # + question id: a participant's answer widget
WORKSHOP_FORM_PREFIX = "workshop_form_"  # + field: create / join / open form widgets
WORKSHOP_VOTE_PREFIX = "workshop_vote_"  # + statement id: a participant's vote checkbox
WORKSHOP_PAGE = "workshop_page"  # int: the questionnaire section shown when paged
WORKSHOP_USE_DATA = "workshop_use_data"  # bool toggle: the loaded data beside the room's view
WORKSHOP_EVIDENCE = "workshop_evidence"  # (dataset, numbers, evidence) worked out for that dataset
WORKSHOP_PLAN_PREFIX = "workshop_plan_"  # + field: the facilitator's plan and retake widgets

# Funnel / quadrant settings that should survive page switches
FUNNEL_SETTINGS = "funnel_settings"
FUNNEL_FILTERS_OPEN = "funnel_filters_open"  # expander: the category filters are shown
FUNNEL_PREFETCH = "funnel_prefetch"  # (weak ref to a dataset, Future or None until started)
FUNNEL_WIDGET_PREFIX = "funnel_w_"  # + setting name: Funnel page widget seeded from FUNNEL_SETTINGS
QUADRANT_SETTINGS = "quadrant_settings"
QUADRANT_FILTERS_OPEN = "quadrant_filters_open"  # expander: the category filters are shown
QUADRANT_WIDGET = "quadrant_w_"  # prefix of the quadrant page's widget keys (quadrant_w_<setting>)

# Forecast
FORECAST_SETTINGS = "forecast_settings"  # dict: target and period, kept across page switches
FORECAST_WIDGET = "forecast_w_"  # + setting name: Forecast page widget seeded from the settings
FORECAST_METHOD_OPEN = "forecast_method_open"  # expander: how the forecast works is shown


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
