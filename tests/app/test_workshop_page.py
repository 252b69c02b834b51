"""Workshop page: start view, participant view and facilitator dashboard, driven by query params."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics import workshop as ws
from diagnostics.workshop_store import DuckDBStore
from tests.app.conftest import shown
from ui import state

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/workshop.py"
F = state.WORKSHOP_FORM_PREFIX
A = state.WORKSHOP_ANSWER_PREFIX


@pytest.fixture
def store(workshop_db: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(workshop_db)
    yield s
    s.close()


def _open(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page(PAGE)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    assert [t.value for t in at.title] == ["Workshop"]
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.markdown, *at.caption)]
    return shown("\n".join(str(p) for p in parts))


def test_start_view_offers_create_and_join(store: DuckDBStore) -> None:
    at = _open()
    assert [s.value for s in at.subheader][:2] == ["Run a workshop", "Join a workshop"]
    assert at.text_input(key=F + "client").label == "Client"
    assert at.button(key=F + "join").label == "Join"
    assert "listed only for someone holding their facilitator key" in _texts(at)


def test_create_opens_the_facilitator_dashboard_and_lists_the_workshop(store: DuckDBStore) -> None:
    at = _open()
    at.text_input(key=F + "client").input("Acme")
    at.text_input(key=F + "title").input("Kick-off")
    at.button(key="FormSubmitter:" + F + "create-Create workshop").click()
    at.run()
    assert not at.exception
    code = at.query_params["workshop"]
    code = code[0] if isinstance(code, list) else code
    # The key stays in the session, never in the address bar a projector shows.
    assert "key" not in at.query_params and at.query_params["view"] in ("facilitator",
                                                                        ["facilitator"])
    (key,) = at.session_state[state.WORKSHOP_KEYS].values()
    assert ws.authorise(store, code, key).title == "Kick-off"
    assert [m.label for m in at.metric] == ["Joined", "Responses", "Team verdict", "Team score"]
    assert at.metric[0].value == "0" and at.metric[3].value == "—"
    assert len(at.image) == 1  # the QR code
    assert f"/workshop?workshop={code}" in at.code[0].value
    assert at.session_state[state.WORKSHOP_KEYS] == {code: key}


def test_held_workshop_is_listed_with_its_title_as_typed(store: DuckDBStore) -> None:
    """The start page lists the workshops this session holds; a title's * stays literal."""
    created = ws.create_workshop(store, "Acme", "Q3 *planning*")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state[state.WORKSHOP_KEYS] = {created.code: created.key}
    at.run()
    at.switch_page(PAGE).run()
    assert [t.value for t in at.title] == ["Workshop"]
    (button,) = [b for b in at.button if b.key == F + "open_" + created.code]
    assert button.label.startswith("Q3 \\*planning\\* · Acme · ")


def test_create_with_empty_fields_explains(store: DuckDBStore) -> None:
    at = _open()
    at.button(key="FormSubmitter:" + F + "create-Create workshop").click()
    at.run()
    assert "client name is empty" in at.error[0].value


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_wrong_or_empty_key_shows_only_a_message(store: DuckDBStore, key: str) -> None:
    created = ws.create_workshop(store, "Secret client", "Secret title")
    at = _open({"workshop": created.code, "key": key})
    assert "facilitator link is not valid" in at.error[0].value
    assert len(at.metric) == 0 and len(at.subheader) == 0 and len(at.image) == 0
    assert "Secret" not in _texts(at)


@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "x" * 300, "ABCD", "ZZZZ2345"])
def test_malformed_or_unknown_code_does_not_crash(store: DuckDBStore, code: str) -> None:
    at = _open({"workshop": code})
    assert at.error and ("not a workshop code" in at.error[0].value
                         or "No workshop has the code" in at.error[0].value)


