"""Make your number page: answer, see the verdict, keep answers across pages, load and share."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.dataset import StageConfig, build_dataset
from diagnostics.questionnaire import Answers, answers_to_query_params, load_bank
from tests.app.conftest import OpenPage, shown
from ui import state

PAGE = "pages/make_your_number.py"
BANK = load_bank()


def _verdict(at: AppTest) -> str:
    boxes = [*at.success, *at.warning, *at.error, *at.info]
    texts = [b.value for b in boxes if "to make the number" in b.value]
    assert len(texts) == 1, texts
    return texts[0]


def _answer_all(at: AppTest, value: int) -> None:
    """Answer every statement with ``value``, one dimension at a time as a user does."""
    for dimension in BANK.dimensions:
        at.segmented_control(key=state.MYN_DIMENSION).set_value(dimension.id).run()
        for q in BANK.questions_of(dimension.id):
            at.radio(key=state.MYN_WIDGET_PREFIX + q.id).set_value(value)
        at.run()  # the answers rerun only the count and the verdict (fragments)
        at.run()  # a full run draws the whole page again


def _open_loaders(at: AppTest) -> None:
    """Open the loaders expander: its uploaders are drawn only while it is open."""
    assert not at.file_uploader  # closed: not drawn
    at.session_state[state.MYN_LOADERS] = True  # what a click on the expander does
    at.run()
    assert {u.key for u in at.file_uploader} == {state.MYN_ANSWERS_UPLOAD, state.MYN_BANK_UPLOAD}


def test_starts_with_the_first_dimensions_statements_and_no_verdict(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    first = BANK.dimensions[0]
    assert [r.key for r in at.radio] == [
        state.MYN_WIDGET_PREFIX + q.id for q in BANK.questions_of(first.id)]
    picker = at.segmented_control(key=state.MYN_DIMENSION)
    assert picker.value == first.id and list(picker.options) == [
        d.name for d in BANK.dimensions]
    assert at.button(key=state.MYN_DIMENSION + "_next").label == (
        f"Next: {BANK.dimensions[1].name} →")
    radio = at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[0].id)
    assert radio.value is None
    assert radio.options[-1] == "Not applicable / don't know"
    assert radio.options[0].startswith("1 · ")
    assert BANK.questions[0].levels[0] in shown(radio.options[0])
    assert any("No statement is answered yet" in shown(i.value) for i in at.info)
    assert "myn" not in at.query_params  # nothing to share yet


def test_answer_gives_verdict_link_and_survives_page_switch(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    first, second = BANK.questions[0].id, BANK.questions[1].id
    at.radio(key=state.MYN_WIDGET_PREFIX + first).set_value(5).run()
    # An answer reruns only the count and the verdict (fragments), not the statements.
    assert not at.radio and "to make the number" in _verdict(at)
    assert any("1 of" in c.value for c in at.caption)
    at.run()  # a full run draws the whole page again
    at.radio(key=state.MYN_WIDGET_PREFIX + second).set_value(0).run()
    at.run()
    assert not at.exception
    assert at.session_state[state.MYN_ANSWERS] == {first: 5, second: None}
    # One statement answered: provisional, at best at risk, with what to answer next.
    assert _verdict(at).startswith("**At risk (provisional) to make the number** · score 100/100")
    # One answer at 5 is not "a managed outcome": the band beside the verdict stays below it.
    assert "(Solid)" in _verdict(at)
    (rule,) = [shown(m.value) for m in at.markdown
               if m.value.startswith("**How the verdict was reached**")]
    assert rule.endswith(f":small[:gray[{BANK.band('solid').description}]]")
    assert "managed outcome" not in rule
    (nxt,) = [e for e in at.expander if e.label.startswith("Answer next for a firm verdict")]
    assert "Planning and forecasting" in nxt.markdown[0].value
    assert str(at.query_params["myn"]).split(".")[2].startswith("50___")
    (link,) = [m.value for m in at.markdown if m.value.startswith("**Share link**")]
    # The link as a code span (read literally, copied as is), the page's address and the answers.
    assert link.endswith(f": `?myn={at.query_params['myn']}`"), link

    at.switch_page("pages/leadership.py").run()
    at.switch_page(PAGE).run()
    assert [t.value for t in at.title] == ["Make your number"]
    assert at.radio(key=state.MYN_WIDGET_PREFIX + first).value == 5
    assert at.radio(key=state.MYN_WIDGET_PREFIX + second).value == 0
    assert _verdict(at).startswith("**At risk (provisional)")


def test_numbers_can_decide_the_verdict(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    _answer_all(at, 5)
    assert _verdict(at).startswith("**Likely to make the number** · score 100/100")
    for name, value in (("target", 1_000_000), ("closed_so_far", 0),
                        ("open_pipeline", 1_000_000), ("win_rate", 20.0)):
        at.number_input(key=state.MYN_NUMBER_PREFIX + name).set_value(value)
    at.run()
    assert at.session_state[state.MYN_NUMBERS]["win_rate"] == 0.2
    assert _verdict(at).startswith("**Unlikely to make the number**")
    assert "decided by the coverage check" in _verdict(at)
    # The first action is the pipeline the coverage check needs: 1M at 20% needs 5M, 4M more.
    head = "**Three actions that would move the verdict most**\n\n"
    actions = [shown(m.value).split(head, 1)[1] for m in at.markdown if head in m.value]
    assert actions and actions[0].startswith("1. **Add 4,000,000 of open pipeline")


def test_fill_from_the_sample_brings_the_forecast_and_the_coverage_check_uses_it(
    open_page: OpenPage,
) -> None:
    at = open_page(PAGE)
    at.number_input(key=state.MYN_NUMBER_PREFIX + "target").set_value(5_000_000).run()
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    numbers = at.session_state[state.MYN_NUMBERS]
    assert numbers["target"] == 5_000_000  # the target typed is the one forecast against
    assert numbers["closed_so_far"] == 0  # the sample ends on the last day of a quarter
    assert 1_000_000 < numbers["expected_bookings"] < numbers["target"]
    assert 0 <= numbers["p_target"] < 0.5
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "p_target").value == pytest.approx(
        numbers["p_target"] * 100)
    _answer_all(at, 5)
    rule = shown("\n".join(m.value for m in at.markdown))
    assert "Coverage check (forecast from your data)" in rule
    assert "replaces open pipeline × win rate" in rule


def test_upload_answers_file_and_downloads(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    _open_loaders(at)
    data = {"role": "cfo", "answers": {q.id: 2 for q in BANK.questions}}
    uploader = at.file_uploader(key=state.MYN_ANSWERS_UPLOAD)
    uploader.set_value(("bad.json", json.dumps(data).encode(), "application/json")).run()
    assert any("Unknown role 'cfo'" in shown(e.value) for e in at.error)

    data["role"] = "finance"
    uploader = at.file_uploader(key=state.MYN_ANSWERS_UPLOAD)
    uploader.set_value(("mine.json", json.dumps(data).encode(), "application/json")).run()
    assert not at.exception
    assert any("Answers loaded from mine.json" in shown(s.value) for s in at.success)
    assert _verdict(at).startswith("**Unlikely to make the number** · score 25/100")
    assert at.selectbox(key=state.MYN_ROLE_WIDGET).value == "finance"
    assert at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[3].id).value == 2
    keys = {b.key for b in at.download_button}
    assert keys == {state.MYN_DOWNLOADS + x for x in ("json", "html", "pdf")}


def test_load_errors_show_next_to_the_loaders(open_page: OpenPage) -> None:
    """A broken file's message shows inside the loaders expander, where the user is looking."""
    at = open_page(PAGE)
    _open_loaders(at)
    at.file_uploader(key=state.MYN_ANSWERS_UPLOAD).set_value(
        ("broken.json", b"not json{", "application/json")
    ).run()
    assert not at.exception
    (loaders,) = [e for e in at.expander if "Load answers" in e.label]
    assert any("broken.json is not a JSON answers file" in shown(e.value) for e in loaders.error)
    at.file_uploader(key=state.MYN_BANK_UPLOAD).set_value(
        ("client.toml", b'title = "x"\n', "text/plain")
    ).run()
    (loaders,) = [e for e in at.expander if "Load answers" in e.label]
    assert any("Question bank client.toml" in shown(e.value) for e in loaders.error)


