"""The facilitator's summary: team verdict, dimensions, role gaps, widest disagreement, fit."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean, pstdev
from typing import Any

from diagnostics.workshop._codes import (
    ROLES,
)
from diagnostics.workshop._content import (
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    Content,
    TeamVerdict,
)
from diagnostics.workshop._lifecycle import Workshop, authorise
from diagnostics.workshop_store import (
    ParticipantRecord,
    WorkshopStore,
)

WIDEST_LIMIT = 5


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
