"""Rendering helpers for the Data page: one file's mapping and report, and the stage editor."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from diagnostics.charts.data import deals_by_month_chart
from diagnostics.dataset import Dataset, StageConfig, coverage, deals_by_month
from diagnostics.errors import DiagnosticsError
from diagnostics.ingest import ValidationReport
from diagnostics.mapping import KIND_LABELS, KINDS, field_specs
from diagnostics.stages import ROLES, config_from_rows, stage_rows
from diagnostics.uploads import FileState, UploadWorkspace
from ui.charts import show_chart
from ui.errors import show_error
from ui.funnel_views import prefetch
from ui.memo import remembered
from ui.state import DATASET, STAGE_EDITOR_VERSION, UPLOAD_BATCH, UPLOAD_NOTICE
from ui.text import escape_markdown
from ui.upload_budget import Upload, admit_uploads

NOT_MAPPED = "— not in this file —"
FEW_ROWS = 10  # left-out rows shown as a plain table up to this many, as a grid beyond
EDIT_MAPPING = "edit_mapping::"  # + file name: toggle that shows the file's mapping editor
EDIT_STAGES = "edit_stages"  # toggle that shows the stage editor
CURRENCY_KEPT = "currency::"  # + file name + "::" + field: the currency an amount column keeps
DATE_ORDERS = {"ymd": "Year-month-day (2025-03-31)", "mdy": "Month/day/year (03/31/2025)",
               "dmy": "Day/month/year (31/03/2025)"}


def rebuild_dataset(uploads: UploadWorkspace) -> None:
    """Build the session's dataset from the files held (the bundled sample when none is usable).

    Called from the widgets' callbacks, which run before the frame and the page: the one run that
    follows a change already shows the new data everywhere, without a second run.
    """
    if not uploads.files:
        return
    result = uploads.rebuild()
    if result is not None:
        st.session_state[DATASET] = result.dataset
        prefetch(result.dataset)  # the Funnel's first view, after this run (start_prefetch)
    else:  # none of the files can be used: no page may go on showing the previous ones
        st.session_state.pop(DATASET, None)


def on_upload(uploads: UploadWorkspace, key: str, add: bool) -> None:
    """Read the files just dropped on the uploader ``key`` and rebuild the data (a callback).

    The files replace the ones in use, or join them when ``add``. A refused upload leaves the data
    as it was and its reason is kept under ``UPLOAD_NOTICE`` until the next upload. Either way the
    drop zone is emptied (a new key): the files in use are listed below it, each with its ✕.
    """
    dropped: list[Upload] = list(st.session_state.get(key) or [])
    if not dropped:
        return
    st.session_state.pop(UPLOAD_NOTICE, None)
    st.session_state[UPLOAD_BATCH] = st.session_state.get(UPLOAD_BATCH, 0) + 1
    try:
        admitted = admit_uploads(dropped, keep=uploads.files if add else ())
        files = [(u.name, u.getvalue()) for u in admitted]
        # The uploader's file ids name each upload cheaply: no hashing of the bytes.
        signatures = [f"{getattr(u, 'file_id', u.name)}:{u.size}" for u in admitted]
        if add:
            uploads.add_files(files, signatures)
        else:
            uploads.replace_files(files, signatures)
    except DiagnosticsError as err:
        st.session_state[UPLOAD_NOTICE] = escape_markdown(err)
        return
    rebuild_dataset(uploads)


def _on_kind(uploads: UploadWorkspace, name: str, key: str) -> None:
    uploads.set_kind(name, st.session_state[key])
    rebuild_dataset(uploads)


def _on_column(uploads: UploadWorkspace, name: str, field_name: str, key: str) -> None:
    value = st.session_state[key]
    uploads.set_column(name, field_name, None if value == NOT_MAPPED else value)
    rebuild_dataset(uploads)


def _on_date_order(uploads: UploadWorkspace, name: str, field_name: str, key: str) -> None:
    uploads.set_date_order(name, field_name, st.session_state[key])
    rebuild_dataset(uploads)


def _on_decimal(uploads: UploadWorkspace, name: str, field_name: str, key: str) -> None:
    uploads.set_decimal_comma(name, field_name, st.session_state[key] == "1.234,56")
    rebuild_dataset(uploads)


def _on_currency(uploads: UploadWorkspace, name: str, field_name: str, key: str) -> None:
    uploads.set_currency(name, field_name, st.session_state[key])
    rebuild_dataset(uploads)


def render_currencies(uploads: UploadWorkspace, state: FileState) -> None:
    """For each amount column holding several currencies: what each holds, which is used,
    and the choice of the currency kept (the others count as deals without an amount)."""
    if state.loaded is None:
        return
    for report in state.loaded.report.amounts:
        choices = report.choices()
        if report.kept not in choices:
            continue
        rows = pd.DataFrame(report.currency_rows())
        # A table's cells are read as Markdown: the marks are written as in the file.
        st.table(rows.assign(marks=rows["marks"].map(escape_markdown)), hide_index=True)
        key = f"{CURRENCY_KEPT}{state.name}::{report.field}"
        st.selectbox(
            f"Currency kept for “{escape_markdown(report.header)}”", choices,
            index=choices.index(report.kept), format_func=report.currency_label, key=key,
            on_change=_on_currency, args=(uploads, state.name, report.field, key),
            help="Amounts in different currencies cannot be added up. Every page uses the "
                 "amounts in this currency; the others count as deals without an amount.")


def render_report(report: ValidationReport) -> None:
    """Show the validation summary of one file: counts, problems, left-out rows."""
    read, kept, left = st.columns(3)
    read.metric("Rows read", f"{report.rows_read:,}")
    kept.metric("Rows used", f"{report.rows_kept:,}")
    left.metric("Rows left out", f"{report.rows_rejected:,}")
    for note in report.notes:
        st.caption(escape_markdown(note))
    problems = report.problems()
    if problems:
        st.warning("\n".join(f"- {escape_markdown(p)}" for p in problems))
    else:
        st.success("Every row was read and every mapped value understood.")
    if report.rejected:
        st.caption("Rows left out (first 50), with their line in the file:")
        frame = pd.DataFrame([(r.line, r.reason) for r in report.rejected],
                             columns=["line", "reason"])
        if len(frame) <= FEW_ROWS:  # a few rows: a plain table, quicker to draw than a grid
            # A table's cells are read as Markdown: a reason may quote a value of the file.
            st.table(frame.assign(reason=frame["reason"].map(escape_markdown)), hide_index=True)
        else:
            st.dataframe(frame, hide_index=True, width="stretch",
                         height=min(300, 40 + 35 * len(frame)))


def mapping_line(state: FileState) -> str:
    """Return, as Markdown, which column of the file feeds each field and which are missing."""
    if state.mapping is None:
        return ""
    specs = field_specs()[state.mapping.kind]
    used = [f"{spec.label} ← “{escape_markdown(state.mapping.columns[spec.name])}”"
            for spec in specs if spec.name in state.mapping.columns]
    missing = [spec.label for spec in specs if spec.name not in state.mapping.columns]
    line = "Columns read: " + (" · ".join(used) if used else "none")
    if missing:
        line += f". Not in this file: {escape_markdown(', '.join(missing))}"
    return line + "."


def render_active_files(
    uploads: UploadWorkspace, on_remove: Callable[[UploadWorkspace, str], None]
) -> None:
    """List the files in use, each with what it holds and a ✕ that removes it and its data."""
    st.markdown("**Files in use**")
    for i, state in enumerate(uploads.files.values()):
        if state.mapping is not None and state.raw is not None:
            what = f"{KIND_LABELS[state.mapping.kind].split(' (')[0]}, {state.raw.rows:,} rows"
        else:
            what = "cannot be read"
        if state.loaded is None and state.raw is not None:
            what += " (not used: see below)"
        name, remove = st.columns([12, 1], vertical_alignment="center")
        name.text(f"{state.name} — {what}")  # plain text: a file name is never Markdown
        remove.button("✕", key=f"remove_file_{i}", help="Remove this file and its data",
                      on_click=on_remove, args=(uploads, state.name))


def _on_pipeline(uploads: UploadWorkspace, key: str) -> None:
    uploads.set_pipeline(st.session_state[key])
    # Another pipeline's stages: edits kept by row in the stage editor must not apply to them.
    st.session_state[STAGE_EDITOR_VERSION] = st.session_state.get(STAGE_EDITOR_VERSION, 0) + 1
    rebuild_dataset(uploads)


def render_pipeline_choice(uploads: UploadWorkspace) -> None:
    """When the deals belong to several pipelines, let the user pick the one read as the funnel.

    The others are left out of every page (the data notes say how many deals); each pipeline has
    its own stages, so the stage settings start afresh on another pipeline.
    """
    choice = uploads.result.pipelines if uploads.result is not None else None
    if choice is None:
        return
    names = list(choice.counts)
    key = f"pipeline_{st.session_state.get(UPLOAD_BATCH, 0)}"
    st.selectbox(  # options are plain text, never Markdown
        "Pipeline read as the funnel", names, index=names.index(choice.used), key=key,
        format_func=lambda name: f"{name} ({choice.counts[name]:,} deals)",
        on_change=_on_pipeline, args=(uploads, key),
        help="Each pipeline has its own stages, so one is read at a time. The deals of the "
             "others are left out of every page; the stage settings start afresh for another "
             "pipeline.")


def render_file(uploads: UploadWorkspace, state: FileState) -> None:
    """Show one file: how it was read (counts, problems, the columns used) and, on demand or
    when it cannot be used, the mapping and value formats to change and its first rows."""
    if state.raw is None or state.mapping is None:
        st.error(f"{escape_markdown(state.name)}: {escape_markdown(state.error)}")
        return
    kind = KIND_LABELS[state.mapping.kind].split(" (")[0]
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(state.name)}** — {kind}, {state.raw.rows:,} rows")
        if state.error:
            st.error(escape_markdown(state.error))
        if state.loaded is not None:
            for name in state.loaded.ambiguous_dates:
                column = escape_markdown(state.mapping.columns[name])
                st.info(f"Dates in “{column}” fit both month/day and day/month; "
                        f"they are read as {DATE_ORDERS[state.mapping.date_orders[name]]}.")
            render_report(state.loaded.report)
            render_currencies(uploads, state)
        st.caption(mapping_line(state))
        # The editor is many widgets: drawn when asked for, or at once when the file needs it.
        if state.error is None and not st.toggle(
            "Change the columns or value formats, see the first rows",
            key=f"{EDIT_MAPPING}{state.name}",
        ):
            return
        _mapping_editor(uploads, state)
        if state.loaded is not None:
            st.caption("First rows as the app reads them:")
            st.dataframe(state.loaded.table.slice(0, 5).to_pandas(), hide_index=True,
                         width="stretch")


def _mapping_editor(uploads: UploadWorkspace, state: FileState) -> None:
    """Draw the kind, column and value-format widgets of one file."""
    assert state.raw is not None and state.mapping is not None
    mapping = state.mapping
    key = f"kind::{state.name}"
    st.selectbox("This file holds", KINDS, index=KINDS.index(mapping.kind),
                 format_func=KIND_LABELS.__getitem__, key=key,
                 on_change=_on_kind, args=(uploads, state.name, key))
    st.markdown("**Columns** — which column of your file holds each field")
    options = [NOT_MAPPED, *state.raw.headers]
    specs = field_specs()[mapping.kind]
    grid = st.columns(3)
    for i, spec in enumerate(specs):
        key = f"col::{state.name}::{spec.name}"
        current = mapping.columns.get(spec.name, NOT_MAPPED)
        grid[i % 3].selectbox(
            spec.label + (" *" if spec.required else ""), options,
            index=options.index(current), key=key,
            on_change=_on_column, args=(uploads, state.name, spec.name, key),
        )
    formats = [s for s in specs if s.name in mapping.columns and s.kind in ("date", "amount")]
    if not formats:
        return
    st.markdown("**Value formats** — detected from the data; change them if wrong")
    grid = st.columns(3)
    for i, spec in enumerate(formats):
        key = f"fmt::{state.name}::{spec.name}"
        if spec.kind == "date":
            order = mapping.date_orders.get(spec.name, "ymd")
            grid[i % 3].selectbox(
                spec.label, list(DATE_ORDERS), index=list(DATE_ORDERS).index(order),
                format_func=DATE_ORDERS.__getitem__, key=key,
                on_change=_on_date_order, args=(uploads, state.name, spec.name, key))
        else:
            comma = mapping.decimal_comma.get(spec.name, False)
            grid[i % 3].radio(
                spec.label, ["1,234.56", "1.234,56"], index=int(comma), key=key,
                horizontal=True, on_change=_on_decimal,
                args=(uploads, state.name, spec.name, key))


def stage_summary(config: StageConfig) -> str:
    """Return, as Markdown, the funnel's stages in order and the won, lost and excluded ones."""
    def shown(stage: str) -> str:
        name = config.display_name(stage)
        text = escape_markdown(stage)
        return text if name == stage else f"{text} (shown as {escape_markdown(name)})"

    lines = ["**Funnel, in order:** " + (" → ".join(map(shown, config.funnel)) or "none")]
    for label, stages in (("Won", config.won), ("Lost", config.lost),
                          ("Excluded", config.excluded)):
        lines.append(f"**{label}:** " + (", ".join(map(shown, stages)) or "none"))
    return "  \n".join(lines)