def test_participant_joins_answers_and_resumes(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    content = ws.load_content()
    first, choice = content.statements[0].id, content.choices[0]
    at = _open({"workshop": created.code.lower()})
    at.text_input(key=F + "name").input("Ann")
    at.selectbox(key=F + "role").select("sales_ops")
    at.button(key="FormSubmitter:" + F + "join_form-Start answering").click()
    at.run()
    assert not at.exception
    token = at.query_params["p"]
    token = token[0] if isinstance(token, list) else token
    assert "answering as **Ann** (Sales ops / RevOps)" in _texts(at)
    assert "this browser remembers your place" in _texts(at)
    at.radio(key=A + first).set_value(4)
    at.run()
    statement = content.statements[0]
    assert f"Saved: “{statement.text}” → {statement.level_text(4)}" in _texts(at)
    # Written to the database before the run ended: a new store instance reads it.
    fresh = DuckDBStore(store.path)
    try:
        assert ws.participant_answers(fresh, created.code, token) == {first: 4}
    finally:
        fresh.close()
    at.radio(key=A + choice.id).set_value(choice.options[1][0])
    at.run()
    assert not at.exception
    assert ws.participant_answers(store, created.code, token) == {
        first: 4, choice.id: choice.options[1][0]
    }
    # Same device, tab closed and link reopened from history: a new session resumes.
    again = _open({"workshop": created.code, "p": token})
    assert again.radio(key=A + first).value == 4
    assert "answering as **Ann**" in _texts(again)
    total = len(content.statements) + len(content.choices)
    assert again.get("progress")[0].proto.text == f"2 of {total} answered"


def test_join_needs_a_role(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    at = _open({"workshop": created.code})
    at.button(key="FormSubmitter:" + F + "join_form-Start answering").click()
    at.run()
    assert "Choose your role" in at.error[0].value
    assert store.list_participants(created.code) == []


def test_closed_workshop_refuses_with_a_message(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    joined = ws.join_workshop(store, created.code, "Ann", "sales")
    ws.close_workshop(store, created.code, created.key)
    fresh = _open({"workshop": created.code})
    assert "closed" in fresh.warning[0].value and not fresh.radio
    resumed = _open({"workshop": created.code, "p": joined.token})
    assert "closed" in resumed.warning[0].value
    assert all(r.disabled for r in resumed.radio)


def test_answer_refused_after_closing_quotes_the_title_as_typed(store: DuckDBStore) -> None:
    """The refusal names the workshop; its title shows as typed, not read as Markdown."""
    created = ws.create_workshop(store, "Acme", "Q3 *planning*")
    joined = ws.join_workshop(store, created.code, "Ann", "sales")
    at = _open({"workshop": created.code, "p": joined.token})
    first = ws.load_content().statements[0].id
    ws.close_workshop(store, created.code, created.key)
    at.radio(key=A + first).set_value(4).run()
    assert not at.exception
    (refusal,) = [e.value for e in at.error]
    assert "is closed" in refusal and "Q3 \\*planning\\*" in refusal
    assert ws.participant_answers(store, created.code, joined.token) == {}
    assert at.radio(key=A + first).value is None


def _answer_room(store: DuckDBStore, code: str, room: list[tuple[str, str, int]]) -> None:
    content = ws.load_content()
    first, choice = content.statements[0].id, content.choices[0]
    for name, role, level in room:
        joined = ws.join_workshop(store, code, name, role)
        ws.answer(store, content, code, joined.token, first, level)
        ws.answer(store, content, code, joined.token, choice.id, choice.options[0][0])


def test_small_room_shows_nothing_by_role(store: DuckDBStore) -> None:
    """One person per role: no cell, verdict or "lowest" line singles anyone out."""
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code,
                 [("Ann", "sales", 5), ("Bob", "sales_ops", 1), ("Cy", "marketing", 3)])
    at = _open({"workshop": created.code, "key": created.key})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Joined"] == "3" and metrics["Responses"] == "3"
    assert metrics["Team verdict"] in {"Likely", "At risk", "Unlikely"}
    texts = _texts(at)
    assert "· lowest:" not in texts and "#### Verdict by role" not in texts
    assert "Left out of the per-role results" in texts
    assert "Sales team, Sales ops / RevOps, Marketing" in texts
    assert "No role has 3 or more people who answered yet" in texts
    assert "rests on 3 people's answers" not in texts  # three is enough for the team
    assert any("Only 1 of" in shown(w.value) for w in at.warning)  # verdict on one statement
    progress = at.dataframe[0].value
    assert progress["Participant"].tolist() == ["Ann", "Bob", "Cy"]
    total = len(ws.load_content().question_ids(ws.INSTRUMENTS))
    assert progress["Answered"].tolist()[0] == f"2 of {total}"


def test_dashboard_shows_gaps_for_large_roles_and_reveal_hides_names(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code, [("Ann", "sales", 5), ("Bob", "sales_ops", 1)] * 3
                 + [("Cy", "marketing", 3)])
    content = ws.load_content()
    at = _open({"workshop": created.code, "key": created.key})
    headings = [shown(m.value) for m in at.markdown]
    assert "#### Perception gaps: role × dimension" in headings
    # Marketing's one person would be the room minus sales and sales ops: sales ops (the later
    # of two equal roles) is shown with marketing, not on its own.
    assert any(content.statements[0].text.split()[0] in h
               and "lowest: Other roles together, highest: Sales team" in h for h in headings)
    assert "shown together as one group: Marketing." in _texts(at)
    assert "Sales ops / RevOps is in that group too" in _texts(at)
    progress = at.dataframe[0].value
    assert progress["Participant"].tolist()[:2] == ["Ann", "Bob"]
    reveal = at.toggle(key=state.WORKSHOP_REVEAL)
    assert reveal.label == "Reveal mode: hide names" and "projector" in (reveal.help or "")
    reveal.set_value(True)
    at.run()
    assert at.dataframe[0].value["Participant"].tolist()[:3] == [
        "Participant 1", "Participant 2", "Participant 3"
    ]
    at.button(key=F + "close").click()
    at.run()
    assert store.get_workshop(created.code).status == "closed"  # type: ignore[union-attr]
    at.button(key=F + "reopen").click()
    at.run()
    assert store.get_workshop(created.code).status == "open"  # type: ignore[union-attr]
    assert [d.label for d in at.get("download_button")][:3] == [
        "Responses (CSV)", "Responses (Excel)", "Action plan (CSV)"
    ]


def test_one_role_beside_one_person_shows_nothing_by_role(store: DuckDBStore) -> None:
    """Sales beside the room would give the one marketing person's answers away."""
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code, [("Ann", "sales", 5)] * 4 + [("Cy", "marketing", 1)])
    at = _open({"workshop": created.code, "key": created.key})
    texts = _texts(at)
    assert "· lowest:" not in texts and "#### Verdict by role" not in texts
    assert "Nothing is shown by role: beside the room's results" in texts
    assert "Sales team is left out too" in texts
    summary = ws.summarise(store, ws.load_content(), created.code, created.key)
    assert all(g.mean is None for g in summary.gaps) and summary.roles == []


def test_dashboard_says_what_a_gap_and_a_mean_rest_on(store: DuckDBStore) -> None:
    """Marketing rated one statement of a dimension; most of the room did not know another."""
    created = ws.create_workshop(store, "Acme", "Kick-off", [ws.MAKE_YOUR_NUMBER])
    content = ws.load_content()
    dim = next(iter(content.dimensions))
    ids = [s.id for s in content.statements if s.dimension == dim]
    for i, (role, rated) in enumerate([("sales", ids)] * 3 + [("marketing", ids[:1])] * 4):
        joined = ws.join_workshop(store, created.code, "x", role)
        for qid in rated:
            level = 1 if role == "marketing" else 2 if (i, qid) == (0, ids[1]) else 4
            ws.answer(store, content, created.code, joined.token, qid, level)
        if role == "marketing":
            ws.answer(store, content, created.code, joined.token, ids[1], "na")
    at = _open({"workshop": created.code, "key": created.key})
    dims = next(d.value for d in at.dataframe if "About the gap" in d.value.columns)
    row = dims[dims["Dimension"] == content.dimensions[dim]].iloc[0]
    assert row["Gap between roles"] == "—"
    assert row["About the gap"] == (
        f"Leaves out Marketing (4 of {4 * len(ids)} possible ratings): fewer than half rated.")
    assert "A starred mean (3.2*) rests on fewer than half" in _texts(at)
    by_role = next(d.value for d in at.dataframe if "Rests on" in d.value.columns)
    total = len(content.statements)
    assert by_role["Rests on"].tolist() == [f"{len(ids)} of {total} statements",
                                            f"1 of {total} statements"]
    statement = content.statement(ids[1])
    assert statement is not None
    assert any(f"Mostly “don't know” (1 statement: {statement.text})" in shown(w.value)
               for w in at.warning)
    assert any(statement.text.split()[0] in shown(m.value) and "3 rated, 4 don't know"
               in shown(m.value) for m in at.markdown)


def test_facilitator_leaves_out_a_second_join_and_counts_it_again(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code, [("Ann", "sales", 5)] * 3 + [("Cy", "marketing", 1)] * 3)
    content = ws.load_content()
    action = content.statements[0]
    # The last one to join votes, then is left out: the vote stops counting too.
    last = ws.join_workshop(store, created.code, "Cy", "marketing")
    ws.answer(store, content, created.code, last.token, action.id, 1)
    ws.cast_vote(store, content, created.code, last.token, action.id, True)
    ws.set_counted(store, created.code, created.key, 7, counted=False)
    at = _open({"workshop": created.code, "key": created.key})
    assert at.selectbox(key=state.WORKSHOP_PLAN_PREFIX + "action").options[0] == (
        f"{action.action} (0 votes)")
    assert any("lowest: Marketing, highest: Sales team" in shown(m.value) for m in at.markdown)
    left_out = at.multiselect(key=state.WORKSHOP_PLAN_PREFIX + "left_out")
    assert left_out.label == "Left out of every result" and left_out.value == [7]
    assert left_out.options[4].startswith("Participant 5: Cy (Marketing, ")
    left_out.set_value([5, 6, 7]).run()
    assert not at.exception
    assert at.multiselect(key=state.WORKSHOP_PLAN_PREFIX + "left_out").value == [5, 6, 7]
    summary = ws.summarise(store, ws.load_content(), created.code, created.key)
    assert summary.not_counted == 3 and summary.by_role == {"sales": 3, "marketing": 1}
    assert at.dataframe[0].value["Counted"].tolist() == ["yes"] * 4 + ["no (left out)"] * 3
    assert "3 left out of every result" in _texts(at)
    assert {m.label: m.value for m in at.metric}["Responses"] == "4"
    assert not any("· lowest:" in shown(m.value) for m in at.markdown)
    at.multiselect(key=state.WORKSHOP_PLAN_PREFIX + "left_out").set_value([6, 7]).run()
    assert ws.summarise(store, ws.load_content(), created.code, created.key).not_counted == 2


def test_facilitator_raises_the_smallest_group(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code, [("Ann", "sales", 5), ("Bob", "sales_ops", 1)] * 3)
    at = _open({"workshop": created.code, "key": created.key})
    assert any("lowest: Sales ops / RevOps" in shown(m.value) for m in at.markdown)
    at.number_input(key=state.WORKSHOP_PLAN_PREFIX + "min_group").set_value(4).run()
    assert not at.exception
    assert ws.min_group(store, created.code) == 4
    assert not any("· lowest:" in shown(m.value) for m in at.markdown)
    assert "results (too few people, even together): Sales team, Sales ops / RevOps" in _texts(at)
    assert "groups of at least 4 people" in _texts(at)


def test_leadership_only_dashboard_shows_best_fit_instead_of_a_verdict(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "Structure", [ws.LEADERSHIP])
    at = _open({"workshop": created.code, "key": created.key})
    labels = [m.label for m in at.metric]
    assert "Team verdict" not in labels and "Best fit so far" in labels


def test_participant_answers_not_applicable_pages_by_dimension_and_votes(
    store: DuckDBStore,
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off", [ws.MAKE_YOUR_NUMBER])
    joined = ws.join_workshop(store, created.code, "Ann", "cro")
    content = ws.load_content()
    first, second = content.statements[0], content.statements[1]
    at = _open({"workshop": created.code, "p": joined.token})
    assert ws.NOT_APPLICABLE in at.radio(key=A + first.id).options or any(
        "Not applicable" in o for o in at.radio(key=A + first.id).options)
    at.radio(key=A + first.id).set_value(ws.NOT_APPLICABLE).run()
    at.radio(key=A + second.id).set_value(2).run()
    assert ws.participant_answers(store, created.code, joined.token) == {
        first.id: "na", second.id: 2}
    # Paged: one dimension at a time with its own progress.
    at.toggle(key=F + "paged").set_value(True).run()
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"Section 1 of {len(content.dimensions)} · 2 of ") for c in captions)
    at.button(key=F + "next").click().run()
    assert any(c.startswith(f"Section 2 of {len(content.dimensions)}")
               for c in (c.value for c in at.caption))
    assert first.id not in [r.key.removeprefix(A) for r in at.radio]
    # The vote: the rated statement's action is offered; a vote is saved at once.
    vote = at.checkbox(key=state.WORKSHOP_VOTE_PREFIX + second.id)
    assert vote.label.replace("\\", "") == second.action
    vote.check().run()
    assert ws.participant_votes(store, created.code, joined.token) == {second.id}


