"""A retake: a later workshop linked to an earlier one, and the change between the two.

The change per dimension compares the team means; per role, only groups shown in both workshops
(each under the stricter of the two smallest-group settings), with cells resting on at least half
their people's possible ratings on both sides; and the earlier plan's actions with
whether the later workshop's facilitator marked them done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._codes import format_code
from diagnostics.workshop._lifecycle import _now, authorise
from diagnostics.workshop._plan import PlanItem
from diagnostics.workshop._summary import WorkshopSummary
from diagnostics.workshop_store import WorkshopStore


@dataclass(frozen=True)
class DimensionChange:
    """A dimension's team mean before and after, and the difference (None when one is missing)."""

    id: str
    name: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        """Return after minus before, or None."""
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class RoleChange:
    """One group × dimension mean before and after (both shown groups)."""

    role: str
    label: str
    dimension: str
    before: float
    after: float

    @property
    def change(self) -> float:
        """Return after minus before."""
        return self.after - self.before


@dataclass(frozen=True)
class Change:
    """How a retake compares with its baseline workshop."""

    code: str
    title: str
    dimensions: tuple[DimensionChange, ...]
    roles: tuple[RoleChange, ...] = ()
    actions: tuple[PlanItem, ...] = field(default=())

    @property
    def done(self) -> int:
        """Return how many of the baseline's planned actions were done."""
        return sum(1 for a in self.actions if a.done)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: the earlier code, per-dimension and per-role change, actions."""
        def num(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "code": self.code,
            "title": self.title,
            "dimensions": [{"id": d.id, "name": d.name, "before": num(d.before),
                            "after": num(d.after), "change": num(d.change)}
                           for d in self.dimensions],
            "roles": [{"role": r.role, "label": r.label, "dimension": r.dimension,
                       "before": num(r.before), "after": num(r.after), "change": num(r.change)}
                      for r in self.roles],
            "actions": [a.to_json() for a in self.actions],
        }


def compare(
    before: WorkshopSummary, after: WorkshopSummary, actions: tuple[PlanItem, ...] = ()
) -> Change:
    """Return the change from an earlier workshop's summary to a later one's."""
    earlier = {d.id: d for d in before.dimensions}
    dimensions = tuple(
        DimensionChange(d.id, d.name, earlier[d.id].mean if d.id in earlier else None, d.mean)
        for d in after.dimensions
    )
    # Only cells that rest on at least half their people's possible ratings on both sides: a
    # starred (thin) mean moves with whichever few statements were rated, not with the team.
    old_cells = {(g.role, g.dimension): g for g in before.gaps
                 if g.mean is not None and not g.is_thin}
    roles = tuple(
        RoleChange(g.role, g.role_label, g.dimension, old_cells[(g.role, g.dimension)].mean or 0.0,
                   g.mean)
        for g in after.gaps
        if g.mean is not None and not g.is_thin and (g.role, g.dimension) in old_cells
    )
    return Change(before.workshop.code, before.workshop.title, dimensions, roles, actions)


def link_baseline(
    store: WorkshopStore, raw_code: object, key: str, earlier_code: object, earlier_key: str,
) -> str:
    """Return the earlier workshop's code after linking it as this one's baseline.

    Both facilitator keys are required: a link shows the earlier workshop's results.
    """
    workshop = authorise(store, raw_code, key)
    try:
        earlier = authorise(store, earlier_code, earlier_key)
    except DiagnosticsError as exc:
        raise DiagnosticsError(
            "The earlier workshop's code or key is wrong.",
            "Use the code and facilitator key of the earlier workshop.",
        ) from exc
    if earlier.code == workshop.code:
        raise DiagnosticsError("A workshop cannot be its own baseline.",
                               "Choose the earlier workshop with the same client.")
    if earlier.created_at > workshop.created_at:
        raise DiagnosticsError(
            f"Workshop {format_code(earlier.code)} is newer than this one.",
            "Link the later workshop to the earlier one, not the other way round.",
        )
    store.set_setting(workshop.code, "baseline", earlier.code, _now())
    return earlier.code


def baseline_code(settings: Mapping[str, str]) -> str | None:
    """Return the code of a workshop's baseline, from its settings, or None."""
    return settings.get("baseline") or None
