"""Workshops: a room answers the questionnaires; the facilitator sees the team and its gaps.

The lifecycle (create, join, answer, close, reopen), the facilitator's summary (team verdict and
score, each dimension's mean and spread, the role × dimension perception-gap matrix, the statements
with the widest disagreement, leadership-model fit by role), CSV import with a per-row report and
exports. Storage goes through ``diagnostics.workshop_store.WorkshopStore``.

How team numbers are computed (the app's own rules, shown to users):
- a participant's dimension score is the mean of their answers in that dimension;
- a dimension's team mean and spread are the mean and the population standard deviation of those
  participant scores;
- a role's cell in the gap matrix is the mean of its participants' dimension scores; its *gap* is
  that mean minus the team mean; a dimension's perception gap is the highest role mean minus the
  lowest;
- the team verdict scores the mean answer of each statement (the questionnaire accepts fractional
  answers), so it reads like one respondent answering for the room; each role's verdict likewise;
- leadership-model fit by role is the mean of each participant's fit.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import math
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import fmean, pstdev
from typing import Any

import pandas as pd

from diagnostics.errors import DiagnosticsError
from diagnostics.report import BarRow, ReportSection, build_report_html, build_report_pdf
from diagnostics.workshop_store import (
    AnswerRecord,
    ParticipantRecord,
    WorkshopRecord,
    WorkshopStore,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "INSTRUMENTS",
    "LEADERSHIP",
    "MAKE_YOUR_NUMBER",
    "ROLES",
    "Choice",
    "Content",
    "CreatedWorkshop",
    "DimensionStat",
    "GapCell",
    "ImportReport",
    "Joined",
    "ParticipantProgress",
    "RoleResult",
    "Statement",
    "StatementGap",
    "TeamVerdict",
    "Workshop",
    "WorkshopSummary",
    "answer",
    "authorise",
    "close_workshop",
    "create_workshop",
    "export_frame",
    "export_records",
    "format_code",
    "get_workshop",
    "hash_secret",
    "import_responses",
    "join_workshop",
    "load_content",
    "match_role",
    "normalise_code",
    "facilitator_path",
    "participant_answers",
    "participant_path",
    "qr_png",
    "reopen_workshop",
    "report_html",
    "report_pdf",
    "report_sections",
    "resume",
    "role_label",
    "summarise",
    "summarise_answers",
]

MAKE_YOUR_NUMBER = "make_your_number"
LEADERSHIP = "leadership"
INSTRUMENTS: dict[str, str] = {
    MAKE_YOUR_NUMBER: "Make your number",
    LEADERSHIP: "Leadership model",
}

ROLES: dict[str, str] = {
    "sales": "Sales",
    "sales_ops": "Sales ops",
    "marketing": "Marketing",
    "customer_success": "Customer success",
    "finance": "Finance",
    "executive": "Executive",
}

# No 0/O, 1/I/L: a code read off a projector is typed without ambiguity. 31 symbols ** 8 is
# about 8.5e11 codes, so guessing a live one by trying is not practical.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_NAME = 60
MAX_TEXT = 120
WIDEST_LIMIT = 5
OPEN = "open"
CLOSED = "closed"
# Columns of an exported file that an import accepts and ignores.
_IGNORED_COLUMNS = {"participant", "joined_at", "answered"}


# -- content: what the two instruments ask ------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """A make-your-number statement: answered with a level number."""

    id: str
    dimension: str
    text: str
    levels: tuple[int, ...]
    anchors: tuple[str, ...] = ()  # what each level means, in the order of ``levels``

    def level_text(self, level: int) -> str:
        """Return ``"3 · anchor text"`` for a level (just the number when there is no anchor)."""
        i = self.levels.index(level) if level in self.levels else -1
        return f"{level} · {self.anchors[i]}" if 0 <= i < len(self.anchors) else str(level)


@dataclass(frozen=True)
class Choice:
    """A leadership-model question: answered with one option id."""

    id: str
    text: str
    options: tuple[tuple[str, str], ...]  # (option id, label)


@dataclass(frozen=True)
class TeamVerdict:
    """A verdict for a set of answers as the questionnaire scores it."""

    verdict: str  # likely / at_risk / unlikely
    label: str  # as shown to people
    score: float | None
    band: str | None
    binding_constraint: str | None


@dataclass(frozen=True)
class Content:
    """Both instruments reduced to what a workshop needs, with their scoring functions."""

    statements: tuple[Statement, ...]
    dimensions: dict[str, str]  # dimension id -> name, in display order
    choices: tuple[Choice, ...]
    score: Callable[[Mapping[str, float | None]], TeamVerdict]
    fit: Callable[[Mapping[str, str]], dict[str, float]]  # model id -> fit 0..100
    model_names: dict[str, str] = field(default_factory=dict)  # model id -> display name

    def model_name(self, model: str) -> str:
        """Return a leadership model's display name (its id when unknown)."""
        return self.model_names.get(model, model)

    _by_id: dict[str, Statement | Choice] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.statements})
        self._by_id.update({c.id: c for c in self.choices})

    def statement(self, question_id: str) -> Statement | None:
        """Return the statement with this id, or None."""
        found = self._by_id.get(question_id)
        return found if isinstance(found, Statement) else None

    def choice(self, question_id: str) -> Choice | None:
        """Return the leadership question with this id, or None."""
        found = self._by_id.get(question_id)
        return found if isinstance(found, Choice) else None

    def question_ids(self, instruments: Iterable[str]) -> list[str]:
        """Return every question id the given instruments ask, statements first."""
        chosen = set(instruments)
        ids = [s.id for s in self.statements] if MAKE_YOUR_NUMBER in chosen else []
        if LEADERSHIP in chosen:
            ids += [c.id for c in self.choices]
        return ids


