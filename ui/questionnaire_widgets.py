"""Widgets of the Make your number page: statements, numbers, loading, share link and result.

Answers live in plain session-state dicts (``MYN_ANSWERS``, ``MYN_NUMBERS``) updated by
``on_change`` callbacks, so they survive page switches; widgets are seeded from those dicts.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from diagnostics import questionnaire as q
from diagnostics.charts.questionnaire import dimension_chart_spec, dimension_scores_text
from diagnostics.errors import DiagnosticsError
from diagnostics.report import (
    ReportSection,
    build_report_html,
    build_report_pdf,
    result_headline,
    result_sections,
)
from ui import state
from ui.errors import show_error
from ui.text import escape_markdown

_NA = 0  # radio option meaning "not applicable / don't know"
# Fragment keys. An answer reruns only what it changes: the count, the verdict and its reasons,
# the share link; the lists of statements still to answer only when they changed.
PROGRESS_FRAGMENT = "myn_progress"  # how many statements are answered
VERDICT_FRAGMENT = "myn_verdict"  # the verdict line
NEXT_FRAGMENT = "myn_next"  # the statements to answer next for a firm verdict
REASONS_FRAGMENT = "myn_reasons"  # how the verdict was reached, chart, constraint, actions
UNANSWERED_FRAGMENT = "myn_unanswered"  # the statements not answered or not applicable
SHARE_FRAGMENT = "myn_share"  # share link and downloads
_PERCENT = {"win_rate", "p_target"}  # numbers shown as a percentage, stored as a share


def active_bank() -> q.Bank:
    """Return the consultant's bank from session state, else the built-in one."""
    bank = st.session_state.get(state.MYN_BANK)
    return bank if isinstance(bank, q.Bank) else q.load_bank()


def current_answers() -> q.Answers:
    """Return this session's answers, role and numbers."""
    return q.Answers(
        role=st.session_state.get(state.MYN_ROLE),
        answers=dict(state.session_dict(state.MYN_ANSWERS)),
        numbers=dict(state.session_dict(state.MYN_NUMBERS)),
    )


def _radio_value(question_id: str) -> int | None:
    """Return the radio option that shows a stored answer (None when not answered yet)."""
    answers = state.session_dict(state.MYN_ANSWERS)
    if question_id not in answers:
        return None
    value = answers[question_id]
    return _NA if value is None else int(value)


def _number_value(name: str) -> float | None:
    """Return what the number input of ``name`` shows for the stored number."""
    value = state.session_dict(state.MYN_NUMBERS).get(name)
    if value is None:
        return None
    return float(value) * 100 if name in _PERCENT else float(value)


def _sync_widgets() -> None:
    """Write the answer dicts into the widgets the browser already shows.

    Deleting the widget keys is not enough: the widgets keep their identity (their key), so the
    browser went on showing the old values and sent them back with the next click, which undid a
    "Clear", a loaded answers file or the numbers filled from the data. Setting the values through
    session state pushes the new ones to the browser.
    """
    role = st.session_state.get(state.MYN_ROLE)
    for key in list(st.session_state):
        name = str(key)
        if name.startswith(state.MYN_WIDGET_PREFIX):
            st.session_state[name] = _radio_value(name.removeprefix(state.MYN_WIDGET_PREFIX))
        elif name.startswith(state.MYN_NUMBER_PREFIX):
            st.session_state[name] = _number_value(name.removeprefix(state.MYN_NUMBER_PREFIX))
        elif name == state.MYN_ROLE_WIDGET:
            st.session_state[name] = role if role in {r.id for r in active_bank().roles} else None


def apply_answers(loaded: q.Answers) -> None:
    """Replace the session's answers, role and numbers with ``loaded``."""
    st.session_state[state.MYN_ANSWERS] = dict(loaded.answers)
    st.session_state[state.MYN_NUMBERS] = dict(loaded.numbers)
    st.session_state[state.MYN_ROLE] = loaded.role
    _sync_widgets()


