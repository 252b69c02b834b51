"""Not applicable answers, the vote and the plan, and a retake against its baseline workshop."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnostics import workshop as ws
from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._evidence import last_full_quarter
from diagnostics.workshop_store import DuckDBStore, ParticipantRecord

T0 = dt.datetime(2026, 6, 1, 9, 0, 0)
T1 = dt.datetime(2026, 11, 23, 9, 0, 0)


def _score(answers, numbers=None):  # type: ignore[no-untyped-def]
    values = [v for v in answers.values() if v is not None]
    mean = sum(values) / len(values)
    return ws.TeamVerdict("likely" if mean >= 3 else "unlikely", "x", mean * 20, None, None)


CONTENT = ws.Content(
    statements=(ws.Statement("s1", "A", "First", (1, 2, 3, 4, 5), action="Fix one"),
                ws.Statement("s2", "A", "Second", (1, 2, 3, 4, 5), action="Fix two"),
                ws.Statement("s3", "B", "Third", (1, 2, 3, 4, 5), action="Fix three"),
                ws.Statement("s4", "B", "Fourth", (1, 2, 3, 4, 5), action="Fix four")),
    dimensions={"A": "Alpha", "B": "Beta"},
    choices=(),
    score=_score,
    fit=lambda answers: {},
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "ws.duckdb")
    yield s
    s.close()


def _room(store: DuckDBStore, code: str, sales: int, ops: int) -> list[str]:
    tokens = []
    for role, level in [("sales", sales), ("sales_ops", ops)]:
        for _ in range(3):
            joined = ws.join_workshop(store, code, role, role)
            for qid in ("s1", "s2", "s3", "s4"):
                ws.answer(store, CONTENT, code, joined.token, qid, level)
            tokens.append(joined.token)
    return tokens


@pytest.mark.parametrize("text", ["na", "N/A", "not applicable", "Don't know", "dk"])
def test_not_applicable_is_saved_counted_as_answered_and_left_out_of_scores(
    store: DuckDBStore, text: str
) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    joined = ws.join_workshop(store, created.code, "Ann", "sales")
    ws.answer(store, CONTENT, created.code, joined.token, "s1", text)
    ws.answer(store, CONTENT, created.code, joined.token, "s2", 4)
    assert ws.participant_answers(store, created.code, joined.token) == {"s1": "na", "s2": 4}
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert s.progress[0].answered_text() == "2 of 4 (1 not applicable)"
    assert s.statement_means == {"s2": 4.0}
    assert s.dimensions[0].mean == 4.0  # the n/a is not a low answer
    frame = ws.export_frame(store, CONTENT, created.code, created.key)
    assert frame.loc[0, "s1"] == "n/a" and frame.loc[0, "s2"] == 4


def test_not_applicable_round_trips_through_export_and_import(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    report = ws.import_responses(store, CONTENT, created.code, created.key,
                                 b"name,role,s1,s2\nAnn,CRO,n/a,3\nBob,head of sales,x,3\n")
    assert report.imported == 1 and report.rejected[0][0] == 3
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert s.by_role == {"cro": 1} and s.progress[0].not_applicable == 1


def test_each_participant_votes_for_up_to_three_actions(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    tokens = _room(store, created.code, 4, 2)
    assert [s.id for s in ws.vote_candidates(store, CONTENT, created.code)] == [
        "s1", "s2", "s3", "s4"]  # all rated 3.0: ties by id
    for qid in ("s1", "s2", "s3"):
        ws.cast_vote(store, CONTENT, created.code, tokens[0], qid, True)
    with pytest.raises(DiagnosticsError, match="already chose 3"):
        ws.cast_vote(store, CONTENT, created.code, tokens[0], "s4", True)
    assert ws.cast_vote(store, CONTENT, created.code, tokens[0], "s3", False) == {"s1", "s2"}
    ws.cast_vote(store, CONTENT, created.code, tokens[1], "s2", True)
    assert ws.vote_tally(store.list_answers(created.code)) == {"s2": 2, "s1": 1}
    # Votes are not answers: they change no response and no export column.
    assert ws.participant_answers(store, created.code, tokens[0])["s2"] == 4
    assert list(ws.export_frame(store, CONTENT, created.code, created.key).columns)[4:] == [
        "s1", "s2", "s3", "s4"]
    with pytest.raises(DiagnosticsError, match="not an action"):
        ws.cast_vote(store, CONTENT, created.code, tokens[0], "nope", True)


def test_the_plan_has_owner_due_and_votes_in_summary_json_and_report(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    tokens = _room(store, created.code, 4, 2)
    ws.cast_vote(store, CONTENT, created.code, tokens[0], "s2", True)
    ws.set_plan_item(store, CONTENT, created.code, created.key, "s2", " Ann  Lee ", "2027-03-31")
    ws.set_plan_item(store, CONTENT, created.code, created.key, "s4", "Bob", None)
    with pytest.raises(DiagnosticsError, match="no owner"):
        ws.set_plan_item(store, CONTENT, created.code, created.key, "s1", " ", None)
    with pytest.raises(DiagnosticsError, match="not a date"):
        ws.set_plan_item(store, CONTENT, created.code, created.key, "s1", "Cy", "next week")
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert s.to_json()["plan"] == [
        {"question_id": "s2", "action": "Fix two", "owner": "Ann Lee", "due": "2027-03-31",
         "votes": 1},
        {"question_id": "s4", "action": "Fix four", "owner": "Bob", "due": None, "votes": 0},
    ]
    assert ws.plan_frame(s).to_dict(orient="records")[0] == {
        "action": "Fix two", "owner": "Ann Lee", "due": "2027-03-31", "votes": 1}
    assert "Fix two (owner: Ann Lee; due 2027-03-31; 1 vote)" in ws.report_html(s, CONTENT)
    ws.remove_plan_item(store, created.code, created.key, "s4")
    assert [p.question_id for p in ws.summarise(store, CONTENT, created.code,
                                                created.key).plan] == ["s2"]


def test_retake_shows_change_per_dimension_and_role_and_done_actions(store: DuckDBStore) -> None:
    before = ws.create_workshop(store, "Acme", "Spring", [ws.MAKE_YOUR_NUMBER], now=T0)
    _room(store, before.code, 4, 2)
    ws.set_plan_item(store, CONTENT, before.code, before.key, "s1", "Ann", "2026-09-30")
    ws.set_plan_item(store, CONTENT, before.code, before.key, "s3", "Bob", None)
    after = ws.create_workshop(store, "Acme", "Autumn", [ws.MAKE_YOUR_NUMBER], now=T1)
    _room(store, after.code, 5, 4)
    with pytest.raises(DiagnosticsError, match="code or key is wrong"):
        ws.link_baseline(store, after.code, after.key, before.code, "wrong")
    with pytest.raises(DiagnosticsError, match="its own baseline"):
        ws.link_baseline(store, after.code, after.key, after.code, after.key)
    with pytest.raises(DiagnosticsError, match="newer than this one"):
        ws.link_baseline(store, before.code, before.key, after.code, after.key)
    assert ws.link_baseline(store, after.code, after.key, before.code, before.key) == before.code
    ws.set_done(store, after.code, after.key, "s1", True)
    change = ws.summarise(store, CONTENT, after.code, after.key).baseline
    assert change is not None and (change.code, change.title) == (before.code, "Spring")
    # Team means: before (4 + 2) / 2 = 3 on both; after (5 + 4) / 2 = 4.5.
    assert [(d.id, d.before, d.after, d.change) for d in change.dimensions] == [
        ("A", 3.0, 4.5, 1.5), ("B", 3.0, 4.5, 1.5)]
    assert [(r.role, r.dimension, r.change) for r in change.roles] == [
        ("sales", "A", 1.0), ("sales_ops", "A", 2.0), ("sales", "B", 1.0),
        ("sales_ops", "B", 2.0)]
    assert [(a.question_id, a.done) for a in change.actions] == [("s1", True), ("s3", False)]
    assert change.done == 1
    payload = ws.summarise(store, CONTENT, after.code, after.key).to_json()["baseline"]
    assert payload["code"] == before.code
    assert payload["dimensions"][0] == {"id": "A", "name": "Alpha", "before": 3.0, "after": 4.5,
                                        "change": 1.5}
    assert payload["actions"][0]["done"] is True
    json.dumps(payload, allow_nan=False)
    html = ws.report_html(ws.summarise(store, CONTENT, after.code, after.key), CONTENT)
    assert "Change since Spring" in html and "Alpha: 3.0 → 4.5 (+1.5)" in html
    assert "1 of 2 planned actions done." in html


def test_a_role_shown_in_only_one_workshop_has_no_role_change(store: DuckDBStore) -> None:
    before = ws.create_workshop(store, "Acme", "Spring", [ws.MAKE_YOUR_NUMBER], now=T0)
    joined = ws.join_workshop(store, before.code, "Solo", "sales")
    ws.answer(store, CONTENT, before.code, joined.token, "s1", 1)
    after = ws.create_workshop(store, "Acme", "Autumn", [ws.MAKE_YOUR_NUMBER], now=T1)
    _room(store, after.code, 5, 4)
    ws.link_baseline(store, after.code, after.key, before.code, before.key)
    change = ws.summarise(store, CONTENT, after.code, after.key).baseline
    assert change is not None and change.roles == () and change.actions == ()
    assert change.dimensions[0].before == 1.0 and change.dimensions[1].before is None


def test_min_group_is_raised_never_lowered(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    _room(store, created.code, 4, 2)
    assert ws.summarise(store, CONTENT, created.code, created.key).min_group == 3
    with pytest.raises(DiagnosticsError, match="from 3 to 20"):
        ws.set_min_group(store, created.code, created.key, 2)
    ws.set_min_group(store, created.code, created.key, 4)
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert s.to_json()["min_group"] == 4 and s.roles == [] and s.grouping.left_out == (
        "sales", "sales_ops")


@pytest.mark.parametrize(
    ("as_of", "quarter"),
    [
        (dt.date(2026, 11, 30), (dt.date(2026, 7, 1), dt.date(2026, 9, 30))),
        (dt.date(2026, 12, 31), (dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
        (dt.date(2026, 1, 15), (dt.date(2025, 10, 1), dt.date(2025, 12, 31))),
        (dt.date(2026, 4, 1), (dt.date(2026, 1, 1), dt.date(2026, 3, 31))),
    ],
)
def test_last_full_quarter(as_of: dt.date, quarter: tuple[dt.date, dt.date]) -> None:
    assert last_full_quarter(as_of) == quarter


def test_evidence_from_the_sample_data_sits_beside_the_room(store: DuckDBStore) -> None:
    from diagnostics.questionnaire import numbers_from_dataset
    from diagnostics.sample import load_sample_dataset

    dataset = load_sample_dataset()
    evidence = {e.question_id: e for e in ws.evidence_for(dataset)}
    assert set(evidence) == {"fun_conversion", "fun_fix_one", "plan_coverage", "plan_forecast"}
    assert " points for deals closed in Apr–Jun 2026 " in evidence["fun_conversion"].finding
    numbers = numbers_from_dataset(dataset)
    assert f"{numbers['win_rate']:.0%}" in evidence["plan_forecast"].finding
    content = ws.load_content()
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    joined = ws.join_workshop(store, created.code, "Ann", "sales")
    ws.answer(store, content, created.code, joined.token, "fun_conversion", 4)
    s = ws.summarise(store, content, created.code, created.key, numbers=numbers,
                     evidence=tuple(evidence.values()))
    assert s.statement_means["fun_conversion"] == 4.0
    assert any("numbers from the loaded data" in n for n in s.verdict_notes)
    html = ws.report_html(s, content)
    assert "The room&#x27;s view beside the data" in html and "room 4.0/5" in html


def test_the_votes_of_a_participant_left_out_do_not_count(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    tokens = _room(store, created.code, 4, 2)
    for token in tokens[:2]:
        ws.cast_vote(store, CONTENT, created.code, token, "s2", True)
    ws.set_plan_item(store, CONTENT, created.code, created.key, "s2", "Ann", None)
    summary = ws.summarise(store, CONTENT, created.code, created.key)
    assert summary.votes == {"s2": 2} and summary.plan[0].votes == 2
    ws.set_counted(store, created.code, created.key, 2, counted=False)  # tokens[1] joined 2nd
    after = ws.summarise(store, CONTENT, created.code, created.key)
    assert after.votes == {"s2": 1} and after.plan[0].votes == 1
    assert after.to_json()["votes"] == {"s2": 1}


def test_a_participant_left_out_does_not_choose_the_actions_offered(store: DuckDBStore) -> None:
    created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER], now=T0)
    _room(store, created.code, 4, 2)  # every statement 3.0: offered in id order
    twice = ws.join_workshop(store, created.code, "Ann again", "sales",
                             now=dt.datetime.now() + dt.timedelta(hours=1))  # joined 7th
    ws.answer(store, CONTENT, created.code, twice.token, "s4", 1)
    ws.answer(store, CONTENT, created.code, twice.token, "s3", 2)
    offered = [s.id for s in ws.vote_candidates(store, CONTENT, created.code)]
    assert offered == ["s4", "s3", "s1", "s2"]  # counted, they lower s4 and s3
    ws.set_counted(store, created.code, created.key, 7, counted=False)
    summary = ws.summarise(store, CONTENT, created.code, created.key)
    offered = [s.id for s in ws.vote_candidates(store, CONTENT, created.code)]
    assert offered == ["s1", "s2", "s3", "s4"]
    # The participants are offered what the facilitator's plan editor lists.
    assert offered == [s.id for s in ws.candidate_actions(CONTENT, summary.statement_means)]
    assert summary.statement_means == {"s1": 3.0, "s2": 3.0, "s3": 3.0, "s4": 3.0}


def test_a_role_mean_resting_on_few_ratings_has_no_role_change() -> None:
    wide = ws.Content(
        statements=tuple(ws.Statement(f"a{i}", "A", f"Alpha {i}", (1, 2, 3, 4, 5))
                         for i in range(4)),
        dimensions={"A": "Alpha"}, choices=(), score=_score, fit=lambda answers: {},
    )
    every = {f"a{i}": 3 for i in range(4)}

    def summary(code: str, sales: dict[str, int]) -> ws.WorkshopSummary:
        room = [("sales", sales)] * 3 + [("marketing", every)] * 3
        people = [ParticipantRecord(code, f"p{i}", "x", role, T0)
                  for i, (role, _) in enumerate(room)]
        workshop = ws.Workshop(code, "C", "T", (ws.MAKE_YOUR_NUMBER,), "open", T0)
        return ws.summarise_answers(workshop, wide, people,
                                    {f"p{i}": a for i, (_, a) in enumerate(room)}, {})

    before = summary("ABCD2345", every)
    # After, each sales person rated one of the four statements (3 of 12 possible ratings):
    # their 1.0 is starred, and "sales fell 2 points" would compare one statement with four.
    after = summary("EFGH2345", {"a0": 1})
    assert {g.role: g.is_thin for g in after.gaps} == {"sales": True, "marketing": False}
    change = ws.compare(before, after)
    assert [(r.role, r.change) for r in change.roles] == [("marketing", 0.0)]
    assert change.dimensions[0].before == 3.0