def test_share_link_restores_answers_and_garbled_link_is_explained(open_page: OpenPage) -> None:
    answers = Answers("cro", {q.id: 4 for q in BANK.questions}, {"target": 500.0})
    at = open_page(PAGE, query=answers_to_query_params(answers, BANK))
    assert any("restored from the share link" in shown(s.value) for s in at.success)
    assert at.session_state[state.MYN_ROLE] == "cro"
    assert at.session_state[state.MYN_NUMBERS] == {"target": 500.0}
    assert _verdict(at).startswith("**Likely to make the number** · score 75/100")

    bad = open_page(PAGE, query={"myn": "1.deadbeef.12"})
    assert any("This share link cannot be read" in shown(e.value) for e in bad.error)
    assert any("No statement is answered yet" in shown(i.value) for i in bad.info)


def test_fill_numbers_from_data(open_page: OpenPage) -> None:
    opps = pd.DataFrame(
        {
            "opp_id": ["1", "2", "3"],
            "rep": ["ann", "ann", "bob"],
            "stage": ["Won", "Lost", "Demo"],
            "amount": [100.0, 50.0, 400.0],
            "created_date": [dt.date(2026, 1, 1)] * 3,
            "close_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 1), None],
        }
    )
    dataset = build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))
    at = open_page(PAGE, session={state.DATASET: dataset})
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    numbers = at.session_state[state.MYN_NUMBERS]
    assert numbers["win_rate"] == 0.5 and numbers["open_pipeline"] == 400.0
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate").value == 50.0
    # The field filled with every open deal is not labelled as qualified pipeline: its label,
    # the value filled and the caption naming the deals behind it say the same thing.
    field = at.number_input(key=state.MYN_NUMBER_PREFIX + "open_pipeline")
    assert field.value == 400.0 and field.label == "Open pipeline"
    assert "qualified" not in field.label.lower()
    captions = " ".join(shown(c.value) for c in at.caption)
    assert "Open pipeline: the amounts of 1 open deals at any stage of the funnel" in captions


