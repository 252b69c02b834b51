"""The facilitator's summary: team verdict, dimensions, role gaps, widest disagreement, fit.

Per-role numbers go through :mod:`diagnostics.workshop._groups`: a role with fewer people than the
workshop's smallest group is pooled with the other small roles or left out, and a cell resting on
fewer answers than that is not shown, so no result on the projector is one person's answers. Nor
can one be worked out from what is shown: beside each team number, the people outside the shown
groups' cells are none or at least the smallest group (``shown_groups``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean, pstdev
from typing import TYPE_CHECKING, Any

from diagnostics.workshop._codes import role_label
from diagnostics.workshop._content import Content, TeamVerdict
from diagnostics.workshop._groups import Grouping, group_roles, shown_groups
from diagnostics.workshop._lifecycle import MIN_GROUP, Workshop

if TYPE_CHECKING:  # only for annotations: these modules import this one
    from diagnostics.workshop._change import Change
    from diagnostics.workshop._evidence import Evidence
    from diagnostics.workshop._plan import PlanItem
from diagnostics.workshop_store import ParticipantRecord

WIDEST_LIMIT = 5
# Fewer statements than this share answered by anyone: the team verdict says it rests on little.
LOW_ANSWERED_SHARE = 0.5


@dataclass(frozen=True)
class DimensionStat:
    """A dimension's team mean and spread over participants' dimension scores."""

    id: str
    name: str
    mean: float | None
    spread: float | None
    participants: int
    role_gap: float | None  # highest group mean minus lowest (over the well-rated cells)
    gap_note: str = ""  # what the gap leaves out or compares unlike with unlike ("" when neither)


@dataclass(frozen=True)
class GapCell:
    """One group × dimension cell: the group's mean and its gap to the team mean."""

    role: str  # a role id, or "pooled" for the small roles shown together
    dimension: str
    mean: float | None
    gap: float | None
    participants: int
    label: str = ""
    answers: int = 0  # ratings the cell's people gave in the dimension
    possible: int = 0  # the cell's people times the dimension's statements

    @property
    def role_label(self) -> str:
        """Return the group's label as shown to people."""
        return self.label or role_label(self.role)

    @property
    def is_thin(self) -> bool:
        """True when the cell rests on fewer than half the ratings its people could give."""
        return self.answers < LOW_ANSWERED_SHARE * self.possible

    @property
    def mean_text(self) -> str:
        """Return the mean as shown: ``3.2``, starred when thin (``3.2*``), ``—`` when held back."""
        if self.mean is None:
            return "—"
        return f"{self.mean:.1f}" + ("*" if self.is_thin else "")


@dataclass(frozen=True)
class StatementGap:
    """A statement the room disagrees on: spread of answers and the group means' range."""

    question_id: str
    statement: str
    dimension: str
    mean: float
    spread: float
    answers: int
    role_gap: float | None
    lowest_role: str | None
    highest_role: str | None
    not_applicable: int = 0  # people who answered "not applicable / don't know"


@dataclass(frozen=True)
class ParticipantProgress:
    """How far one participant got (name kept for the facilitator; reveal mode hides it)."""

    number: int
    name: str
    role: str
    answered: int  # statements and questions answered, "not applicable" included
    total: int
    not_applicable: int = 0
    counted: bool = True  # False once the facilitator left them out of the results

    def label(self, reveal: bool) -> str:
        """Return the name, or ``Participant N`` in reveal (projector) mode."""
        return f"Participant {self.number}" if reveal else self.name

    def counted_text(self) -> str:
        """Return ``"yes"``, or ``"no (left out)"`` for a participant the facilitator left out."""
        return "yes" if self.counted else "no (left out)"

    def answered_text(self) -> str:
        """Return ``"12 of 43"`` (with how many were "not applicable", when any)."""
        na = f" ({self.not_applicable} not applicable)" if self.not_applicable else ""
        return f"{self.answered} of {self.total}{na}"