def _level_values(levels: Any) -> tuple[int, ...]:
    values = [getattr(level, "value", None) for level in levels]
    if values and all(isinstance(v, int) for v in values):
        return tuple(int(v) for v in values if v is not None)
    return tuple(range(1, len(levels) + 1))


def load_content() -> Content:
    """Return both built-in instruments, read from the questionnaire and leadership modules."""
    from diagnostics import leadership, questionnaire

    bank = questionnaire.load_bank()
    statements = tuple(
        Statement(
            id=q.id,
            dimension=q.dimension,
            text=q.statement,
            levels=_level_values(q.levels),
            anchors=tuple(str(level) for level in q.levels),
        )
        for q in bank.questions
    )
    dimensions = {d.id: d.name for d in bank.dimensions}
    choices = tuple(
        Choice(id=q.id, text=q.text, options=tuple((o.id, o.label) for o in q.options))
        for q in leadership.load_questions()
    )
    clash = {s.id for s in statements} & {c.id for c in choices}
    if clash:
        raise DiagnosticsError(f"Question ids used by both instruments: {sorted(clash)}.")

    def score(answers: Mapping[str, float | None]) -> TeamVerdict:
        result = questionnaire.score_answers(bank, answers)
        constraint = result.binding_constraint
        return TeamVerdict(
            verdict=str(result.verdict),
            label=result.verdict_label,
            score=float(result.score),
            band=result.band_label,
            binding_constraint=None if constraint is None else constraint.name,
        )

    # A participant's answers rarely change between two dashboard refreshes, so fits are
    # remembered per answer set (bounded; the fit is a pure function of the answers).
    @functools.lru_cache(maxsize=8192)
    def cached_fit(answers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, float], ...]:
        fits = leadership.model_fits(dict(answers))
        return tuple((str(model), float(value)) for model, value in fits.items())

    def fit(answers: Mapping[str, str]) -> dict[str, float]:
        return dict(cached_fit(tuple(sorted(answers.items()))))

    names = {str(p.id): p.name for p in leadership.load_profiles() if p.id != "functional"}
    return Content(statements, dimensions, choices, score, fit, names)


# -- codes, keys, roles ---------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest of a key or participant token (only hashes are stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_code(raw: object) -> str | None:
    """Return a workshop code in canonical form (upper case, no spaces or dashes), or None."""
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    """Return a code split in two halves for reading aloud (``ABCD-EFGH``)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _normal_role_text(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def match_role(text: object) -> str | None:
    """Return the role id a label or id names (case-insensitive), or None."""
    if not isinstance(text, str):
        return None
    wanted = _normal_role_text(text)
    for role_id, label in ROLES.items():
        if wanted in (_normal_role_text(role_id), _normal_role_text(label)):
            return role_id
    return None


def role_label(role_id: str) -> str:
    """Return a role's display label (the id itself when unknown)."""
    return ROLES.get(role_id, role_id)