def test_fill_from_data_says_how_many_deals_each_number_rests_on(open_page: OpenPage) -> None:
    opps = pd.DataFrame(
        {
            "opp_id": ["1", "2", "3", "4"],
            "rep": ["ann", "ann", "bob", "bob"],
            "stage": ["Won", "Won", "Lost", "Demo"],
            "amount": [100.0, None, 50.0, None],
            "created_date": [dt.date(2026, 1, 1)] * 4,
            "close_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 5), dt.date(2026, 3, 1), None],
        }
    )
    dataset = build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))
    at = open_page(PAGE, session={state.DATASET: dataset})
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    numbers = at.session_state[state.MYN_NUMBERS]
    # The one open deal has no amount: the pipeline stays blank rather than reading 0.
    assert "open_pipeline" not in numbers
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "open_pipeline").value is None
    captions = " ".join(shown(c.value) for c in at.caption)
    assert "Average deal size: the mean of 1 won deal with an amount (of 2 won)." in captions
    assert "Open pipeline left blank: the one open deal has no amount." in captions
    assert "Win rate from " in captions and "Fewer than 20 closed deals" in captions
    # Typed over, the deal size no longer comes from the data, and its sentence goes.
    at.number_input(key=state.MYN_NUMBER_PREFIX + "average_deal_size").set_value(500.0).run()
    captions = " ".join(shown(c.value) for c in at.caption)
    assert "Average deal size: the mean" not in captions and "Win rate from " in captions


