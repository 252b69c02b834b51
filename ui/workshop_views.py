"""Workshop views: the start screen, the participant's questionnaire and the facilitator dashboard.

Every answer goes to the workshop store the moment a widget changes (``on_change``), so nothing a
participant gives lives only in this session; the store is the source the widgets are seeded from.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from diagnostics import workshop as ws
from diagnostics.charts import workshop as charts
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes, to_excel_bytes
from diagnostics.workshop_store import WorkshopStore, configured_location, open_store
from ui import state
from ui.device import remembered_token

F = state.WORKSHOP_FORM_PREFIX
A = state.WORKSHOP_ANSWER_PREFIX


# One store per process, shared by every session. It holds no answers or names in memory (each
# call reads or writes the database), so sharing it shares no per-user data; it is keyed by the
# database location only (a file path or a postgresql:// URL).
@st.cache_resource(show_spinner=False)
def _shared_store(location: str) -> WorkshopStore:
    return open_store(location)


# The built-in question banks: the same for every user, read once per process.
@st.cache_resource(show_spinner=False)
def content() -> ws.Content:
    """Return the two instruments' questions and scoring."""
    return ws.load_content()


def store() -> WorkshopStore:
    """Return the process-wide workshop store (raises DiagnosticsError when it cannot open)."""
    return _shared_store(configured_location())


def _plain(text: str) -> str:
    """Escape Markdown so a name or title typed by a user shows as typed."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def _go(**params: str) -> None:
    st.query_params.from_dict(params)
    st.rerun()


# -- start ----------------------------------------------------------------------------------------


def render_start() -> None:
    """Show the facilitator's create form, the join box and the workshops this session holds."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Run a workshop")
        with st.form(F + "create"):
            client = st.text_input("Client", key=F + "client", max_chars=ws.MAX_TEXT)
            title = st.text_input("Workshop title", key=F + "title", max_chars=ws.MAX_TEXT)
            instruments = st.multiselect(
                "Instruments", list(ws.INSTRUMENTS), default=list(ws.INSTRUMENTS),
                format_func=lambda i: ws.INSTRUMENTS[i], key=F + "instruments",
            )
            submitted = st.form_submit_button("Create workshop", type="primary")
        if submitted:
            try:
                created = ws.create_workshop(store(), client, title, instruments)
            except DiagnosticsError as err:
                st.error(str(err))
            else:
                state.session_dict(state.WORKSHOP_KEYS)[created.code] = created.key
                _go(workshop=created.code, key=created.key)
    with right:
        st.subheader("Join a workshop")
        code = st.text_input("Workshop code", key=F + "join_code", placeholder="ABCD-2345")
        if st.button("Join", key=F + "join"):
            normal = ws.normalise_code(code)
            if normal is None:
                st.error(f"That is not a workshop code: codes have {ws.CODE_LENGTH} characters.")
            else:
                _go(workshop=normal)
    _render_held()


def _render_held() -> None:
    st.subheader("Your workshops")
    held = state.session_dict(state.WORKSHOP_KEYS)
    if not held:
        st.caption("Workshops are listed only for someone holding their facilitator key.")
    for code, key in list(held.items()):
        try:
            workshop = ws.authorise(store(), code, key)
        except DiagnosticsError:
            held.pop(code, None)
            continue
        label = (f"{_plain(workshop.title)} · {_plain(workshop.client)} · "
                 f"{ws.format_code(code)} ({workshop.status})")  # button labels are Markdown
        if st.button(label, key=F + "open_" + code):
            _go(workshop=code, key=key)
    with st.expander("Open a workshop with its facilitator key"):
        code = st.text_input("Workshop code", key=F + "open_code")
        key = st.text_input("Facilitator key", key=F + "open_key", type="password")
        if st.button("Open dashboard", key=F + "open"):
            try:
                workshop = ws.authorise(store(), code, key)
            except DiagnosticsError as err:
                st.error(str(err))
            else:
                held[workshop.code] = key
                _go(workshop=workshop.code, key=key)


# -- participant ----------------------------------------------------------------------------------


def _save(code: str, token: str, question_id: str) -> None:
    value = st.session_state.get(A + question_id)
    try:
        ws.answer(store(), content(), code, token, question_id, value)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)
        saved = ws.participant_answers(store(), code, token).get(question_id)
        st.session_state[A + question_id] = saved