def test_facilitator_puts_the_data_beside_the_room_plans_and_links_a_baseline(
    store: DuckDBStore,
) -> None:
    earlier = ws.create_workshop(store, "Acme", "Spring", [ws.MAKE_YOUR_NUMBER])
    created = ws.create_workshop(store, "Acme", "Autumn", [ws.MAKE_YOUR_NUMBER])
    content = ws.load_content()
    for code in (earlier.code, created.code):
        joined = ws.join_workshop(store, code, "Ann", "finance")
        ws.answer(store, content, code, joined.token, "fun_conversion", 4)
    at = _open({"workshop": created.code, "key": created.key})
    at.toggle(key=state.WORKSHOP_USE_DATA).set_value(True).run()
    assert not at.exception
    assert "#### The room's view beside the data" in [m.value for m in at.markdown]
    assert any("numbers from the loaded data" in shown(w.value) for w in at.warning)
    P = state.WORKSHOP_PLAN_PREFIX
    at.selectbox(key=P + "action").set_value("fun_conversion")
    at.text_input(key=P + "owner").input("Dana")
    at.button(key="FormSubmitter:" + P + "form-Add to the plan").click().run()
    assert not at.exception
    assert [p.owner for p in ws.summarise(store, content, created.code, created.key).plan] == [
        "Dana"]
    assert any("owner Dana · due no date · 0 votes" in shown(m.value) for m in at.markdown)
    at.text_input(key=P + "base_code").input(earlier.code)
    at.text_input(key=P + "base_key").input(earlier.key)
    at.button(key=P + "link").click().run()
    assert not at.exception
    assert any(m.value.startswith("#### Change since Spring") for m in at.markdown)