def test_own_question_bank_upload(open_page: OpenPage) -> None:
    from tests.unit.test_questionnaire import TINY

    at = open_page(PAGE)
    _open_loaders(at)
    at.file_uploader(key=state.MYN_BANK_UPLOAD).set_value(
        ("client.toml", TINY.replace('id = "a2"', 'id = "a1"').encode(), "text/plain")
    ).run()
    assert any("duplicate question id 'a1'" in shown(e.value) for e in at.error)
    at.file_uploader(key=state.MYN_BANK_UPLOAD).set_value(
        ("client.toml", TINY.encode(), "text/plain")
    ).run()
    assert not at.exception
    # The bank's first dimension is shown, the picker offers the bank's own dimensions.
    assert [r.key for r in at.radio] == [state.MYN_WIDGET_PREFIX + x for x in ("a1", "a2")]
    assert at.segmented_control(key=state.MYN_DIMENSION).value == "a"
    at.segmented_control(key=state.MYN_DIMENSION).set_value("b").run()
    assert len(at.radio) == 1  # the last dimension: no "Next" button
    assert state.MYN_DIMENSION + "_next" not in {b.key for b in at.button}
    assert any("Using your own question bank: Tiny" in shown(i.value) for i in at.info)


def test_report_includes_leadership_fit_when_answered(open_page: OpenPage, monkeypatch) -> None:
    from diagnostics import report
    from diagnostics.leadership import load_questions
    from ui import questionnaire_widgets

    built: list[str] = []

    def capture(*args, **kwargs):
        page = report.build_report_html(*args, **kwargs)
        built.append(page)
        return page

    monkeypatch.setattr(questionnaire_widgets, "build_report_html", capture)
    first = load_questions()[0]
    open_page(PAGE, session={state.LEADERSHIP_ANSWERS: {first.id: first.options[0].id},
                             state.MYN_ANSWERS: {q.id: 4 for q in BANK.questions}})
    assert built, "the HTML report was not built"
    assert "Likely to make the number" in built[-1]
    assert "Leadership model: " in built[-1]


def test_fill_from_data_takes_the_win_rate_of_deals_old_enough_to_have_closed(
    open_page: OpenPage,
) -> None:
    from tests.unit.test_cohorts import _young_and_old

    at = open_page(PAGE, session={state.DATASET: _young_and_old()})
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    # 16 won of the 40 deals created by 1 May (the June deals, 10 lost fast and 30 open, would
    # make it 16 of 50).
    assert at.session_state[state.MYN_NUMBERS]["win_rate"] == 0.4
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate").value == 40.0
    captions = shown("\n".join(str(c.value) for c in at.caption))
    assert "Win rate from Deals created up to 01 May 2025: 40 deals, 40 of them closed." in captions
    # A win rate typed over the filled one no longer claims to come from those deals.
    at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate").set_value(25.0).run()
    captions = shown("\n".join(str(c.value) for c in at.caption))
    assert "Win rate from Deals created up to" not in captions


def test_the_pdf_report_is_built_when_asked_for_not_on_every_answer(
    open_page: OpenPage, monkeypatch
) -> None:
    from ui import questionnaire_widgets

    built: list[int] = []
    monkeypatch.setattr(questionnaire_widgets, "build_report_pdf",
                        lambda *args, **kwargs: built.append(1) or b"%PDF-")
    at = open_page(PAGE, session={state.MYN_ANSWERS: {q.id: 4 for q in BANK.questions}})
    first = BANK.questions[0]
    at.radio(key=state.MYN_WIDGET_PREFIX + first.id).set_value(2).run()
    assert not at.exception
    assert state.MYN_DOWNLOADS + "pdf" in {b.key for b in at.download_button}
    assert built == []


def _scores_caption(at: AppTest) -> str:
    (text,) = [shown(c.value) for c in at.caption if c.value.startswith("Dimension scores out")]
    return text


