"""The facilitator's workshop view: share box, controls, the live dashboard, the plan and a retake.

Per-role results come from the summary already grouped (``diagnostics.workshop``): this module
shows what it gets and says which roles were pooled or left out; it never computes per person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from diagnostics import workshop as ws
from diagnostics.charts import workshop as charts
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes, to_excel_bytes
from diagnostics.formatting import format_number as _fmt
from ui import state
from ui.device import remembered_token
from ui.errors import show_error
from ui.text import escape_markdown
from ui.workshop_views import F, content, store

P = state.WORKSHOP_PLAN_PREFIX
CHARTS = F + "dashboard_charts"  # {chart name: (its inputs, the chart)} as last drawn


def _chart(name: str, build: Callable[..., Any], *inputs: Any) -> Any:
    """Return the chart ``build(*inputs)``, built again only when its inputs changed.

    The dashboard reruns every 3 s and on every control; building an Altair chart is most of
    that run's work, and the room's numbers rarely change between two runs.
    """
    held = state.session_dict(CHARTS)
    last = held.get(name)
    if last is not None and last[0] == inputs:
        return last[1]
    chart = build(*inputs)
    held[name] = (inputs, chart)
    return chart


def _base_url() -> str:
    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _participant_url(code: str) -> str:
    return _base_url() + ws.participant_path(code)


def _held_key(raw_code: str, key: str | None) -> str | None:
    """Return the key from the address, else the one this session or this browser holds.

    A valid key in hand is stored in the browser: a reload starts a new session, and the
    facilitator's own browser then still holds the key (as the bookmark does), so the projected
    dashboard survives it without the key in the address.
    """
    code = ws.normalise_code(raw_code)
    if code is None:
        return key
    in_hand = key if key is not None else state.session_dict(state.WORKSHOP_KEYS).get(code)
    if in_hand is not None and not _opens(code, in_hand):
        return in_hand  # refused below with the usual message; nothing is stored
    return remembered_token(_memory(code), in_hand) or in_hand


def _opens(code: str, key: str) -> bool:
    try:
        ws.authorise(store(), code, key)
    except DiagnosticsError:
        return False
    return True


def _memory(code: str) -> str:
    return f"{code}-facilitator"


def _data_inputs() -> tuple[dict[str, float] | None, tuple[ws.Evidence, ...]]:
    """Return the loaded data's numbers and evidence when the facilitator put it beside the room."""
    if not st.session_state.get(state.WORKSHOP_USE_DATA):
        return None, ()
    from diagnostics.questionnaire import numbers_from_dataset

    dataset = state.active_dataset()
    # The dashboard refreshes every 3 s: work the evidence out once per dataset, not per refresh.
    held = st.session_state.get(state.WORKSHOP_EVIDENCE)
    if not held or held[0] is not dataset:
        held = (dataset, numbers_from_dataset(dataset), ws.evidence_for(dataset))
        st.session_state[state.WORKSHOP_EVIDENCE] = held
    return held[1], held[2]


def _summary(code: str, key: str) -> ws.WorkshopSummary:
    numbers, evidence = _data_inputs()
    return ws.summarise(store(), content(), code, key, numbers=numbers, evidence=evidence)