def render_stages(uploads: UploadWorkspace) -> None:
    """Show the stages in use; on demand, the editor: order, names, won / lost / excluded."""
    if uploads.result is None or uploads.stages is None:
        return
    st.subheader("Stages")
    st.caption(escape_markdown(uploads.result.stage_note))
    st.markdown(stage_summary(uploads.stages))
    if not st.toggle("Edit the stages", key=EDIT_STAGES):
        return
    st.caption("Edit the order, rename a stage, or change its role: won and lost are outcomes; "
               "excluded stages (on hold, stalled) stay out of the funnel.")
    frame = pd.DataFrame(stage_rows(uploads.stages))
    edited = st.data_editor(
        frame, key=f"stage_editor_{st.session_state.get(STAGE_EDITOR_VERSION, 0)}",
        hide_index=True, width="stretch", disabled=["stage"],
        column_config={
            "stage": st.column_config.TextColumn("Stage in file"),
            "show_as": st.column_config.TextColumn("Show as"),
            "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True),
            "order": st.column_config.NumberColumn("Funnel order", min_value=1, step=1),
        },
    )
    try:
        config = config_from_rows(edited.to_dict("records"))
    except DiagnosticsError as err:
        show_error(err)
        return
    if config != uploads.stages:
        uploads.set_stages(config)
        # A fresh editor for the new order: old edits are keyed by row and would apply again.
        st.session_state[STAGE_EDITOR_VERSION] = st.session_state.get(STAGE_EDITOR_VERSION, 0) + 1
        rebuild_dataset(uploads)
        st.rerun()  # once more, so that the frame and the page show the new stages


