"""The one role list: loaded and validated from content, matched by id, label or synonym."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from diagnostics.questionnaire import load_bank, parse_answers_file
from diagnostics.roles import RoleList, load_roles, match_role, role_label


def test_the_list_covers_both_instruments_in_display_order() -> None:
    assert list(load_roles().labels) == [
        "ceo", "cro", "sales", "sales_ops", "marketing", "customer_success", "finance", "other",
    ]


def test_the_questionnaire_uses_the_same_list() -> None:
    bank = load_bank()
    assert [(r.id, r.label) for r in bank.roles] == list(load_roles().labels.items())
    assert parse_answers_file({"role": "sales", "answers": {}}, bank).role == "sales"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cro", "cro"),
        ("CEO", "ceo"),
        ("executive", "ceo"),  # stored by workshops before the shared list
        ("Sales", "sales"),
        ("sales-ops", "sales_ops"),
        ("Revenue   Operations", "sales_ops"),
        ("Chief Revenue Officer", "cro"),
        ("fp&a", "finance"),
        ("Customer success", "customer_success"),
        ("Other", "other"),
        ("pilot", None),
        ("x" * 300, None),
        (42, None),
    ],
)
def test_match_role(text: object, expected: str | None) -> None:
    assert match_role(text) == expected


def test_role_label_falls_back_to_the_id() -> None:
    assert role_label("cro") == "CRO / head of sales"
    assert role_label("astronaut") == "astronaut"


def test_an_alias_naming_two_roles_is_rejected() -> None:
    with pytest.raises(ValidationError, match="names both role"):
        RoleList.model_validate({"roles": [
            {"id": "a", "label": "A", "aliases": ["boss"]},
            {"id": "b", "label": "B", "aliases": ["Boss"]},
        ]})


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        RoleList.model_validate({"roles": [{"id": "a", "label": "A", "colour": "red"}]})