def render_facilitator(raw_code: str, key: str | None) -> None:
    """Show the share box, the controls and the live dashboard (nothing without the right key).

    The key comes from the facilitator link once; the session and the browser keep it and the
    address bar drops it, so a projected dashboard never shows it. Another browser needs the link.
    """
    key = _held_key(raw_code, key)
    if key is None:
        st.error("This dashboard needs its facilitator key, which this browser does not hold."
                 " Open your facilitator link (the one you bookmarked), or enter the code "
                 "and key under “Open a workshop with its facilitator key” on the start page.")
        return
    try:
        workshop = ws.authorise(store(), raw_code, key)
    except DiagnosticsError as err:
        show_error(err)
        return
    state.session_dict(state.WORKSHOP_KEYS)[workshop.code] = key
    if "key" in st.query_params:
        st.query_params.from_dict({"workshop": workshop.code, "view": ws.FACILITATOR_VIEW})
    st.subheader(escape_markdown(workshop.title))
    st.caption(
        f"Facilitator view · {escape_markdown(workshop.client)} · "
        f"{'open for answers' if workshop.is_open else 'closed'}"
    )
    share, controls = st.columns([2, 1], gap="large")
    url = _participant_url(workshop.code)
    with share:
        st.markdown(f"Join code: **{ws.format_code(workshop.code)}**")
        st.code(url, language=None)
        if urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"}:
            st.caption("This link only works on this computer. For a room, start the app with "
                       "`--server.address 0.0.0.0` and open this page at the computer's network "
                       "address (for example http://192.168.1.20:8501).")
        st.image(ws.qr_png(url), caption="Scan to join", width=220)
        if not st.session_state.get(state.WORKSHOP_REVEAL):  # not on the projector
            with st.expander("Your facilitator link (private)"):
                st.caption("Bookmark it to come back to this dashboard from any browser. The "
                           "address bar leaves the key out; anyone holding this link can run "
                           "the workshop.")
                st.code(_base_url() + ws.facilitator_path(workshop.code, key), language=None)
    with controls:
        _render_controls(workshop, key)
    _dashboard(workshop.code, key)
    if ws.MAKE_YOUR_NUMBER in workshop.instruments:
        _render_plan_editor(workshop.code, key)
        _render_retake(workshop.code, key)


def _set_min_group(code: str, key: str) -> None:
    value = int(st.session_state.get(P + "min_group", ws.MIN_GROUP))
    try:
        ws.set_min_group(store(), code, key, value)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)


def _set_max_participants(code: str, key: str) -> None:
    value = int(st.session_state.get(P + "max_participants", ws.DEFAULT_CAP))
    try:
        ws.set_max_participants(store(), code, key, value)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)


def _render_controls(workshop: ws.Workshop, key: str) -> None:
    # A short label: the longer one was cut to "...for the proje…" in this narrow column.
    st.toggle("Reveal mode: hide names", key=state.WORKSHOP_REVEAL,
              help="For the projector: participants show as Participant 1, 2, 3…")
    st.number_input(
        "Smallest group shown by role", min_value=ws.MIN_GROUP, max_value=ws.MAX_MIN_GROUP,
        value=ws.min_group(store(), workshop.code), step=1, key=P + "min_group",
        on_change=_set_min_group, args=(workshop.code, key),
        help="No result by role rests on fewer people. Smaller roles are shown together when "
             "they reach it, otherwise left out.",
    )
    st.number_input(
        "Most participants", min_value=1, max_value=ws.MAX_CAP,
        value=ws.max_participants(store(), workshop.code), step=1, key=P + "max_participants",
        on_change=_set_max_participants, args=(workshop.code, key),
        help=f"Joining stops at this number; everyone already in stays. Joins are also limited "
             f"to {ws.JOINS_PER_MINUTE} a minute, so nobody can flood the room with identities.",
    )
    st.toggle("Put the loaded data beside the room's view", key=state.WORKSHOP_USE_DATA,
              help="Uses the data of the Data page (the bundled sample until you upload the "
                   "client's CRM export): evidence beside the statements it can check, and its "
                   "numbers in the team verdict.")
    if workshop.is_open:
        if st.button("Close the workshop", key=F + "close"):
            ws.close_workshop(store(), workshop.code, key)
            st.rerun()
    elif st.button("Reopen the workshop", key=F + "reopen"):
        ws.reopen_workshop(store(), workshop.code, key)
        st.rerun()
    _render_downloads(workshop.code, key)


def _render_downloads(code: str, key: str) -> None:
    def frame() -> pd.DataFrame:
        return ws.export_frame(store(), content(), code, key)

    st.download_button("Responses (CSV)", lambda: to_csv_bytes(frame()),
                       file_name=f"workshop-{code}.csv", mime="text/csv", key=F + "csv")
    st.download_button(
        "Responses (Excel)", lambda: to_excel_bytes(frame(), "Responses"),
        file_name=f"workshop-{code}.xlsx", key=F + "xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    st.download_button("Action plan (CSV)",
                       lambda: to_csv_bytes(ws.plan_frame(_summary(code, key))),
                       file_name=f"workshop-{code}-plan.csv", mime="text/csv", key=F + "plan")
    st.download_button("Workshop report (PDF)",
                       lambda: ws.report_pdf(_summary(code, key), content()),
                       file_name=f"workshop-{code}.pdf", mime="application/pdf", key=F + "pdf")
    st.download_button(
        "Workshop report (HTML)",
        lambda: ws.report_html(_summary(code, key), content()).encode("utf-8"),
        file_name=f"workshop-{code}.html", mime="text/html", key=F + "html",
    )


