"""Which roles a workshop may show results for: small roles pooled or left out, never singled out.

A role with at least ``min_group`` people is a group of its own. The smaller roles are pooled into
one group when together they reach ``min_group`` and at least one role stands on its own (a pool
of every role would be the team again); otherwise they are left out of every per-role result
(their answers still count in the team's). The same rule applies to every per-role number: a
cell resting on fewer than ``min_group`` answers is not shown either.

Leaving people out is not enough on its own: the team's results count them, so the team minus
the shown groups would be their result. When fewer than ``min_group`` people would be left out,
the smallest shown roles join them (in the pool, or left out with them) until they are at least
``min_group``; ``shown_groups`` applies the same rule to each per-role number.
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
    # Roles large enough on their own, pooled or left out so that the small roles beside them
    # cannot be worked out as the team minus the shown groups.
    covering: tuple[str, ...] = ()

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
        small_pooled = [r for r in self.pooled if r not in self.covering]
        small_left = [r for r in self.left_out if r not in self.covering]
        if self.pooled:
            parts.append(
                f"Roles with fewer than {self.min_group} people are shown together as one group: "
                + ", ".join(role_label(r) for r in small_pooled) + "."
            )
        if self.left_out:
            parts.append(
                "Left out of the per-role results (too few people, even together): "
                + ", ".join(role_label(r) for r in small_left)
                + ". Their answers still count in the team's results."
            )
        if self.covering:
            names = ", ".join(role_label(r) for r in self.covering)
            where = "in that group" if self.pooled else "left out"
            one = len(self.covering) == 1
            parts.append(
                f"{names} {'is' if one else 'are'} {where} too: shown on "
                f"{'its' if one else 'their'} own, the team's results minus "
                f"{'it' if one else 'them'} would give away the answers of fewer than "
                f"{self.min_group} people."
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
    covering: list[str] = []
    # Fewer than min_group people outside the shown groups could be worked out as the team minus
    # those groups: the smallest shown roles (the later on a tie) join them until they are enough.
    while large and 0 < sum(people[r] for r in small + covering) < min_group:
        smallest = min(reversed(large), key=lambda r: people[r])
        large.remove(smallest)
        covering.append(smallest)
    rest = _ordered(small + covering)
    groups = [Group(r, role_label(r), (r,), people[r]) for r in large]
    pooled_people = sum(people[r] for r in rest)
    # A pool with no other group beside it is the whole room: the team's results already say it.
    if rest and large and pooled_people >= min_group:
        label = "Other roles together"
        groups.append(Group(POOLED, label, tuple(rest), pooled_people))
        return Grouping(min_group, tuple(groups), pooled=tuple(rest),
                        covering=tuple(_ordered(covering)))
    return Grouping(min_group, tuple(groups), left_out=tuple(rest),
                    covering=tuple(_ordered(covering)))


def shown_groups(counts: Mapping[str, int], total: int, min_group: int) -> set[str]:
    """Return the groups whose result on one number may be shown beside the team's.

    ``counts`` holds, per group in display order, how many people that number rests on;
    ``total`` how many the team's number rests on. A group needs ``min_group`` people, and the
    people outside the shown groups must be none or at least ``min_group``: otherwise the team
    minus the shown groups would be their result, so the smallest shown group (the later on a
    tie) is held back with them.
    """
    shown = [g for g, n in counts.items() if n >= min_group]
    while shown and 0 < total - sum(counts[g] for g in shown) < min_group:
        shown.remove(min(reversed(shown), key=lambda g: counts[g]))
    return set(shown)