def render_deals_by_month(dataset: Dataset) -> None:
    """Chart the active data's deals by the month they were created: what the export covers.

    A month missing from an export, or a history that starts later than expected, shows here
    before any funnel is read from it. (Drawn on every visit of the Data page, it also has the
    browser load its chart library before the Funnel page needs it.)
    """
    frame = remembered(dataset, ("deals_by_month",), lambda: deals_by_month(dataset))
    if frame.empty:
        st.info("No deal has a created date: there is no month to chart.")
        return
    # An explicit height: with "content" Streamlit drew the bars squashed to a strip.
    show_chart(dataset, ("deals_by_month",), lambda: deals_by_month_chart(frame),
               width="stretch", height=230)
    undated = remembered(dataset, ("coverage",), lambda: coverage(dataset)).no_created
    total = int(frame["deals"].sum())
    left_out = ("" if not undated else "; 1 more has no created date and is not in the chart"
                if undated == 1 else
                f"; {undated:,} more have no created date and are not in the chart")
    parked = int(frame.loc[frame["status"] == "parked", "deals"].sum())
    verb = "is" if parked == 1 else "are"
    parked_note = ("" if not parked else f" Of the {total:,} charted, {parked:,} {verb} parked: "
                   "open in an excluded stage (on hold), out of the funnel.")
    st.caption(f"{total:,} deals by the month they were created, split by where they stand now"
               f"{left_out}.{parked_note}")