def test_dimension_chart_follows_the_scores_and_keeps_its_layout(open_page: OpenPage) -> None:
    at = open_page(PAGE)
    first = BANK.questions[0]
    second = next(x for x in BANK.questions if x.dimension != first.dimension)
    name_1, name_2 = (BANK.dimension(x.dimension).name for x in (first, second))
    at.radio(key=state.MYN_WIDGET_PREFIX + first.id).set_value(4).run()
    (chart,) = at.get("vega_lite_chart")  # drawn by the answer's own (fragment) run
    layout = json.loads(chart.proto.spec)
    assert layout["title"] == "Dimension scores"
    assert [layer["mark"]["type"] for layer in layout["layer"]] == ["bar", "rule"]
    assert f"{name_1} 75 (binding constraint)" in _scores_caption(at)
    at.run()
    at.segmented_control(key=state.MYN_DIMENSION).set_value(second.dimension).run()
    at.radio(key=state.MYN_WIDGET_PREFIX + second.id).set_value(2).run()
    caption = _scores_caption(at)
    assert f"{name_1} 75;" in caption and f"{name_2} 25 (binding constraint)" in caption
    # Only the data changed: the browser swaps it into the chart it already shows.
    assert json.loads(at.get("vega_lite_chart")[0].proto.spec) == layout
    assert not at.exception


def test_next_button_and_progress_walk_the_dimensions(open_page: OpenPage) -> None:
    at = open_page(PAGE, session={state.MYN_ANSWERS: {BANK.questions[0].id: 4}})
    first, second = BANK.dimensions[0], BANK.dimensions[1]
    progress = next(c.value for c in at.caption if " answered: " in c.value)
    total = len(BANK.questions_of(first.id))
    assert progress.startswith(f"1 of {len(BANK.questions)} answered: ")
    assert f"{first.name} 1/{total}" in shown(progress)
    at.button(key=state.MYN_DIMENSION + "_next").click().run()
    assert at.segmented_control(key=state.MYN_DIMENSION).value == second.id
    assert [r.key for r in at.radio] == [
        state.MYN_WIDGET_PREFIX + q.id for q in BANK.questions_of(second.id)]
    at.segmented_control(key=state.MYN_DIMENSION).set_value(first.id).run()
    # The answer given before is still there when its dimension is shown again.
    assert at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[0].id).value == 4
    assert not at.exception


def _unanswered_box(at: AppTest) -> Any:
    (box,) = [e for e in at.expander if e.label == "Not answered or not applicable"]
    return box


def _unanswered_count(at: AppTest) -> int:
    """Open the list of statements not answered and return how many it says there are."""
    at.session_state[state.MYN_UNANSWERED] = True  # what a click on the expander does
    at.run()
    text = shown(_unanswered_box(at).markdown[0].value)
    at.session_state[state.MYN_UNANSWERED] = False
    at.run()
    return int(text.split(" ", 1)[0])


def test_an_answer_sends_the_lists_still_to_answer_again_only_when_they_change(
    open_page: OpenPage,
) -> None:
    at = open_page(PAGE)
    first, second = BANK.questions[0].id, BANK.questions[1].id
    count = len(BANK.questions)
    assert BANK.questions[1].dimension == BANK.questions[0].dimension  # both on the first view
    at.radio(key=state.MYN_WIDGET_PREFIX + first).set_value(5).run()
    # A first answer changes both lists: they are part of the fragments that reran.
    assert any(e.label.startswith("Answer next") for e in at.expander)
    assert _unanswered_box(at) is not None
    assert _unanswered_count(at) == count - 1
    # Another level for the same statement changes neither list: only the verdict's parts rerun.
    at.radio(key=state.MYN_WIDGET_PREFIX + first).set_value(2).run()
    assert "score 25/100" in _verdict(at)
    assert not any(e.label.startswith(("Answer next", "Not answered")) for e in at.expander)
    at.run()
    # An answer to a statement not answered yet takes it off the list: the lists rerun.
    at.radio(key=state.MYN_WIDGET_PREFIX + second).set_value(3).run()
    assert any(e.label.startswith("Answer next") for e in at.expander)
    assert _unanswered_count(at) == count - 2
    # "Don't know" puts a statement back in the list.
    at.radio(key=state.MYN_WIDGET_PREFIX + first).set_value(0).run()
    assert any(e.label.startswith("Answer next") for e in at.expander)
    assert _unanswered_count(at) == count - 1