def _flash(kind: str, text: str, place: str) -> None:
    st.session_state[state.MYN_MESSAGE] = (kind, text, place)


def show_message(place: str) -> None:
    """Show (once) the feedback a callback left behind for ``place``, next to what was clicked.

    A message shown at the top of the page went unseen by someone loading a file at its bottom.
    """
    message = st.session_state.get(state.MYN_MESSAGE)
    if not message or message[-1] != place:
        return
    del st.session_state[state.MYN_MESSAGE]
    kind, text = message[0], message[1]
    (st.error if kind == "error" else st.success)(escape_markdown(text))


def apply_share_link(bank: q.Bank) -> None:
    """Load answers from the page's query parameters when they hold a new share link."""
    encoded = st.query_params.get(q.LINK_KEY)
    if not encoded or encoded == st.session_state.get(state.MYN_LINK):
        return
    st.session_state[state.MYN_LINK] = encoded
    try:
        loaded = q.answers_from_query_params(st.query_params.to_dict(), bank)
    except DiagnosticsError as err:
        show_error(err)
        return
    if loaded is not None:
        apply_answers(loaded)
        st.success("Answers restored from the share link.")


def share_link(bank: q.Bank, answers: q.Answers) -> str:
    """Put the answers in the address bar (query parameters) and return the full share link."""
    params = q.answers_to_query_params(answers, bank)
    # Nothing answered yet: keep the address bar clean.
    shown = params if (answers.answers or answers.role or answers.numbers) else {}
    for key in (q.LINK_KEY, q.LINK_ROLE_KEY, q.LINK_NUMBERS_KEY):
        if key not in shown and key in st.query_params:
            del st.query_params[key]
    if any(st.query_params.get(k) != v for k, v in shown.items()):
        st.query_params.update(shown)
    st.session_state[state.MYN_LINK] = params[q.LINK_KEY]
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params)}"


# ---- statements, role and numbers ------------------------------------------------------------


def _store_answer(question_id: str) -> None:
    value = st.session_state.get(state.MYN_WIDGET_PREFIX + question_id)
    answers = state.session_dict(state.MYN_ANSWERS)
    answers[question_id] = None if value in (None, _NA) else int(value)
    # The radio already shows the new answer: rerun only what it changes, not the statements.
    # The browser redraws every element a fragment sends, and the lists of statements still to
    # answer are the longest text on the page: they are sent again only when they changed.
    scope = [PROGRESS_FRAGMENT, VERDICT_FRAGMENT, REASONS_FRAGMENT, SHARE_FRAGMENT]
    if _gaps(scored(active_bank())) != st.session_state.get(state.MYN_GAPS_DRAWN):
        scope += [NEXT_FRAGMENT, UNANSWERED_FRAGMENT]
    st.rerun(scope)


def question_radio(question: q.Question, number: int) -> None:
    """Render one statement as a radio with its five anchors and a not-applicable option."""
    options = [1, 2, 3, 4, 5, _NA]
    key = state.MYN_WIDGET_PREFIX + question.id
    value = None if key in st.session_state else _radio_value(question.id)
    index = None if value is None else options.index(value)
    levels = question.levels
    st.radio(
        f"**{number}. {escape_markdown(question.statement)}**",
        options,
        index=index,
        format_func=lambda v: (
            "Not applicable / don't know" if v == _NA else f"{v} · {escape_markdown(levels[v - 1])}"
        ),
        key=key,
        on_change=_store_answer,
        args=(question.id,),
        help=f"Why it matters: {escape_markdown(question.why)}",
    )


