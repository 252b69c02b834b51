"""Who counts, and as what: the facilitator leaves a participant out of every result and can take
them back; a participant who picked the wrong role changes it.

A person who joined twice (a phone and a laptop), a test join or someone who picked the wrong role
and joined again would otherwise count twice, and could even make a role look large enough to be
shown. Participants are named by their number in joining order (``Participant N``, as in reveal
mode and the command line); being left out is a workshop setting (``excluded:<participant id>``),
so it needs no table of its own and can be undone. Their answers stay stored and exported.

A role change moves the participant with their answers (they are kept under the participant, not
the role): every result is worked out again from the roles as they are now, with the smallest
group and the team-minus-shown-groups rule applied afresh. Each change is logged in the store, and
the facilitator sees how many there were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._codes import ROLES, hash_secret, match_role
from diagnostics.workshop._lifecycle import (
    _now,
    _parse_code,
    _public,
    _refuse_if_closed,
    _unknown,
    authorise,
)
from diagnostics.workshop_store import ParticipantRecord, WorkshopStore

_EXCLUDED_PREFIX = "excluded:"


def excluded_ids(settings: Mapping[str, str]) -> set[str]:
    """Return the ids of the participants the facilitator left out, from a workshop's settings."""
    return {name[len(_EXCLUDED_PREFIX):] for name in settings if name.startswith(_EXCLUDED_PREFIX)}


def set_counted(
    store: WorkshopStore, raw_code: object, key: str, number: int, counted: bool,
    now: datetime | None = None,
) -> str:
    """Return the participant's label after counting them in or leaving them out of the results.

    ``number`` is the participant's place in joining order (1 for the first). Raises
    DiagnosticsError for a wrong key or a number no participant has.
    """
    workshop = authorise(store, raw_code, key)
    participants = store.list_participants(workshop.code)
    if isinstance(number, bool) or not isinstance(number, int) or not (
        1 <= number <= len(participants)
    ):
        raise DiagnosticsError(
            f"No participant has the number {number}.",
            f"Participants are numbered 1 to {len(participants)} in joining order.",
        )
    participant = participants[number - 1]
    store.set_setting(workshop.code, _EXCLUDED_PREFIX + participant.participant_id,
                      None if counted else "1", now or _now())
    return f"Participant {number}"


def change_role(
    store: WorkshopStore, raw_code: object, token: object, role: str, now: datetime | None = None,
) -> ParticipantRecord:
    """Return the participant with their new role; raise DiagnosticsError when it is refused.

    Their answers and votes stay theirs and count under the new role. Choosing the role they
    already have changes nothing (and is not counted as a change). Refused for an unknown role,
    a device that has not joined, or a closed workshop.
    """
    code = _parse_code(raw_code)
    given = token if isinstance(token, str) else ""
    record, participant = store.get_workshop_with_participant(code, hash_secret(given))
    if record is None:
        raise _unknown(code)
    _refuse_if_closed(_public(record))
    if participant is None:
        raise DiagnosticsError("You have not joined this workshop yet.", "Join it first.")
    role_id = match_role(role)
    if role_id is None:
        raise DiagnosticsError(f"Unknown role “{role}”.", f"Roles: {', '.join(ROLES.values())}.")
    if role_id == participant.role:
        return participant
    if not store.change_role(code, participant.participant_id, role_id, now or _now()):
        raise DiagnosticsError("Your role could not be changed: it changed meanwhile.",
                               "Reload the page and try again.")
    return replace(participant, role=role_id)
