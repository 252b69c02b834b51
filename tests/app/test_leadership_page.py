"""Leadership model page: comparison, questionnaire, fit, persistence across pages."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from diagnostics.leadership import load_content
from tests.app.conftest import OpenPage, shown
from ui import state

PAGE = "pages/leadership.py"
TSAR = {
    "growth_pressure": "intense",
    "leader_trust": "low",
    "change_tolerance": "high",
    "broad_leader": "yes",
}


def _answer(at: AppTest, answers: dict[str, str]) -> None:
    for question, option in answers.items():
        at.radio(key=state.LEADERSHIP_WIDGET_PREFIX + question).set_value(option)
    at.run()
    assert not at.exception


def _subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_page_compares_the_models_and_says_the_rule_is_our_interpretation(
    open_page: OpenPage
) -> None:
    at = open_page(PAGE)
    assert _subheaders(at)[:4] == [
        "Functional (today's baseline)",
        "Tsar",
        "Federation",
        "Chief of Staff",
    ]
    assert "this app's reading of the chapter" in at.info[0].value
    # Each model's examples are sent only while its expander is open (opening it reruns).
    boxes = [e for e in at.expander if e.label == "Examples in the chapter"]
    assert len(boxes) == 4 and not any(e.children for e in boxes)
    assert "**Avaya.**" not in " ".join(m.value for m in at.markdown)
    for profile in load_content().profiles:
        at.session_state[state.LEADERSHIP_EXAMPLES_OPEN + profile.id] = True
    at.run()
    examples = " ".join(m.value for m in at.markdown)
    assert "**Avaya.**" in examples and "**GHX.**" in examples and "**Ciena.**" in examples
    assert "\\$2\\.4 billion" in examples  # content escaped: a dollar would start LaTeX
    assert len(at.radio) == 10
    assert all(r.value is None for r in at.radio)
    assert at.info[1].value == "Answer at least one question to see how each model fits."
    assert not at.get("vega_lite_chart")


def test_answers_give_a_recommendation_with_charts_drivers_flip_and_risks(
    open_page: OpenPage
) -> None:
    at = open_page(PAGE)
    _answer(at, TSAR)
    assert at.session_state[state.LEADERSHIP_ANSWERS] == TSAR
    subheaders = _subheaders(at)
    assert "Best fit: Tsar" in subheaders
    assert "Risks the Tsar must manage" in subheaders
    assert len(at.get("vega_lite_chart")) == 2  # the bar chart and the triangle
    text = shown(" ".join(m.value for m in at.markdown))
    assert "+3 · Yes, and the CEO would give them the full remit" in text
    assert "-3 · Little: open friction and blame when numbers are missed" in text
    flip = [m.value for m in at.markdown if m.value.startswith("If “")]
    assert flip and "No such leader today" in flip[0] and "Chief of Staff" in flip[0]


def test_answers_survive_a_trip_to_another_page(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    _answer(at, {"leader_trust": "strong", "change_tolerance": "little"})
    at.switch_page("pages/home.py")
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert at.radio(key=state.LEADERSHIP_WIDGET_PREFIX + "leader_trust").value == "strong"
    assert at.radio(key=state.LEADERSHIP_WIDGET_PREFIX + "change_tolerance").value == "little"
    assert "Best fit: Federation" in _subheaders(at)


def test_clear_forgets_the_answers(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    _answer(at, TSAR)
    at.button(key=state.LEADERSHIP_CLEAR).click()
    at.run()
    assert at.session_state[state.LEADERSHIP_ANSWERS] == {}
    assert all(r.value is None for r in at.radio)
    assert not any(s.startswith("Best fit") for s in _subheaders(at))


def test_weak_make_your_number_dimensions_are_shown_beside_the_fit(open_page: OpenPage) -> None:
    from diagnostics.questionnaire import load_bank

    myn = {q.id: (1 if q.dimension == "tools_data" else 5) for q in load_bank().questions}
    at = open_page(PAGE, session={state.MYN_ANSWERS: myn,
                                  state.LEADERSHIP_ANSWERS: {"main_pain": "operations"}})
    assert "Best fit: Chief of Staff" in _subheaders(at)
    notes = [m.value for m in at.markdown if m.value.startswith("- **Tools and data**")]
    assert notes and "the classic case for a Chief of Staff" in notes[0]


def test_a_stale_answer_is_reported_not_raised(open_page: OpenPage) -> None:
    at = open_page(PAGE, session={state.LEADERSHIP_ANSWERS: {"leader_trust": "gone"}})
    assert "Question 'leader_trust' has no option 'gone'" in shown(at.error[0].value)