def dimension_picker(bank: q.Bank) -> q.Dimension:
    """Show one dimension's statements at a time; return the one picked.

    Six tabs holding all the statements made every click slow in the browser: the tabs re-check
    each hidden panel's radios on every redraw. One dimension's statements (about six) are drawn
    instead, and a click redraws little.
    """
    ids = [d.id for d in bank.dimensions]
    if st.session_state.get(state.MYN_DIMENSION) not in ids:  # a new session or another bank
        st.session_state[state.MYN_DIMENSION] = ids[0]
    picked = st.segmented_control(
        "Dimension", ids, format_func=lambda i: escape_markdown(bank.dimension(i).name),
        key=state.MYN_DIMENSION, required=True, label_visibility="collapsed",
    )
    return bank.dimension(picked if picked in ids else ids[0])


def _show_dimension(dimension_id: str) -> None:
    st.session_state[state.MYN_DIMENSION] = dimension_id


def next_dimension_button(bank: q.Bank, dimension: q.Dimension) -> None:
    """A button to the next dimension's statements (none after the last one)."""
    ids = [d.id for d in bank.dimensions]
    at = ids.index(dimension.id)
    if at + 1 < len(ids):
        nxt = bank.dimension(ids[at + 1])
        st.button(f"Next: {escape_markdown(nxt.name)} →", key=state.MYN_DIMENSION + "_next",
                  on_click=_show_dimension, args=(nxt.id,))


def progress_text(bank: q.Bank) -> str:
    """How many statements are answered, in all and per dimension."""
    answered = state.session_dict(state.MYN_ANSWERS)
    parts = []
    for d in bank.dimensions:
        ids = [x.id for x in bank.questions_of(d.id)]
        parts.append(f"{escape_markdown(d.name)} {sum(1 for x in ids if x in answered)}/{len(ids)}")
    total = sum(1 for x in bank.questions if x.id in answered)
    return f"{total} of {len(bank.questions)} answered: " + " · ".join(parts) + "."


def _store_role() -> None:
    st.session_state[state.MYN_ROLE] = st.session_state.get(state.MYN_ROLE_WIDGET)


def role_select(bank: q.Bank) -> None:
    """Render the role select box (stored in ``MYN_ROLE``)."""
    ids = [r.id for r in bank.roles]
    role = st.session_state.get(state.MYN_ROLE)
    seeded = state.MYN_ROLE_WIDGET not in st.session_state and role in ids
    st.selectbox(
        "Your role",
        ids,
        index=ids.index(role) if seeded else None,
        format_func=bank.role_label,
        placeholder="Pick your role",
        key=state.MYN_ROLE_WIDGET,
        on_change=_store_role,
    )


def _store_number(name: str) -> None:
    value = st.session_state.get(state.MYN_NUMBER_PREFIX + name)
    numbers = state.session_dict(state.MYN_NUMBERS)
    before = numbers.get(name)
    if value is None:
        numbers.pop(name, None)
    elif name in q.COUNT_FIELDS:
        numbers[name] = float(round(value))
    else:
        numbers[name] = float(value) / 100 if name in _PERCENT else float(value)
    if before is not None and numbers.get(name) != before:
        # The counts were the old number's (filled from the data): a typed number is taken as
        # given (a win rate, the forecast's expected bookings).
        for count in q.RESTS_ON.get(name, ()):
            numbers.pop(count, None)
            st.session_state[state.MYN_NUMBER_PREFIX + count] = None


def _fill_from_data() -> None:
    try:
        target = state.session_dict(state.MYN_NUMBERS).get("target")
        found, sources = q.numbers_with_sources(state.active_dataset(), target)
    except (DiagnosticsError, ImportError) as err:
        _flash("error", f"Could not read numbers from the data: {err}", "numbers")
        return
    state.session_dict(state.MYN_NUMBERS).update(found)
    st.session_state[state.MYN_RATES_FROM] = (sources, found)
    _sync_widgets()
    names = ", ".join(q.NUMBER_FIELDS[n][0].lower() for n in found)
    _flash("success", f"Filled from the data: {names or 'nothing (no closed deals)'}.", "numbers")


