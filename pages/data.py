"""Data page: upload CRM exports, check how they were read, fix the mapping and the stages."""

import streamlit as st

from diagnostics.uploads import UploadWorkspace, file_signature
from ui.data_views import render_active_files, render_file, render_stages
from ui.errors import shown_errors
from ui.frame import require_router
from ui.state import (
    DATA_DIRTY,
    DATASET,
    MAPPING_SIGNATURE,
    UPLOAD_BATCH,
    UPLOAD_MODE,
    UPLOADER_VERSION,
    WORKSPACE,
    active_dataset,
)
from ui.text import escape_markdown
from ui.upload_budget import admit_uploads, hold_session_files

require_router()
st.title("Data")
st.caption(
    "Upload exports from Salesforce, HubSpot, Pipedrive or your own spreadsheet: opportunities "
    "(one row per deal), and optionally activities and stage history. Columns, dates, amounts "
    "and stages are recognised automatically; check them below and change anything that is off. "
    "Your files stay in this browser session only."
)
REPLACE, ADD = "Replace the current data", "Add to the current data"


def _use_sample() -> None:
    st.session_state.pop(DATASET, None)  # the next page to ask loads the bundled sample
    st.session_state[WORKSPACE] = UploadWorkspace()
    st.session_state.pop(MAPPING_SIGNATURE, None)
    # New uploader keys: the old widgets would hand their files back on the next run.
    st.session_state[UPLOADER_VERSION] = st.session_state.get(UPLOADER_VERSION, 0) + 1


def _remove(workspace: UploadWorkspace, name: str) -> None:
    workspace.remove_file(name)
    if not workspace.files:
        _use_sample()
    else:
        st.session_state[DATA_DIRTY] = True


workspace: UploadWorkspace = st.session_state.setdefault(WORKSPACE, UploadWorkspace())
left, right = st.columns([4, 1], vertical_alignment="bottom")
status_line = left.empty()
right.button("Use sample data", key="use_sample", on_click=_use_sample, width="stretch")

version = st.session_state.get(UPLOADER_VERSION, 0)
batch = st.session_state.get(UPLOAD_BATCH, 0)
mode = st.radio("A new upload", [REPLACE, ADD], key=UPLOAD_MODE, horizontal=True,
                help="Add a file to the current data, e.g. activities or stage history beside "
                     "the deals. Otherwise a new upload replaces every file now in use.")
uploads = st.file_uploader(
    "CRM exports (CSV, TSV, Excel .xlsx, Parquet)", key=f"data_files_{version}_{batch}",
    type=["csv", "tsv", "txt", "xlsx", "parquet"], accept_multiple_files=True,
)
saved = st.file_uploader("Saved mapping (optional, .json from “Download mapping”)",
                         type=["json"], key=f"mapping_file_{version}")

# Within the session's cap and the server's memory budget, or refused with a message.
uploads = admit_uploads(uploads or [], keep=workspace.files if mode == ADD else ())
with shown_errors():
    if uploads:
        files = [(u.name, u.getvalue()) for u in uploads]
        signatures = [f"{u.file_id}:{u.size}" for u in uploads]
        if mode == ADD:
            workspace.add_files(files, signatures)
        else:
            workspace.replace_files(files, signatures)
        # An empty drop zone: the files now in use are listed below, each with its ✕.
        st.session_state[UPLOAD_BATCH] = batch + 1
        st.session_state[DATA_DIRTY] = True
    if saved is not None:
        signature = file_signature(saved.name, saved.getvalue())
        if st.session_state.get(MAPPING_SIGNATURE) != signature:
            st.session_state[MAPPING_SIGNATURE] = signature
            workspace.apply_saved_mapping(saved.getvalue())
            st.session_state[DATA_DIRTY] = True

if st.session_state.pop(DATA_DIRTY, False) and workspace.files:
    with st.spinner("Reading your data…"):
        result = workspace.rebuild()
    if result is not None:
        st.session_state[DATASET] = result.dataset
    else:  # none of the files can be used: no page may go on showing the previous ones
        st.session_state.pop(DATASET, None)
    st.rerun()  # once more, so that the sidebar, the status line and the uploader are fresh
hold_session_files(workspace.files)  # what the files still in use hold, nothing more
dataset = active_dataset()
status_line.markdown(f"**Active data:** {escape_markdown(dataset.source)} · "
                     f"as of {dataset.as_of:%d %b %Y}")
if workspace.problem:
    st.error(escape_markdown(workspace.problem))

if not workspace.files:
    st.info("You are looking at the bundled sample: 40 reps, 5,000 deals over 18 months, "
            "60,000 activities and stage history. Upload your own export to replace it.")
else:
    render_active_files(workspace, _remove)
    if workspace.result is not None:
        st.success(f"Using {escape_markdown(workspace.result.dataset.source)}. Every page now "
                   "shows this data.")
    else:
        st.warning("None of these files can be used yet, so every page shows the bundled "
                   "sample. Fix the problems below or remove the files.")
    for note in dataset.notes:
        st.info(escape_markdown(note))
    for state in workspace.files.values():
        render_file(workspace, state)
    render_stages(workspace)
    st.download_button("Download mapping", data=workspace.mapping_json(),
                       file_name="mapping.json", mime="application/json", key="mapping_download",
                       help="Re-apply it to next month's export with “Saved mapping”.")
