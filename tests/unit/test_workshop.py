"""Workshop domain: codes, keys, lifecycle, the hand-checked summary, export and import."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics import workshop as ws
from diagnostics.errors import DiagnosticsError
from diagnostics.export import to_csv_bytes
from diagnostics.workshop._lifecycle import _new_key
from diagnostics.workshop_store import DuckDBStore, ParticipantRecord

T0 = datetime(2026, 11, 23, 9, 0, 0)


def _score(
    answers: Mapping[str, float | None], numbers: Mapping[str, float] | None = None
) -> ws.TeamVerdict:
    values = [v for v in answers.values() if v is not None]
    mean = sum(values) / len(values)
    verdict = "likely" if mean >= 3 else "unlikely"
    return ws.TeamVerdict(verdict, verdict.title(), mean * 20, None, None)


def _fit(answers: Mapping[str, str]) -> dict[str, float]:
    xs = sum(1 for v in answers.values() if v == "x")
    ys = sum(1 for v in answers.values() if v == "y")
    return {"tsar": 50.0 + 10 * xs, "federation": 50.0 + 10 * ys}


CONTENT = ws.Content(
    statements=(
        ws.Statement("s1", "A", "First statement", (1, 2, 3, 4, 5)),
        ws.Statement("s2", "A", "Second statement", (1, 2, 3, 4, 5)),
        ws.Statement("s3", "B", "Third statement", (1, 2, 3, 4, 5)),
    ),
    dimensions={"A": "Alpha", "B": "Beta"},
    choices=(ws.Choice("c1", "Pick one", (("x", "Ex"), ("y", "Why"))),),
    score=_score,
    fit=_fit,
    model_names={"tsar": "The Tsar"},
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "ws.duckdb")
    yield s
    s.close()


@pytest.fixture
def created(store: DuckDBStore) -> ws.CreatedWorkshop:
    return ws.create_workshop(store, "Acme", "Kick-off", now=T0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ABCD2345", "ABCD2345"),
        ("abcd-2345", "ABCD2345"),
        (" ab cd 23 45 ", "ABCD2345"),
        ("ABCD234O", None),  # O is not in the alphabet (looks like 0)
        ("ABCD2341", None),  # neither is 1
        ("ABC", None),
        ("ABCD23456", None),
        ("'; DROP TABLE workshops; --", None),
        ("x" * 500, None),
        (None, None),
        (12345678, None),
        (["ABCD2345"], None),
    ],
)
def test_normalise_code(raw: object, expected: str | None) -> None:
    assert ws.normalise_code(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sales", "sales"),
        ("sales ops", "sales_ops"),
        ("SALES-OPS", "sales_ops"),
        ("sales_ops", "sales_ops"),
        (" Customer   Success ", "customer_success"),
        ("finance", "finance"),
        ("EXECUTIVE", "ceo"),  # a workshop id from before the shared list
        ("ceo", "ceo"),  # the questionnaire's ids
        ("CRO", "cro"),
        ("Head of Sales", "cro"),
        ("VP sales", "cro"),
        ("RevOps", "sales_ops"),
        ("Sales team", "sales"),
        ("CSM", "customer_success"),
        ("CFO", "finance"),
        ("CEO / founder / general manager", "ceo"),
        ("astronaut", None),
        ("", None),
        (None, None),
    ],
)
def test_match_role(text: object, expected: str | None) -> None:
    assert ws.match_role(text) == expected


def test_create_gives_typable_code_and_long_key_stored_only_as_hash(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    assert ws.normalise_code(created.code) == created.code
    assert len(created.key) >= 32
    record = store.get_workshop(created.code)
    assert record is not None and record.key_hash == ws.hash_secret(created.key)
    assert created.key not in record.key_hash
    assert record.instruments == (ws.MAKE_YOUR_NUMBER, ws.LEADERSHIP)
    assert ws.format_code("ABCD2345") == "ABCD-2345"
    other = ws.create_workshop(store, "Acme", "Second", [ws.LEADERSHIP])
    assert other.code != created.code and other.key != created.key


@pytest.mark.parametrize(
    ("client", "title", "instruments", "message"),
    [
        ("", "T", [ws.MAKE_YOUR_NUMBER], "client name is empty"),
        ("C", "   ", [ws.MAKE_YOUR_NUMBER], "title is empty"),
        ("C", "x" * 200, [ws.MAKE_YOUR_NUMBER], "longer than"),
        ("C", "T", [], "at least one instrument"),
        ("C", "T", ["tarot"], "unknown: tarot"),
    ],
)
def test_create_rejects_bad_input(
    store: DuckDBStore, client: str, title: str, instruments: list[str], message: str
) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        ws.create_workshop(store, client, title, instruments)


@pytest.mark.parametrize("key", ["", None, "wrong-key", "x" * 40])
def test_wrong_or_missing_key_is_refused(
    store: DuckDBStore, created: ws.CreatedWorkshop, key: object
) -> None:
    with pytest.raises(DiagnosticsError, match="facilitator link is not valid"):
        ws.authorise(store, created.code, key)


@pytest.mark.parametrize("code", ["ZZZZ2345", "bad code", None])
def test_unknown_or_malformed_code_gets_the_same_message_as_a_wrong_key(
    store: DuckDBStore, created: ws.CreatedWorkshop, code: object
) -> None:
    with pytest.raises(DiagnosticsError, match="facilitator link is not valid"):
        ws.authorise(store, code, created.key)


def test_get_workshop_messages(store: DuckDBStore, created: ws.CreatedWorkshop) -> None:
    assert ws.get_workshop(store, created.code.lower()).title == "Kick-off"
    with pytest.raises(DiagnosticsError, match="not a workshop code"):
        ws.get_workshop(store, "<script>")
    with pytest.raises(DiagnosticsError, match="No workshop has the code ZZZZ-2345"):
        ws.get_workshop(store, "ZZZZ2345")


def test_join_answer_resume_and_clear(store: DuckDBStore, created: ws.CreatedWorkshop) -> None:
    joined = ws.join_workshop(store, created.code, "  Ada   L ", "Sales Ops")
    assert joined.participant.name == "Ada L" and joined.participant.role == "sales_ops"
    assert joined.participant.participant_id == ws.hash_secret(joined.token)
    ws.answer(store, CONTENT, created.code, joined.token, "s1", 4)
    ws.answer(store, CONTENT, created.code, joined.token, "s1", 5)  # changed mind
    ws.answer(store, CONTENT, created.code, joined.token, "s3", "2")
    ws.answer(store, CONTENT, created.code, joined.token, "c1", "why")  # label, any case
    assert ws.participant_answers(store, created.code, joined.token) == {
        "s1": 5, "s3": 2, "c1": "y"
    }
    ws.answer(store, CONTENT, created.code, joined.token, "s3", None)
    assert ws.participant_answers(store, created.code, joined.token) == {"s1": 5, "c1": "y"}
    assert ws.resume(store, created.code, joined.token) == joined.participant
    assert ws.resume(store, created.code, "not-a-token") is None
    assert ws.resume(store, "bad", joined.token) is None
    assert ws.participant_answers(store, created.code, "unknown-token") == {}
    anonymous = ws.join_workshop(store, created.code, "", "finance")
    assert anonymous.participant.name == "Anonymous"


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("s1", 6, "not a level"),
        ("s1", 0, "not a level"),
        ("s1", "abc", "not a level"),
        ("s1", True, "not a level"),
        ("c1", "z", "not an option"),
        ("zz", 3, "not part of this workshop"),
    ],
)
def test_invalid_answers_are_refused(
    store: DuckDBStore, created: ws.CreatedWorkshop, question: str, value: object, message: str
) -> None:
    joined = ws.join_workshop(store, created.code, "A", "sales")
    with pytest.raises(DiagnosticsError, match=message):
        ws.answer(store, CONTENT, created.code, joined.token, question, value)  # type: ignore[arg-type]
    assert store.list_answers(created.code) == []


def test_answer_needs_a_joined_participant_and_an_instrument_of_the_workshop(
    store: DuckDBStore,
) -> None:
    only_myn = ws.create_workshop(store, "C", "T", [ws.MAKE_YOUR_NUMBER])
    joined = ws.join_workshop(store, only_myn.code, "A", "sales")
    with pytest.raises(DiagnosticsError, match="not part of this workshop"):
        ws.answer(store, CONTENT, only_myn.code, joined.token, "c1", "x")
    with pytest.raises(DiagnosticsError, match="not joined"):
        ws.answer(store, CONTENT, only_myn.code, "someone-else-token", "s1", 3)


def test_unknown_role_is_refused(store: DuckDBStore, created: ws.CreatedWorkshop) -> None:
    with pytest.raises(DiagnosticsError, match="Unknown role"):
        ws.join_workshop(store, created.code, "A", "astronaut")


def test_closed_workshop_refuses_joins_and_answers_until_reopened(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    joined = ws.join_workshop(store, created.code, "A", "sales")
    with pytest.raises(DiagnosticsError, match="facilitator link"):
        ws.close_workshop(store, created.code, "wrong")
    assert ws.close_workshop(store, created.code, created.key).is_open is False
    with pytest.raises(DiagnosticsError, match="is closed"):
        ws.answer(store, CONTENT, created.code, joined.token, "s1", 3)
    with pytest.raises(DiagnosticsError, match="is closed"):
        ws.join_workshop(store, created.code, "B", "sales")
    assert ws.reopen_workshop(store, created.code, created.key).is_open is True
    ws.answer(store, CONTENT, created.code, joined.token, "s1", 3)
    assert len(store.list_answers(created.code)) == 1


_HAND_CHECKED = [
    ("Ann", "sales", {"s1": 5, "s2": 3, "s3": 4, "c1": "x"}),
    ("Bob", "sales ops", {"s1": 1, "s2": 1, "s3": 4, "c1": "y"}),
    ("Cy", "marketing", {"s1": 3, "s3": 2}),
]


def _room(store: DuckDBStore, code: str, copies: int = 1) -> dict[str, str]:
    """Three answering participants (each ``copies`` times) and one who only joined.

    Copies change no mean or spread (the population standard deviation of a set repeated is the
    same), so ``copies=3`` is the hand-checked room with every role large enough to be shown.
    """
    tokens = {}
    for copy in range(copies):
        for name, role, answers in _HAND_CHECKED:
            joined = ws.join_workshop(store, code, name, role)
            for qid, value in answers.items():
                ws.answer(store, CONTENT, code, joined.token, qid, value)
            tokens[name if copy == 0 else f"{name}{copy + 1}"] = joined.token
    tokens["Dee"] = ws.join_workshop(store, code, "Dee", "finance").token
    return tokens


def test_summary_of_the_hand_checked_room(store: DuckDBStore, created: ws.CreatedWorkshop) -> None:
    _room(store, created.code, copies=3)
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert (s.joined, s.responses, s.min_group) == (10, 9, 3)
    assert s.by_role == {"sales": 3, "sales_ops": 3, "marketing": 3}
    assert [(p.name, p.answered, p.total) for p in s.progress][:3] == [
        ("Ann", 4, 4), ("Bob", 4, 4), ("Cy", 2, 4)
    ]
    assert (s.progress[-1].name, s.progress[-1].answered) == ("Dee", 0)
    assert [p.label(reveal=True) for p in s.progress][:2] == ["Participant 1", "Participant 2"]
    assert (s.grouping.pooled, s.grouping.left_out) == ((), ())
    a, b = s.dimensions
    # A: participant scores 4, 1, 3 (three times each); B: 4, 4, 2.
    assert (a.id, a.name, a.participants) == ("A", "Alpha", 9)
    assert a.mean == pytest.approx(8 / 3) and a.spread == pytest.approx(math.sqrt(14 / 9))
    assert a.role_gap == pytest.approx(3.0)
    assert b.mean == pytest.approx(10 / 3) and b.spread == pytest.approx(math.sqrt(8 / 9))
    assert b.role_gap == pytest.approx(2.0)
    cells = {(g.role, g.dimension): g for g in s.gaps}
    assert len(cells) == 6
    assert cells[("sales", "A")].mean == 4 and cells[("sales", "A")].gap == pytest.approx(4 / 3)
    assert cells[("sales_ops", "A")].gap == pytest.approx(-5 / 3)
    assert cells[("marketing", "B")].gap == pytest.approx(2 - 10 / 3)
    assert [w.question_id for w in s.widest] == ["s1", "s2", "s3"]
    first = s.widest[0]
    assert first.spread == pytest.approx(math.sqrt(8 / 3)) and first.mean == 3
    assert (first.role_gap, first.lowest_role, first.highest_role) == (4, "sales_ops", "sales")
    assert s.widest[1].role_gap == 2 and s.widest[1].answers == 6
    # Team answers are statement means: s1 3, s2 2, s3 10/3; the fake scorer averages them.
    assert s.verdict is not None and s.verdict.score == pytest.approx(20 * (3 + 2 + 10 / 3) / 3)
    assert s.verdict.verdict == "unlikely"
    roles = {r.role: r for r in s.roles}
    assert roles["sales"].verdict.score == pytest.approx(80.0)  # type: ignore[union-attr]
    assert roles["sales"].fit == {"tsar": 60.0, "federation": 50.0}
    assert roles["marketing"].fit == {}
    assert s.leadership_team == {"tsar": 55.0, "federation": 55.0}
    payload = s.to_json()
    json.dumps(payload, allow_nan=False)
    assert payload["responses"] == 9 and payload["by_role"]["sales_ops"] == 3
    assert payload["min_group"] == 3 and payload["plan"] == [] and payload["baseline"] is None
    assert payload["dimensions"][0]["spread"] == round(math.sqrt(14 / 9), 3)
    assert payload["widest_gaps"][0]["question_id"] == "s1"


def test_summary_of_an_empty_workshop_has_no_numbers(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    ws.join_workshop(store, created.code, "Only joined", "sales")
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert (s.joined, s.responses, s.by_role, s.verdict, s.widest, s.gaps) == (1, 0, {}, None,
                                                                                [], [])
    assert all(d.mean is None and d.spread is None and d.role_gap is None for d in s.dimensions)
    assert s.recommended_model is None
    payload = s.to_json()
    json.dumps(payload, allow_nan=False)
    assert payload["dimensions"][0]["mean"] is None


def test_summary_needs_the_key(store: DuckDBStore, created: ws.CreatedWorkshop) -> None:
    with pytest.raises(DiagnosticsError, match="facilitator link is not valid"):
        ws.summarise(store, CONTENT, created.code, "nope")


_answer_level = st.one_of(st.none(), st.integers(1, 5))


@settings(max_examples=40, deadline=None)
@given(
    room=st.lists(
        st.tuples(st.sampled_from(list(ws.ROLES)), st.tuples(_answer_level, _answer_level,
                                                             _answer_level)),
        min_size=0,
        max_size=12,
    )
)
def test_summary_invariants(room: list[tuple[str, tuple[int | None, ...]]]) -> None:
    workshop = ws.Workshop("ABCD2345", "C", "T", (ws.MAKE_YOUR_NUMBER,), "open", T0)
    participants = [ParticipantRecord("ABCD2345", f"p{i}", f"n{i}", role, T0)
                    for i, (role, _) in enumerate(room)]
    levels = {
        f"p{i}": {q: v for q, v in zip(("s1", "s2", "s3"), values, strict=True) if v is not None}
        for i, (_, values) in enumerate(room)
    }
    s = ws.summarise_answers(workshop, CONTENT, participants, levels, {})
    assert s.responses == sum(1 for a in levels.values() if a) == sum(s.by_role.values())
    for d in s.dimensions:
        if d.mean is None:
            assert d.participants == 0
            continue
        assert 1 <= d.mean <= 5 and 0 <= d.spread <= 2  # type: ignore[operator]
        assert d.role_gap is None or 0 <= d.role_gap <= 4
    for g in s.gaps:
        assert g.gap is None or -4 <= g.gap <= 4
    spreads = [w.spread for w in s.widest]
    assert spreads == sorted(spreads, reverse=True) and all(x > 0 for x in spreads)
    assert len(s.widest) <= ws.WIDEST_LIMIT
    json.dumps(s.to_json(), allow_nan=False)


def test_export_frame_reveal_and_neutralised_csv(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    _room(store, created.code)
    ws.join_workshop(store, created.code, "=HYPERLINK(\"http://x\")", "executive")
    frame = ws.export_frame(store, CONTENT, created.code, created.key)
    assert list(frame.columns) == ["name", "role", "joined_at", "counted", "s1", "s2", "s3",
                                   "c1"]
    assert frame["name"].tolist()[:4] == ["Ann", "Bob", "Cy", "Dee"]
    assert frame["role"].tolist()[:2] == ["Sales team", "Sales ops / RevOps"]
    assert frame.loc[0, "s1"] == 5 and frame.loc[1, "c1"] == "y"
    assert frame["s2"].isna().tolist() == [False, False, True, True, True]
    csv_text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    hidden = ws.export_frame(store, CONTENT, created.code, created.key, reveal=True)
    assert hidden["name"].tolist()[0] == "Participant 1"
    records = ws.export_records(store, CONTENT, created.code, created.key)
    json.dumps(records, allow_nan=False)
    assert records[2]["s2"] is None and records[0]["s1"] == 5
    with pytest.raises(DiagnosticsError):
        ws.export_frame(store, CONTENT, created.code, "wrong")


def test_import_keeps_valid_rows_and_reports_the_rest(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    csv = (
        b"Name,ROLE,s1,s2,s3,c1\n"
        b"Eve,SALES OPS,4,2,,x\n"          # line 2: ok
        b"Fay,astronaut,3,3,3,x\n"         # line 3: unknown role
        b"Gus,marketing,9,3,3,x\n"         # line 4: level out of range
        b"Hal,finance,,,,\n"               # line 5: no answers
        b"Ivy,customer success,5,,1,Why\n"  # line 6: ok (option label)
        b",executive,2,2,2,\n"             # line 7: ok, anonymous
    )
    report = ws.import_responses(store, CONTENT, created.code, created.key, csv)
    assert report.imported == 3
    assert [line for line, _ in report.rejected] == [3, 4, 5]
    assert "astronaut" in report.rejected[0][1] and "not a level" in report.rejected[1][1]
    assert report.to_json()["rejected"][2] == {"line": 5, "reason": "no answers"}
    s = ws.summarise(store, CONTENT, created.code, created.key)
    assert s.by_role == {"sales_ops": 1, "customer_success": 1, "ceo": 1}
    frame = ws.export_frame(store, CONTENT, created.code, created.key)
    assert frame["name"].tolist() == ["Eve", "Ivy", "Anonymous"]
    assert frame["c1"].tolist()[:2] == ["x", "y"]


def test_export_then_import_round_trips(
    store: DuckDBStore, created: ws.CreatedWorkshop, tmp_path: Path
) -> None:
    _room(store, created.code)
    path = tmp_path / "responses.csv"
    path.write_bytes(to_csv_bytes(ws.export_frame(store, CONTENT, created.code, created.key)))
    target = ws.create_workshop(store, "Acme", "Copy")
    report = ws.import_responses(store, CONTENT, target.code, target.key, path)
    assert (report.imported, [r for r, _ in report.rejected]) == (3, [5])  # Dee had no answers
    original = ws.summarise(store, CONTENT, created.code, created.key).to_json()
    copy = ws.summarise(store, CONTENT, target.code, target.key).to_json()
    assert copy["dimensions"] == original["dimensions"]
    assert copy["widest_gaps"] == original["widest_gaps"]


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (b"name,s1\nA,3\n", "no .role. column"),
        (b"name,role,s1,q99\nA,sales,3,1\n", "Unknown columns in the responses file: q99"),
        (b"", "cannot be read"),
        (b"name,role\n\"A,sales\n", "cannot be read"),
    ],
)
def test_import_rejects_unusable_files(
    store: DuckDBStore, created: ws.CreatedWorkshop, csv: bytes, message: str
) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        ws.import_responses(store, CONTENT, created.code, created.key, csv)
    assert store.list_participants(created.code) == []


def test_import_into_a_closed_workshop_is_refused(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    ws.close_workshop(store, created.code, created.key)
    with pytest.raises(DiagnosticsError, match="is closed"):
        ws.import_responses(store, CONTENT, created.code, created.key, b"name,role,s1\nA,sales,3\n")


def test_built_in_content_drives_a_real_summary(store: DuckDBStore) -> None:
    content = ws.load_content()
    assert len(content.statements) >= 10 and len(content.choices) >= 8
    assert all(s.levels == (1, 2, 3, 4, 5) for s in content.statements)
    assert set(s.dimension for s in content.statements) <= set(content.dimensions)
    created = ws.create_workshop(store, "Acme", "Real content")
    first, second = content.statements[0].id, content.statements[1].id
    choice = content.choices[0]
    for role, level in [("sales", 5), ("sales_ops", 1), ("marketing", 3)] * 3:
        joined = ws.join_workshop(store, created.code, role, role)
        ws.answer(store, content, created.code, joined.token, first, level)
        ws.answer(store, content, created.code, joined.token, second, 3)
        ws.answer(store, content, created.code, joined.token, choice.id, choice.options[0][0])
    s = ws.summarise(store, content, created.code, created.key)
    assert s.responses == 9 and s.verdict is not None
    assert s.verdict.label in {"Likely", "At risk", "Unlikely"}
    assert s.widest[0].question_id == first and s.widest[0].role_gap == 4
    assert s.recommended_model in content.model_names
    assert all(0 <= v <= 100 for r in s.roles for v in r.fit.values())
    json.dumps(s.to_json(), allow_nan=False)


# -- command line ---------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    """Run ``python -m diagnostics ...`` in-process (same parser, same error handling)."""
    from diagnostics.cli import main

    return main(argv)


def test_cli_create_import_summary_export(
    workshop_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(["workshop", "create", "--client", "Acme", "--title", "Kick-off", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    code, key = created["code"], created["key"]
    assert created["facilitator_path"] == f"/workshop?workshop={code}&key={key}"
    content = ws.load_content()
    first, second = content.statements[0].id, content.statements[1].id
    responses = tmp_path / "responses.csv"
    responses.write_text(
        f"name,role,{first},{second}\n"
        "Ann,SALES,5,4\n"
        "Bob,Sales Ops,1,4\n"
        "Cy,pilot,3,3\n"
        "=cmd(),marketing,3,\n",
        encoding="utf-8",
    )
    assert _cli(["workshop", "import", code.lower(), "--key", key, str(responses), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"imported": 3, "rejected": [{"line": 4, "reason": "unknown role “pilot”"}]}
    assert _cli(["workshop", "summary", code, "--key", key, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["responses"] == 3
    assert summary["by_role"] == {"sales": 1, "sales_ops": 1, "marketing": 1}
    assert summary["verdict"]["label"] in {"Likely", "At risk", "Unlikely"}
    assert {"mean", "spread"} <= set(summary["dimensions"][0])
    assert summary["widest_gaps"][0]["question_id"] == first
    # One person per role: nothing by role, and the summary says which roles were left out.
    assert summary["widest_gaps"][0]["lowest_role"] is None
    assert (summary["gaps"], summary["roles"]) == ([], [])
    assert summary["min_group"] == 3 and summary["left_out_roles"] == [
        "sales", "sales_ops", "marketing"]
    assert (summary["plan"], summary["baseline"]) == ([], None)
    assert _cli(["workshop", "export", code, "--key", key]) == 0
    out = capsys.readouterr().out
    assert "'=cmd()" in out and out.splitlines()[0].lstrip("\ufeff").startswith("name,role")
    assert _cli(["workshop", "export", code, "--key", key, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == ["Ann", "Bob", "=cmd()"]
    assert records[0][first] == 5 and records[2][second] is None
    xlsx = tmp_path / "r.xlsx"
    assert _cli(["workshop", "export", code, "--key", key, "--format", "xlsx",
                 "--output", str(xlsx)]) == 0
    assert xlsx.read_bytes()[:2] == b"PK"


def test_cli_wrong_key_and_bad_input_exit_2(
    workshop_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(["workshop", "create", "--client", "A", "--title", "T", "--json"]) == 0
    code = json.loads(capsys.readouterr().out)["code"]
    assert _cli(["workshop", "summary", code, "--key", "nope", "--json"]) == 2
    assert "facilitator link is not valid" in capsys.readouterr().err
    assert _cli(["workshop", "create", "--client", "A", "--title", "T",
                 "--instruments", "tarot"]) == 2
    assert _cli(["workshop", "export", code, "--key", "nope", "--format", "xlsx"]) == 2


def test_report_has_aggregates_but_no_names(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    _room(store, created.code, copies=3)
    summary = ws.summarise(store, CONTENT, created.code, created.key)
    titles = [s.title for s in ws.report_sections(summary, CONTENT)]
    assert titles[0] == "The room" and "Perception gaps between roles" in titles
    html = ws.report_html(summary, CONTENT)
    assert "Workshop: Kick-off" in html and "First statement" in html
    assert "Sales ops / RevOps 1.0" in html  # lowest role on dimension Alpha
    assert "Ann" not in html and "Bob" not in html
    assert ws.report_pdf(summary, CONTENT)[:5] == b"%PDF-"


@pytest.mark.parametrize(
    ("code", "message"), [("nope", "not a workshop code"), ("ZZZZ2345", "No workshop has the code")]
)
def test_answer_to_a_bad_code_is_refused(store: DuckDBStore, code: str, message: str) -> None:
    with pytest.raises(DiagnosticsError, match=message):
        ws.answer(store, CONTENT, code, "some-token", "s1", 3)


def test_keys_never_start_with_a_dash_so_command_lines_accept_them() -> None:
    keys = [_new_key() for _ in range(2000)]
    assert all(len(k) == 32 and not k.startswith("-") for k in keys)
    assert len(set(keys)) == 2000


def test_a_participant_who_joined_twice_is_left_out_and_counted_again(
    workshop_db: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    store = DuckDBStore(workshop_db)  # the file the command line opens too
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    # Three sales people, and one marketing person who joined on three devices: marketing
    # looks like a role of three until the facilitator leaves the two extra joins out.
    for i, role in enumerate(["sales"] * 3 + ["marketing"] * 3):
        at = T0 + timedelta(seconds=i)  # participants are numbered in joining order
        joined = ws.join_workshop(store, created.code, role[0], role, now=at)
        ws.answer(store, CONTENT, created.code, joined.token, "s1", 4 if role == "sales" else 1,
                  now=at)
    before = ws.summarise(store, CONTENT, created.code, created.key)
    assert {r.role for r in before.roles} == {"sales", "marketing"}
    assert ws.set_counted(store, created.code, created.key, 5, counted=False) == "Participant 5"
    ws.set_counted(store, created.code, created.key, 6, counted=False)
    after = ws.summarise(store, CONTENT, created.code, created.key)
    assert (after.joined, after.responses, after.not_counted) == (6, 4, 2)
    assert after.by_role == {"sales": 3, "marketing": 1}
    assert after.roles == [] and after.statement_means["s1"] == pytest.approx(13 / 4)
    assert [p.counted for p in after.progress] == [True] * 4 + [False] * 2
    assert after.progress[4].counted_text() == "no (left out)"
    frame = ws.export_frame(store, CONTENT, created.code, created.key)
    assert frame["counted"].tolist() == ["yes"] * 4 + ["no"] * 2
    # The command line does the same: participant 6 counts again.
    store.close()  # one process holds a DuckDB file at a time
    assert _cli(["workshop", "count", created.code, "--key", created.key, "6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"participant": "Participant 6",
                                                   "counted": True}
    store = DuckDBStore(workshop_db)
    again = ws.summarise(store, CONTENT, created.code, created.key)
    assert (again.not_counted, again.to_json()["not_counted"]) == (1, 1)
    with pytest.raises(DiagnosticsError, match="No participant has the number 7"):
        ws.set_counted(store, created.code, created.key, 7, counted=False)
    with pytest.raises(DiagnosticsError):
        ws.set_counted(store, created.code, "wrong", 1, counted=False)
    store.close()


def _rated(store: DuckDBStore, code: str, role: str, level: int) -> str:
    joined = ws.join_workshop(store, code, role, role)
    for qid in ("s1", "s2", "s3"):
        ws.answer(store, CONTENT, code, joined.token, qid, level)
    return joined.token


def test_a_participant_changes_their_role_and_their_answers_move_with_them(
    workshop_db: Path,
) -> None:
    store = DuckDBStore(workshop_db)
    created = ws.create_workshop(store, "Acme", "Kick-off", now=T0)
    for _ in range(3):
        _rated(store, created.code, "sales", 4)
    for _ in range(3):
        _rated(store, created.code, "marketing", 1)
    wrong = _rated(store, created.code, "marketing", 4)  # a sales person who picked marketing
    before = ws.summarise(store, CONTENT, created.code, created.key)
    cells = {g.role: g for g in before.gaps if g.dimension == "A"}
    assert cells["marketing"].mean == pytest.approx(7 / 4) and before.role_changes == 0
    moved = ws.change_role(store, created.code, wrong, "Sales team", now=T0)
    assert (moved.role, moved.name) == ("sales", "marketing")
    assert ws.resume(store, created.code, wrong) == moved
    assert ws.participant_answers(store, created.code, wrong) == {"s1": 4, "s2": 4, "s3": 4}
    after = ws.summarise(store, CONTENT, created.code, created.key)
    assert after.by_role == {"sales": 4, "marketing": 3}
    cells = {g.role: g for g in after.gaps if g.dimension == "A"}
    assert (cells["sales"].mean, cells["marketing"].mean) == (4.0, 1.0)
    assert after.role_changes == 1 and after.to_json()["role_changes"] == 1
    assert after.role_changes_text().startswith("1 role change by participants themselves")
    assert after.statement_means == before.statement_means  # the team's numbers do not move
    # The role they already have is no change; a second real change counts again.
    ws.change_role(store, created.code, wrong, "sales")
    assert store.count_role_changes(created.code) == 1
    ws.change_role(store, created.code, wrong, "finance")
    assert store.count_role_changes(created.code) == 2
    # Saved like an answer: a new store on the same file (a restarted app) reads it.
    store.close()
    store = DuckDBStore(workshop_db)
    assert ws.resume(store, created.code, wrong).role == "finance"  # type: ignore[union-attr]
    assert ws.summarise(store, CONTENT, created.code, created.key).role_changes == 2
    html = ws.report_html(ws.summarise(store, CONTENT, created.code, created.key), CONTENT)
    assert "2 role changes by participants themselves" in html
    store.close()


def test_a_role_change_is_refused_with_a_reason(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    token = _rated(store, created.code, "sales", 4)
    with pytest.raises(DiagnosticsError, match="Unknown role “astronaut”"):
        ws.change_role(store, created.code, token, "astronaut")
    with pytest.raises(DiagnosticsError, match="not joined"):
        ws.change_role(store, created.code, "never-joined-token", "finance")
    with pytest.raises(DiagnosticsError, match="No workshop has the code"):
        ws.change_role(store, "ZZZZ2345", token, "finance")
    ws.close_workshop(store, created.code, created.key)
    with pytest.raises(DiagnosticsError, match="is closed"):
        ws.change_role(store, created.code, token, "finance")
    assert ws.resume(store, created.code, token).role == "sales"  # type: ignore[union-attr]
    assert store.count_role_changes(created.code) == 0


def test_a_role_change_recomputes_who_may_be_shown(
    store: DuckDBStore, created: ws.CreatedWorkshop
) -> None:
    """Three and three are shown; after one moves, marketing's two would be the room minus
    sales, so neither is shown (and nothing by role gives the two away)."""
    for _ in range(3):
        _rated(store, created.code, "sales", 4)
    tokens = [_rated(store, created.code, "marketing", level) for level in (1, 2, 3)]
    before = ws.summarise(store, CONTENT, created.code, created.key)
    assert [r.role for r in before.roles] == ["sales", "marketing"]
    ws.change_role(store, created.code, tokens[0], "sales")
    after = ws.summarise(store, CONTENT, created.code, created.key)
    assert after.by_role == {"sales": 4, "marketing": 2}
    assert after.roles == [] and all(g.mean is None for g in after.gaps)
    assert all(w.lowest_role is None for w in after.widest)
    assert after.grouping.covering == ("sales",)
    # Back to three and three: shown again.
    ws.change_role(store, created.code, tokens[0], "marketing")
    again = ws.summarise(store, CONTENT, created.code, created.key)
    assert [r.role for r in again.roles] == ["sales", "marketing"]
    assert again.role_changes == 2