@dataclass(frozen=True)
class RoleResult:
    """One group's responses, questionnaire verdict and leadership fit."""

    role: str  # a role id, or "pooled"
    responses: int
    verdict: TeamVerdict | None
    fit: dict[str, float]
    label: str = ""
    rated: int = 0  # statements its verdict rests on (rated by at least one of the group)

    @property
    def role_label(self) -> str:
        """Return the group's label as shown to people."""
        return self.label or role_label(self.role)


@dataclass(frozen=True)
class WorkshopSummary:
    """Everything the facilitator dashboard, report and ``summary`` command show."""

    workshop: Workshop
    joined: int  # every participant, counted or not
    responses: int  # counted participants with at least one answer
    by_role: dict[str, int]
    progress: list[ParticipantProgress]
    verdict: TeamVerdict | None
    dimensions: list[DimensionStat]
    gaps: list[GapCell]
    widest: list[StatementGap]
    roles: list[RoleResult]
    leadership_team: dict[str, float] = field(default_factory=dict)
    grouping: Grouping = field(default_factory=lambda: Grouping(MIN_GROUP, ()))
    verdict_notes: tuple[str, ...] = ()
    plan: tuple[PlanItem, ...] = ()
    baseline: Change | None = None
    evidence: tuple[Evidence, ...] = ()
    statement_means: dict[str, float] = field(default_factory=dict)  # over the whole room
    # Per statement: how many rated it and how many said "not applicable / don't know".
    statement_ratings: dict[str, int] = field(default_factory=dict)
    statement_not_applicable: dict[str, int] = field(default_factory=dict)
    not_counted: int = 0  # participants the facilitator left out of every result
    votes: dict[str, int] = field(default_factory=dict)  # the counted participants' votes
    statement_count: int = 0  # the statements of the questionnaire (a verdict rests on some)
    role_changes: int = 0  # times participants changed their own role (their answers moved)

    def role_changes_text(self) -> str:
        """Return what the facilitator is told of role changes ("" when there were none)."""
        n = self.role_changes
        if not n:
            return ""
        return (f"{n} role change{'s' if n != 1 else ''} by participants themselves: their answers "
                "moved with them, and every result by role is worked out from the roles as they "
                "are now.")

    def rests_on_text(self, role: RoleResult) -> str:
        """Return what a role's verdict rests on (``"12 of 20 statements"``), ``"—"`` if none."""
        if role.verdict is None:
            return "—"
        return f"{role.rated} of {self.statement_count} statements"

    def by_role_note(self, blank: str = "blank") -> str:
        """Return what the role × dimension means leave out and why, in the dashboard's words.

        ``blank`` says how a held-back mean looks where it is read (a blank heatmap cell, a —).
        """
        m = self.min_group
        if any(g.mean is not None for g in self.gaps):
            return ("A starred mean (3.2*) rests on fewer than half the ratings its people could "
                    f"give there: the gap between roles leaves it out. A cell is {blank} when "
                    f"fewer than {m} of the group rated the dimension, or when, beside the room's "
                    "mean, it would give such a cell away.")
        if self.grouping.covering:
            return ("Nothing is shown by role: beside the room's results, any role shown would "
                    f"give away the answers of a role with fewer than {m} people.")
        if self.grouping.groups:
            return (f"Nothing is shown by role: no group has {m} or more people who rated a "
                    "dimension, or, beside the room's mean, a group shown would give away the "
                    f"answers of fewer than {m} people.")
        return f"No role has {m} or more people who answered yet: nothing is shown by role."

    def roles_note(self) -> str:
        """Return why some groups have no verdict by role ("" when every group has one)."""
        held = [r.role_label for r in self.roles if r.verdict is None]
        if not held:
            return ""
        return (f"No verdict for {', '.join(held)}: fewer than {self.min_group} of "
                f"{'that group' if len(held) == 1 else 'each of those groups'} rated a "
                "statement, or, beside the room's verdict, it would give away the answers of "
                f"fewer than {self.min_group} people.")

    def rated_text(self, question_id: str) -> str:
        """Return ``"4 rated, 9 don't know"`` for a statement (the second part only when any)."""
        rated = self.statement_ratings.get(question_id, 0)
        na = self.statement_not_applicable.get(question_id, 0)
        return f"{rated} rated" + (f", {na} don't know" if na else "")

    @property
    def min_group(self) -> int:
        """Return the smallest group a per-role result is shown for."""
        return self.grouping.min_group

    @property
    def recommended_model(self) -> str | None:
        """Return the model with the highest mean fit over the room, or None."""
        if not self.leadership_team:
            return None
        return max(self.leadership_team, key=lambda m: self.leadership_team[m])

    def group_label(self, group_id: str | None) -> str:
        """Return the label of a group id used in gaps, roles and widest statements."""
        return self.grouping.label(group_id)

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
            "not_counted": self.not_counted,
            "role_changes": self.role_changes,
            "responses": self.responses,
            "by_role": self.by_role,
            "min_group": self.min_group,
            "pooled_roles": list(self.grouping.pooled),
            "left_out_roles": list(self.grouping.left_out),
            "verdict": verdict,
            "verdict_notes": list(self.verdict_notes),
            "dimensions": [
                {"id": d.id, "name": d.name, "mean": _num(d.mean), "spread": _num(d.spread),
                 "participants": d.participants, "role_gap": _num(d.role_gap),
                 "gap_note": d.gap_note}
                for d in self.dimensions
            ],
            "gaps": [
                {"role": g.role, "label": g.role_label, "dimension": g.dimension,
                 "mean": _num(g.mean), "gap": _num(g.gap), "participants": g.participants,
                 "answers": g.answers, "possible": g.possible}
                for g in self.gaps
            ],
            "widest_gaps": [
                {"question_id": w.question_id, "statement": w.statement,
                 "dimension": w.dimension, "mean": _num(w.mean), "spread": _num(w.spread),
                 "answers": w.answers, "not_applicable": w.not_applicable,
                 "role_gap": _num(w.role_gap),
                 "lowest_role": w.lowest_role, "highest_role": w.highest_role}
                for w in self.widest
            ],
            "roles": [
                {"role": r.role, "label": r.role_label, "responses": r.responses,
                 "verdict": None if r.verdict is None else _verdict_json(r.verdict),
                 "statements_rated": r.rated,
                 "leadership_fit": {m: _num(v) for m, v in r.fit.items()}}
                for r in self.roles
            ],
            "leadership_fit": {m: _num(v) for m, v in self.leadership_team.items()},
            "recommended_model": self.recommended_model,
            "plan": [item.to_json() for item in self.plan],
            "votes": self.votes,
            "baseline": None if self.baseline is None else self.baseline.to_json(),
            "evidence": [e.to_json() for e in self.evidence],
            "statements": [
                {"question_id": q, "mean": _num(self.statement_means.get(q)),
                 "rated": self.statement_ratings.get(q, 0),
                 "not_applicable": self.statement_not_applicable.get(q, 0)}
                for q in sorted(set(self.statement_ratings) | set(self.statement_not_applicable))
            ],
        }