def render_participant(raw_code: str, token: str | None) -> None:
    """Show the join form, then the questions; every answer is saved as it is given."""
    try:
        workshop = ws.get_workshop(store(), raw_code)
    except DiagnosticsError as err:
        st.error(str(err))
        if st.button("Back to the start", key=F + "back"):
            _go()
        return
    st.subheader(_plain(workshop.title))
    st.caption(f"Workshop for {_plain(workshop.client)} · code {ws.format_code(workshop.code)}")
    tokens = state.session_dict(state.WORKSHOP_PARTICIPANT)
    token = token or tokens.get(workshop.code)
    participant = ws.resume(store(), workshop.code, token)
    if participant is None or token is None:
        # Joined before on this device (tab closed, QR code scanned again)? Resume that place.
        remembered = remembered_token(workshop.code)
        if remembered and ws.resume(store(), workshop.code, remembered) is not None:
            tokens[workshop.code] = remembered
            st.query_params["p"] = remembered
            st.rerun()
        _render_join(workshop)
        return
    tokens[workshop.code] = token
    remembered_token(workshop.code, token)
    if st.query_params.get("p") != token:
        st.query_params["p"] = token
    st.info(
        f"You are answering as **{_plain(participant.name)}** ({ws.role_label(participant.role)})."
        " Each answer is saved the moment you give it. To come back later on this device, open"
        " the workshop link again: this browser remembers your place (so does this page's own"
        " link; keep it to yourself, whoever opens it answers as you). Nobody else sees your"
        " individual answers; the facilitator shows the room's results."
    )
    notice = st.session_state.pop(state.WORKSHOP_NOTICE, None)
    if notice:
        st.error(_plain(notice))  # it quotes the workshop title, which is the facilitator's text
    if not workshop.is_open:
        st.warning("This workshop is closed: it takes no more answers. Thank you for taking part.")
    _render_questions(workshop, token)


def _render_join(workshop: ws.Workshop) -> None:
    if not workshop.is_open:
        st.warning("This workshop is closed: it takes no more answers.")
        return
    with st.form(F + "join_form"):
        name = st.text_input("Your name (leave empty to stay anonymous)", key=F + "name",
                             max_chars=ws.MAX_NAME)
        role = st.selectbox("Your role", list(ws.ROLES), format_func=ws.role_label,
                            index=None, key=F + "role", placeholder="Choose your role")
        joined = st.form_submit_button("Start answering", type="primary")
    if joined:
        if role is None:
            st.error("Choose your role: the facilitator compares answers between roles.")
            return
        try:
            result = ws.join_workshop(store(), workshop.code, name, role)
        except DiagnosticsError as err:
            st.error(str(err))
            return
        state.session_dict(state.WORKSHOP_PARTICIPANT)[workshop.code] = result.token
        _go(workshop=workshop.code, p=result.token)


def _render_questions(workshop: ws.Workshop, token: str) -> None:
    bank = content()
    saved = ws.participant_answers(store(), workshop.code, token)
    total = len(bank.question_ids(workshop.instruments))
    st.progress(len(saved) / total if total else 0.0, text=f"{len(saved)} of {total} answered")
    disabled = not workshop.is_open
    if ws.MAKE_YOUR_NUMBER in workshop.instruments:
        st.markdown("### Make your number")
        st.caption("Rate each statement from 1 (far from true) to 5 (exactly how it works here).")
        for dim_id, dim_name in bank.dimensions.items():
            statements = [s for s in bank.statements if s.dimension == dim_id]
            if statements:
                st.markdown(f"#### {dim_name}")
            for s in statements:
                value = saved.get(s.id)
                st.radio(
                    s.text, s.levels, format_func=s.level_text, key=A + s.id,
                    index=s.levels.index(value) if value in s.levels else None,
                    on_change=_save, args=(workshop.code, token, s.id), disabled=disabled,
                )
    if ws.LEADERSHIP in workshop.instruments:
        st.markdown("### Leadership model")
        for c in bank.choices:
            ids = [o for o, _ in c.options]
            labels = dict(c.options)
            value = saved.get(c.id)
            st.radio(
                c.text, ids, format_func=lambda o, labels=labels: labels[o], key=A + c.id,
                index=ids.index(value) if value in ids else None,
                on_change=_save, args=(workshop.code, token, c.id), disabled=disabled,
            )


# -- facilitator ----------------------------------------------------------------------------------


def _participant_url(code: str) -> str:
    url = st.context.url or ""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return base + ws.participant_path(code)