@st.fragment(run_every="3s")
def _dashboard(code: str, key: str) -> None:
    bank = content()
    try:
        summary = _summary(code, key)
    except DiagnosticsError as err:
        show_error(err)
        return
    notice = st.session_state.pop(state.WORKSHOP_NOTICE, None)
    if notice:
        st.error(escape_markdown(notice))
    reveal = bool(st.session_state.get(state.WORKSHOP_REVEAL))
    v = summary.verdict
    cols = st.columns(4)
    cols[0].metric("Joined", summary.joined)
    cols[1].metric("Responses", summary.responses)
    if ws.MAKE_YOUR_NUMBER in summary.workshop.instruments:  # a verdict needs that instrument
        cols[2].metric("Team verdict", v.label if v else "—")
        cols[3].metric("Team score", _fmt(v.score if v else None, ".0f"))
    else:
        best = summary.recommended_model
        cols[2].metric("Best fit so far", bank.model_name(best) if best else "—")
    if summary.joined == 0:
        st.info("Waiting for participants: share the code, the link or the QR code.")
        return
    st.markdown("#### Responses by role")
    left, right = st.columns(2)
    left.altair_chart(_chart("responses", charts.responses_chart, summary.by_role),
                      width="stretch")
    right.dataframe(
        pd.DataFrame([{"Participant": p.label(reveal), "Role": ws.role_label(p.role),
                       "Answered": p.answered_text(), "Counted": p.counted_text()}
                      for p in summary.progress]),
        hide_index=True, width="stretch",
    )
    if summary.not_counted:
        st.caption(f"{summary.not_counted} left out of every result (you chose it below); "
                   "their answers stay in the exports.")
    if summary.role_changes:
        st.caption(summary.role_changes_text())
    _render_counted(code, key, summary, reveal)
    st.caption(f"Results by role are shown for groups of at least {summary.min_group} people.")
    note = summary.grouping.note()
    if note:
        st.info(note)
    if ws.MAKE_YOUR_NUMBER in summary.workshop.instruments:
        _render_questionnaire_results(summary, bank)
    if ws.LEADERSHIP in summary.workshop.instruments and summary.leadership_team:
        st.markdown("#### Leadership model fit by role")
        best = summary.recommended_model
        st.caption(f"Best fit over the room: {bank.model_name(best) if best else '—'} (mean of "
                   "each participant's fit, 0–100). A conversation starter, not a decision.")
        st.altair_chart(_chart("leadership", charts.leadership_fit_chart, summary.roles,
                               summary.leadership_team, bank.model_names), width="stretch")


def _set_counted(code: str, key: str) -> None:
    wanted = set(st.session_state.get(P + "left_out") or [])
    held = set(st.session_state.get(P + "left_out_stored") or [])
    try:
        for number in sorted(wanted ^ held):
            ws.set_counted(store(), code, key, number, counted=number not in wanted)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)


def _render_counted(code: str, key: str, summary: ws.WorkshopSummary, reveal: bool) -> None:
    """The facilitator leaves out someone who joined twice (or a test join), and can undo it."""
    stored = [p.number for p in summary.progress if not p.counted]
    # The store is the source: another session (or the command line) may have changed it.
    if st.session_state.get(P + "left_out_stored") != stored:
        st.session_state[P + "left_out_stored"] = stored
        st.session_state[P + "left_out"] = stored
    # Numbered: the one who joined twice shows twice with the same name, and a choice's label
    # must tell them apart.
    labels = {p.number: (f"Participant {p.number}" + ("" if reveal else f": {p.name}")
                         + f" ({ws.role_label(p.role)}, {p.answered_text()})")
              for p in summary.progress}
    with st.expander("Joined twice? Leave a participant out of the results"):
        st.multiselect(
            "Left out of every result", list(labels), format_func=lambda n: labels.get(n, str(n)),
            key=P + "left_out", on_change=_set_counted, args=(code, key),
            help="For a second device, a test join or a wrong role joined again: their answers "
                 "stop counting in every number and download of results (the responses export "
                 "keeps them, marked). Remove them from this list to count them again.",
        )


