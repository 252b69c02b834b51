"""Workshop views: the start screen, the participant's questionnaire and the facilitator dashboard.

Every answer goes to the workshop store the moment a widget changes (``on_change``), so nothing a
participant gives lives only in this session; the store is the source the widgets are seeded from.

An answer reruns only what it changes: each question is a fragment, so a click reruns that one
question (its callback has written the answer to the store by then), and the fragment redraws the
answer counts above the questions. The page with every question reruns only when the vote's
actions changed or an answer was refused (the page then says why).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from diagnostics import workshop as ws
from diagnostics.errors import DiagnosticsError
from diagnostics.workshop_store import WorkshopStore, configured_location, open_store
from ui import state
from ui.device import remembered_token
from ui.errors import show_error
from ui.text import escape_markdown

F = state.WORKSHOP_FORM_PREFIX
A = state.WORKSHOP_ANSWER_PREFIX
V = state.WORKSHOP_VOTE_PREFIX
# The participant's answers as last saved ({question id: value}): read from the store at every
# full run, updated by each successful save; the answer counts are drawn from it.
SAVED = F + "saved_answers"
LAST_SAVED = F + "last_saved"  # (code, question id, value) of the answer saved last
JUST_SAVED = F + "just_saved"  # the question whose fragment reruns after its save
FULL_RUN = F + "full_run"  # True while the whole question list is being drawn
SHOWN_CANDIDATES = F + "shown_candidates"  # the vote's actions (ids) as last drawn
NEW_ROLE = F + "new_role"  # the role a participant chooses to change to
ROLE_CHANGED = F + "role_changed"  # the role just changed to (its confirmation shows once)


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
                show_error(err)
            else:
                state.session_dict(state.WORKSHOP_KEYS)[created.code] = created.key
                _go(workshop=created.code, view=ws.FACILITATOR_VIEW)
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
        label = (f"{escape_markdown(workshop.title)} · {escape_markdown(workshop.client)} · "
                 f"{ws.format_code(code)} ({workshop.status})")  # button labels are Markdown
        if st.button(label, key=F + "open_" + code):
            _go(workshop=code, view=ws.FACILITATOR_VIEW)
    with st.expander("Open a workshop with its facilitator key"):
        code = st.text_input("Workshop code", key=F + "open_code")
        key = st.text_input("Facilitator key", key=F + "open_key", type="password")
        if st.button("Open dashboard", key=F + "open"):
            try:
                workshop = ws.authorise(store(), code, key)
            except DiagnosticsError as err:
                show_error(err)
            else:
                held[workshop.code] = key
                _go(workshop=workshop.code, view=ws.FACILITATOR_VIEW)


# -- participant ----------------------------------------------------------------------------------


def _saved() -> dict[str, int | str]:
    saved = st.session_state.get(SAVED)
    return saved if isinstance(saved, dict) else {}


def _save(code: str, token: str, question_id: str) -> None:
    """Save one answer (durable when this returns); its question's fragment then reruns alone.

    A refused answer (the workshop closed meanwhile, say) puts the stored value back in the
    widget and reruns the whole page, which shows the reason; so does a change in the actions
    the vote offers (the vote's checkboxes are drawn by the page, not by the question).
    """
    value = st.session_state.get(A + question_id)
    try:
        ws.answer(store(), content(), code, token, question_id, value)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)
        saved = ws.participant_answers(store(), code, token).get(question_id)
        st.session_state[A + question_id] = saved
        st.rerun()
    answers = _saved()
    if value is None:
        answers.pop(question_id, None)
    else:
        answers[question_id] = value
    st.session_state[SAVED] = answers
    st.session_state[LAST_SAVED] = (code, question_id, value)
    st.session_state[JUST_SAVED] = question_id
    statement = content().statement(question_id)
    # Only a statement with an action can move in the vote's list (the lowest-rated first).
    if statement is not None and statement.action and SHOWN_CANDIDATES in st.session_state:
        candidates = [s.id for s in ws.vote_candidates(store(), content(), code)]
        if candidates != st.session_state[SHOWN_CANDIDATES]:
            st.rerun()


def render_participant(raw_code: str, token: str | None) -> None:
    """Show the join form, then the questions; every answer is saved as it is given."""
    try:
        workshop = ws.get_workshop(store(), raw_code)
    except DiagnosticsError as err:
        show_error(err)
        if st.button("Back to the start", key=F + "back"):
            _go()
        return
    st.subheader(escape_markdown(workshop.title))
    client = escape_markdown(workshop.client)
    st.caption(f"Workshop for {client} · code {ws.format_code(workshop.code)}")
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
        f"You are answering as **{escape_markdown(participant.name)}** "
        f"({ws.role_label(participant.role)})."
        " Each answer is saved the moment you give it. To come back later on this device, open"
        " the workshop link again: this browser remembers your place (so does this page's own"
        " link; keep it to yourself, whoever opens it answers as you). Nobody else sees your"
        " individual answers: the facilitator shows the room's results, and results by role"
        f" only for groups of at least {ws.min_group(store(), workshop.code)} people."
    )
    notice = st.session_state.pop(state.WORKSHOP_NOTICE, None)
    if notice:
        st.error(escape_markdown(notice))  # it quotes the workshop title, the facilitator's text
    if not workshop.is_open:
        st.warning("This workshop is closed: it takes no more answers. Thank you for taking part.")
    else:
        _render_role_change(workshop.code, token, participant.role)
    _render_questions(workshop, token)


def _change_role(code: str, token: str) -> None:
    role = st.session_state.get(NEW_ROLE)
    try:
        changed = ws.change_role(store(), code, token, str(role or ""))
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)
    else:
        st.session_state[ROLE_CHANGED] = changed.role


def _render_role_change(code: str, token: str, role: str) -> None:
    """A participant who picked the wrong role changes it here, answers and all."""
    changed = st.session_state.pop(ROLE_CHANGED, None)
    if changed:
        st.success(f"Your role is now {ws.role_label(changed)}. Your answers moved with you.")
    roles = list(ws.ROLES)
    with st.expander("Picked the wrong role? Change it here"):
        st.selectbox("Your role", roles, index=roles.index(role) if role in roles else None,
                     format_func=ws.role_label, key=NEW_ROLE)
        st.button("Change my role", key=F + "change_role", on_click=_change_role,
                  args=(code, token))
        st.caption("Your answers and votes stay yours and count under the new role: no need to "
                   "join again. The facilitator sees how many role changes were made, and "
                   "results by role still show only groups large enough.")


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
            show_error(err)
            return
        state.session_dict(state.WORKSHOP_PARTICIPANT)[workshop.code] = result.token
        _go(workshop=workshop.code, p=result.token)


def _is_phone() -> bool:
    """Return True when the browser says it is a phone (its user agent names a mobile)."""
    agent = str(st.context.headers.get("User-Agent", "") or "")
    return any(word in agent for word in ("Mobi", "Android", "iPhone"))


def _sections(workshop: ws.Workshop, bank: ws.Content) -> list[tuple[str, list[str]]]:
    """Return the questionnaire's sections: one per dimension, then the leadership questions."""
    sections: list[tuple[str, list[str]]] = []
    if ws.MAKE_YOUR_NUMBER in workshop.instruments:
        for dim_id, dim_name in bank.dimensions.items():
            ids = [s.id for s in bank.statements if s.dimension == dim_id]
            if ids:
                sections.append((dim_name, ids))
    if ws.LEADERSHIP in workshop.instruments:
        sections.append(("Leadership model", [c.id for c in bank.choices]))
    return sections


def _render_question(bank: ws.Content, qid: str, value: int | str | None,
                     code: str, token: str, disabled: bool) -> None:
    statement = bank.statement(qid)
    if statement is not None:
        options: list[int | str] = [*statement.levels, ws.NOT_APPLICABLE]
        st.radio(statement.text, options, format_func=statement.level_text, key=A + qid,
                 index=options.index(value) if value in options else None,
                 on_change=_save, args=(code, token, qid), disabled=disabled)
        return
    choice = bank.choice(qid)
    if choice is not None:
        ids = [o for o, _ in choice.options]
        labels = dict(choice.options)
        st.radio(choice.text, ids, format_func=lambda o, labels=labels: labels[o], key=A + qid,
                 index=ids.index(value) if value in ids else None,
                 on_change=_save, args=(code, token, qid), disabled=disabled)


@dataclass(frozen=True)
class _Counts:
    """The answer counts above the questions, in placeholders a question's fragment redraws."""

    code: str
    total: int
    overall: DeltaGenerator  # the progress bar
    confirmation: DeltaGenerator  # which answer was saved last
    section: DeltaGenerator | None = None  # paged: this section's own count
    section_ids: tuple[str, ...] = ()
    page: int = 0
    pages: int = 0

    def _places(self) -> list[DeltaGenerator]:
        return [self.overall, self.confirmation, *([self.section] if self.section else [])]

    def draw(self) -> None:
        """Draw the counts from the answers the session holds as saved (no store read)."""
        saved = _saved()
        answered = len(saved)
        self.overall.progress(answered / self.total if self.total else 0.0,
                              text=f"{answered} of {self.total} answered")
        last = st.session_state.get(LAST_SAVED)
        if last and last[0] == self.code:  # names the answer: each save visibly changes it
            self.confirmation.caption(f"Saved: {saved_text(content(), last[1], last[2])}")
        else:
            self.confirmation.empty()
        if self.section is not None:
            done = sum(1 for q in self.section_ids if q in saved)
            self.section.caption(f"Section {self.page + 1} of {self.pages} · {done} of "
                                 f"{len(self.section_ids)} answered here")

    def reserve(self) -> None:
        """Take a place in each placeholder: a fragment may only redraw what it wrote."""
        for place in self._places():
            place.empty()


@st.fragment
def _question(bank: ws.Content, qid: str, value: int | str | None, code: str, token: str,
              disabled: bool, counts: _Counts) -> None:
    """One question: a click reruns only this, after ``_save`` stored the answer."""
    _render_question(bank, qid, value, code, token, disabled)
    if st.session_state.get(JUST_SAVED) == qid:
        del st.session_state[JUST_SAVED]
        counts.draw()
    elif st.session_state.get(FULL_RUN):
        counts.reserve()  # the page draws the counts once every question is drawn


def _turn_page(delta: int, pages: int) -> None:
    current = int(st.session_state.get(state.WORKSHOP_PAGE, 0))
    st.session_state[state.WORKSHOP_PAGE] = max(0, min(pages - 1, current + delta))


def _render_questions(workshop: ws.Workshop, token: str) -> None:
    bank = content()
    saved = ws.participant_answers(store(), workshop.code, token)
    st.session_state[SAVED] = dict(saved)
    st.session_state.pop(JUST_SAVED, None)
    counts = _Counts(workshop.code, len(bank.question_ids(workshop.instruments)),
                     st.empty(), st.empty())
    disabled = not workshop.is_open
    sections = _sections(workshop, bank)
    if ws.MAKE_YOUR_NUMBER in workshop.instruments:
        st.caption("Rate each statement from 1 (far from true) to 5 (exactly how it works here), "
                   f"or choose “{ws.NOT_APPLICABLE_LABEL}”: it never counts as a low rating.")
    paged = st.toggle("One section at a time", value=_is_phone(), key=F + "paged",
                      help="Pages the questions by dimension, as on a phone.")
    st.session_state[FULL_RUN] = True
    if paged:
        page = max(0, min(len(sections) - 1, int(st.session_state.get(state.WORKSHOP_PAGE, 0))))
        title, ids = sections[page]
        st.markdown(f"#### {escape_markdown(title)}")
        counts = replace(counts, section=st.empty(), section_ids=tuple(ids), page=page,
                         pages=len(sections))
        for qid in ids:
            _question(bank, qid, saved.get(qid), workshop.code, token, disabled, counts)
        back, forward = st.columns(2)
        back.button("Previous section", key=F + "prev", disabled=page == 0,
                    on_click=_turn_page, args=(-1, len(sections)), width="stretch")
        forward.button("Next section", key=F + "next", disabled=page >= len(sections) - 1,
                       on_click=_turn_page, args=(1, len(sections)), width="stretch")
    else:
        for title, ids in sections:
            st.markdown(f"#### {escape_markdown(title)}")
            for qid in ids:
                _question(bank, qid, saved.get(qid), workshop.code, token, disabled, counts)
    st.session_state[FULL_RUN] = False
    counts.draw()
    if ws.MAKE_YOUR_NUMBER in workshop.instruments:
        _render_vote(workshop, token, disabled)
    else:
        st.session_state.pop(SHOWN_CANDIDATES, None)


def saved_text(bank: ws.Content, question_id: str, value: int | str | None) -> str:
    """Return “question” → answer for a saved answer, escaped for Markdown."""
    statement = bank.statement(question_id)
    choice = bank.choice(question_id)
    if statement is not None:
        question, answer = statement.text, statement.level_text(value) if value else "cleared"
    elif choice is not None:
        question, answer = choice.text, dict(choice.options).get(str(value), "cleared")
    else:
        question, answer = question_id, str(value)
    return f"“{escape_markdown(question)}” → {escape_markdown(answer)}"


def _vote(code: str, token: str, question_id: str) -> None:
    chosen = bool(st.session_state.get(V + question_id))
    try:
        ws.cast_vote(store(), content(), code, token, question_id, chosen)
    except DiagnosticsError as err:
        st.session_state[state.WORKSHOP_NOTICE] = str(err)
        st.session_state[V + question_id] = not chosen
        st.rerun()  # the whole page: the notice shows at its top


@st.fragment
def _render_vote(workshop: ws.Workshop, token: str, disabled: bool) -> None:
    bank = content()
    candidates = ws.vote_candidates(store(), bank, workshop.code)
    st.session_state[SHOWN_CANDIDATES] = [s.id for s in candidates]
    votes = ws.participant_votes(store(), workshop.code, token)
    shown = [*candidates, *(s for q in sorted(votes) if (s := bank.statement(q))
                            and s not in candidates)]
    st.markdown("### Your vote: what should the team do first?")
    if not shown:
        st.caption("The actions to vote on appear once the room has rated some statements.")
        return
    st.caption(f"Pick up to {ws.MAX_VOTES} actions; the facilitator turns the most chosen into "
               f"the plan. You chose {len(votes)} of {ws.MAX_VOTES}.")
    full = len(votes) >= ws.MAX_VOTES
    for s in shown:
        st.checkbox(escape_markdown(s.action), value=s.id in votes, key=V + s.id,
                    on_change=_vote, args=(workshop.code, token, s.id),
                    disabled=disabled or (full and s.id not in votes))
