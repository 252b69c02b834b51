"""A plan at the end: each participant votes for up to three actions; the facilitator turns the
top ones into a plan with an owner and a due date.

The candidate actions are the bank's actions for the statements the room rates lowest. Votes are
kept in the answer log (instrument ``plan_vote``, question ``vote:<statement id>``), plan items in
the workshop's settings (``plan:<statement id>``, a small JSON object), so the plan needs no table
of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._codes import hash_secret
from diagnostics.workshop._content import Content, Statement
from diagnostics.workshop._lifecycle import (
    MAX_NAME,
    _now,
    _parse_code,
    _public,
    _refuse_if_closed,
    _unknown,
    authorise,
)
from diagnostics.workshop_store import AnswerRecord, WorkshopStore

VOTE = "plan_vote"
MAX_VOTES = 3
CANDIDATES = 8  # actions offered to the vote: the lowest-rated statements' actions
_VOTE_PREFIX = "vote:"
_PLAN_PREFIX = "plan:"
_DONE_PREFIX = "done:"


@dataclass(frozen=True)
class PlanItem:
    """One action of the plan: what, who, by when, how many votes it got, and if it was done."""

    question_id: str
    action: str
    owner: str
    due: dt.date | None
    votes: int
    done: bool | None = None  # known once a later workshop looks back at this plan

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: action, owner, due (ISO date or null), votes (and done)."""
        out: dict[str, Any] = {
            "question_id": self.question_id, "action": self.action, "owner": self.owner,
            "due": self.due.isoformat() if self.due else None, "votes": self.votes,
        }
        if self.done is not None:
            out["done"] = self.done
        return out


def candidate_actions(
    content: Content, statement_means: Mapping[str, float], limit: int = CANDIDATES
) -> list[Statement]:
    """Return the statements whose actions the room may vote for: lowest room mean first."""
    rated = [s for s in content.statements if s.action and s.id in statement_means]
    rated.sort(key=lambda s: (statement_means[s.id], s.id))
    return rated[:limit]


def vote_tally(records: Iterable[AnswerRecord]) -> dict[str, int]:
    """Return votes per statement id from a workshop's answer records, most votes first."""
    tally: dict[str, int] = {}
    for record in records:
        if record.instrument == VOTE and record.question_id.startswith(_VOTE_PREFIX):
            qid = record.question_id[len(_VOTE_PREFIX):]
            tally[qid] = tally.get(qid, 0) + 1
    return dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))


def participant_votes(store: WorkshopStore, raw_code: object, token: str) -> set[str]:
    """Return the statement ids whose actions this participant voted for."""
    code = _parse_code(raw_code)
    pid = hash_secret(token if isinstance(token, str) else "")
    return {a.question_id[len(_VOTE_PREFIX):] for a in store.list_answers(code, pid)
            if a.instrument == VOTE}


def cast_vote(
    store: WorkshopStore,
    content: Content,
    raw_code: object,
    token: str,
    question_id: str,
    chosen: bool,
    now: dt.datetime | None = None,
) -> set[str]:
    """Return the participant's votes after adding (or withdrawing) one; raise DiagnosticsError.

    A participant has at most three votes; a fourth is refused until one is withdrawn.
    """
    code = _parse_code(raw_code)
    record, participant = store.get_workshop_with_participant(
        code, hash_secret(token if isinstance(token, str) else ""))
    if record is None:
        raise _unknown(code)
    workshop = _public(record)
    _refuse_if_closed(workshop)
    if participant is None:
        raise DiagnosticsError("You have not joined this workshop yet.", "Join it first.")
    statement = content.statement(question_id)
    if statement is None or not statement.action:
        raise DiagnosticsError(f"“{question_id}” is not an action of this workshop.")
    votes = participant_votes(store, code, token)
    if chosen and question_id not in votes and len(votes) >= MAX_VOTES:
        raise DiagnosticsError(f"You already chose {MAX_VOTES} actions.",
                               "Take one back to choose another.")
    if chosen:
        store.save_answer(AnswerRecord(code, participant.participant_id, VOTE,
                                       _VOTE_PREFIX + question_id, "1", now or _now()))
        votes.add(question_id)
    else:
        store.delete_answer(code, participant.participant_id, VOTE, _VOTE_PREFIX + question_id)
        votes.discard(question_id)
    return votes


def _parse_due(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DiagnosticsError(f"“{value}” is not a date.", "Write it as 2027-03-31.") from exc


def set_plan_item(
    store: WorkshopStore,
    content: Content,
    raw_code: object,
    key: str,
    question_id: str,
    owner: str,
    due: dt.date | str | None,
    now: dt.datetime | None = None,
) -> None:
    """Put an action in the plan with its owner and due date (facilitator key required)."""
    workshop = authorise(store, raw_code, key)
    statement = content.statement(question_id)
    if statement is None or not statement.action:
        raise DiagnosticsError(f"“{question_id}” is not an action of this workshop.")
    who = " ".join(str(owner or "").split())[:MAX_NAME]
    if not who:
        raise DiagnosticsError("The action has no owner.", "Name who will see it through.")
    when = _parse_due(due)
    value = json.dumps({"owner": who, "due": when.isoformat() if when else None})
    store.set_setting(workshop.code, _PLAN_PREFIX + question_id, value, now or _now())


def remove_plan_item(
    store: WorkshopStore, raw_code: object, key: str, question_id: str,
    now: dt.datetime | None = None,
) -> None:
    """Take an action out of the plan (facilitator key required)."""
    workshop = authorise(store, raw_code, key)
    store.set_setting(workshop.code, _PLAN_PREFIX + question_id, None, now or _now())


def read_plan(
    content: Content, settings: Mapping[str, str], tally: Mapping[str, int],
    done: Mapping[str, bool] | None = None,
) -> tuple[PlanItem, ...]:
    """Return the plan held in a workshop's settings, most-voted first."""
    items = []
    for name, raw in settings.items():
        if not name.startswith(_PLAN_PREFIX):
            continue
        qid = name[len(_PLAN_PREFIX):]
        statement = content.statement(qid)
        try:
            data = json.loads(raw)
            due = _parse_due(data.get("due"))
        except (ValueError, DiagnosticsError, AttributeError):
            continue  # a hand-edited row that does not parse is not part of the plan
        items.append(PlanItem(
            question_id=qid, action=statement.action if statement else qid,
            owner=str(data.get("owner", "")), due=due, votes=tally.get(qid, 0),
            done=None if done is None else done.get(qid, False),
        ))
    items.sort(key=lambda i: (-i.votes, i.due or dt.date.max, i.question_id))
    return tuple(items)


def done_flags(settings: Mapping[str, str]) -> dict[str, bool]:
    """Return, from a later workshop's settings, which earlier plan actions were done."""
    return {name[len(_DONE_PREFIX):]: value == "yes" for name, value in settings.items()
            if name.startswith(_DONE_PREFIX)}


def set_done(
    store: WorkshopStore, raw_code: object, key: str, question_id: str, done: bool,
    now: dt.datetime | None = None,
) -> None:
    """Record whether an action of the baseline's plan was done (the later workshop's key)."""
    workshop = authorise(store, raw_code, key)
    store.set_setting(workshop.code, _DONE_PREFIX + question_id, "yes" if done else "no",
                      now or _now())
