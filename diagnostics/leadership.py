"""Leadership-model selector: fit of the Tsar, Federation and Chief of Staff models to a situation.

The model profiles, questions and per-model weights live in ``content/leadership.toml``. The
selection rule is the app's interpretation of a chapter that describes the models without saying
how to choose: each answered option adds an integer effect (-3..+3) to each model's raw score,
unanswered questions add nothing, and a model's fit is ``50 + 50 * raw / scale`` where ``scale``
is the largest raw score any model could reach in absolute value. Fits therefore lie in 0–100,
50 means "no evidence either way", and fits of different people are directly comparable (the
workshop averages them).
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diagnostics.errors import DiagnosticsError
from diagnostics.questionnaire import Bank, load_bank, score_answers
from diagnostics.report import BarRow, ReportSection

__all__ = [
    "CONTENT_PATH",
    "MODELS",
    "Driver",
    "FitResult",
    "Flip",
    "LeadershipContent",
    "ModelId",
    "Profile",
    "Question",
    "StructureNote",
    "describe_flip",
    "leadership_report_section",
    "load_content",
    "load_profiles",
    "load_questions",
    "model_fits",
    "model_name",
    "myn_structure_notes",
    "parse_answers",
    "questions_payload",
    "recommend_model",
    "structure_notes",
]

CONTENT_PATH = Path(__file__).resolve().parent / "content" / "leadership.toml"

ModelId = Literal["tsar", "federation", "chief_of_staff"]
ProfileId = Literal["functional", "tsar", "federation", "chief_of_staff"]
MODELS: tuple[ModelId, ...] = ("tsar", "federation", "chief_of_staff")

# The flip search tries every combination of up to this many changed answers; four keeps the
# worst case near 10^4 evaluations for ten questions while every realistic flip needs fewer.
_MAX_FLIP_CHANGES = 4

_Effect = Field(default=0, ge=-3, le=3)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Effects(_Strict):
    """How much one answer moves each model's raw score."""

    tsar: int = _Effect
    federation: int = _Effect
    chief_of_staff: int = _Effect

    def of(self, model: ModelId) -> int:
        """Return the effect on ``model``."""
        return cast(int, getattr(self, model))


class Option(_Strict):
    """One plain answer to a situational question."""

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    effects: Effects

    @model_validator(mode="after")
    def _moves_a_model(self) -> Option:
        if all(self.effects.of(m) == 0 for m in MODELS):
            raise ValueError(f"option {self.id!r} does not affect any model")
        return self


class Question(_Strict):
    """A situational question with its answer options."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    options: tuple[Option, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _unique_options(self) -> Question:
        ids = [o.id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"question {self.id!r} has duplicate option ids")
        return self

    def option(self, option_id: str) -> Option:
        """Return the option with ``option_id`` (KeyError when it does not exist)."""
        for opt in self.options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)


class Example(_Strict):
    """A company example the chapter gives for a model, summarised in the app's words."""

    company: str = Field(min_length=1)
    summary: str = Field(min_length=1)


class Profile(_Strict):
    """A leadership model (or today's functional baseline) described side by side."""

    id: ProfileId
    name: str
    tagline: str
    aligns_by: str
    org_chart: str
    disruption: str
    disruption_level: int = Field(ge=0, le=3)
    depends_on: str
    strengths: tuple[str, ...] = Field(min_length=1)
    risks: tuple[str, ...] = Field(min_length=1)
    guardrails: tuple[str, ...] = Field(min_length=1)
    examples_note: str = ""
    examples: tuple[Example, ...] = ()


class DimensionNotes(_Strict):
    """What a weak make-your-number dimension implies for the structure."""

    default: str
    weak_below: float = Field(default=60.0, gt=0, le=100)
    by_dimension: dict[str, str] = Field(default_factory=dict)


