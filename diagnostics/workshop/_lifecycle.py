"""A workshop's life: create, join, answer, close and reopen; who may see what."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ROLES,
    format_code,
    hash_secret,
    match_role,
    normalise_code,
)
from diagnostics.workshop._content import (
    INSTRUMENTS,
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    NOT_APPLICABLE,
    Content,
)
from diagnostics.workshop_store import (
    AnswerRecord,
    ParticipantRecord,
    WorkshopRecord,
    WorkshopStore,
)

MAX_NAME = 60
MAX_TEXT = 120
OPEN = "open"
CLOSED = "closed"
# The fewest people a per-role result may rest on: below it, nobody's answers can be singled out.
# The facilitator may raise it (never lower it) up to MAX_MIN_GROUP.
MIN_GROUP = 3
MAX_MIN_GROUP = 20
# Joining is open to anyone with the code, so it is bounded: a room scanning the QR code at once
# joins well within JOINS_PER_MINUTE, one person scripting identities cannot go past it, and the
# facilitator's cap (the ``max_participants`` setting, DEFAULT_CAP until set) bounds the total.
JOINS_PER_MINUTE = 60
JOIN_WINDOW = timedelta(minutes=1)
DEFAULT_CAP = 200
MAX_CAP = 2000
# Written in a file or typed: what reads as "not applicable / don't know" (compared lower-case).
_NOT_APPLICABLE_TEXTS = {"na", "n/a", "n.a.", "not applicable", "don't know", "dont know", "dk",
                         "not applicable / don't know", "?"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Workshop:
    """What anyone holding the code may see about a workshop."""

    code: str
    client: str
    title: str
    instruments: tuple[str, ...]
    status: str
    created_at: datetime

    @property
    def is_open(self) -> bool:
        """True while the workshop accepts answers."""
        return self.status == OPEN


@dataclass(frozen=True)
class CreatedWorkshop:
    """A new workshop's code and the facilitator key (shown once, stored only as a hash)."""

    code: str
    key: str


@dataclass(frozen=True)
class Joined:
    """A participant's device token (goes in the URL) and their stored record."""

    token: str
    participant: ParticipantRecord


def _public(record: WorkshopRecord) -> Workshop:
    return Workshop(
        code=record.code,
        client=record.client,
        title=record.title,
        instruments=record.instruments,
        status=record.status,
        created_at=record.created_at,
    )


def _clean_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise DiagnosticsError(f"The {what} is empty.", f"Give the workshop a {what}.")
    if len(text) > limit:
        raise DiagnosticsError(f"The {what} is longer than {limit} characters.", "Shorten it.")
    return text


def _new_key() -> str:
    """Return a random URL-safe key (32 characters) that does not start with ``-``."""
    while True:
        # A leading "-" would make command lines read the key as an option (--key -abc...).
        key = secrets.token_urlsafe(24)
        if not key.startswith("-"):
            return key


def create_workshop(
    store: WorkshopStore,
    client: str,
    title: str,
    instruments: Sequence[str] = (MAKE_YOUR_NUMBER, LEADERSHIP),
    now: datetime | None = None,
) -> CreatedWorkshop:
    """Return the code and facilitator key of a new open workshop; raise DiagnosticsError."""
    client_text = _clean_text(client, "client name")
    title_text = _clean_text(title, "title")
    chosen = tuple(i for i in INSTRUMENTS if i in set(instruments))
    unknown = sorted(set(instruments) - set(INSTRUMENTS))
    if unknown or not chosen:
        raise DiagnosticsError(
            "Choose at least one instrument" + (f" (unknown: {', '.join(unknown)})" if unknown
                                                else "") + ".",
            f"Instruments: {', '.join(INSTRUMENTS)}.",
        )
    key = _new_key()
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        record = WorkshopRecord(
            code=code,
            client=client_text,
            title=title_text,
            instruments=chosen,
            key_hash=hash_secret(key),
            status=OPEN,
            created_at=now or _now(),
        )
        if store.create_workshop(record):
            return CreatedWorkshop(code=code, key=key)
    raise DiagnosticsError("Could not find a free workshop code.", "Try again.")  # pragma: no cover


def _parse_code(raw_code: object) -> str:
    code = normalise_code(raw_code)
    if code is None:
        raise DiagnosticsError(
            "That is not a workshop code.",
            f"A code has {CODE_LENGTH} letters and digits, like {format_code('ABCD2345')}.",
        )
    return code


def _unknown(code: str) -> DiagnosticsError:
    return DiagnosticsError(
        f"No workshop has the code {format_code(code)}.",
        "Check the code with your facilitator.",
    )