def numbers_inputs() -> None:
    """Render the optional numbers (two columns) and the fill-from-data button."""
    show_message("numbers")
    st.button("Fill from my data", key=state.MYN_FILL_FROM_DATA, on_click=_fill_from_data,
              help="Win rate, average won deal, open pipeline from the active dataset; ramped "
                   "reps = reps with a win in the data's last 90 days, and their won deals per "
                   "month; and the Forecast of the quarter still being played: closed so far, "
                   "expected bookings and the chance of your target (without a target, last "
                   "quarter's bookings stand in). The coverage check then uses the forecast. "
                   "The win rate comes from deals old enough to have closed: young deals, "
                   "still mostly open, would read far lower than they will end.")
    held = st.session_state.get(state.MYN_RATES_FROM)
    if held:
        shown = q.sources_still_filled(*held, state.session_dict(state.MYN_NUMBERS))
        if shown:
            st.caption(escape_markdown(" ".join(shown)))
    columns = st.columns(2)
    for i, (name, (label, help_text)) in enumerate(q.NUMBER_FIELDS.items()):
        key = state.MYN_NUMBER_PREFIX + name
        # A widget that already has state shows it; seeding it too would warn (set twice).
        value = None if key in st.session_state else _number_value(name)
        percent = name in _PERCENT
        with columns[i % 2]:
            st.number_input(
                f"{label} (%)" if percent else label,
                min_value=0.0,
                max_value=100.0 if percent else None,
                value=value,
                step=1.0,
                format="%.1f" if percent or name == "deals_per_rep_month" else "%.0f",
                key=key,
                on_change=_store_number,
                args=(name,),
                help=help_text,
            )


# ---- loading files -----------------------------------------------------------------------------


def _load_answers_file() -> None:
    upload = st.session_state.get(state.MYN_ANSWERS_UPLOAD)
    if upload is None:
        return
    try:
        data = json.loads(upload.getvalue().decode("utf-8"))
        apply_answers(q.parse_answers_file(data, active_bank()))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        _flash("error", f"{upload.name} is not a JSON answers file: {err}.", "loaders")
    except DiagnosticsError as err:
        _flash("error", f"{upload.name}: {err}", "loaders")
    else:
        _flash("success", f"Answers loaded from {upload.name}.", "loaders")


def _load_bank_file() -> None:
    upload = st.session_state.get(state.MYN_BANK_UPLOAD)
    if upload is None:
        return
    try:
        bank = q.load_bank_from_text(upload.getvalue().decode("utf-8"), upload.name)
    except UnicodeDecodeError:
        _flash("error", f"{upload.name} is not a UTF-8 text file.", "loaders")
        return
    except DiagnosticsError as err:
        _flash("error", str(err), "loaders")
        return
    _use_bank(bank)
    count = len(bank.questions)
    _flash("success", f"Using the question bank in {upload.name} ({count} statements).",
           "loaders")


def _use_bank(bank: q.Bank | None) -> None:
    st.session_state[state.MYN_BANK] = bank
    known = {x.id for x in (bank or q.load_bank()).questions}
    answers = state.session_dict(state.MYN_ANSWERS)
    for qid in [k for k in answers if k not in known]:
        del answers[qid]
    _sync_widgets()


def _clear() -> None:
    apply_answers(q.Answers())


def loaders(bank: q.Bank) -> None:
    """Render the answers-file and question-bank uploaders and the reset buttons."""
    show_message("loaders")
    left, right = st.columns(2)
    left.file_uploader("Load an answers file (JSON)", type=["json"],
                       key=state.MYN_ANSWERS_UPLOAD, on_change=_load_answers_file)
    right.file_uploader("Use your own question bank (TOML)", type=["toml"],
                        key=state.MYN_BANK_UPLOAD, on_change=_load_bank_file,
                        help="Same format as the built-in bank; see `python -m diagnostics "
                             "questions` and diagnostics/content/questions.toml.")
    if isinstance(st.session_state.get(state.MYN_BANK), q.Bank):
        right.button("Back to the built-in bank", key=state.MYN_BUILTIN_BANK,
                     on_click=_use_bank, args=(None,))
    left.button("Clear my answers", key=state.MYN_CLEAR, on_click=_clear)


