"""Make your number: a 10–15 minute diagnostic that says likely, at risk or unlikely — and why."""

from __future__ import annotations

import streamlit as st

from diagnostics import questionnaire as q
from diagnostics.errors import DiagnosticsError
from ui import questionnaire_widgets as w
from ui import state
from ui.frame import require_router
from ui.text import code_span, escape_markdown

require_router()
st.title("Make your number")
st.markdown(
    "Rate each statement from 1 to 5 as your organisation is today — the text of each level "
    "says what it looks like. Pick *Not applicable / don't know* when you cannot say: it is left "
    "out of the score, never counted as low. Add a few numbers if you have them, and the verdict "
    "combines both, with the rule shown."
)
bank = w.active_bank()
w.apply_share_link(bank)
if bank is not q.load_bank():
    st.info(f"Using your own question bank: {escape_markdown(bank.title)} "
            f"({len(bank.questions)} statements).")

w.role_select(bank)

st.subheader("1. Statements")


@st.fragment(key=w.PROGRESS_FRAGMENT)
def _progress() -> None:
    st.caption(f"{w.progress_text(bank)} Hover the ? of a statement to see why it matters.")


_progress()
dimension = w.dimension_picker(bank)
st.caption(f"{escape_markdown(dimension.summary)} Weight {dimension.weight:g}.")
numbers = {x.id: i for i, x in enumerate(
    (x for d in bank.dimensions for x in bank.questions_of(d.id)), start=1)}
for question in bank.questions_of(dimension.id):
    w.question_radio(question, numbers[question.id])
w.next_dimension_button(bank, dimension)

st.subheader("2. Your numbers (optional)")
st.caption(
    "With target, closed so far, open pipeline and win rate the verdict checks coverage "
    "(expected bookings = pipeline × win rate against what is left of the target); with ramped "
    "reps, deals per rep per month, average deal size and months left it also checks capacity."
)
w.numbers_inputs()


st.subheader("3. Verdict")
# Each part is a fragment: an answer click reruns those it changes (see w._store_answer).


@st.fragment(key=w.VERDICT_FRAGMENT)
def _verdict() -> None:
    w.render_verdict(w.scored(bank))


@st.fragment(key=w.NEXT_FRAGMENT)
def _next() -> None:
    w.render_next_to_answer(w.scored(bank), bank)


@st.fragment(key=w.REASONS_FRAGMENT)
def _reasons() -> None:
    w.render_reasons(w.scored(bank), bank)


@st.fragment(key=w.UNANSWERED_FRAGMENT)
def _unanswered() -> None:
    w.render_unanswered(w.scored(bank), bank)


@st.fragment(key=w.SHARE_FRAGMENT)
def _share() -> None:
    answers = w.current_answers()
    # A code span, not st.code: the code block's highlighter is the heaviest thing the browser
    # loads for this page (about a second of its time on a first visit), for one line of text.
    st.markdown("**Share link** — opens this page with the same answers (nothing is stored on the "
                "server; the answers travel in the link; it is in the address bar too): "
                f"{code_span(w.share_link(bank, answers))}")
    result = w.scored(bank)
    w.downloads(bank, answers, None if isinstance(result, DiagnosticsError) else result)


for part in (_verdict, _next, _reasons, _unanswered):
    part()
st.subheader("4. Save, share and print")
_share()
# A key keeps the expander open across the rerun a load triggers (and its message shows inside);
# its uploaders are drawn only when it is open, so that an answer click redraws less.
loaders = st.expander("Load answers or your own question bank", key=state.MYN_LOADERS,
                      on_change="rerun")
if loaders.open:
    with loaders:
        w.loaders(bank)