class LeadershipContent(_Strict):
    """Everything the selector reads from its content file."""

    interpretation: str
    caveat: str
    tie_break: tuple[ModelId, ...]
    close_call_points: float = Field(ge=0, le=50)
    profiles: tuple[Profile, ...]
    questions: tuple[Question, ...] = Field(min_length=8, max_length=12)
    dimension_notes: DimensionNotes

    @model_validator(mode="after")
    def _consistent(self) -> LeadershipContent:
        if sorted(self.tie_break) != sorted(MODELS):
            raise ValueError("tie_break must list each model exactly once")
        ids = [p.id for p in self.profiles]
        if sorted(ids) != sorted(("functional", *MODELS)):
            raise ValueError("profiles must be functional, tsar, federation and chief_of_staff")
        qids = [q.id for q in self.questions]
        if len(qids) != len(set(qids)):
            raise ValueError("question ids must be unique")
        for model in MODELS:
            if not any(o.effects.of(model) for q in self.questions for o in q.options):
                raise ValueError(f"no option affects {model!r}")
        return self

    def question(self, question_id: str) -> Question:
        """Return the question with ``question_id`` (KeyError when it does not exist)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def profile(self, profile_id: str) -> Profile:
        """Return the profile with ``profile_id`` (KeyError when it does not exist)."""
        for p in self.profiles:
            if p.id == profile_id:
                return p
        raise KeyError(profile_id)

    def scale(self) -> int:
        """Return the largest absolute raw score any model can reach (the fit's 0/100 bounds)."""
        return max(
            sum(max(abs(o.effects.of(m)) for o in q.options) for q in self.questions)
            for m in MODELS
        )


def _format_validation(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "file"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def load_content(path: Path | None = None) -> LeadershipContent:
    """Return the validated selector content; raise DiagnosticsError when the file is invalid."""
    if path is None:
        return _builtin_content()
    return _read_content(path)


@cache
def _builtin_content() -> LeadershipContent:
    return _read_content(CONTENT_PATH)


def _read_content(path: Path) -> LeadershipContent:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DiagnosticsError(f"Cannot read {path.name}: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DiagnosticsError(f"{path.name} is not valid TOML: {exc}.") from exc
    try:
        return LeadershipContent.model_validate(raw)
    except ValidationError as exc:
        raise DiagnosticsError(
            f"{path.name} is not a valid leadership content file: {_format_validation(exc)}."
        ) from exc


def load_questions() -> tuple[Question, ...]:
    """Return the situational questions, in the order they are asked."""
    return load_content().questions


def load_profiles() -> tuple[Profile, ...]:
    """Return the functional baseline and the three model profiles, baseline first."""
    return load_content().profiles


def model_name(model: str) -> str:
    """Return the display name of a model or profile id."""
    return load_content().profile(model).name


def questions_payload() -> dict[str, Any]:
    """Return ``{"questions": [{id, text, options: [{id, label}]}]}`` for the command line."""
    return {
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "options": [{"id": o.id, "label": o.label} for o in q.options],
            }
            for q in load_questions()
        ]
    }


def parse_answers(data: Any) -> dict[str, str]:
    """Return ``{question_id: option_id}`` from an answers file's content; null means unanswered.

    Raises:
        DiagnosticsError: the content is not ``{"answers": {...}}``, or names an unknown question
            or option.
    """
    if not isinstance(data, dict) or "answers" not in data:
        raise DiagnosticsError(
            'An answers file must be a JSON object with an "answers" key.',
            'Example: {"answers": {"leader_trust": "low"}}.',
        )
    answers = data["answers"]
    if answers is None:
        return {}
    if not isinstance(answers, dict):
        raise DiagnosticsError('"answers" must map question ids to option ids.')
    return _validated({k: v for k, v in answers.items() if v is not None})


def _validated(answers: Mapping[Any, Any]) -> dict[str, str]:
    content = load_content()
    known = [q.id for q in content.questions]
    clean: dict[str, str] = {}
    for qid, oid in answers.items():
        if qid not in known:
            raise DiagnosticsError(
                f"Unknown question {qid!r} in the answers.", f"Known questions: {', '.join(known)}."
            )
        question = content.question(qid)
        options = [o.id for o in question.options]
        if not isinstance(oid, str) or oid not in options:
            raise DiagnosticsError(
                f"Question {qid!r} has no option {oid!r}.", f"Choose one of: {', '.join(options)}."
            )
        clean[qid] = oid
    return clean


@dataclass(frozen=True)
class Driver:
    """One answer that pushed a model's fit up (positive effect) or down (negative)."""

    question: str
    answer: str
    effect: int
    question_text: str
    answer_label: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{question, answer, effect}`` (ids and the raw effect)."""
        return {"question": self.question, "answer": self.answer, "effect": self.effect}


@dataclass(frozen=True)
class Flip:
    """The smallest change of answers that makes another model the recommendation."""

    answers: dict[str, str]
    recommended: ModelId

    def to_dict(self) -> dict[str, Any]:
        """Return ``{answers, recommended}``."""
        return {"answers": dict(self.answers), "recommended": self.recommended}


@dataclass(frozen=True)
class FitResult:
    """Fit of each model (0–100, 50 = neutral), the recommendation, its drivers and its flip."""

    recommended: ModelId
    fit: dict[ModelId, float]
    drivers: dict[ModelId, tuple[Driver, ...]]
    flip: Flip | None
    flips: dict[ModelId, Flip | None]
    caveat: str
    answers: dict[str, str]
    answered: int
    total: int
    runner_up: ModelId
    margin: float
    is_close_call: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the command line's JSON payload: recommended, fit, drivers, flip, caveat."""
        return {
            "recommended": self.recommended,
            "fit": dict(self.fit),
            "drivers": {m: [d.to_dict() for d in ds] for m, ds in self.drivers.items()},
            "flip": None if self.flip is None else self.flip.to_dict(),
            "caveat": self.caveat,
        }


def _raw_scores(content: LeadershipContent, answers: Mapping[str, str]) -> dict[ModelId, int]:
    raw: dict[ModelId, int] = dict.fromkeys(MODELS, 0)
    for qid, oid in answers.items():
        effects = content.question(qid).option(oid).effects
        for m in MODELS:
            raw[m] += effects.of(m)
    return raw


def _winner(raw: Mapping[ModelId, int], tie_break: Sequence[ModelId]) -> ModelId:
    best = max(raw.values())
    return next(m for m in tie_break if raw[m] == best)


def _fit(raw: int, scale: int) -> float:
    return round(50.0 + 50.0 * raw / scale, 1)


def _drivers(
    content: LeadershipContent, answers: Mapping[str, str], model: ModelId
) -> tuple[Driver, ...]:
    found = []
    for q in content.questions:
        if q.id not in answers:
            continue
        opt = q.option(answers[q.id])
        effect = opt.effects.of(model)
        if effect:
            found.append(Driver(q.id, opt.id, effect, q.text, opt.label))
    return tuple(sorted(found, key=lambda d: -abs(d.effect)))


def _flips(
    content: LeadershipContent, answers: Mapping[str, str], current: ModelId
) -> dict[ModelId, Flip | None]:
    """Return, for each other model, the fewest answer changes that make it the recommendation.

    Among changes of equal size the one leaving the new model the widest lead wins; remaining
    ties go to the earlier questions, so the result is deterministic.
    """
    base = _raw_scores(content, answers)
    targets = [m for m in MODELS if m != current]
    best: dict[ModelId, tuple[int, dict[str, str]]] = {}
    # Per question: the raw-score delta of switching to each other option.
    alternatives: list[list[tuple[str, str, dict[ModelId, int]]]] = []
    for q in content.questions:
        now = q.option(answers[q.id]).effects if q.id in answers else None
        alts = []
        for opt in q.options:
            if q.id in answers and opt.id == answers[q.id]:
                continue
            delta = {m: opt.effects.of(m) - (now.of(m) if now else 0) for m in MODELS}
            alts.append((q.id, opt.id, delta))
        alternatives.append(alts)
    for size in range(1, min(_MAX_FLIP_CHANGES, len(alternatives)) + 1):
        this_size: dict[ModelId, tuple[int, dict[str, str]]] = {}
        for group in itertools.combinations(alternatives, size):
            for changes in itertools.product(*group):
                raw = {m: base[m] + sum(c[2][m] for c in changes) for m in MODELS}
                winner = _winner(raw, content.tie_break)
                if winner == current or winner in best:
                    continue
                lead = raw[winner] - max(raw[m] for m in MODELS if m != winner)
                if winner not in this_size or lead > this_size[winner][0]:
                    this_size[winner] = (lead, {c[0]: c[1] for c in changes})
        best.update(this_size)
        if all(t in best for t in targets):
            break
    return {t: Flip(best[t][1], t) if t in best else None for t in MODELS if t != current}


def model_fits(answers: Mapping[str, str]) -> dict[ModelId, float]:
    """Return each model's fit (0–100, 50 = neutral) without the drivers and the flip search.

    The cheap path for callers that only aggregate fits, such as a workshop averaging a room.

    Raises:
        DiagnosticsError: an answer names an unknown question or option.
    """
    content = load_content()
    raw = _raw_scores(content, _validated(answers))
    return {m: _fit(raw[m], content.scale()) for m in MODELS}


def recommend_model(answers: Mapping[str, str]) -> FitResult:
    """Return each model's fit to the answered situation, the recommendation and its flip.

    Raises:
        DiagnosticsError: an answer names an unknown question or option.
    """
    content = load_content()
    clean = _validated(answers)
    scale = content.scale()
    raw = _raw_scores(content, clean)
    recommended = _winner(raw, content.tie_break)
    fit = {m: _fit(raw[m], scale) for m in MODELS}
    others = [m for m in content.tie_break if m != recommended]
    runner_up = max(others, key=lambda m: (raw[m], -others.index(m)))
    margin = round(fit[recommended] - fit[runner_up], 1)
    flips = _flips(content, clean, recommended)
    reachable = [f for f in flips.values() if f is not None]
    order = content.tie_break
    flip = (
        min(reachable, key=lambda f: (len(f.answers), order.index(f.recommended)))
        if reachable
        else None
    )
    return FitResult(
        recommended=recommended,
        fit=fit,
        drivers={m: _drivers(content, clean, m) for m in MODELS},
        flip=flip,
        flips=flips,
        caveat=content.caveat,
        answers=clean,
        answered=len(clean),
        total=len(content.questions),
        runner_up=runner_up,
        margin=margin,
        is_close_call=margin < content.close_call_points,
    )


def describe_flip(flip: Flip) -> str:
    """Return a sentence saying which answers would have to change, and to what."""
    content = load_content()
    parts = []
    for qid, oid in flip.answers.items():
        q = content.question(qid)
        parts.append(f"“{q.text}” were answered “{q.option(oid).label}”")
    return f"If {' and '.join(parts)}, the fit would favour the {model_name(flip.recommended)}."


class ScoredDimension(Protocol):
    """A make-your-number dimension score as the questionnaire reports it."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def score(self) -> float | None: ...


@dataclass(frozen=True)
class StructureNote:
    """A weak make-your-number dimension and what it implies for the leadership structure."""

    dimension: str
    name: str
    score: float
    implication: str


def structure_notes(dimensions: Iterable[ScoredDimension], count: int = 2) -> list[StructureNote]:
    """Return up to ``count`` weakest dimensions scoring below the weak line, with implications."""
    notes = load_content().dimension_notes
    scored = [d for d in dimensions if d.score is not None and d.score < notes.weak_below]
    weakest = sorted(scored, key=lambda d: (cast(float, d.score), d.id))[:count]
    return [
        StructureNote(
            d.id, d.name, float(cast(float, d.score)), notes.by_dimension.get(d.id, notes.default)
        )
        for d in weakest
    ]


def myn_structure_notes(
    myn_answers: Mapping[str, int | float | None], bank: Bank | None = None, count: int = 2
) -> list[StructureNote]:
    """Return the weakest make-your-number dimensions with their structural implication.

    Empty when no statement of the questionnaire is answered (or the answers do not fit the bank).
    """
    try:
        result = score_answers(bank or load_bank(), myn_answers)
    except DiagnosticsError:
        return []
    return structure_notes(result.dimensions, count)


def leadership_report_section(fit: FitResult) -> ReportSection:
    """Return the printable report's section: fit bars, the flip, risks to manage, the caveat."""
    content = load_content()
    name = model_name(fit.recommended)
    headline = (
        f"{name} fits best ({fit.fit[fit.recommended]:.0f}/100; runner-up "
        f"{model_name(fit.runner_up)} at {fit.fit[fit.runner_up]:.0f}), from {fit.answered} of "
        f"{fit.total} situational questions."
    )
    if fit.is_close_call:
        headline += " It is a close call."
    paragraphs = [headline]
    if fit.flip is not None:
        paragraphs.append(describe_flip(fit.flip))
    paragraphs.append(fit.caveat)
    profile = content.profile(fit.recommended)
    return ReportSection(
        title=f"Leadership model: {name}",
        paragraphs=tuple(paragraphs),
        bullets=tuple(f"Risk to manage: {r}" for r in profile.risks)
        + tuple(f"Guardrail: {g}" for g in profile.guardrails),
        bars=tuple(
            BarRow(label=model_name(m), value=fit.fit[m], highlight=m == fit.recommended)
            for m in MODELS
        ),
    )