def test_dashboard_charts_are_built_again_only_when_the_room_changes(store: DuckDBStore) -> None:
    """A rerun with the same room (the reveal toggle, the 3 s refresh) reuses its charts."""
    created = ws.create_workshop(store, "Acme", "Kick-off")
    _answer_room(store, created.code, [("Ann", "sales", 5), ("Bob", "sales_ops", 1)] * 3)
    at = _open({"workshop": created.code, "key": created.key})
    charts_key = F + "dashboard_charts"
    first = dict(at.session_state[charts_key])
    assert {"responses", "dimensions", "gaps"} <= set(first)
    at.toggle(key=state.WORKSHOP_REVEAL).set_value(True).run()
    again = at.session_state[charts_key]
    assert all(again[name][1] is first[name][1] for name in first)
    _answer_room(store, created.code, [("Dee", "marketing", 2)])
    at.run()
    changed = at.session_state[charts_key]
    assert changed["responses"][1] is not first["responses"][1]  # one more role answered
    assert changed["dimensions"][1] is not first["dimensions"][1]


def test_participants_vote_on_what_the_counted_room_rated(store: DuckDBStore) -> None:
    """A participant the facilitator left out moves nothing the room is offered to vote on."""
    created = ws.create_workshop(store, "Acme", "Kick-off", [ws.MAKE_YOUR_NUMBER])
    content = ws.load_content()
    counted, other = [s for s in content.statements if s.action][:2]
    tokens = []
    for name in ("Ann", "Bob", "Cy"):
        joined = ws.join_workshop(store, created.code, name, "sales")
        ws.answer(store, content, created.code, joined.token, counted.id, 3)
        tokens.append(joined.token)
    twice = ws.join_workshop(store, created.code, "Ann", "sales")  # her laptop: participant 4
    ws.answer(store, content, created.code, twice.token, other.id, 1)
    ws.set_counted(store, created.code, created.key, 4, counted=False)
    at = _open({"workshop": created.code, "p": tokens[0]})
    offered = [c.key.removeprefix(state.WORKSHOP_VOTE_PREFIX) for c in at.checkbox
               if c.key and c.key.startswith(state.WORKSHOP_VOTE_PREFIX)]
    assert offered == [counted.id]
    # Counted again, the second join's rating is offered too (lowest first).
    ws.set_counted(store, created.code, created.key, 4, counted=True)
    again = _open({"workshop": created.code, "p": tokens[0]})
    assert [c.key.removeprefix(state.WORKSHOP_VOTE_PREFIX) for c in again.checkbox
            if c.key and c.key.startswith(state.WORKSHOP_VOTE_PREFIX)] == [other.id, counted.id]


