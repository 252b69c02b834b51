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
    ("people", "min_group", "groups", "pooled", "left_out"),
    [
        ({"sales": 1, "marketing": 1, "finance": 1}, 3, [], (), ("sales", "marketing", "finance")),
        ({"sales": 3}, 3, [("sales", 3)], (), ()),
        ({"sales": 4, "marketing": 2, "finance": 1}, 3,
         [("sales", 4), ("pooled", 3)], ("marketing", "finance"), ()),
        ({"sales": 4, "marketing": 1, "finance": 1}, 3, [("sales", 4)], (),
         ("marketing", "finance")),
        ({"sales": 2, "marketing": 2}, 3, [], (), ("sales", "marketing")),  # a pool alone = team
        ({"sales": 4, "cro": 4, "marketing": 2, "finance": 2}, 5, [], (),
         ("cro", "sales", "marketing", "finance")),
        ({"sales": 5, "cro": 4, "marketing": 2}, 5,
         [("sales", 5), ("pooled", 6)], ("cro", "marketing"), ()),
        ({"sales": 0, "finance": 3}, 3, [("finance", 3)], (), ()),
    ],
)
def test_group_roles(
    people: dict[str, int], min_group: int, groups: list[tuple[str, int]],
    pooled: tuple[str, ...], left_out: tuple[str, ...],
) -> None:
    grouping = ws.group_roles(people, min_group)
    assert [(g.id, g.people) for g in grouping.groups] == groups
    assert (grouping.pooled, grouping.left_out) == (pooled, left_out)


def test_note_names_pooled_and_left_out_roles() -> None:
    pooled = ws.group_roles({"sales": 4, "marketing": 2, "finance": 1}, 3)
    assert pooled.note().startswith("Roles with fewer than 3 people are shown together")
    assert "Marketing, Finance" in pooled.note()
    assert pooled.label("pooled") == "Other roles together" and pooled.group_of("finance") == (
        "pooled")
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
    s = _summary([("sales", {"s1": 5, "s2": 5})] * 3 + [("marketing", {"s1": 1, "s2": 2})])
    assert [r.role for r in s.roles] == ["sales"]
    assert {g.role for g in s.gaps} == {"sales"}
    assert all(w.lowest_role in (None, "sales") for w in s.widest)
    payload = s.to_json()
    assert payload["left_out_roles"] == ["marketing"] and payload["min_group"] == 3
    assert all(g["role"] != "marketing" for g in payload["gaps"])
    assert all(r["role"] != "marketing" for r in payload["roles"])
    # The team still counts the marketing answers: s1 mean (5 + 5 + 5 + 1) / 4.
    assert s.statement_means["s1"] == 4.0


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
