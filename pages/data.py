"""Data page: upload CRM exports, check how they were read, fix the mapping and the stages."""

import streamlit as st

from diagnostics.errors import DiagnosticsError
from diagnostics.uploads import UploadWorkspace, file_signature
from ui.data_views import (
    on_upload,
    rebuild_dataset,
    render_active_files,
    render_deals_by_month,
    render_file,
    render_pipeline_choice,
    render_stages,
)
from ui.frame import require_router
from ui.funnel_views import start_prefetch
from ui.state import (
    DATASET,
    MAPPING_SIGNATURE,
    UPLOAD_BATCH,
    UPLOAD_MODE,
    UPLOAD_NOTICE,
    UPLOADER_VERSION,
    WORKSPACE,
    active_dataset,
)
from ui.text import escape_markdown
from ui.upload_budget import hold_session_files

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
    st.session_state.pop(UPLOAD_NOTICE, None)
    # New uploader keys: the old widgets would hand their files back on the next run.
    st.session_state[UPLOADER_VERSION] = st.session_state.get(UPLOADER_VERSION, 0) + 1


def _on_saved_mapping(workspace: UploadWorkspace, key: str) -> None:
    saved = st.session_state.get(key)
    if saved is None:
        return
    signature = file_signature(saved.name, saved.getvalue())
    if st.session_state.get(MAPPING_SIGNATURE) == signature:
        return
    st.session_state[MAPPING_SIGNATURE] = signature
    try:
        workspace.apply_saved_mapping(saved.getvalue())
    except DiagnosticsError as err:
        st.session_state[UPLOAD_NOTICE] = escape_markdown(err)
        return
    rebuild_dataset(workspace)


def _remove(workspace: UploadWorkspace, name: str) -> None:
    workspace.remove_file(name)
    if not workspace.files:
        _use_sample()
    else:
        rebuild_dataset(workspace)


workspace: UploadWorkspace = st.session_state.setdefault(WORKSPACE, UploadWorkspace())
left, right = st.columns([4, 1], vertical_alignment="bottom")
status_line = left.empty()
right.button("Use sample data", key="use_sample", on_click=_use_sample, width="stretch")

version = st.session_state.get(UPLOADER_VERSION, 0)
batch = st.session_state.get(UPLOAD_BATCH, 0)
mode = st.radio("A new upload", [REPLACE, ADD], key=UPLOAD_MODE, horizontal=True,
                help="Add a file to the current data, e.g. activities or stage history beside "
                     "the deals. Otherwise a new upload replaces every file now in use.")
# Files are read, checked against the memory budget and built into the dataset in the
# uploaders' callbacks, before the frame and this page run: one run shows the new data.
uploader = f"data_files_{version}_{batch}"
st.file_uploader(
    "CRM exports (CSV, TSV, Excel .xlsx, Parquet)", key=uploader,
    type=["csv", "tsv", "txt", "xlsx", "parquet"], accept_multiple_files=True,
    on_change=on_upload, args=(workspace, uploader, mode == ADD),
)
saved_key = f"mapping_file_{version}"
st.file_uploader("Saved mapping (optional, .json from “Download mapping”)", type=["json"],
                 key=saved_key, on_change=_on_saved_mapping, args=(workspace, saved_key))
if notice := st.session_state.get(UPLOAD_NOTICE):
    st.error(notice)
hold_session_files(workspace.files)  # what the files still in use hold, nothing more
dataset = active_dataset()
status_line.markdown(f"**Active data:** {escape_markdown(dataset.source)} · "
                     f"as of {dataset.as_of:%d %b %Y}")
if workspace.problem:
    st.error(escape_markdown(workspace.problem))

if not workspace.files:
    st.info("You are looking at the bundled sample: 40 reps, 5,000 deals over 18 months, "
            "60,000 activities and stage history. Upload your own export to replace it.")
    render_deals_by_month(dataset)
else:
    render_active_files(workspace, _remove)
    if workspace.result is not None:
        st.success(f"Using {escape_markdown(workspace.result.dataset.source)}. Every page now "
                   "shows this data.")
        render_pipeline_choice(workspace)
    else:
        st.warning("None of these files can be used yet, so every page shows the bundled "
                   "sample. Fix the problems below or remove the files.")
    for note in dataset.notes:
        st.info(escape_markdown(note))
    render_deals_by_month(dataset)
    for state in workspace.files.values():
        render_file(workspace, state)
    render_stages(workspace)
    st.download_button("Download mapping", data=workspace.mapping_json(),
                       file_name="mapping.json", mime="application/json", key="mapping_download",
                       help="Re-apply it to next month's export with “Saved mapping”.")
start_prefetch()  # a new upload's first Funnel view, worked out while the browser draws this
