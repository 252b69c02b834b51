"""Leadership model: the Tsar, Federation and Chief of Staff side by side, and which fits you."""

from __future__ import annotations

import streamlit as st

from diagnostics.charts.leadership import fit_bar_chart, fit_triangle_chart
from diagnostics.leadership import (
    MODELS,
    describe_flip,
    load_content,
    model_name,
    myn_structure_notes,
    recommend_model,
)
from ui import state
from ui.errors import stop_on_error
from ui.frame import require_router
from ui.text import escape_markdown
from ui.widgets import KeptWidgets

require_router()
content = load_content()
names = {m: model_name(m) for m in MODELS}


def _bullets(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {escape_markdown(item)}" for item in items)


st.title("Leadership model")
st.write(
    "Three ways to line up marketing, sales and service behind one number, compared with the "
    "functional structure most companies run today, and a short questionnaire that shows which "
    "one fits your situation best."
)
st.info(content.interpretation, icon=":material/info:")

st.header("The models side by side")
for column, profile in zip(st.columns(len(content.profiles)), content.profiles, strict=True):
    with column.container(border=True):
        st.subheader(profile.name)
        st.caption(profile.tagline)
        # One Markdown block per profile, not one per paragraph: the browser draws each element
        # on its own, and this page's first visit was mostly dozens of small ones.
        st.markdown("\n\n".join([
            f"**How it aligns the teams.** {escape_markdown(profile.aligns_by)}",
            f"**Org chart.** {escape_markdown(profile.org_chart)}",
            f"**Disruption.** {escape_markdown(profile.disruption)}",
            f"**Depends on.** {escape_markdown(profile.depends_on)}",
            "**Strengths**\n" + _bullets(profile.strengths),
            "**Risks to manage**\n" + _bullets(profile.risks),
        ]))
        # Sent only while open (opening it reruns the page): a first visit draws less.
        examples = st.expander("Examples in the chapter", on_change="rerun",
                               key=state.LEADERSHIP_EXAMPLES_OPEN + profile.id)
        if not examples.open:
            continue
        with examples:
            st.markdown("\n\n".join(f"**{escape_markdown(example.company)}.** "
                                      f"{escape_markdown(example.summary)}"
                                      for example in profile.examples))
            if profile.examples_note:
                st.caption(escape_markdown(profile.examples_note))

st.header("Your situation")
st.caption("Answer what you can: a question left open counts as neutral.")
keep = KeptWidgets(state.LEADERSHIP_ANSWERS, state.LEADERSHIP_WIDGET_PREFIX)
for number, question in enumerate(content.questions, start=1):
    option_ids = [o.id for o in question.options]
    st.radio(
        f"{number}. {escape_markdown(question.text)}",
        option_ids,
        format_func=lambda oid, q=question: escape_markdown(q.option(oid).label),
        **keep(question.id, None, option_ids),
    )
st.button("Clear my answers", key=state.LEADERSHIP_CLEAR, on_click=keep.clear)
answers = keep.values

st.header("The fit")
with stop_on_error():
    fit = recommend_model(answers)
if fit.answered == 0:
    st.info("Answer at least one question to see how each model fits.")
    st.stop()

best, beside = st.columns([3, 2])
with best:
    st.subheader(f"Best fit: {names[fit.recommended]}")
    st.write(
        "Fit out of 100 (50 = neutral): "
        + ", ".join(f"{names[m]} {fit.fit[m]:.0f}" for m in MODELS)
        + f". Based on {fit.answered} of {fit.total} questions."
    )
    if fit.is_close_call:
        st.warning(
            f"A close call: the {names[fit.runner_up]} is only {fit.margin:.0f} points behind."
        )
    st.caption(fit.caveat)
with beside:
    notes = myn_structure_notes(st.session_state.get(state.MYN_ANSWERS) or {})
    if notes:
        st.markdown("**What your make-your-number answers add**")
        for note in notes:
            st.markdown(f"- **{escape_markdown(note.name)}** ({note.score:.0f}/100): "
                        f"{escape_markdown(note.implication)}")
    else:
        st.caption(
            "Answer the Make your number questionnaire in this session to see its weakest "
            "dimensions here, with what each implies for the structure."
        )

bar_column, triangle_column = st.columns(2)
bar_column.altair_chart(fit_bar_chart(fit.fit, fit.recommended, names), width="stretch")
triangle_column.altair_chart(fit_triangle_chart({"You": fit.fit}, names), width="stretch")
triangle_column.caption(
    "The point sits nearer the corners of the models that fit better; near the middle, they fit "
    "about equally."
)

st.subheader("What pushed each model up or down")
for column, model in zip(st.columns(len(MODELS)), MODELS, strict=True):
    with column:
        st.markdown(f"**{names[model]}** · fit {fit.fit[model]:.0f}")
        drivers = fit.drivers[model]
        st.markdown(
            "\n".join(f"- {d.effect:+d} · {escape_markdown(d.answer_label)}" for d in drivers)
            if drivers
            else "No answer moved this model."
        )

st.subheader("What would change the recommendation")
if fit.flip is None:
    st.write("No change of up to four answers would make another model the best fit.")
else:
    st.write(describe_flip(fit.flip))
    for flip in fit.flips.values():
        if flip is not None and flip != fit.flip:
            st.caption(describe_flip(flip))

profile = content.profile(fit.recommended)
st.subheader(f"Risks the {names[fit.recommended]} must manage")
risks, guards = st.columns(2)
risks.markdown("**Risks**\n" + _bullets(profile.risks))
guards.markdown("**Guardrails**\n" + _bullets(profile.guardrails))