def get_workshop(store: WorkshopStore, raw_code: object) -> Workshop:
    """Return the workshop a code names; raise DiagnosticsError when malformed or unknown."""
    code = _parse_code(raw_code)
    record = store.get_workshop(code)
    if record is None:
        raise _unknown(code)
    return _public(record)


def authorise(store: WorkshopStore, raw_code: object, key: object) -> Workshop:
    """Return the workshop when ``key`` is its facilitator key; raise DiagnosticsError otherwise."""
    code = normalise_code(raw_code)
    record = store.get_workshop(code) if code else None
    given = key if isinstance(key, str) else ""
    # Same message for an unknown code and a wrong key: the answer reveals nothing either way.
    if record is None or not given or not hmac.compare_digest(
        hash_secret(given), record.key_hash
    ):
        raise DiagnosticsError(
            "This facilitator link is not valid: the workshop code or key is wrong or missing.",
            "Use the complete facilitator link you got when you created the workshop.",
        )
    return _public(record)


def close_workshop(store: WorkshopStore, code: str, key: str) -> Workshop:
    """Return the workshop after closing it to new answers (facilitator key required)."""
    workshop = authorise(store, code, key)
    store.set_status(workshop.code, CLOSED)
    return authorise(store, code, key)


def reopen_workshop(store: WorkshopStore, code: str, key: str) -> Workshop:
    """Return the workshop after opening it to answers again (facilitator key required)."""
    workshop = authorise(store, code, key)
    store.set_status(workshop.code, OPEN)
    return authorise(store, code, key)


def _refuse_if_closed(workshop: Workshop) -> None:
    if not workshop.is_open:
        raise DiagnosticsError(
            f"The workshop “{workshop.title}” is closed: it takes no more answers.",
            "Ask your facilitator to reopen it if you still need to answer.",
        )


def join_workshop(
    store: WorkshopStore,
    raw_code: object,
    name: str,
    role: str,
    now: datetime | None = None,
    *,
    limited: bool = True,
) -> Joined:
    """Return a new participant's token; raise DiagnosticsError for a bad code/role or closed.

    A participant's join (``limited``) is also refused when the workshop is full or when
    ``JOINS_PER_MINUTE`` joined in the last minute; the facilitator's import is not limited.
    """
    workshop = get_workshop(store, raw_code)
    _refuse_if_closed(workshop)
    role_id = match_role(role)
    if role_id is None:
        raise DiagnosticsError(
            f"Unknown role “{role}”.", f"Roles: {', '.join(ROLES.values())}."
        )
    display = " ".join(str(name or "").split())[:MAX_NAME] or "Anonymous"
    token = secrets.token_urlsafe(16)
    record = ParticipantRecord(
        workshop_code=workshop.code,
        participant_id=hash_secret(token),
        name=display,
        role=role_id,
        joined_at=now or _now(),
    )
    if not limited:
        store.add_participant(record)
    else:
        cap = max_participants(store, workshop.code)
        since = record.joined_at - JOIN_WINDOW
        if not store.add_participant_within(record, cap, since, JOINS_PER_MINUTE):
            raise _join_refusal(store, workshop.code, cap)
    return Joined(token=token, participant=record)


def _join_refusal(store: WorkshopStore, code: str, cap: int) -> DiagnosticsError:
    if store.count_participants(code) >= cap:
        return DiagnosticsError(
            f"This workshop is full: it takes at most {cap:,} participants.",
            "Ask your facilitator to raise the limit, then join again.",
        )
    return DiagnosticsError(
        "Too many people joined this workshop in the last minute.",
        "Wait a minute, then press the button again: your answers have not started yet.",
    )


def max_participants(store: WorkshopStore, code: str) -> int:
    """Return how many participants a workshop takes at most (the facilitator's cap)."""
    raw = store.list_settings(code).get("max_participants", "")
    return min(MAX_CAP, int(raw)) if raw.isdigit() and int(raw) > 0 else DEFAULT_CAP


