"""What the two instruments ask, reduced to what a workshop needs, with their scoring functions."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnostics.errors import DiagnosticsError

MAKE_YOUR_NUMBER = "make_your_number"
LEADERSHIP = "leadership"
INSTRUMENTS: dict[str, str] = {
    MAKE_YOUR_NUMBER: "Make your number",
    LEADERSHIP: "Leadership model",
}
# A statement answered "Not applicable / don't know" is stored as this value: it counts as
# answered for the person, and the scores leave it out (never as a low answer).
NOT_APPLICABLE = "na"
NOT_APPLICABLE_LABEL = "Not applicable / don't know"


@dataclass(frozen=True)
class Statement:
    """A make-your-number statement: answered with a level number."""

    id: str
    dimension: str
    text: str
    levels: tuple[int, ...]
    anchors: tuple[str, ...] = ()  # what each level means, in the order of ``levels``
    action: str = ""  # what to do when the room rates it low (a candidate for the plan)

    def level_text(self, level: int | str) -> str:
        """Return ``"3 · anchor text"`` for a level (just the number when there is no anchor)."""
        if level == NOT_APPLICABLE:
            return NOT_APPLICABLE_LABEL
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

    verdict: str  # likely / at_risk / unlikely, or cannot_tell (the numbers cannot settle it)
    label: str  # as shown to people
    score: float | None
    band: str | None
    binding_constraint: str | None
    decided_by: str = "score"  # score, or the numbers check (coverage, capacity) that decided
    unanswered_dimensions: tuple[str, ...] = ()  # dimension names nobody rated
    actions: tuple[str, ...] = ()  # question ids of the statements that would move it most
    title: str = ""  # the headline ("Cannot tell: likely or at risk to make the number")
    # With no verdict ("cannot_tell"): which check cannot tell and what the answers alone say.
    reason: str = ""

    @property
    def headline(self) -> str:
        """Return the headline shown for it ("Likely to make the number")."""
        return self.title or f"{self.label} to make the number"


@dataclass(frozen=True)
class Content:
    """Both instruments reduced to what a workshop needs, with their scoring functions."""

    statements: tuple[Statement, ...]
    dimensions: dict[str, str]  # dimension id -> name, in display order
    choices: tuple[Choice, ...]
    # (mean answer per statement, the data's numbers or None) -> verdict
    score: Callable[[Mapping[str, float | None], Mapping[str, float] | None], TeamVerdict]
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
            action=q.action,
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

    def score(
        answers: Mapping[str, float | None], numbers: Mapping[str, float] | None = None
    ) -> TeamVerdict:
        result = questionnaire.score_answers(bank, answers, numbers)
        constraint = result.binding_constraint
        return TeamVerdict(
            verdict=str(result.verdict),
            label=result.verdict_label,
            score=float(result.score),
            band=result.band_label,
            binding_constraint=None if constraint is None else constraint.name,
            decided_by=str(result.decided_by),
            unanswered_dimensions=tuple(d.name for d in result.dimensions if d.score is None),
            actions=tuple(a.question_id for a in result.actions),
            title=result.title,
            reason=result.decided_text if result.verdict == "cannot_tell" else "",
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

