"""Who a workshop shows results for: small roles pooled or left out, never one person."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnostics import workshop as ws
from diagnostics.workshop_store import ParticipantRecord

T0 = datetime(2026, 11, 23, 9, 0, 0)


@pytest.mark.parametrize(
    ("people", "min_group", "groups", "pooled", "left_out", "covering"),
    [
        ({"sales": 1, "marketing": 1, "finance": 1}, 3, [], (), ("sales", "marketing", "finance"),
         ()),
        ({"sales": 3}, 3, [("sales", 3)], (), (), ()),
        ({"sales": 4, "marketing": 2, "finance": 1}, 3,
         [("sales", 4), ("pooled", 3)], ("marketing", "finance"), (), ()),
        # Sales shown beside the team would give the two others away (team minus sales): it is
        # left out with them.
        ({"sales": 4, "marketing": 1, "finance": 1}, 3, [], (),
         ("sales", "marketing", "finance"), ("sales",)),
        # Finance alone would be the team minus sales and marketing: the smaller of the two
        # (the later on a tie) joins finance in the pool.
        ({"sales": 5, "marketing": 3, "finance": 1}, 3,
         [("sales", 5), ("pooled", 4)], ("marketing", "finance"), (), ("marketing",)),
        ({"sales": 3, "marketing": 3, "finance": 1}, 3,
         [("sales", 3), ("pooled", 4)], ("marketing", "finance"), (), ("marketing",)),
        ({"sales": 2, "marketing": 2}, 3, [], (), ("sales", "marketing"), ()),  # pool alone = team
        ({"sales": 4, "cro": 4, "marketing": 2, "finance": 2}, 5, [], (),
         ("cro", "sales", "marketing", "finance"), ()),
        ({"sales": 5, "cro": 4, "marketing": 2}, 5,
         [("sales", 5), ("pooled", 6)], ("cro", "marketing"), (), ()),
        ({"sales": 0, "finance": 3}, 3, [("finance", 3)], (), (), ()),
    ],
)
def test_group_roles(
    people: dict[str, int], min_group: int, groups: list[tuple[str, int]],
    pooled: tuple[str, ...], left_out: tuple[str, ...], covering: tuple[str, ...],
) -> None:
    grouping = ws.group_roles(people, min_group)
    assert [(g.id, g.people) for g in grouping.groups] == groups
    assert (grouping.pooled, grouping.left_out, grouping.covering) == (pooled, left_out, covering)


@pytest.mark.parametrize(
    ("counts", "total", "shown"),
    [
        ({"sales": 3, "marketing": 3}, 6, {"sales", "marketing"}),
        ({"sales": 3, "marketing": 3}, 7, {"sales"}),  # the seventh would be team minus both
        ({"sales": 3, "marketing": 3}, 9, {"sales", "marketing"}),  # three outside: enough
        ({"sales": 5, "marketing": 2}, 7, set()),  # marketing's 2 = team minus sales
        ({"sales": 5, "marketing": 4, "pooled": 3}, 13, {"sales", "marketing"}),
        ({"sales": 2}, 2, set()),
    ],
)
def test_shown_groups_never_leave_fewer_than_the_minimum_outside(
    counts: dict[str, int], total: int, shown: set[str]
) -> None:
    assert ws.shown_groups(counts, total, 3) == shown


def test_note_names_pooled_and_left_out_roles() -> None:
    pooled = ws.group_roles({"sales": 4, "marketing": 2, "finance": 1}, 3)
    assert pooled.note().startswith("Roles with fewer than 3 people are shown together")
    assert "Marketing, Finance" in pooled.note()
    assert pooled.label("pooled") == "Other roles together" and pooled.group_of("finance") == (
        "pooled")
    covered = ws.group_roles({"sales": 5, "marketing": 3, "finance": 1}, 3).note()
    assert "Finance." in covered and "Marketing is in that group too" in covered
    assert "would give away the answers of fewer than 3 people" in covered
    left = ws.group_roles({"sales": 1}, 3)
    assert "Left out" in left.note() and "Sales team" in left.note()
    assert left.group_of("sales") is None
    assert ws.group_roles({"sales": 3}, 3).note() == ""


@settings(deadline=None)  # a loaded machine is slow; the property, not the timing, is tested
@given(st.dictionaries(st.sampled_from(list(ws.ROLES)), st.integers(0, 8)), st.integers(3, 6))
def test_every_shown_group_reaches_the_minimum_and_each_role_is_in_one_place(
    people: dict[str, int], min_group: int
) -> None:
    grouping = ws.group_roles(people, min_group)
    assert all(g.people >= min_group for g in grouping.groups)
    placed = [r for g in grouping.groups for r in g.roles] + list(grouping.left_out)
    assert sorted(placed) == sorted(r for r, n in people.items() if n > 0)
    # Beside shown groups, the people left out are none or enough not to be worked out.
    outside = sum(people[r] for r in grouping.left_out)
    assert not grouping.groups or outside == 0 or outside >= min_group
    assert len(grouping.groups) != 1 or grouping.groups[0].id != ws.POOLED


CONTENT = ws.Content(
    statements=(ws.Statement("s1", "A", "First", (1, 2, 3, 4, 5), action="Do one"),
                ws.Statement("s2", "B", "Second", (1, 2, 3, 4, 5), action="Do two")),
    dimensions={"A": "Alpha", "B": "Beta"},
    choices=(),
    score=lambda answers, numbers=None: ws.TeamVerdict("likely", "Likely", 80.0, None, None),
    fit=lambda answers: {},
)


def _summary(room: list[tuple[str, dict[str, int]]], min_group: int = 3) -> ws.WorkshopSummary:
    workshop = ws.Workshop("ABCD2345", "C", "T", (ws.MAKE_YOUR_NUMBER,), "open", T0)
    participants = [ParticipantRecord("ABCD2345", f"p{i}", f"n{i}", role, T0)
                    for i, (role, _) in enumerate(room)]
    levels = {f"p{i}": answers for i, (_, answers) in enumerate(room)}
    return ws.summarise_answers(workshop, CONTENT, participants, levels, {}, min_group=min_group)


def test_one_person_in_a_role_is_never_shown_on_their_own() -> None:
    s = _summary([("sales", {"s1": 5, "s2": 5})] * 4 + [("marketing", {"s1": 1, "s2": 2})] * 3
                 + [("finance", {"s1": 1, "s2": 2})])
    assert [r.role for r in s.roles] == ["sales", "pooled"]
    assert {g.role for g in s.gaps} == {"sales", "pooled"}
    assert all(w.lowest_role in (None, "sales", "pooled") for w in s.widest)
    payload = s.to_json()
    assert payload["pooled_roles"] == ["marketing", "finance"] and payload["min_group"] == 3
    assert all(g["role"] not in ("marketing", "finance") for g in payload["gaps"])
    assert all(r["role"] not in ("marketing", "finance") for r in payload["roles"])
    # The team still counts the finance answers: s1 mean (4 * 5 + 3 * 1 + 1) / 8.
    assert s.statement_means["s1"] == 3.0


def test_one_person_cannot_be_worked_out_as_the_team_minus_the_shown_roles() -> None:
    # Three sales people and one marketing person: showing sales beside the team's mean
    # would give marketing's answer away (4 * team mean - 3 * sales mean).
    s = _summary([("sales", {"s1": 5, "s2": 5})] * 3 + [("marketing", {"s1": 1, "s2": 2})])
    assert s.roles == [] and all(g.mean is None for g in s.gaps)
    assert all(w.lowest_role is None and w.role_gap is None for w in s.widest)
    assert s.grouping.left_out == ("sales", "marketing") and s.grouping.covering == ("sales",)
    assert s.dimensions[0].mean == 4.0  # the team's own numbers are still there


def test_a_cell_is_held_back_when_the_team_minus_the_shown_cells_is_too_few() -> None:
    # Sales and marketing have three people each, but only two marketing people rated B: the
    # marketing B cell is held back (two answers), and so is sales' B cell, which beside the
    # team's B mean would give those two away.
    room = ([("sales", {"s1": 4, "s2": 4})] * 3 + [("marketing", {"s1": 2, "s2": 1})] * 2
            + [("marketing", {"s1": 2})])
    s = _summary(room)
    cells = {(g.role, g.dimension): g for g in s.gaps}
    assert cells[("sales", "A")].mean == 4.0 and cells[("marketing", "A")].mean == 2.0
    assert cells[("marketing", "B")].mean is None and cells[("sales", "B")].mean is None
    assert s.dimensions[1].role_gap is None and s.dimensions[0].role_gap == 2.0
    assert {w.question_id: w.role_gap for w in s.widest}["s2"] is None


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.sampled_from(["sales", "marketing", "finance", "cro"]),
                          st.dictionaries(st.sampled_from(["s1", "s2"]), st.integers(1, 5),
                                          min_size=1)),
                max_size=14))
def test_no_role_cell_leaves_fewer_than_three_answers_outside_the_shown_cells(
    room: list[tuple[str, dict[str, int]]]
) -> None:
    s = _summary(room)
    for d in s.dimensions:
        shown = [g.participants for g in s.gaps if g.dimension == d.id and g.mean is not None]
        outside = d.participants - sum(shown)
        assert all(n >= 3 for n in shown)
        assert not shown or outside == 0 or outside >= 3


def test_small_roles_pooled_show_as_one_group_with_their_mean() -> None:
    s = _summary([("sales", {"s1": 5})] * 3 + [("marketing", {"s1": 1}), ("finance", {"s1": 2}),
                                                ("cro", {"s1": 3})])
    cells = {(g.role, g.dimension): g for g in s.gaps}
    assert cells[("pooled", "A")].mean == 2.0 and cells[("pooled", "A")].participants == 3
    assert cells[("pooled", "A")].role_label == "Other roles together"
    assert s.widest[0].lowest_role == "pooled" and s.widest[0].highest_role == "sales"
    assert s.group_label("pooled") == "Other roles together"


def test_a_cell_resting_on_too_few_answers_is_held_back() -> None:
    # Three sales people, only one of whom rated dimension B.
    s = _summary([("sales", {"s1": 4, "s2": 1}), ("sales", {"s1": 4}), ("sales", {"s1": 2})])
    cells = {(g.role, g.dimension): g for g in s.gaps}
    assert cells[("sales", "A")].mean == pytest.approx(10 / 3)
    assert cells[("sales", "B")].mean is None and cells[("sales", "B")].participants == 1


def test_verdict_notes_say_when_it_rests_on_little() -> None:
    s = _summary([("sales", {"s1": 4})])
    assert any("rests on 1 person's answers" in n for n in s.verdict_notes)
    full = _summary([("sales", {"s1": 4, "s2": 4})] * 3)
    assert full.verdict_notes == ()


WIDE = ws.Content(
    statements=tuple(ws.Statement(f"a{i}", "A", f"Alpha {i}", (1, 2, 3, 4, 5)) for i in range(4)),
    dimensions={"A": "Alpha"},
    choices=(),
    score=lambda answers, numbers=None: ws.TeamVerdict("likely", "Likely", 80.0, None, None),
    fit=lambda answers: {},
)


def _wide(room: list[tuple[str, dict[str, int], set[str]]]) -> ws.WorkshopSummary:
    workshop = ws.Workshop("ABCD2345", "C", "T", (ws.MAKE_YOUR_NUMBER,), "open", T0)
    participants = [ParticipantRecord("ABCD2345", f"p{i}", f"n{i}", role, T0)
                    for i, (role, _, _) in enumerate(room)]
    levels = {f"p{i}": answers for i, (_, answers, _) in enumerate(room)}
    na = {f"p{i}": unsure for i, (_, _, unsure) in enumerate(room)}
    return ws.summarise_answers(workshop, WIDE, participants, levels, {}, not_applicable=na)


ALL_FOUR = {"a0": 4, "a1": 4, "a2": 4, "a3": 4}


def test_a_gap_resting_on_a_few_ratings_is_left_out_and_said() -> None:
    # Marketing's three people each rated one of the four statements (3 of 12 possible):
    # its mean is shown, starred, but the gap between roles does not compare it.
    s = _wide([("sales", ALL_FOUR, set())] * 3 + [("marketing", {"a0": 1}, set())] * 3)
    cells = {g.role: g for g in s.gaps}
    assert cells["marketing"].mean == 1.0 and cells["marketing"].is_thin
    assert (cells["marketing"].answers, cells["marketing"].possible) == (3, 12)
    assert not cells["sales"].is_thin
    assert s.dimensions[0].role_gap is None
    assert s.dimensions[0].gap_note == (
        "Leaves out Marketing (3 of 12 possible ratings): fewer than half rated.")
    payload = s.to_json()
    assert payload["gaps"][1]["answers"] == 3 and payload["gaps"][1]["possible"] == 12
    assert payload["dimensions"][0]["gap_note"].startswith("Leaves out Marketing")
    report = " ".join(b for sec in ws.report_sections(s, WIDE) for b in sec.bullets)
    assert "Alpha: no gap between roles. Leaves out Marketing" in report


def test_a_gap_over_different_statements_says_so() -> None:
    half = {"a0": 2, "a1": 2}
    s = _wide([("sales", ALL_FOUR, set())] * 3 + [("marketing", half, set())] * 3)
    assert s.dimensions[0].role_gap == 2.0
    assert s.dimensions[0].gap_note == (
        "The roles rated different statements: Sales team 4 of 4, Marketing 2 of 4.")
    assert [(r.role, r.rated) for r in s.roles] == [("sales", 4), ("marketing", 2)]
    assert s.to_json()["roles"][1]["statements_rated"] == 2
    same = _wide([("sales", ALL_FOUR, set())] * 3 + [("marketing", {**ALL_FOUR, "a0": 1}, set())]
                 * 3)
    assert same.dimensions[0].gap_note == "" and same.dimensions[0].role_gap == 0.75


def test_a_statement_mostly_answered_dont_know_says_so() -> None:
    # a3: one rating of 1 and five "don't know": its mean is one person's 1.
    room = [("sales", {"a0": 4, "a1": 4, "a2": 4, "a3": 1}, set())] + [
        ("sales", {"a0": 4, "a1": 5, "a2": 3}, {"a3"})] * 5
    s = _wide(room)
    assert s.statement_means["a3"] == 1.0
    assert (s.statement_ratings["a3"], s.statement_not_applicable["a3"]) == (1, 5)
    assert s.rated_text("a3") == "1 rated, 5 don't know" and s.rated_text("a0") == "6 rated"
    assert any(n.startswith("Mostly “don't know” (1 statement: Alpha 3)") for n in s.verdict_notes)
    widest = {w.question_id: w for w in s.widest}
    assert widest["a1"].not_applicable == 0 and widest["a1"].answers == 6
    statements = {row["question_id"]: row for row in s.to_json()["statements"]}
    assert statements["a3"] == {"question_id": "a3", "mean": 1.0, "rated": 1,
                                "not_applicable": 5}


def _report(s: ws.WorkshopSummary) -> list[str]:
    return [t for sec in ws.report_sections(s, WIDE) for t in (*sec.paragraphs, *sec.bullets)]


def test_the_report_says_what_the_dashboard_says_about_each_role() -> None:
    # Marketing rated one statement of four: its verdict rests on it, its mean is starred.
    s = _wide([("sales", ALL_FOUR, set())] * 3 + [("marketing", {"a0": 1}, set())] * 3)
    assert [s.rests_on_text(r) for r in s.roles] == ["4 of 4 statements", "1 of 4 statements"]
    report = _report(s)
    assert "Sales team (3): Likely, score 80; rests on 4 of 4 statements" in report
    assert "Marketing (3): Likely, score 80; rests on 1 of 4 statements" in report
    (alpha,) = [t for t in report if t.startswith("Alpha:")]
    assert alpha.endswith("Means by role: Sales team 4.0, Marketing 1.0*.")
    assert s.by_role_note("shown as —") in report
    assert "A starred mean (3.2*) rests on fewer than half" in s.by_role_note()
    assert s.roles_note() == ""


def test_the_report_says_which_roles_are_held_back_and_why() -> None:
    # Three marketing people answered, one rated: no marketing verdict or mean, and beside the
    # room's (four raters) sales's would give that one away, so sales's is held back too.
    room = ([("sales", ALL_FOUR, set())] * 3 + [("marketing", {"a0": 1}, set())]
            + [("marketing", {}, {"a0", "a1", "a2", "a3"})] * 2)
    s = _wide(room)
    assert [r.verdict for r in s.roles] == [None, None]
    assert [s.rests_on_text(r) for r in s.roles] == ["—", "—"]
    note = ("No verdict for Sales team, Marketing: fewer than 3 of each of those groups rated a "
            "statement, or, beside the room's verdict, it would give away the answers of fewer "
            "than 3 people.")
    assert s.roles_note() == note
    report = _report(s)
    assert note in report
    assert "Marketing (3): no verdict shown" in report
    assert s.by_role_note("shown as —") == (
        "Nothing is shown by role: no group has 3 or more people who rated a dimension, or, "
        "beside the room's mean, a group shown would give away the answers of fewer than 3 "
        "people.")
    assert s.by_role_note("shown as —") in report
    assert not any("Means by role" in t for t in report)


def test_the_report_counts_who_was_left_out() -> None:
    workshop = ws.Workshop("ABCD2345", "C", "T", (ws.MAKE_YOUR_NUMBER,), "open", T0)
    people = [ParticipantRecord("ABCD2345", f"p{i}", f"n{i}", "sales", T0) for i in range(4)]
    s = ws.summarise_answers(workshop, WIDE, people, {f"p{i}": ALL_FOUR for i in range(4)}, {},
                             excluded={"p3"})
    assert any(t.startswith("1 participant left out of every result by the facilitator")
               for t in _report(s))