# ---- result ------------------------------------------------------------------------------------

_BOX = {"likely": st.success, "at_risk": st.warning, "unlikely": st.error}


def action_line(action: q.Action) -> str:
    """Return an action as one line: what to do, and where it comes from."""
    if action.source != "statement":
        return (f"**{escape_markdown(action.action)}** *({escape_markdown(action.dimension_name)}"
                ": this decides the verdict)*")
    return (f"{escape_markdown(action.action)} *({escape_markdown(action.dimension_name)}; now "
            f"{action.answer:g}/5, up to +{action.gain:.1f} points)*")


def scored(bank: q.Bank) -> q.ScoreResult | DiagnosticsError:
    """Return the verdict of this session's answers, or why there is none (nothing answered).

    Worked out once per set of answers: the verdict's fragments of one run share it.
    """
    answers = current_answers()
    key = (bank, answers)
    kept = st.session_state.get(state.MYN_SCORED)
    if kept is not None and kept[0][0] is bank and kept[0][1] == answers:
        return kept[1]  # type: ignore[no-any-return]
    result: q.ScoreResult | DiagnosticsError
    try:
        result = q.score_answers(bank, answers.answers, answers.numbers, role=answers.role)
    except DiagnosticsError as err:
        result = err
    st.session_state[state.MYN_SCORED] = (key, result)
    return result


def _gaps(result: q.ScoreResult | DiagnosticsError) -> tuple[tuple[str, ...], ...] | None:
    """What the lists of statements still to answer show (None without a verdict)."""
    if isinstance(result, DiagnosticsError):
        return None
    return (result.next_to_answer, result.unanswered)


def render_verdict(result: q.ScoreResult | DiagnosticsError) -> None:
    """Render the verdict line, or why there is none yet."""
    if isinstance(result, DiagnosticsError):
        st.info(escape_markdown(result))
        return
    # No verdict when the numbers cannot tell: a neutral box, not the answers' colour.
    _BOX.get(result.verdict, st.info)(
        f"**{result.title}** · score "  # the app's own words: no user text
        f"{q.score_text(result.score)}/100 ({escape_markdown(result.band_label)}) · "
        f"{escape_markdown(result.decided_text)}"
    )


def render_next_to_answer(result: q.ScoreResult | DiagnosticsError, bank: q.Bank) -> None:
    """Render the statements to answer next for a firm verdict (nothing once it is firm)."""
    st.session_state[state.MYN_GAPS_DRAWN] = _gaps(result)
    if isinstance(result, DiagnosticsError) or not result.next_to_answer:
        return
    with st.expander(f"Answer next for a firm verdict ({len(result.next_to_answer)})",
                     expanded=True):
        st.markdown("\n".join(
            f"- {escape_markdown(bank.dimension(bank.question(x).dimension).name)}: "
            f"{escape_markdown(bank.question(x).statement)}" for x in result.next_to_answer))


def _small(text: str) -> str:
    """Markdown for a side note, shown like a caption (``text`` is escaped)."""
    return f":small[:gray[{escape_markdown(text)}]]"