def render_facilitator(raw_code: str, key: str | None) -> None:
    """Show the share box, the controls and the live dashboard (nothing without the right key)."""
    try:
        workshop = ws.authorise(store(), raw_code, key)
    except DiagnosticsError as err:
        st.error(str(err))
        return
    assert key is not None  # authorise refuses a missing key
    state.session_dict(state.WORKSHOP_KEYS)[workshop.code] = key
    st.subheader(_plain(workshop.title))
    st.caption(
        f"Facilitator view · {_plain(workshop.client)} · "
        f"{'open for answers' if workshop.is_open else 'closed'} · keep this page's link private:"
        " it holds your facilitator key."
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
    with controls:
        # A short label: the longer one was cut to "...for the proje…" in this narrow column.
        st.toggle("Reveal mode: hide names", key=state.WORKSHOP_REVEAL,
                  help="For the projector: participants show as Participant 1, 2, 3…")
        if workshop.is_open:
            if st.button("Close the workshop", key=F + "close"):
                ws.close_workshop(store(), workshop.code, key)
                st.rerun()
        elif st.button("Reopen the workshop", key=F + "reopen"):
            ws.reopen_workshop(store(), workshop.code, key)
            st.rerun()
        _render_downloads(workshop.code, key)
    _dashboard(workshop.code, key)


def _render_downloads(code: str, key: str) -> None:
    def frame() -> pd.DataFrame:
        return ws.export_frame(store(), content(), code, key)

    def summary() -> ws.WorkshopSummary:
        return ws.summarise(store(), content(), code, key)

    st.download_button("Responses (CSV)", lambda: to_csv_bytes(frame()),
                       file_name=f"workshop-{code}.csv", mime="text/csv", key=F + "csv")
    st.download_button(
        "Responses (Excel)", lambda: to_excel_bytes(frame(), "Responses"),
        file_name=f"workshop-{code}.xlsx", key=F + "xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    st.download_button("Workshop report (PDF)", lambda: ws.report_pdf(summary(), content()),
                       file_name=f"workshop-{code}.pdf", mime="application/pdf", key=F + "pdf")
    st.download_button(
        "Workshop report (HTML)", lambda: ws.report_html(summary(), content()).encode("utf-8"),
        file_name=f"workshop-{code}.html", mime="text/html", key=F + "html",
    )


@st.fragment(run_every="3s")
def _dashboard(code: str, key: str) -> None:
    bank = content()
    try:
        summary = ws.summarise(store(), bank, code, key)
    except DiagnosticsError as err:
        st.error(str(err))
        return
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
    left.altair_chart(charts.responses_chart(summary.by_role), width="stretch")
    right.dataframe(
        pd.DataFrame([{"Participant": p.label(reveal), "Role": ws.role_label(p.role),
                       "Answered": f"{p.answered} of {p.total}"} for p in summary.progress]),
        hide_index=True, width="stretch",
    )
    if ws.MAKE_YOUR_NUMBER in summary.workshop.instruments:
        _render_questionnaire_results(summary, bank)
    if ws.LEADERSHIP in summary.workshop.instruments and summary.leadership_team:
        st.markdown("#### Leadership model fit by role")
        best = summary.recommended_model
        st.caption(f"Best fit over the room: {bank.model_name(best) if best else '—'} (mean of "
                   "each participant's fit, 0–100). A conversation starter, not a decision.")
        st.altair_chart(charts.leadership_fit_chart(summary.roles, summary.leadership_team,
                                                    bank.model_names), width="stretch")


def _render_questionnaire_results(summary: ws.WorkshopSummary, bank: ws.Content) -> None:
    v = summary.verdict
    if v is not None:
        st.caption(f"Band: {v.band or '—'} · binding constraint: {v.binding_constraint or '—'}. "
                   "The team verdict scores each statement's mean answer over the room.")
    st.markdown("#### Dimensions: team mean and spread")
    st.altair_chart(charts.dimension_chart(summary.dimensions), width="stretch")
    st.markdown("#### Perception gaps: role × dimension")
    st.caption("Each cell shows the role's mean (1–5); red is below the room, blue above.")
    st.altair_chart(charts.perception_gap_chart(summary.gaps, bank.dimensions), width="stretch")
    st.dataframe(
        pd.DataFrame([{"Dimension": d.name, "Mean": _fmt(d.mean), "Spread": _fmt(d.spread, ".2f"),
                       "Gap between roles": _fmt(d.role_gap)} for d in summary.dimensions]),
        hide_index=True, width="stretch",
    )
    st.markdown("#### Statements to discuss: widest disagreement")
    if not summary.widest:
        st.caption("No disagreement yet: it shows once two people answer a statement differently.")
    for w in summary.widest:
        roles = (f" · lowest: {ws.role_label(w.lowest_role)}, highest: "
                 f"{ws.role_label(w.highest_role)}" if w.lowest_role and w.highest_role else "")
        st.markdown(f"- {_plain(w.statement)}  \n  mean {_fmt(w.mean)} · spread "
                    f"{_fmt(w.spread, '.2f')} · {w.answers} answers{roles}")
    rows = [{"Role": ws.role_label(r.role), "Responses": r.responses,
             "Verdict": r.verdict.label if r.verdict else "—",
             "Score": _fmt(r.verdict.score if r.verdict else None, ".0f")} for r in summary.roles]
    if rows:
        st.markdown("#### Verdict by role")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