def _render_questionnaire_results(summary: ws.WorkshopSummary, bank: ws.Content) -> None:
    v = summary.verdict
    if v is not None:
        st.caption(f"Band: {v.band or '—'} · binding constraint: {v.binding_constraint or '—'}. "
                   "The team verdict scores each statement's mean answer over the room.")
        for line in summary.verdict_notes:
            st.warning(line)
    st.markdown("#### Dimensions: team mean and spread")
    st.altair_chart(_chart("dimensions", charts.dimension_chart, summary.dimensions),
                    width="stretch")
    st.markdown("#### Perception gaps: role × dimension")
    # The words come from the summary: the report says the same.
    if any(g.mean is not None for g in summary.gaps):
        st.caption("Each cell shows the group's mean (1–5); red is below the room, blue above. "
                   + summary.by_role_note())
        st.altair_chart(_chart("gaps", charts.perception_gap_chart, summary.gaps,
                               bank.dimensions), width="stretch")
    else:
        st.caption(summary.by_role_note())
    st.dataframe(
        pd.DataFrame([{"Dimension": d.name, "Mean": _fmt(d.mean), "Spread": _fmt(d.spread, ".2f"),
                       "Gap between roles": _fmt(d.role_gap), "About the gap": d.gap_note}
                      for d in summary.dimensions]),
        hide_index=True, width="stretch",
    )
    _render_evidence(summary, bank)
    st.markdown("#### Statements to discuss: widest disagreement")
    if not summary.widest:
        st.caption("No disagreement yet: it shows once two people answer a statement differently.")
    for w in summary.widest:
        roles = (f" · lowest: {summary.group_label(w.lowest_role)}, highest: "
                 f"{summary.group_label(w.highest_role)}" if w.lowest_role and w.highest_role
                 else "")
        st.markdown(f"- {escape_markdown(w.statement)}  \n  mean {_fmt(w.mean)} · spread "
                    f"{_fmt(w.spread, '.2f')} · {summary.rated_text(w.question_id)}"
                    f"{escape_markdown(roles)}")
    rows = [{"Role": r.role_label, "Responses": r.responses,
             "Verdict": r.verdict.label if r.verdict else "—",
             "Score": _fmt(r.verdict.score if r.verdict else None, ".0f"),
             "Rests on": summary.rests_on_text(r)}
            for r in summary.roles]
    if rows:
        st.markdown("#### Verdict by role")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        if summary.roles_note():
            st.caption(summary.roles_note())
    _render_votes(summary, bank)
    _render_change(summary)


def _render_evidence(summary: ws.WorkshopSummary, bank: ws.Content) -> None:
    if not summary.evidence:
        return
    st.markdown("#### The room's view beside the data")
    st.dataframe(pd.DataFrame([
        {"Statement": (s.text if (s := bank.statement(e.question_id)) else e.question_id),
         "Room (1–5)": _fmt(summary.statement_means.get(e.question_id)),
         "Rated by": summary.rated_text(e.question_id),
         "The data says": e.finding, "From": e.source}
        for e in summary.evidence
    ]), hide_index=True, width="stretch")


def _render_votes(summary: ws.WorkshopSummary, bank: ws.Content) -> None:
    st.markdown("#### The room's vote and the plan")
    if summary.plan:
        st.markdown("\n".join(
            f"- **{escape_markdown(p.action)}** · owner {escape_markdown(p.owner)} · due "
            f"{p.due.isoformat() if p.due else 'no date'} · {p.votes} "
            f"vote{'s' if p.votes != 1 else ''}" for p in summary.plan
        ))
    else:
        st.caption("No action in the plan yet: add the most voted below.")