def test_the_statements_not_answered_are_listed_when_their_list_is_opened(
    open_page: OpenPage,
) -> None:
    at = open_page(PAGE)
    at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[0].id).set_value(4).run()
    at.run()
    assert not _unanswered_box(at).markdown  # closed: nothing sent to the browser
    at.session_state[state.MYN_UNANSWERED] = True  # what a click on the expander does
    at.run()
    listed = shown(_unanswered_box(at).markdown[0].value)
    assert listed.startswith(f"{len(BANK.questions) - 1} statements, left out of the score")
    assert BANK.questions[1].statement in listed
    assert BANK.questions[0].statement not in listed
    # An answer keeps the list open and takes the statement off it.
    at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[1].id).set_value(4).run()
    listed = shown(_unanswered_box(at).markdown[0].value)
    assert BANK.questions[1].statement not in listed
    assert listed.startswith(f"{len(BANK.questions) - 2} statements")


def test_garbage_is_collected_after_a_full_run_not_after_an_answer(
    open_page: OpenPage, monkeypatch
) -> None:
    """Streamlit's collection after every run is off (it slowed each answer click): the app
    collects at the end of its full runs, and an answer's fragment reruns skip it."""
    import gc

    calls: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(1) or 0)
    at = open_page(PAGE)
    assert calls, "a full run collects"
    calls.clear()
    at.radio(key=state.MYN_WIDGET_PREFIX + BANK.questions[0].id).set_value(3).run()
    assert not at.exception
    assert _verdict(at).startswith("**")
    assert calls == []


def test_a_win_rate_filled_from_six_closed_deals_gives_no_coverage_verdict_until_typed(
    open_page: OpenPage,
) -> None:
    day = dt.date(2026, 3, 31)
    opps = pd.DataFrame({
        "opp_id": [str(i) for i in range(1, 10)],
        "rep": ["ann", "ann", "bob", "bob", "cy", "cy", "ann", "bob", "cy"],
        "stage": ["Won", "Won", "Lost", "Lost", "Lost", "Lost", "Demo", "Demo", "Demo"],
        "amount": [100.0, 300.0, 200.0, 50.0, 80.0, 10.0, 1000.0, 2000.0, 3000.0],
        "created_date": [dt.date(2025, 10, 1)] * 9,
        "close_date": [dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 1, 20),
                       dt.date(2026, 2, 1), dt.date(2026, 3, 1), day, None, None, None],
    })
    dataset = build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))
    at = open_page(PAGE, session={state.DATASET: dataset})
    at.number_input(key=state.MYN_NUMBER_PREFIX + "target").set_value(2_000).run()
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    count = at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate_closed_deals")
    assert count.label == "Closed deals behind the win rate" and count.value == 6.0
    # Without the forecast, coverage is open pipeline × win rate: 2 won of 6 closed.
    at.number_input(key=state.MYN_NUMBER_PREFIX + "expected_bookings").set_value(None).run()
    _answer_all(at, 5)
    verdict = shown(_verdict(at))
    # Nor does the verdict read as the answers' "likely": the numbers cannot tell.
    assert verdict.startswith("**Cannot tell: likely, at risk or unlikely to make the number**")
    assert ("the coverage check cannot tell on 6 closed deals; the answers alone say likely, "
            "which the numbers cannot confirm") in verdict
    assert at.info and _verdict(at) in [b.value for b in at.info]  # a neutral box
    rule = shown("\n".join(m.value for m in at.markdown))
    assert "Coverage check (win rate from only 6 closed deals): cannot tell." in rule
    assert "from 10% to 70% (95% interval)" in rule
    assert "either side of the 2,000 a likely verdict needs" in rule
    assert "myn_num" in at.query_params and "win_rate_closed_deals:6" in str(
        at.query_params["myn_num"])
    # A win rate typed over is taken as given: the count filled for the old rate goes.
    at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate").set_value(40.0).run()
    assert "win_rate_closed_deals" not in at.session_state[state.MYN_NUMBERS]
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "win_rate_closed_deals").value is None
    verdict = _verdict(at)
    assert "cannot tell" not in verdict and "decided by the coverage check" in verdict