def qr_png(url: str, scale: int = 8) -> bytes:
    """Return a PNG of the QR code for ``url`` (for the projector)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def participant_path(code: str) -> str:
    """Return the app-relative link participants open (``/workshop?workshop=CODE``)."""
    return f"/workshop?workshop={code}"


def facilitator_path(code: str, key: str) -> str:
    """Return the app-relative facilitator link (keep it private: it holds the key)."""
    return f"/workshop?workshop={code}&key={key}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- lifecycle ------------------------------------------------------------------------------------


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
    store: WorkshopStore, raw_code: object, name: str, role: str, now: datetime | None = None
) -> Joined:
    """Return a new participant's token; raise DiagnosticsError for a bad code/role or closed."""
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
    store.add_participant(record)
    return Joined(token=token, participant=record)


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
        if not re.fullmatch(r"\d+(\.0+)?", text) or int(float(text)) not in statement.levels:
            raise DiagnosticsError(
                f"“{value}” is not a level for {question_id}.",
                f"Levels: {', '.join(map(str, statement.levels))}.",
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
    """Return one participant's saved answers (levels as int, options as id) by question id."""
    participant = resume(store, raw_code, token)
    if participant is None:
        return {}
    return {
        a.question_id: int(a.value) if a.instrument == MAKE_YOUR_NUMBER else a.value
        for a in store.list_answers(participant.workshop_code, participant.participant_id)
    }


# -- summary --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionStat:
    """A dimension's team mean and spread over participants' dimension scores."""

    id: str
    name: str
    mean: float | None
    spread: float | None
    participants: int
    role_gap: float | None  # highest role mean minus lowest


@dataclass(frozen=True)
class GapCell:
    """One role × dimension cell: the role's mean and its gap to the team mean."""

    role: str
    dimension: str
    mean: float | None
    gap: float | None
    participants: int


@dataclass(frozen=True)
class StatementGap:
    """A statement the room disagrees on: spread of answers and the role means' range."""

    question_id: str
    statement: str
    dimension: str
    mean: float
    spread: float
    answers: int
    role_gap: float | None
    lowest_role: str | None
    highest_role: str | None


@dataclass(frozen=True)
class ParticipantProgress:
    """How far one participant got (name kept for the facilitator; reveal mode hides it)."""

    number: int
    name: str
    role: str
    answered: int
    total: int

    def label(self, reveal: bool) -> str:
        """Return the name, or ``Participant N`` in reveal (projector) mode."""
        return f"Participant {self.number}" if reveal else self.name


@dataclass(frozen=True)
class RoleResult:
    """One role's responses, questionnaire verdict and leadership fit."""

    role: str
    responses: int
    verdict: TeamVerdict | None
    fit: dict[str, float]


@dataclass(frozen=True)
class WorkshopSummary:
    """Everything the facilitator dashboard, report and ``summary`` command show."""

    workshop: Workshop
    joined: int
    responses: int
    by_role: dict[str, int]
    progress: list[ParticipantProgress]
    verdict: TeamVerdict | None
    dimensions: list[DimensionStat]
    gaps: list[GapCell]
    widest: list[StatementGap]
    roles: list[RoleResult]
    leadership_team: dict[str, float] = field(default_factory=dict)

    @property
    def recommended_model(self) -> str | None:
        """Return the model with the highest mean fit over the room, or None."""
        if not self.leadership_team:
            return None
        return max(self.leadership_team, key=lambda m: self.leadership_team[m])

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (undefined numbers as null, never NaN)."""
        verdict = None if self.verdict is None else _verdict_json(self.verdict)
        return {
            "code": self.workshop.code,
            "client": self.workshop.client,
            "title": self.workshop.title,
            "status": self.workshop.status,
            "instruments": list(self.workshop.instruments),
            "joined": self.joined,
            "responses": self.responses,
            "by_role": self.by_role,
            "verdict": verdict,
            "dimensions": [
                {"id": d.id, "name": d.name, "mean": _num(d.mean), "spread": _num(d.spread),
                 "participants": d.participants, "role_gap": _num(d.role_gap)}
                for d in self.dimensions
            ],
            "gaps": [
                {"role": g.role, "dimension": g.dimension, "mean": _num(g.mean),
                 "gap": _num(g.gap), "participants": g.participants}
                for g in self.gaps
            ],
            "widest_gaps": [
                {"question_id": w.question_id, "statement": w.statement,
                 "dimension": w.dimension, "mean": _num(w.mean), "spread": _num(w.spread),
                 "answers": w.answers, "role_gap": _num(w.role_gap),
                 "lowest_role": w.lowest_role, "highest_role": w.highest_role}
                for w in self.widest
            ],
            "roles": [
                {"role": r.role, "responses": r.responses,
                 "verdict": None if r.verdict is None else _verdict_json(r.verdict),
                 "leadership_fit": {m: _num(v) for m, v in r.fit.items()}}
                for r in self.roles
            ],
            "leadership_fit": {m: _num(v) for m, v in self.leadership_team.items()},
            "recommended_model": self.recommended_model,
        }


def _num(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 3)


def _verdict_json(verdict: TeamVerdict) -> dict[str, Any]:
    return {"verdict": verdict.verdict, "label": verdict.label, "score": _num(verdict.score),
            "band": verdict.band,
            "binding_constraint": verdict.binding_constraint}


def _mean_or_none(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def _range_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) - min(present) if len(present) >= 2 else None


def _team_answers(per_participant: Iterable[Mapping[str, int]]) -> dict[str, float | None]:
    """Return the mean answer of each statement over the participants who answered it."""
    collected: dict[str, list[int]] = defaultdict(list)
    for answers in per_participant:
        for qid, value in answers.items():
            collected[qid].append(value)
    return {qid: fmean(values) for qid, values in collected.items()}


def summarise(
    store: WorkshopStore, content: Content, raw_code: object, key: str
) -> WorkshopSummary:
    """Return the facilitator summary of a workshop (key required); raise DiagnosticsError."""
    workshop = authorise(store, raw_code, key)
    participants = store.list_participants(workshop.code)
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    options: dict[str, dict[str, str]] = defaultdict(dict)
    for a in store.list_answers(workshop.code):
        if a.instrument == MAKE_YOUR_NUMBER and content.statement(a.question_id):
            levels[a.participant_id][a.question_id] = int(a.value)
        elif a.instrument == LEADERSHIP and content.choice(a.question_id):
            options[a.participant_id][a.question_id] = a.value
    return summarise_answers(workshop, content, participants, levels, options)


def summarise_answers(
    workshop: Workshop,
    content: Content,
    participants: Sequence[ParticipantRecord],
    levels: Mapping[str, Mapping[str, int]],
    options: Mapping[str, Mapping[str, str]],
) -> WorkshopSummary:
    """Return the summary of answers already read (participant id -> question id -> value)."""
    total = len(content.question_ids(workshop.instruments))
    role_of = {p.participant_id: p.role for p in participants}
    responding = [p for p in participants if levels.get(p.participant_id) or options.get(
        p.participant_id)]
    by_role: dict[str, int] = {}
    for p in responding:
        by_role[p.role] = by_role.get(p.role, 0) + 1
    progress = [
        ParticipantProgress(
            number=i,
            name=p.name,
            role=p.role,
            answered=len(levels.get(p.participant_id, {})) + len(options.get(p.participant_id, {})),
            total=total,
        )
        for i, p in enumerate(participants, start=1)
    ]
    roles_present = [r for r in ROLES if r in by_role]

    # Participant dimension scores: participant -> dimension -> mean of their answers there.
    dimension_of = {s.id: s.dimension for s in content.statements}
    scores: dict[str, dict[str, float]] = {}
    for pid, answers in levels.items():
        if pid not in role_of:
            continue
        grouped: dict[str, list[int]] = defaultdict(list)
        for qid, value in answers.items():
            grouped[dimension_of[qid]].append(value)
        scores[pid] = {dim: fmean(values) for dim, values in grouped.items()}

    dimensions: list[DimensionStat] = []
    gaps: list[GapCell] = []
    for dim_id, dim_name in content.dimensions.items():
        team = [s[dim_id] for s in scores.values() if dim_id in s]
        team_mean = _mean_or_none(team)
        role_means: dict[str, float | None] = {}
        for role in roles_present:
            values = [s[dim_id] for pid, s in scores.items() if role_of[pid] == role
                      and dim_id in s]
            role_means[role] = _mean_or_none(values)
            gaps.append(
                GapCell(
                    role=role,
                    dimension=dim_id,
                    mean=role_means[role],
                    gap=None if role_means[role] is None or team_mean is None
                    else role_means[role] - team_mean,  # type: ignore[operator]
                    participants=len(values),
                )
            )
        dimensions.append(
            DimensionStat(
                id=dim_id,
                name=dim_name,
                mean=team_mean,
                spread=pstdev(team) if team else None,
                participants=len(team),
                role_gap=_range_or_none(role_means.values()),
            )
        )

    widest = _widest_statements(content, levels, role_of)
    team_levels = [a for pid, a in levels.items() if a and pid in role_of]
    verdict = content.score(_team_answers(team_levels)) if team_levels else None

    fits: dict[str, dict[str, float]] = {
        pid: content.fit(dict(answers)) for pid, answers in options.items()
        if answers and pid in role_of
    }
    role_results = []
    for role in roles_present:
        members = [pid for pid, r in role_of.items() if r == role]
        member_levels = [levels[pid] for pid in members if levels.get(pid)]
        role_results.append(
            RoleResult(
                role=role,
                responses=by_role[role],
                verdict=content.score(_team_answers(member_levels)) if member_levels else None,
                fit=_mean_fit([fits[pid] for pid in members if pid in fits]),
            )
        )
    return WorkshopSummary(
        workshop=workshop,
        joined=len(participants),
        responses=len(responding),
        by_role=by_role,
        progress=progress,
        verdict=verdict,
        dimensions=dimensions,
        gaps=gaps,
        widest=widest,
        roles=role_results,
        leadership_team=_mean_fit(list(fits.values())),
    )


def _mean_fit(fits: Sequence[Mapping[str, float]]) -> dict[str, float]:
    models: dict[str, list[float]] = defaultdict(list)
    for fit in fits:
        for model, value in fit.items():
            models[model].append(value)
    return {model: fmean(values) for model, values in models.items()}


def _widest_statements(
    content: Content, levels: Mapping[str, Mapping[str, int]], role_of: Mapping[str, str]
) -> list[StatementGap]:
    """Return up to five statements with the largest spread (ties: larger role gap first)."""
    found: list[StatementGap] = []
    for statement in content.statements:
        answers = [(role_of[pid], a[statement.id]) for pid, a in levels.items()
                   if statement.id in a and pid in role_of]
        if len(answers) < 2:
            continue
        values = [v for _, v in answers]
        spread = pstdev(values)
        if spread == 0:
            continue
        by_role: dict[str, list[int]] = defaultdict(list)
        for role, value in answers:
            by_role[role].append(value)
        role_means = {role: fmean(v) for role, v in by_role.items()}
        low = min(role_means, key=lambda r: (role_means[r], r))
        high = max(role_means, key=lambda r: (role_means[r], r))
        has_gap = len(role_means) >= 2
        found.append(
            StatementGap(
                question_id=statement.id,
                statement=statement.text,
                dimension=content.dimensions.get(statement.dimension, statement.dimension),
                mean=fmean(values),
                spread=spread,
                answers=len(values),
                role_gap=role_means[high] - role_means[low] if has_gap else None,
                lowest_role=low if has_gap else None,
                highest_role=high if has_gap else None,
            )
        )
    found.sort(key=lambda g: (-g.spread, -(g.role_gap or 0.0), g.question_id))
    return found[:WIDEST_LIMIT]


# -- export and import ----------------------------------------------------------------------------


def export_frame(
    store: WorkshopStore, content: Content, raw_code: object, key: str, reveal: bool = False
) -> pd.DataFrame:
    """Return one row per participant (name, role, joined_at, one column per question id)."""
    workshop = authorise(store, raw_code, key)
    question_ids = content.question_ids(workshop.instruments)
    answers: dict[str, dict[str, str]] = defaultdict(dict)
    for a in store.list_answers(workshop.code):
        answers[a.participant_id][a.question_id] = a.value
    rows = []
    for i, p in enumerate(store.list_participants(workshop.code), start=1):
        row: dict[str, Any] = {
            "name": f"Participant {i}" if reveal else p.name,
            "role": role_label(p.role),
            "joined_at": p.joined_at.isoformat(timespec="seconds"),
        }
        for qid in question_ids:
            value = answers[p.participant_id].get(qid)
            statement = content.statement(qid)
            row[qid] = int(value) if value is not None and statement is not None else value
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["name", "role", "joined_at", *question_ids])
    for qid in question_ids:
        if content.statement(qid) is not None:
            frame[qid] = frame[qid].astype("Int64")
    return frame


def export_records(
    store: WorkshopStore, content: Content, raw_code: object, key: str
) -> list[dict[str, Any]]:
    """Return the export as JSON-ready records (missing answers as null)."""
    frame = export_frame(store, content, raw_code, key).astype(object)
    return [
        {str(k): _json_cell(v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _json_cell(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class ImportReport:
    """The outcome of an import: rows kept and, per rejected row, its line number and reason."""

    imported: int
    rejected: list[tuple[int, str]]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "imported": self.imported,
            "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected],
        }


def _read_csv(source: Path | bytes) -> pd.DataFrame:
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise DiagnosticsError("The responses file is empty: it cannot be read as CSV.")
    try:
        try:  # the delimiter is sniffed (spreadsheets in some locales write ";")
            return pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python"
            )
        except csv.Error:  # one column, nothing to sniff: plain commas
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DiagnosticsError(f"The responses file cannot be read as CSV ({exc}).") from exc


def import_responses(
    store: WorkshopStore,
    content: Content,
    raw_code: object,
    key: str,
    source: Path | bytes,
    now: datetime | None = None,
) -> ImportReport:
    """Return what was imported from a CSV (name, role, one column per question id).

    Valid rows become participants with their answers; invalid rows are reported with their
    line number (the header is line 1) and left out. Raises DiagnosticsError when the file as a
    whole cannot be used (unreadable, no role column, unknown columns, closed workshop).
    """
    workshop = authorise(store, raw_code, key)
    _refuse_if_closed(workshop)
    frame = _read_csv(source)
    columns = {str(c).strip().lower(): str(c) for c in frame.columns}
    if "role" not in columns:
        raise DiagnosticsError("The responses file has no “role” column.",
                               "Columns: name, role, then one column per question id.")
    known = {qid.lower(): qid for qid in content.question_ids(workshop.instruments)}
    unknown = sorted(c for c in columns if c not in known and c not in {"name", "role"}
                     and c not in _IGNORED_COLUMNS)
    if unknown:
        raise DiagnosticsError(
            f"Unknown columns in the responses file: {', '.join(unknown)}.",
            f"Question ids of this workshop: {', '.join(known.values())}.",
        )
    imported = 0
    rejected: list[tuple[int, str]] = []
    for line, row in enumerate(frame.to_dict(orient="records"), start=2):
        role_text = str(row[columns["role"]]).strip()
        role = match_role(role_text)
        if role is None:
            rejected.append((line, f"unknown role “{role_text}”"))
            continue
        values: dict[str, str] = {}
        problems: list[str] = []
        for lower, qid in known.items():
            cell = str(row.get(columns[lower], "")).strip() if lower in columns else ""
            if not cell:
                continue
            try:
                values[qid] = _validated_value(content, qid, cell)[1]
            except DiagnosticsError as exc:
                problems.append(exc.message)
        if problems:
            rejected.append((line, "; ".join(problems)))
            continue
        if not values:
            rejected.append((line, "no answers"))
            continue
        name = str(row.get(columns["name"], "")).strip() if "name" in columns else ""
        joined = join_workshop(store, workshop.code, name, role, now=now)
        for qid, value in values.items():
            store.save_answer(
                AnswerRecord(
                    workshop_code=workshop.code,
                    participant_id=joined.participant.participant_id,
                    instrument=MAKE_YOUR_NUMBER if content.statement(qid) else LEADERSHIP,
                    question_id=qid,
                    value=value,
                    answered_at=now or _now(),
                )
            )
        imported += 1
    return ImportReport(imported=imported, rejected=rejected)


# -- report ---------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def report_sections(summary: WorkshopSummary, content: Content) -> tuple[ReportSection, ...]:
    """Return the workshop report's sections (aggregates only: no participant names)."""
    room = ReportSection(
        title="The room",
        paragraphs=(
            f"{summary.responses} of {summary.joined} participants answered. Status: "
            f"{summary.workshop.status}.",
        ),
        bullets=tuple(f"{role_label(r)}: {n}" for r, n in summary.by_role.items()),
    )
    sections: list[ReportSection] = [room]
    if MAKE_YOUR_NUMBER in summary.workshop.instruments:
        v = summary.verdict
        verdict_text = (
            "No statement answered yet." if v is None else
            f"{v.label} to make the number: score {_fmt(v.score, '.0f')}/100"
            + (f" ({v.band})" if v.band else "")
            + (f"; binding constraint: {v.binding_constraint}." if v.binding_constraint else ".")
        )
        sections.append(ReportSection(
            title="Team verdict",
            paragraphs=(
                verdict_text,
                "The team verdict scores each statement's mean answer over the room.",
            ),
            bullets=tuple(
                f"{role_label(r.role)} ({r.responses}): {r.verdict.label}, "
                f"score {_fmt(r.verdict.score, '.0f')}"
                for r in summary.roles if r.verdict is not None
            ),
        ))
        sections.append(ReportSection(
            title="Dimensions (team mean on 1–5; spread = standard deviation)",
            bars=tuple(
                BarRow(label=f"{d.name} (spread {_fmt(d.spread, '.2f')})", value=d.mean,
                       max_value=5.0, highlight=d.role_gap is not None and d.role_gap >= 1.0)
                for d in summary.dimensions
            ),
        ))
        gap_lines = []
        for d in summary.dimensions:
            cells = [g for g in summary.gaps if g.dimension == d.id and g.mean is not None]
            if len(cells) < 2:
                continue
            low = min(cells, key=lambda g: g.mean or 0.0)
            high = max(cells, key=lambda g: g.mean or 0.0)
            gap_lines.append(
                f"{d.name}: {role_label(high.role)} {_fmt(high.mean)} vs "
                f"{role_label(low.role)} {_fmt(low.mean)} (gap {_fmt(d.role_gap)})"
            )
        sections.append(ReportSection(
            title="Perception gaps between roles",
            paragraphs=() if gap_lines else ("Fewer than two roles have answered.",),
            bullets=tuple(gap_lines),
        ))
        sections.append(ReportSection(
            title="Statements to discuss (widest disagreement)",
            paragraphs=() if summary.widest else ("No disagreement yet.",),
            bullets=tuple(
                f"“{w.statement}” mean {_fmt(w.mean)}, spread {_fmt(w.spread, '.2f')}"
                + (f"; {role_label(w.lowest_role)} lowest, {role_label(w.highest_role)} highest"
                   if w.lowest_role and w.highest_role else "")
                for w in summary.widest
            ),
        ))
    if LEADERSHIP in summary.workshop.instruments:
        best = summary.recommended_model
        sections.append(ReportSection(
            title="Leadership model fit (0–100, mean over participants)",
            paragraphs=(
                "No leadership question answered yet." if best is None else
                f"Best fit over the room: {content.model_name(best)}. Read it as a conversation "
                "starter, not a decision.",
            ),
            bullets=tuple(
                f"{role_label(r.role)}: " + ", ".join(
                    f"{content.model_name(m)} {v:.0f}" for m, v in r.fit.items())
                for r in summary.roles if r.fit
            ),
            bars=tuple(BarRow(label=content.model_name(m), value=v, highlight=m == best)
                       for m, v in summary.leadership_team.items()),
        ))
    return tuple(sections)


def report_html(summary: WorkshopSummary, content: Content) -> str:
    """Return the printable workshop report as self-contained HTML."""
    return build_report_html(
        None,
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
        extra_sections=report_sections(summary, content),
    )


def report_pdf(summary: WorkshopSummary, content: Content) -> bytes:
    """Return the printable workshop report as PDF bytes."""
    return build_report_pdf(
        None,
        title=f"Workshop: {summary.workshop.title}",
        subtitle=f"{summary.workshop.client} · code {format_code(summary.workshop.code)}",
        extra_sections=report_sections(summary, content),
    )
