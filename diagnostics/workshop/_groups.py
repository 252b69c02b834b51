"""Which roles a workshop may show results for: small roles pooled or left out, never singled out.

A role with at least ``min_group`` people is a group of its own. The smaller roles are pooled into
one group when together they reach ``min_group`` and at least one role stands on its own (a pool
of every role would be the team again); otherwise they are left out of every per-role result
(their answers still count in the team's). The same rule applies to every per-role number: a
cell resting on fewer than ``min_group`` answers is not shown either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diagnostics.workshop._codes import ROLES, role_label

POOLED = "pooled"


@dataclass(frozen=True)
class Group:
    """A set of roles shown together: one role, or the pool of the small ones."""

    id: str  # the role id, or "pooled"
    label: str
    roles: tuple[str, ...]
    people: int


@dataclass(frozen=True)
class Grouping:
    """The groups a workshop shows, what was pooled or left out, and why."""

    min_group: int
    groups: tuple[Group, ...]
    pooled: tuple[str, ...] = ()  # role ids in the pooled group
    left_out: tuple[str, ...] = ()  # role ids shown in no per-role result

    def group_of(self, role: str) -> str | None:
        """Return the id of the group a role's people count in, or None when left out."""
        for group in self.groups:
            if role in group.roles:
                return group.id
        return None

    def label(self, group_id: str | None) -> str:
        """Return a group's label (a role's label for an unknown id)."""
        for group in self.groups:
            if group.id == group_id:
                return group.label
        return role_label(group_id or "")

    def note(self) -> str:
        """Return what the dashboard says about pooled and left-out roles ("" when nothing)."""
        parts = []
        if self.pooled:
            parts.append(
                f"Roles with fewer than {self.min_group} people are shown together as one group: "
                + ", ".join(role_label(r) for r in self.pooled) + "."
            )
        if self.left_out:
            parts.append(
                "Left out of the per-role results (too few people, even together): "
                + ", ".join(role_label(r) for r in self.left_out)
                + ". Their answers still count in the team's results."
            )
        return " ".join(parts)


def _ordered(roles: Sequence[str]) -> list[str]:
    known = list(ROLES)
    return sorted(roles, key=lambda r: (known.index(r) if r in known else len(known), r))


def group_roles(people: Mapping[str, int], min_group: int) -> Grouping:
    """Return the groups for people counted per role (roles with nobody are ignored)."""
    present = _ordered([r for r, n in people.items() if n > 0])
    large = [r for r in present if people[r] >= min_group]
    small = [r for r in present if people[r] < min_group]
    groups = [Group(r, role_label(r), (r,), people[r]) for r in large]
    pooled_people = sum(people[r] for r in small)
    # A pool with no other group beside it is the whole room: the team's results already say it.
    if small and large and pooled_people >= min_group:
        label = "Other roles together"
        groups.append(Group(POOLED, label, tuple(small), pooled_people))
        return Grouping(min_group, tuple(groups), pooled=tuple(small))
    return Grouping(min_group, tuple(groups), left_out=tuple(small))