def test_the_report_says_what_the_dashboard_says_by_role(store: DuckDBStore) -> None:
    """Rests on, starred means and the note on held-back roles: on screen and in the report."""
    created = ws.create_workshop(store, "Acme", "Kick-off", [ws.MAKE_YOUR_NUMBER])
    content = ws.load_content()
    dim = next(iter(content.dimensions))
    ids = [s.id for s in content.statements if s.dimension == dim]
    for role, rated in [("sales", ids)] * 3 + [("marketing", ids[:1])] * 3:
        joined = ws.join_workshop(store, created.code, "x", role)
        for qid in rated:
            ws.answer(store, content, created.code, joined.token, qid, 4)
    # Three finance people only say "don't know": finance is a group with no verdict.
    for _ in range(3):
        unsure = ws.join_workshop(store, created.code, "y", "finance")
        ws.answer(store, content, created.code, unsure.token, ids[1], "na")
    at = _open({"workshop": created.code, "key": created.key})
    summary = ws.summarise(store, content, created.code, created.key)
    by_role = next(d.value for d in at.dataframe if "Rests on" in d.value.columns)
    total = len(content.statements)
    assert by_role["Rests on"].tolist() == [f"{len(ids)} of {total} statements",
                                            f"1 of {total} statements", "—"]
    held = ("No verdict for Finance: fewer than 3 of that group rated a statement, or, beside "
            "the room's verdict, it would give away the answers of fewer than 3 people.")
    assert held in _texts(at) and summary.by_role_note() in _texts(at)
    # The report (the download builds it from the same summary) says the same.
    page = ws.report_html(summary, content).replace("&#x27;", "'")
    assert held in page and summary.by_role_note("shown as —") in page
    assert f"rests on {len(ids)} of {total} statements" in page
    assert f"rests on 1 of {total} statements" in page
    assert "Finance (3): no verdict shown" in page
    assert f"{content.dimensions[dim]}: no gap between roles." in page
    assert "Means by role: Sales team 4.0, Marketing 4.0*, Finance —." in page