def _num(value: float | None) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 3)


def _verdict_json(verdict: TeamVerdict) -> dict[str, Any]:
    return {"verdict": verdict.verdict, "label": verdict.label, "score": _num(verdict.score),
            "band": verdict.band, "binding_constraint": verdict.binding_constraint,
            "decided_by": verdict.decided_by, "title": verdict.headline,
            "unanswered_dimensions": list(verdict.unanswered_dimensions)}


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


def _mean_fit(fits: Sequence[Mapping[str, float]]) -> dict[str, float]:
    models: dict[str, list[float]] = defaultdict(list)
    for fit in fits:
        for model, value in fit.items():
            models[model].append(value)
    return {model: fmean(values) for model, values in models.items()}


def _progress(
    participants: Sequence[ParticipantRecord],
    levels: Mapping[str, Mapping[str, int]],
    options: Mapping[str, Mapping[str, str]],
    not_applicable: Mapping[str, set[str]],
    total: int,
    excluded: set[str],
) -> list[ParticipantProgress]:
    rows = []
    for i, p in enumerate(participants, start=1):
        na = len(not_applicable.get(p.participant_id, ()))
        answered = (len(levels.get(p.participant_id, {})) + len(options.get(p.participant_id, {}))
                    + na)
        rows.append(ParticipantProgress(i, p.name, p.role, answered, total, na,
                                        counted=p.participant_id not in excluded))
    return rows