def render_reasons(result: q.ScoreResult | DiagnosticsError, bank: q.Bank) -> None:
    """Render the verdict's rule, the dimension chart, the binding constraint and the actions.

    Few elements, each holding several paragraphs: an answer redraws them all, and the browser's
    cost grows with the number of elements more than with their length.
    """
    if isinstance(result, DiagnosticsError):
        return
    st.markdown("**How the verdict was reached**\n\n"
                + "\n".join(f"- {escape_markdown(line)}" for line in result.rule_lines)
                + "\n\n" + _small(bank.band(result.band).description))
    rule = bank.verdict
    # Only the chart's data changes from one answer to the next: the browser swaps it in.
    st.vega_lite_chart(dimension_chart_spec(result, rule.likely_min_score,
                                            rule.unlikely_below_score), width="stretch")
    st.caption(escape_markdown(dimension_scores_text(result, rule.likely_min_score,
                                                     rule.unlikely_below_score)))
    parts = []
    bc = result.binding_constraint
    if bc is not None and bc.score is not None:
        parts.append(f"**Binding constraint: {escape_markdown(bc.name)}** "
                     f"({q.score_text(bc.score)}/100, weight {bc.weight:g}): "
                     f"{escape_markdown(bank.dimension(bc.id).summary)}\n\n"
                     + _small(result.binding_reason))
    if result.actions:
        parts.append("**Three actions that would move the verdict most**\n\n" + "\n".join(
            f"{i}. {action_line(a)}" for i, a in enumerate(result.actions, start=1)))
    if parts:
        st.markdown("\n\n".join(parts))


def render_unanswered(result: q.ScoreResult | DiagnosticsError, bank: q.Bank) -> None:
    """Render the statements not answered or not applicable, listed when the list is opened."""
    st.session_state[state.MYN_GAPS_DRAWN] = _gaps(result)
    if isinstance(result, DiagnosticsError) or not result.unanswered:
        return
    # Drawn only when opened: up to every statement of the bank, it was most of what the
    # browser redrew when an answer changed it. The label stays the same (the count inside):
    # another label would be another expander to the browser, closed again after each answer.
    box = st.expander("Not answered or not applicable", key=state.MYN_UNANSWERED,
                      on_change="rerun")
    if box.open:
        count = len(result.unanswered)
        box.markdown(f"{count} statement{'s' if count != 1 else ''}, left out of the score:\n"
                     + "\n".join(f"- {escape_markdown(bank.question(x).statement)}"
                                  for x in result.unanswered))


def leadership_section() -> ReportSection | None:
    """Return the leadership-model section when that questionnaire is answered in this session."""
    answers = st.session_state.get(state.LEADERSHIP_ANSWERS)
    if not answers:
        return None
    try:
        from diagnostics.leadership import leadership_report_section, recommend_model

        section: Any = leadership_report_section(recommend_model(answers))
    except (ImportError, NotImplementedError, DiagnosticsError):
        return None
    return section if isinstance(section, ReportSection) else None


def downloads(bank: q.Bank, answers: q.Answers, result: q.ScoreResult | None) -> None:
    """Render the answers JSON download and, with a result, the HTML and PDF report downloads."""
    payload = json.dumps(q.answers_to_dict(answers, bank), indent=2, ensure_ascii=False)
    row = st.container(horizontal=True)  # one container, not three columns: less to redraw
    row.download_button("Download answers (JSON)", payload.encode("utf-8"),
                            file_name="make-your-number-answers.json", mime="application/json",
                            key=state.MYN_DOWNLOADS + "json", on_click="ignore")
    if result is None:
        return
    sections = (*result_sections(result), *(s for s in (leadership_section(),) if s is not None))
    role = bank.role_label(answers.role)
    subtitle = f"Answered as {role}" if role else ""
    row.download_button(
        "Printable report (HTML)",
        build_report_html(sections, title=bank.title, subtitle=subtitle,
                          headline=result_headline(result)),
        file_name="make-your-number-report.html", mime="text/html",
        key=state.MYN_DOWNLOADS + "html", on_click="ignore",
    )
    # The PDF is built when asked for (about a quarter of a second): not on every answer click.
    row.download_button(
        "Report (PDF)",
        lambda: build_report_pdf(sections, title=bank.title, subtitle=subtitle,
                                 headline=result_headline(result)),
        file_name="make-your-number-report.pdf", mime="application/pdf",
        key=state.MYN_DOWNLOADS + "pdf", on_click="ignore",
    )