def test_a_participant_changes_their_own_role_and_the_facilitator_sees_the_count(
    store: DuckDBStore,
) -> None:
    created = ws.create_workshop(store, "Acme", "Kick-off")
    content = ws.load_content()
    first = content.statements[0].id
    _answer_room(store, created.code, [("Ann", "sales", 5)] * 3 + [("Cy", "marketing", 1)] * 2)
    joined = ws.join_workshop(store, created.code, "Dee", "marketing")  # meant sales
    ws.answer(store, content, created.code, joined.token, first, 5)
    at = _open({"workshop": created.code, "p": joined.token})
    assert "answering as **Dee** (Marketing)" in _texts(at)
    role = at.selectbox(key=F + "new_role")
    assert role.label == "Your role" and role.value == "marketing"
    role.select("sales")
    at.button(key=F + "change_role").click().run()
    assert not at.exception
    assert "answering as **Dee** (Sales team)" in _texts(at)
    assert any("Your role is now Sales team. Your answers moved with you." in s.value
               for s in at.success)
    assert at.radio(key=A + first).value == 5  # the answer stayed
    assert ws.resume(store, created.code, joined.token).role == "sales"  # type: ignore[union-attr]
    summary = ws.summarise(store, content, created.code, created.key)
    assert summary.by_role == {"sales": 4, "marketing": 2} and summary.role_changes == 1
    dashboard = _open({"workshop": created.code, "key": created.key})
    assert "1 role change by participants themselves" in _texts(dashboard)
    assert dashboard.dataframe[0].value["Role"].tolist()[-1] == "Sales team"
    # Closed, the role can no longer change (nor is it offered).
    ws.close_workshop(store, created.code, created.key)
    closed = _open({"workshop": created.code, "p": joined.token})
    assert not [s for s in closed.selectbox if s.key == F + "new_role"]


