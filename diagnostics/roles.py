"""Respondent roles: one list, in ``content/roles.toml``, for the questionnaire and the workshop.

:func:`load_roles` reads and validates the list once (unknown fields, duplicate ids and an alias
that names two roles are rejected); :func:`match_role` turns an id, a label or a common synonym,
in any case, into a role id.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diagnostics.errors import DiagnosticsError

__all__ = ["Role", "RoleList", "load_roles", "match_role", "role_label", "roles_path"]

_Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
_Text = Annotated[str, Field(min_length=1, max_length=80)]


def _normal(text: str) -> str:
    """Return role text compared loosely: lower case; space, ``_`` and ``-`` runs as one space."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


class Role(BaseModel):
    """A respondent role: its id, its label and other names files may use for it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: _Id
    label: _Text
    aliases: tuple[_Text, ...] = ()


class RoleList(BaseModel):
    """Every role, in display order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: tuple[Role, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unambiguous(self) -> RoleList:
        owner: dict[str, str] = {}
        for role in self.roles:
            for name in {_normal(role.id), _normal(role.label), *map(_normal, role.aliases)}:
                if owner.setdefault(name, role.id) != role.id:
                    raise ValueError(
                        f"{name!r} names both role {owner[name]!r} and role {role.id!r}"
                    )
        return self

    @property
    def labels(self) -> dict[str, str]:
        """Return role id -> label, in display order."""
        return {r.id: r.label for r in self.roles}

    def match(self, text: object) -> str | None:
        """Return the role id that an id, label or alias names (any case), or None."""
        if not isinstance(text, str) or len(text) > 200:
            return None
        wanted = _normal(text)
        for role in self.roles:
            if wanted in {_normal(role.id), _normal(role.label), *map(_normal, role.aliases)}:
                return role.id
        return None


def roles_path() -> Path:
    """Return the path of the role list."""
    return Path(__file__).resolve().parent / "content" / "roles.toml"


@functools.cache
def load_roles() -> RoleList:
    """Return the validated role list; raise DiagnosticsError naming the problem."""
    try:
        raw = tomllib.loads(roles_path().read_text(encoding="utf-8"))
        return RoleList.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DiagnosticsError(f"The role list roles.toml cannot be read ({exc}).") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise DiagnosticsError(f"The role list roles.toml: {where}: {first['msg']}.") from exc


def match_role(text: object) -> str | None:
    """Return the role id an id, label or common synonym names (any case), or None."""
    return load_roles().match(text)


def role_label(role_id: str) -> str:
    """Return a role's display label (the id itself when unknown)."""
    return load_roles().labels.get(role_id, role_id)