def _render_change(summary: ws.WorkshopSummary) -> None:
    change = summary.baseline
    if change is None:
        return
    title = escape_markdown(change.title)
    st.markdown(f"#### Change since {title} ({ws.format_code(change.code)})")
    st.dataframe(pd.DataFrame([
        {"Dimension": d.name, "Then": _fmt(d.before), "Now": _fmt(d.after),
         "Change": "—" if d.change is None else f"{d.change:+.1f}"} for d in change.dimensions
    ]), hide_index=True, width="stretch")
    if change.roles:
        names = {d.id: d.name for d in summary.dimensions}
        st.dataframe(pd.DataFrame([
            {"Role": r.label, "Dimension": names.get(r.dimension, r.dimension),
             "Then": _fmt(r.before), "Now": _fmt(r.after), "Change": f"{r.change:+.1f}"}
            for r in change.roles
        ]), hide_index=True, width="stretch")
    else:
        st.caption("No role was large enough in both workshops to compare by role (or its "
                   "people rated fewer than half the statements of a dimension in one of them).")
    if change.actions:
        st.caption(f"{change.done} of {len(change.actions)} planned actions done.")


def _add_to_plan(code: str, key: str) -> None:
    qid = st.session_state.get(P + "action")
    owner = str(st.session_state.get(P + "owner", ""))
    due = st.session_state.get(P + "due")
    try:
        ws.set_plan_item(store(), content(), code, key, str(qid or ""), owner,
                         due if isinstance(due, dt.date) else None)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)
    else:
        st.session_state[P + "owner"] = ""


def _render_plan_editor(code: str, key: str) -> None:
    bank = content()
    summary = ws.summarise(store(), bank, code, key)
    st.markdown("#### Make the plan")
    # The dashboard above refreshes itself; this form does not (typing would be interrupted).
    st.button("Refresh the actions and votes", key=P + "refresh")
    tally = summary.votes  # a participant left out of the results has no vote either
    candidates = [s.id for s in ws.candidate_actions(bank, summary.statement_means)]
    choices = [*tally, *(q for q in candidates if q not in tally)]
    if not choices:
        st.caption("The plan's actions come from the statements the room rates lowest: they "
                   "appear once statements are rated.")
        return

    def label(qid: str) -> str:
        s = bank.statement(qid)
        votes = tally.get(qid, 0)
        return f"{s.action if s else qid} ({votes} vote{'s' if votes != 1 else ''})"

    with st.form(P + "form", clear_on_submit=False):
        st.selectbox("Action", choices, format_func=label, key=P + "action")
        owner, due = st.columns(2)
        owner.text_input("Owner", key=P + "owner", max_chars=ws.MAX_NAME)
        due.date_input("Due", value=None, key=P + "due", min_value=dt.date(2000, 1, 1))
        st.form_submit_button("Add to the plan", on_click=_add_to_plan, args=(code, key))
    for item in summary.plan:
        label = f"Remove “{escape_markdown(item.action)}”"
        if st.button(label, key=P + "remove_" + item.question_id):
            ws.remove_plan_item(store(), code, key, item.question_id)
            st.rerun()


def _link(code: str, key: str) -> None:
    try:
        ws.link_baseline(store(), code, key, st.session_state.get(P + "base_code", ""),
                         str(st.session_state.get(P + "base_key", "")))
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)


def _mark_done(code: str, key: str, qid: str) -> None:
    ws.set_done(store(), code, key, qid, bool(st.session_state.get(P + "done_" + qid)))


def _render_retake(code: str, key: str) -> None:
    summary = ws.summarise(store(), content(), code, key)
    change = summary.baseline
    if change is None:
        with st.expander("A retake? Link this workshop to an earlier one"):
            st.caption("The dashboard and the report then show the change per dimension and "
                       "per role, and which of the earlier plan's actions were done.")
            st.text_input("Earlier workshop's code", key=P + "base_code")
            st.text_input("Its facilitator key", key=P + "base_key", type="password")
            st.button("Link as baseline", key=P + "link", on_click=_link, args=(code, key))
        return
    if change.actions:
        st.markdown(f"#### The plan of {escape_markdown(change.title)}: which actions were done?")
        for item in change.actions:
            st.checkbox(f"{escape_markdown(item.action)} (owner {escape_markdown(item.owner)})",
                        value=bool(item.done), key=P + "done_" + item.question_id,
                        on_change=_mark_done, args=(code, key, item.question_id))