def set_max_participants(
    store: WorkshopStore, raw_code: object, key: str, value: int, now: datetime | None = None
) -> int:
    """Return the new cap on participants after setting it (facilitator key required).

    Raises DiagnosticsError outside 1 to ``MAX_CAP``. A cap below the number already joined keeps
    everyone in and lets nobody else join.
    """
    workshop = authorise(store, raw_code, key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAP:
        raise DiagnosticsError(
            f"The most participants must be a whole number from 1 to {MAX_CAP:,}.",
        )
    store.set_setting(workshop.code, "max_participants", str(value), now or _now())
    return value


def resume(store: WorkshopStore, raw_code: object, token: object) -> ParticipantRecord | None:
    """Return the participant a device token belongs to in this workshop, or None."""
    code = normalise_code(raw_code)
    if code is None or not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    return store.get_participant(code, hash_secret(token))


def _validated_value(content: Content, question_id: str, value: object) -> tuple[str, str]:
    """Return (instrument, stored text) for an answer; raise DiagnosticsError when invalid."""
    statement = content.statement(question_id)
    if statement is not None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise DiagnosticsError(f"“{value}” is not a level for {question_id}.")
        text = str(value).strip()
        if text.lower() in _NOT_APPLICABLE_TEXTS:
            return MAKE_YOUR_NUMBER, NOT_APPLICABLE
        if not re.fullmatch(r"\d+(\.0+)?", text) or int(float(text)) not in statement.levels:
            raise DiagnosticsError(
                f"“{value}” is not a level for {question_id}.",
                f"Levels: {', '.join(map(str, statement.levels))}, or n/a for not applicable.",
            )
        return MAKE_YOUR_NUMBER, str(int(float(text)))
    choice = content.choice(question_id)
    if choice is not None:
        wanted = str(value).strip().lower()
        for option_id, label in choice.options:
            if wanted in (option_id.lower(), label.strip().lower()):
                return LEADERSHIP, option_id
        raise DiagnosticsError(
            f"“{value}” is not an option of {question_id}.",
            f"Options: {', '.join(o for o, _ in choice.options)}.",
        )
    raise DiagnosticsError(f"Unknown question “{question_id}”.")


def answer(
    store: WorkshopStore,
    content: Content,
    raw_code: object,
    token: str,
    question_id: str,
    value: int | str | None,
    now: datetime | None = None,
) -> None:
    """Save (or clear, with ``None``) one answer; raise DiagnosticsError when it is refused."""
    code = _parse_code(raw_code)
    given = token if isinstance(token, str) else ""
    record, participant = store.get_workshop_with_participant(code, hash_secret(given))
    if record is None:
        raise _unknown(code)
    workshop = _public(record)
    _refuse_if_closed(workshop)
    if participant is None:
        raise DiagnosticsError("You have not joined this workshop yet.", "Join it first.")
    if question_id not in content.question_ids(workshop.instruments):
        raise DiagnosticsError(f"Question “{question_id}” is not part of this workshop.")
    if value is None:
        instrument = MAKE_YOUR_NUMBER if content.statement(question_id) else LEADERSHIP
        store.delete_answer(workshop.code, participant.participant_id, instrument, question_id)
        return
    instrument, text = _validated_value(content, question_id, value)
    store.save_answer(
        AnswerRecord(
            workshop_code=workshop.code,
            participant_id=participant.participant_id,
            instrument=instrument,
            question_id=question_id,
            value=text,
            answered_at=now or _now(),
        )
    )


def participant_answers(
    store: WorkshopStore, raw_code: object, token: str
) -> dict[str, int | str]:
    """Return one participant's saved answers by question id.

    Levels come back as int, ``"na"`` for not applicable, leadership options as their id; votes
    on the plan are left out (see ``participant_votes``).
    """
    participant = resume(store, raw_code, token)
    if participant is None:
        return {}
    return {
        a.question_id: _stored_value(a)
        for a in store.list_answers(participant.workshop_code, participant.participant_id)
        if a.instrument in INSTRUMENTS
    }


def _stored_value(record: AnswerRecord) -> int | str:
    if record.instrument == MAKE_YOUR_NUMBER and record.value != NOT_APPLICABLE:
        return int(record.value)
    return record.value


def min_group(store: WorkshopStore, code: str) -> int:
    """Return the smallest group a per-role result is shown for in this workshop."""
    raw = store.list_settings(code).get("min_group", "")
    return max(MIN_GROUP, int(raw)) if raw.isdigit() else MIN_GROUP


def set_min_group(
    store: WorkshopStore, raw_code: object, key: str, value: int, now: datetime | None = None
) -> int:
    """Return the new smallest shown group after setting it (facilitator key required).

    Raises DiagnosticsError below the default of three or above twenty.
    """
    workshop = authorise(store, raw_code, key)
    if isinstance(value, bool) or not isinstance(value, int) or not (
        MIN_GROUP <= value <= MAX_MIN_GROUP
    ):
        raise DiagnosticsError(
            f"The smallest group must be a whole number from {MIN_GROUP} to {MAX_MIN_GROUP}.",
            f"Fewer than {MIN_GROUP} people would let the room single someone out.",
        )
    store.set_setting(workshop.code, "min_group", str(value), now or _now())
    return value
