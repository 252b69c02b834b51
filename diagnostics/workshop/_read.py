"""The facilitator summary read from the store: answers, plan, votes and the baseline's change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from diagnostics.workshop._change import baseline_code, compare
from diagnostics.workshop._content import (
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    NOT_APPLICABLE,
    Content,
    Statement,
)
from diagnostics.workshop._evidence import Evidence
from diagnostics.workshop._lifecycle import MIN_GROUP, Workshop, _public, authorise, get_workshop
from diagnostics.workshop._plan import candidate_actions, done_flags, read_plan, vote_tally
from diagnostics.workshop._roster import excluded_ids
from diagnostics.workshop._summary import WorkshopSummary, summarise_answers
from diagnostics.workshop_store import AnswerRecord, WorkshopStore


def _min_group(settings: Mapping[str, str]) -> int:
    raw = settings.get("min_group", "")
    return max(MIN_GROUP, int(raw)) if raw.isdigit() else MIN_GROUP


def _summary_of(
    store: WorkshopStore, content: Content, workshop: Workshop, min_group: int,
    numbers: Mapping[str, float] | None = None, excluded: set[str] | None = None,
) -> tuple[WorkshopSummary, list[AnswerRecord]]:
    """Return the summary and the answer records of the counted participants."""
    left_out = excluded if excluded is not None else excluded_ids(
        store.list_settings(workshop.code))
    participants = store.list_participants(workshop.code)
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    options: dict[str, dict[str, str]] = defaultdict(dict)
    not_applicable: dict[str, set[str]] = defaultdict(set)
    every = store.list_answers(workshop.code)
    # The summary leaves the excluded out itself (it still lists them with their progress); the
    # records returned (for the vote's tally) hold only the counted participants'.
    records = [a for a in every if a.participant_id not in left_out]
    for a in every:
        if a.instrument == MAKE_YOUR_NUMBER and content.statement(a.question_id):
            if a.value == NOT_APPLICABLE:
                not_applicable[a.participant_id].add(a.question_id)
            else:
                levels[a.participant_id][a.question_id] = int(a.value)
        elif a.instrument == LEADERSHIP and content.choice(a.question_id):
            options[a.participant_id][a.question_id] = a.value
    summary = summarise_answers(workshop, content, participants, levels, options,
                                not_applicable=not_applicable, min_group=min_group,
                                numbers=numbers, excluded=left_out)
    return summary, records


def summarise(
    store: WorkshopStore,
    content: Content,
    raw_code: object,
    key: str,
    numbers: Mapping[str, float] | None = None,
    evidence: Sequence[Evidence] = (),
) -> WorkshopSummary:
    """Return the facilitator summary of a workshop (key required); raise DiagnosticsError.

    ``numbers`` are the data's numbers (from a loaded CRM export) for the team verdict's checks
    and ``evidence`` what that data says beside the statements it can check.
    The summary carries the plan, and for a retake the change since its baseline workshop.
    """
    workshop = authorise(store, raw_code, key)
    settings = store.list_settings(workshop.code)
    min_group = _min_group(settings)
    excluded = excluded_ids(settings)
    summary, records = _summary_of(store, content, workshop, min_group, numbers, excluded)
    votes = vote_tally(records)  # the counted participants' only
    plan = read_plan(content, settings, votes)
    change = None
    earlier_code = baseline_code(settings)
    earlier_record = store.get_workshop(earlier_code) if earlier_code else None
    if earlier_record is not None:
        earlier = _public(earlier_record)
        earlier_settings = store.list_settings(earlier.code)
        # Both sides under the stricter setting: a role shown then and now, never one person.
        strict = max(min_group, _min_group(earlier_settings))
        before, before_records = _summary_of(store, content, earlier, strict)
        after = summary if strict == min_group else _summary_of(
            store, content, workshop, strict, numbers, excluded)[0]
        actions = read_plan(content, earlier_settings, vote_tally(before_records),
                            done_flags(settings))
        change = compare(before, after, actions)
    return replace(summary, plan=plan, baseline=change, evidence=tuple(evidence), votes=votes,
                   role_changes=store.count_role_changes(workshop.code))


def vote_candidates(store: WorkshopStore, content: Content, raw_code: object) -> list[Statement]:
    """Return the actions a participant may vote for: those of the lowest-rated statements.

    The means are the summary's: over the counted participants only, so a participant the
    facilitator left out moves nothing the room is offered. Anyone holding the code may ask: it
    reveals the order of the room's means, never a person's.
    """
    workshop = get_workshop(store, raw_code)
    counted = {p.participant_id for p in store.list_participants(workshop.code)}
    counted -= excluded_ids(store.list_settings(workshop.code))
    collected: dict[str, list[int]] = defaultdict(list)
    for a in store.list_answers(workshop.code):
        if (a.participant_id in counted and a.instrument == MAKE_YOUR_NUMBER
                and a.value != NOT_APPLICABLE and content.statement(a.question_id)):
            collected[a.question_id].append(int(a.value))
    means = {qid: sum(v) / len(v) for qid, v in collected.items()}
    return candidate_actions(content, means)