def _eight_closed_deals() -> pd.DataFrame:
    """8 closed deals (3 won, in about 20 days) and 6 young open deals worth 1,000 each."""
    d = dt.date
    rows = [("Won", 1000.0, d(2026, 1, 1 + i), d(2026, 1, 21 + i)) for i in range(3)]
    rows += [("Lost", 1000.0, d(2026, 1, 5 + i), d(2026, 1, 25 + i)) for i in range(4)]
    rows += [("Demo", 1000.0, d(2026, 3, 20 + i), None) for i in range(6)]
    rows.append(("Lost", 10.0, d(2026, 3, 1), d(2026, 3, 31)))
    return pd.DataFrame({
        "opp_id": [str(i) for i in range(len(rows))], "rep": ["ann"] * len(rows),
        "stage": [r[0] for r in rows], "amount": [r[1] for r in rows],
        "created_date": [r[2] for r in rows], "close_date": [r[3] for r in rows]})


def test_a_forecast_filled_from_eight_closed_deals_says_so_and_gives_no_verdict_until_typed(
    open_page: OpenPage,
) -> None:
    dataset = build_dataset(_eight_closed_deals(),
                            StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))
    at = open_page(PAGE, session={state.DATASET: dataset})
    at.number_input(key=state.MYN_NUMBER_PREFIX + "target").set_value(3_000).run()
    at.button(key=state.MYN_FILL_FROM_DATA).click().run()
    assert not at.exception
    closed = at.number_input(key=state.MYN_NUMBER_PREFIX + "forecast_closed_deals")
    won = at.number_input(key=state.MYN_NUMBER_PREFIX + "forecast_won_deals")
    assert closed.label == "Forecast: closed deals it learned from" and closed.value == 8.0
    assert won.label == "Forecast: won deals among them" and won.value == 3.0
    # Under the button: the forecast's range and the few deals it rests on.
    caption = shown("\n".join(c.value for c in at.caption))
    assert "expected bookings 6,392 (P10 " in caption
    assert ("It learned from a win rate of 38% on only 8 closed deals (few deals: any rate from "
            "14% to 69% fits them, 95% interval).") in caption
    _answer_all(at, 5)
    rule = shown("\n".join(m.value for m in at.markdown))
    assert "Coverage check (forecast from only 8 closed deals): cannot tell." in rule
    assert "it would expect from 2,332 to 11,833 by the period end, either side of the " \
           "3,000 a likely verdict needs" in rule
    assert "forecast_closed_deals:8" in str(at.query_params["myn_num"])
    assert shown(_verdict(at)).startswith("**Cannot tell: likely, at risk or unlikely to make")
    # A forecast typed over is taken as given: the counts filled for the old one go.
    at.number_input(key=state.MYN_NUMBER_PREFIX + "expected_bookings").set_value(9_000).run()
    numbers = at.session_state[state.MYN_NUMBERS]
    assert "forecast_closed_deals" not in numbers and "forecast_won_deals" not in numbers
    assert at.number_input(key=state.MYN_NUMBER_PREFIX + "forecast_closed_deals").value is None
    assert "It learned from" not in shown("\n".join(c.value for c in at.caption))
    rule = shown("\n".join(m.value for m in at.markdown))
    assert "Coverage check (forecast from your data) says likely." in rule
    assert "decided by the coverage check" in _verdict(at)