def test_the_data_beside_the_room_says_when_it_rests_on_few_deals(store: DuckDBStore) -> None:
    """A win rate from 6 closed deals is given with its count and range, not as a bare rate."""
    import datetime as dt

    import pandas as pd

    from diagnostics.dataset import StageConfig, build_dataset

    opps = pd.DataFrame({
        "opp_id": [str(i) for i in range(7)],
        "rep": ["ann"] * 7,
        "stage": ["Won", "Won", "Won", "Won", "Lost", "Lost", "Demo"],
        "amount": [100.0] * 6 + [10_000.0],
        "created_date": [dt.date(2025, 9, 1)] * 7,
        "close_date": [dt.date(2026, 2, 10)] * 6 + [None],
    })
    dataset = build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)),
                            as_of=dt.date(2026, 4, 15))
    created = ws.create_workshop(store, "Acme", "Autumn", [ws.MAKE_YOUR_NUMBER])
    joined = ws.join_workshop(store, created.code, "Ann", "finance")
    ws.answer(store, ws.load_content(), created.code, joined.token, "plan_forecast", 4)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state[state.DATASET] = dataset
    at.run()
    at.switch_page(PAGE)
    at.query_params["workshop"] = created.code
    at.query_params["key"] = created.key
    at.run()
    at.toggle(key=state.WORKSHOP_USE_DATA).set_value(True).run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe if "The data says" in d.value.columns]
    says = dict(zip(table["From"] + ":" + table["Statement"], table["The data says"],
                    strict=True))
    finding = next(v for k, v in says.items() if v.startswith("The data's win rate"))
    assert finding == ("The data's win rate is 67%, on only 6 closed deals (few deals: any rate "
                       "from 30% to 90% fits them, 95% interval).")
    pipeline = next(v for v in says.values() if v.startswith("Open pipeline"))
    assert pipeline.endswith(", anywhere from 3,000 to 9,032 at the rates those deals fit.")