def _dimension_scores(
    content: Content, levels: Mapping[str, Mapping[str, int]], role_of: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """Return participant -> dimension -> the mean of their answers there."""
    dimension_of = {s.id: s.dimension for s in content.statements}
    scores: dict[str, dict[str, float]] = {}
    for pid, answers in levels.items():
        if pid not in role_of:
            continue
        grouped: dict[str, list[int]] = defaultdict(list)
        for qid, value in answers.items():
            grouped[dimension_of[qid]].append(value)
        scores[pid] = {dim: fmean(values) for dim, values in grouped.items()}
    return scores


def _gap_note(
    dim_statements: Sequence[str], thin: Sequence[GapCell], rated: Mapping[str, set[str]],
    labels: Mapping[str, str],
) -> str:
    """Return what a dimension's gap between roles leaves out or compares unlike ("" if neither)."""
    parts = []
    if thin:
        parts.append("Leaves out " + ", ".join(
            f"{c.role_label} ({c.answers} of {c.possible} possible ratings)" for c in thin
        ) + ": fewer than half rated.")
    if len({frozenset(r) for r in rated.values()}) > 1:
        parts.append("The roles rated different statements: " + ", ".join(
            f"{labels[g]} {len(r)} of {len(dim_statements)}" for g, r in rated.items()) + ".")
    return " ".join(parts)


def _dimensions_and_gaps(
    content: Content,
    scores: Mapping[str, Mapping[str, float]],
    levels: Mapping[str, Mapping[str, int]],
    group_of: Mapping[str, str],
    grouping: Grouping,
) -> tuple[list[DimensionStat], list[GapCell]]:
    dimensions: list[DimensionStat] = []
    gaps: list[GapCell] = []
    labels = {g.id: g.label for g in grouping.groups}
    for dim_id, dim_name in content.dimensions.items():
        dim_statements = [q.id for q in content.statements if q.dimension == dim_id]
        team = [s[dim_id] for s in scores.values() if dim_id in s]
        team_mean = _mean_or_none(team)
        members = {group.id: [pid for pid, s in scores.items()
                              if group_of.get(pid) == group.id and dim_id in s]
                   for group in grouping.groups}
        # A cell resting on too few answers is not shown, nor one that beside the team's mean
        # would give such a cell away.
        shown = shown_groups({g: len(v) for g, v in members.items()}, len(team),
                             grouping.min_group)
        gap_means: dict[str, float] = {}  # the shown cells the gap between roles compares
        rated: dict[str, set[str]] = {}
        thin: list[GapCell] = []
        for group in grouping.groups:
            pids = members[group.id]
            mean = _mean_or_none([scores[pid][dim_id] for pid in pids]) if group.id in shown \
                else None
            answered = [q for pid in pids for q in levels[pid] if q in dim_statements]
            cell = GapCell(
                role=group.id, dimension=dim_id, mean=mean,
                gap=None if mean is None or team_mean is None else mean - team_mean,
                participants=len(pids), label=group.label,
                answers=len(answered), possible=len(pids) * len(dim_statements),
            )
            gaps.append(cell)
            if mean is None:
                continue
            if cell.is_thin:  # its mean rests on a few of its people's ratings
                thin.append(cell)
            else:
                gap_means[group.id] = mean
                rated[group.id] = set(answered)
        dimensions.append(DimensionStat(
            id=dim_id, name=dim_name, mean=team_mean,
            spread=pstdev(team) if team else None, participants=len(team),
            role_gap=_range_or_none(gap_means.values()),
            gap_note=_gap_note(dim_statements, thin, rated if len(rated) >= 2 else {}, labels),
        ))
    return dimensions, gaps


def _verdict_notes(
    content: Content, verdict: TeamVerdict | None, rated_by: int, min_group: int,
    team_answers: Mapping[str, float | None], numbers: Mapping[str, float] | None,
    ratings: Mapping[str, int], not_applicable: Mapping[str, int],
) -> tuple[str, ...]:
    """Return what the team verdict rests on, when that is little (few people, few answers)."""
    if verdict is None:
        return ()
    notes = []
    if rated_by < min_group:
        notes.append(f"It rests on {rated_by} {'person' if rated_by == 1 else 'people'}'s "
                     f"answers, fewer than {min_group}: read it as a first impression.")
    total = len(content.statements)
    share = len(team_answers) / total if total else 0.0
    if share < LOW_ANSWERED_SHARE:
        notes.append(f"Only {len(team_answers)} of {total} statements have a rating: the score "
                     "rests on few answers.")
    if verdict.unanswered_dimensions:
        notes.append("Nobody rated " + ", ".join(verdict.unanswered_dimensions)
                     + ": the score leaves " + ("it" if len(verdict.unanswered_dimensions) == 1
                                                else "them") + " out.")
    unsure = [s.text for s in content.statements
              if not_applicable.get(s.id, 0) > ratings.get(s.id, 0) and ratings.get(s.id, 0)]
    if unsure:
        notes.append(
            f"Mostly “don't know” ({len(unsure)} statement{'s' if len(unsure) != 1 else ''}: "
            + "; ".join(unsure) + "): more people said they don't know than rated "
            + ("it" if len(unsure) == 1 else "them") + ", and the score counts only the ratings."
        )
    if numbers:
        notes.append("The coverage and capacity checks use the numbers from the loaded data.")
    if verdict.reason:
        notes.append(f"No verdict: {verdict.reason}.")
    return tuple(notes)


def _widest_statements(
    content: Content,
    levels: Mapping[str, Mapping[str, int]],
    group_of: Mapping[str, str],
    members: Mapping[str, str],
    min_group: int,
    group_order: Sequence[str],
    not_applicable: Mapping[str, int],
) -> list[StatementGap]:
    """Return up to five statements with the largest spread (ties: larger group gap first).

    ``members`` maps every participant of the room to their role; ``group_of`` only those in a
    shown group. Group means rest on at least ``min_group`` answers.
    """
    found: list[StatementGap] = []
    for statement in content.statements:
        values = [a[statement.id] for pid, a in levels.items()
                  if statement.id in a and pid in members]
        if len(values) < 2 or pstdev(values) == 0:
            continue
        by_group: dict[str, list[int]] = {g: [] for g in group_order}
        for pid, a in levels.items():
            if statement.id in a and pid in group_of:
                by_group[group_of[pid]].append(a[statement.id])
        shown = shown_groups({g: len(v) for g, v in by_group.items()}, len(values), min_group)
        means = {g: fmean(v) for g, v in by_group.items() if g in shown}
        has_gap = len(means) >= 2
        low = min(means, key=lambda g: (means[g], g)) if has_gap else None
        high = max(means, key=lambda g: (means[g], g)) if has_gap else None
        found.append(StatementGap(
            question_id=statement.id, statement=statement.text,
            dimension=content.dimensions.get(statement.dimension, statement.dimension),
            mean=fmean(values), spread=pstdev(values), answers=len(values),
            role_gap=means[high] - means[low] if low and high else None,
            lowest_role=low, highest_role=high,
            not_applicable=not_applicable.get(statement.id, 0),
        ))
    found.sort(key=lambda g: (-g.spread, -(g.role_gap or 0.0), g.question_id))
    return found[:WIDEST_LIMIT]


def summarise_answers(
    workshop: Workshop,
    content: Content,
    participants: Sequence[ParticipantRecord],
    levels: Mapping[str, Mapping[str, int]],
    options: Mapping[str, Mapping[str, str]],
    *,
    not_applicable: Mapping[str, set[str]] | None = None,
    min_group: int = MIN_GROUP,
    numbers: Mapping[str, float] | None = None,
    excluded: set[str] | None = None,
) -> WorkshopSummary:
    """Return the summary of answers already read (participant id -> question id -> value).

    ``not_applicable`` holds, per participant, the statements they marked "not applicable";
    ``numbers`` are the data's numbers (coverage, capacity) the team verdict checks;
    ``excluded`` the participants left out of every result (still listed in the progress).
    """
    na = not_applicable or {}
    left_out = excluded or set()
    role_of = {p.participant_id: p.role for p in participants
               if p.participant_id not in left_out}
    responding = [p for p in participants if p.participant_id in role_of and (
        levels.get(p.participant_id) or options.get(p.participant_id) or na.get(p.participant_id))]
    by_role: dict[str, int] = {}
    for p in responding:
        by_role[p.role] = by_role.get(p.role, 0) + 1
    grouping = group_roles(by_role, min_group)
    group_of = {pid: g for pid, r in role_of.items() if (g := grouping.group_of(r)) is not None}

    scores = _dimension_scores(content, levels, role_of)
    dimensions, gaps = _dimensions_and_gaps(content, scores, levels, group_of, grouping)
    ratings: dict[str, int] = defaultdict(int)
    unsure: dict[str, int] = defaultdict(int)
    for pid in role_of:
        for qid in levels.get(pid, {}):
            ratings[qid] += 1
        for qid in na.get(pid, ()):
            unsure[qid] += 1
    team_levels = [a for pid, a in levels.items() if a and pid in role_of]
    team_answers = _team_answers(team_levels)
    verdict = content.score(team_answers, numbers) if team_levels else None

    fits: dict[str, dict[str, float]] = {
        pid: content.fit(dict(answers)) for pid, answers in options.items()
        if answers and pid in role_of
    }
    members = {g.id: [pid for pid, gid in group_of.items() if gid == g.id]
               for g in grouping.groups}
    member_levels = {g: [levels[pid] for pid in ids if levels.get(pid)]
                     for g, ids in members.items()}
    member_fits = {g: [fits[pid] for pid in ids if pid in fits] for g, ids in members.items()}
    with_verdict = shown_groups({g: len(v) for g, v in member_levels.items()}, len(team_levels),
                                grouping.min_group)
    with_fit = shown_groups({g: len(v) for g, v in member_fits.items()}, len(fits),
                            grouping.min_group)
    role_results = [
        RoleResult(
            role=group.id, responses=group.people,
            verdict=(content.score(_team_answers(member_levels[group.id]), None)
                     if group.id in with_verdict else None),
            fit=_mean_fit(member_fits[group.id]) if group.id in with_fit else {},
            label=group.label,
            rated=(len({q for a in member_levels[group.id] for q in a})
                   if group.id in with_verdict else 0),
        )
        for group in grouping.groups
    ]
    return WorkshopSummary(
        workshop=workshop,
        joined=len(participants),
        responses=len(responding),
        by_role=by_role,
        progress=_progress(participants, levels, options, na,
                           len(content.question_ids(workshop.instruments)), left_out),
        verdict=verdict,
        dimensions=dimensions,
        gaps=gaps,
        widest=_widest_statements(content, levels, group_of, role_of, grouping.min_group,
                                  [g.id for g in grouping.groups], unsure),
        roles=role_results,
        leadership_team=_mean_fit(list(fits.values())),
        grouping=grouping,
        verdict_notes=_verdict_notes(content, verdict, len(team_levels), grouping.min_group,
                                     team_answers, numbers, ratings, unsure),
        statement_means={q: v for q, v in team_answers.items() if v is not None},
        statement_ratings=dict(ratings),
        statement_not_applicable=dict(unsure),
        not_counted=sum(1 for p in participants if p.participant_id in left_out),
        statement_count=len(content.statements),
    )
