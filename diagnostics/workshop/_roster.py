"""Who counts: the facilitator leaves a participant out of every result and can take them back.

A person who joined twice (a phone and a laptop), a test join or someone who picked the wrong role
and joined again would otherwise count twice, and could even make a role look large enough to be
shown. Participants are named by their number in joining order (``Participant N``, as in reveal
mode and the command line); being left out is a workshop setting (``excluded:<participant id>``),
so it needs no table of its own and can be undone. Their answers stay stored and exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._lifecycle import _now, authorise
from diagnostics.workshop_store import WorkshopStore

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
