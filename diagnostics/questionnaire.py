"""The make-your-number questionnaire: question banks, scoring, the verdict rule and answer files.

A bank (TOML, see ``diagnostics/content/questions.toml``) holds weighted dimensions, statements
rated 1–5 with an anchor per level, roles, score bands and the verdict thresholds. Scoring:

* an answer ``a`` in 1..5 is worth ``(a - 1) / 4 * 100``; ``None`` ("not applicable / don't
  know") is left out and never counts as low;
* a dimension scores the question-weighted mean of its answered statements;
* the overall score is the dimension-weighted mean of the dimensions with at least one answer;
* the answers give a verdict: the score against the thresholds (``likely`` / ``at_risk`` /
  ``unlikely``), held to at best ``at_risk`` when a heavily weighted dimension is failing (the
  weakest link) or when the verdict is provisional (fewer than half the statements answered, or
  a whole dimension without an answer);
* when a numbers check can run (coverage: open pipeline × win rate against what is left of the
  target; capacity: ramped reps × deals per rep per month × months left × average deal; or a
  check passed in as ``evidence``), the worst check sets the verdict and the answers can lower
  it by one step at most, never raise it. ``decided_by`` names that check, else "score";
* a check resting on few closed deals whose range of outcomes lies on both sides of what a
  likely verdict needs gives no verdict of its own; the overall verdict is worked out at both
  ends of that range and is "cannot_tell" when they differ (never the answers' verdict read as
  confirmed by the numbers);
* scores are kept to one decimal and compared as stored, so what is shown is what is judged.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import format_count as _money

if TYPE_CHECKING:
    from diagnostics.dataset import Dataset

__all__ = [
    "LINK_KEY",
    "LINK_NUMBERS_KEY",
    "LINK_ROLE_KEY",
    "COUNT_FIELDS",
    "NUMBER_FIELDS",
    "RESTS_ON",
    "VERDICT_LABELS",
    "Action",
    "Answers",
    "Band",
    "Bank",
    "Check",
    "Dimension",
    "DimensionScore",
    "Outcome",
    "Question",
    "Role",
    "ScoreResult",
    "Verdict",
    "VerdictRule",
    "answers_from_query_params",
    "answers_to_dict",
    "answers_to_query_params",
    "bank_fingerprint",
    "builtin_bank_path",
    "clean_numbers",
    "load_bank",
    "load_bank_from_text",
    "numbers_from_dataset",
    "numbers_source",
    "numbers_with_sources",
    "sources_still_filled",
    "parse_answers_file",
    "score_answers",
    "score_text",
]

Verdict = Literal["likely", "at_risk", "unlikely"]
# The overall verdict may also be "cannot_tell": a numbers check that cannot tell (a win rate or
# a forecast from few closed deals) could move it either way, so neither the answers nor the
# other checks settle it.
Outcome = Literal["likely", "at_risk", "unlikely", "cannot_tell"]
VERDICT_LABELS: dict[str, str] = {
    "likely": "Likely",
    "at_risk": "At risk",
    "unlikely": "Unlikely",
    "cannot_tell": "Cannot tell",
}
_VERDICT_ORDER: dict[str, int] = {"likely": 0, "at_risk": 1, "unlikely": 2}

# Optional numbers of an answers file: name → (label, help). ``win_rate`` is a share in [0, 1].
NUMBER_FIELDS: dict[str, tuple[str, str]] = {
    "target": ("Target for the period", "The number you have to make, in your currency."),
    "closed_so_far": ("Closed so far", "Bookings already won in the period."),
    # Named for what "Fill from my data" can back: every open deal with an amount, at any stage
    # (an export rarely says which deals are qualified), with the win rate of all closed deals.
    "open_pipeline": (
        "Open pipeline",
        "Value of the open deals due to close, at any stage (Fill from my data sums every open "
        "deal in the funnel that has an amount). Typing qualified deals only? Then type the win "
        "rate of qualified deals too.",
    ),
    "win_rate": ("Win rate", "Share of closed deals that ended won, won ÷ (won + lost) "
                             "(0.25 = 25%), for the same deals as the pipeline."),
    "win_rate_closed_deals": (
        "Closed deals behind the win rate",
        "How many closed deals (won + lost) the win rate was measured on; Fill from my data "
        "fills it. With fewer than 20 the coverage check gives the range of outcomes the win "
        "rate's 95% range allows, and no verdict when that range lies on both sides of the "
        "target. Leave it blank for a win rate you know: it is then taken as given.",
    ),
    "average_deal_size": ("Average deal size", "Average value of a won deal."),
    "ramped_reps": ("Ramped reps", "Sellers at full productivity."),
    "months_left": ("Months left", "Months remaining in the period."),
    "deals_per_rep_month": (
        "Deals per rep per month",
        "Won deals a ramped rep closes in a month (for the capacity check).",
    ),
    "expected_bookings": (
        "Forecast: expected bookings",
        "From the Forecast learned from your data: closed so far plus what open and new "
        "pipeline should bring by the period end. When given, the coverage check uses it "
        "instead of pipeline × win rate.",
    ),
    "p_target": (
        "Forecast: chance of the target",
        "From the Forecast: the probability that the period's bookings reach the target.",
    ),
    "forecast_closed_deals": (
        "Forecast: closed deals it learned from",
        "How many closed deals (won + lost) the forecast learned its rates from; Fill from my "
        "data fills it. With fewer than 20 the coverage check gives the range of bookings the "
        "95% range of their win rate allows, and no verdict when that range lies on both sides "
        "of the target. Blank: the forecast is taken as given.",
    ),
    "forecast_won_deals": (
        "Forecast: won deals among them",
        "How many of those closed deals were won (with the count above, the win rate the "
        "forecast rests on).",
    ),
}
# Numbers that count deals: whole numbers.
COUNT_FIELDS = ("win_rate_closed_deals", "forecast_closed_deals", "forecast_won_deals")
# The numbers that say what another number rests on: typed over, it no longer rests on them.
RESTS_ON: dict[str, tuple[str, ...]] = {
    "win_rate": ("win_rate_closed_deals",),
    "expected_bookings": ("forecast_closed_deals", "forecast_won_deals"),
}

_ID = r"^[a-z][a-z0-9_]{0,39}$"
_Text = Annotated[str, Field(min_length=1, max_length=600)]
_Id = Annotated[str, Field(pattern=_ID)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Dimension(_Model):
    """A weighted group of statements (e.g. sales–marketing alignment)."""

    id: _Id
    name: _Text
    weight: float = Field(gt=0, le=100)
    summary: _Text


class Question(_Model):
    """One statement rated 1–5, with an anchor per level, why it matters and what to do if low."""

    id: _Id
    dimension: _Id
    statement: _Text
    levels: tuple[_Text, _Text, _Text, _Text, _Text]
    why: _Text
    action: _Text
    weight: float = Field(default=1.0, gt=0, le=100)


class Role(_Model):
    """A respondent role (CEO, head of sales...)."""

    id: _Id
    label: _Text


def _shared_roles() -> tuple[Role, ...]:
    """Return the app's one role list (content/roles.toml), used when a bank names no roles."""
    from diagnostics.roles import load_roles

    return tuple(Role(id=r.id, label=r.label) for r in load_roles().roles)


class Band(_Model):
    """A named score range starting at ``min`` (inclusive) and running to the next band."""

    id: _Id
    label: _Text
    min: float = Field(ge=0, lt=100)
    description: _Text


class VerdictRule(_Model):
    """Thresholds of the verdict rule (score first, then the numbers checks)."""

    likely_min_score: float = Field(gt=0, le=100)
    unlikely_below_score: float = Field(gt=0, le=100)
    likely_min_ratio: float = Field(default=1.0, gt=0)
    unlikely_below_ratio: float = Field(default=0.8, gt=0)
    min_answered_share: float = Field(default=0.5, ge=0, le=1)
    # Weakest link: a dimension weighing at least this much (default: the bank's mean dimension
    # weight) and scoring below ``failing_below_score`` keeps the verdict from likely.
    failing_below_score: float = Field(default=40.0, ge=0, le=100)
    weakest_link_min_weight: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> VerdictRule:
        if self.unlikely_below_score > self.likely_min_score:
            raise ValueError("unlikely_below_score must not exceed likely_min_score")
        if self.unlikely_below_ratio > self.likely_min_ratio:
            raise ValueError("unlikely_below_ratio must not exceed likely_min_ratio")
        return self


class Bank(_Model):
    """A complete question bank: dimensions, statements, roles, bands and the verdict rule."""

    title: _Text
    version: int = Field(ge=1)
    verdict: VerdictRule
    bands: tuple[Band, ...] = Field(min_length=1)
    roles: tuple[Role, ...] = Field(default_factory=_shared_roles, min_length=1)
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> Bank:
        for kind, ids in (
            ("dimension", [d.id for d in self.dimensions]),
            ("question", [q.id for q in self.questions]),
            ("role", [r.id for r in self.roles]),
            ("band", [b.id for b in self.bands]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} id {dupes[0]!r}")
        known = {d.id for d in self.dimensions}
        for q in self.questions:
            if q.dimension not in known:
                raise ValueError(f"question {q.id!r}: unknown dimension {q.dimension!r}")
        used = {q.dimension for q in self.questions}
        for d in self.dimensions:
            if d.id not in used:
                raise ValueError(f"dimension {d.id!r} has no questions")
        mins = [b.min for b in self.bands]
        if mins[0] != 0 or mins != sorted(set(mins)):
            raise ValueError("bands must start at min = 0 and be listed lowest first")
        return self

    def question(self, question_id: str) -> Question:
        """Return the question with this id; raises KeyError when unknown."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def dimension(self, dimension_id: str) -> Dimension:
        """Return the dimension with this id; raises KeyError when unknown."""
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(dimension_id)

    def questions_of(self, dimension_id: str) -> tuple[Question, ...]:
        """Return the questions of one dimension, in bank order."""
        return tuple(q for q in self.questions if q.dimension == dimension_id)

    def band_for(self, score: float) -> Band:
        """Return the band a score falls in."""
        chosen = self.bands[0]
        for b in self.bands:
            if score >= b.min:
                chosen = b
        return chosen

    def band(self, band_id: str) -> Band:
        """Return a band by id; raises KeyError when unknown."""
        for b in self.bands:
            if b.id == band_id:
                return b
        raise KeyError(band_id)

    def shown_band(self, score: float, held_from_likely: bool) -> Band:
        """Return the band shown beside the verdict: the score's, held below "likely" if need be.

        When a failing heavy dimension or too few answers keep the verdict from likely, a band
        above the likely threshold ("the number is a managed outcome") would contradict the
        verdict beside it: the band is then the one a score just under that threshold gets.
        """
        if held_from_likely:
            score = min(score, self.verdict.likely_min_score - 0.1)  # scores keep one decimal
        return self.band_for(score)

    def role_label(self, role_id: str | None) -> str:
        """Return a role's label ("" when unknown or None)."""
        return next((r.label for r in self.roles if r.id == role_id), "")


def builtin_bank_path() -> Path:
    """Return the path of the built-in question bank."""
    return Path(__file__).resolve().parent / "content" / "questions.toml"


def _error_location(loc: Sequence[int | str], raw: Mapping[str, Any]) -> str:
    """Return a readable place for a pydantic error location, naming question ids when known."""
    parts: list[str] = []
    node: Any = raw
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            item = node[key]
            ident = item.get("id") if isinstance(item, dict) else None
            owner = str(loc[i - 1]) if i else "item"
            singular = owner[:-1] if owner.endswith("s") else owner
            if ident and owner in {"questions", "dimensions", "roles", "bands"}:
                parts[-1:] = [f"{singular} {ident!r}"]
            else:
                parts.append(f"item {key + 1}")
            node = item
        else:
            parts.append(f"field {key!r}" if isinstance(key, str) else f"item {key + 1}")
            node = node.get(key) if isinstance(node, dict) else None
    return ", ".join(parts) or "the file"


def _bank_from_mapping(raw: dict[str, Any], source: str) -> Bank:
    try:
        return Bank.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _error_location(first["loc"], raw)
        more = len(exc.errors()) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise DiagnosticsError(
            f"Question bank {source}: {where}: {first['msg']}{extra}.",
            "Fix the file and load it again; the built-in bank shows the expected format.",
        ) from exc


def load_bank_from_text(text: str, source: str = "upload") -> Bank:
    """Return the bank defined by TOML text; raises DiagnosticsError naming file, id and field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DiagnosticsError(
            f"Question bank {source} is not valid TOML: {exc}.",
            "Check quotes and brackets near that line.",
        ) from exc
    return _bank_from_mapping(raw, source)


_BUILTIN: Bank | None = None


def load_bank(path: Path | None = None) -> Bank:
    """Return the built-in bank (``path`` None) or a TOML file's bank; raises DiagnosticsError."""
    global _BUILTIN
    if path is None:
        if _BUILTIN is None:
            _BUILTIN = load_bank_from_text(
                builtin_bank_path().read_text(encoding="utf-8"), "questions.toml"
            )
        return _BUILTIN
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticsError(f"Cannot read question bank {path}: {exc}.") from exc
    return load_bank_from_text(text, Path(path).name)


def bank_fingerprint(bank: Bank) -> str:
    """Return a short hash of the bank's question ids (links and files name the bank they fit)."""
    joined = "|".join(q.id for q in bank.questions)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:8]


# --------------------------------------------------------------------------------------------
# Answers


@dataclass(frozen=True)
class Answers:
    """One respondent's answers: role id, answer per question id (None = n/a), optional numbers."""

    role: str | None = None
    answers: Mapping[str, int | None] = field(default_factory=dict)
    numbers: Mapping[str, float] = field(default_factory=dict)


def _clean_answer(value: Any, qid: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DiagnosticsError(
            f"Answer to {qid!r} is {value!r}; it must be a whole number from 1 to 5 or null."
        )
    if value not in (1, 2, 3, 4, 5):
        raise DiagnosticsError(
            f"Answer to {qid!r} is {value!r}; it must be a whole number from 1 to 5 or null."
        )
    return int(value)


def clean_numbers(numbers: Mapping[str, Any]) -> dict[str, float]:
    """Return validated numbers (known names, finite, not negative, win rate in [0, 1])."""
    out: dict[str, float] = {}
    for name, value in numbers.items():
        if name not in NUMBER_FIELDS:
            allowed = ", ".join(NUMBER_FIELDS)
            raise DiagnosticsError(f"Unknown number {name!r}.", f"Known numbers: {allowed}.")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DiagnosticsError(f"Number {name!r} is {value!r}; it must be a number.")
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise DiagnosticsError(f"Number {name!r} is {value!r}; it must be zero or more.")
        if name in ("win_rate", "p_target") and number > 1:
            raise DiagnosticsError(
                f"Number {name!r} is {value!r}; give it as a share from 0 to 1 (0.25 = 25%)."
            )
        if name in COUNT_FIELDS and not number.is_integer():
            raise DiagnosticsError(f"Number {name!r} is {value!r}; it must be a whole number.")
        out[name] = number
    if out.get("forecast_won_deals", 0.0) > out.get("forecast_closed_deals", math.inf):
        raise DiagnosticsError(
            f"Number 'forecast_won_deals' is {out['forecast_won_deals']:g}, more than the "
            f"{out['forecast_closed_deals']:g} closed deals it is counted among.")
    return out


def parse_answers_file(data: Any, bank: Bank) -> Answers:
    """Return the Answers of a parsed answers JSON object; raises DiagnosticsError if invalid.

    The object is ``{"role": ..., "answers": {question_id: 1..5 or null}, "numbers": {...}}``;
    ``role`` and ``numbers`` are optional, questions left out count as unanswered.
    """
    if not isinstance(data, dict):
        raise DiagnosticsError(
            "An answers file must hold a JSON object with an \"answers\" field.",
            'Example: {"role": "cro", "answers": {"ops_trust": 4}, "numbers": {}}',
        )
    unknown = sorted(set(data) - {"role", "answers", "numbers", "bank"})
    if unknown:
        raise DiagnosticsError(
            f"Unknown field {unknown[0]!r} in the answers file.",
            'Allowed fields: "role", "answers", "numbers" (and "bank").',
        )
    role = data.get("role")
    if role is not None and role not in {r.id for r in bank.roles}:
        roles = ", ".join(r.id for r in bank.roles)
        raise DiagnosticsError(f"Unknown role {role!r}.", f"Known roles: {roles}.")
    raw_answers = data.get("answers", {})
    if not isinstance(raw_answers, dict):
        raise DiagnosticsError('"answers" must be an object of question id → 1..5 or null.')
    known = {q.id for q in bank.questions}
    answers: dict[str, int | None] = {}
    for qid, value in raw_answers.items():
        if qid not in known:
            raise DiagnosticsError(
                f"Unknown question id {qid!r} in the answers file.",
                "List the ids with: python -m diagnostics questions",
            )
        answers[qid] = _clean_answer(value, qid)
    raw_numbers = data.get("numbers") or {}
    if not isinstance(raw_numbers, dict):
        raise DiagnosticsError('"numbers" must be an object such as {"target": 1000000}.')
    return Answers(role=role, answers=answers, numbers=clean_numbers(raw_numbers))


def answers_to_dict(answers: Answers, bank: Bank) -> dict[str, Any]:
    """Return the JSON-ready answers file for ``answers``, in bank order.

    A statement answered "not applicable / don't know" is written as null; one not answered at
    all is left out, so that loading the file back leaves it unanswered.
    """
    return {
        "role": answers.role,
        "answers": {q.id: answers.answers[q.id] for q in bank.questions
                    if q.id in answers.answers},
        "numbers": dict(answers.numbers),
        "bank": bank_fingerprint(bank),
    }


# Share link: ``myn=1.<fingerprint>.<one char per question>`` where 1-5 are answers, "0" n/a and
# "_" unanswered; ``myn_role`` the role id; ``myn_num`` "name:value" pairs joined with "~".
LINK_KEY = "myn"
LINK_ROLE_KEY = "myn_role"
LINK_NUMBERS_KEY = "myn_num"
_LINK_VERSION = "1"
_NA = "0"
_BLANK = "_"


def answers_to_query_params(answers: Answers, bank: Bank) -> dict[str, str]:
    """Return the query parameters that encode ``answers`` compactly (for a share link)."""
    chars = []
    for q in bank.questions:
        if q.id not in answers.answers:
            chars.append(_BLANK)
        else:
            value = answers.answers[q.id]
            chars.append(_NA if value is None else str(value))
    params = {LINK_KEY: f"{_LINK_VERSION}.{bank_fingerprint(bank)}.{''.join(chars)}"}
    if answers.role:
        params[LINK_ROLE_KEY] = answers.role
    if answers.numbers:
        params[LINK_NUMBERS_KEY] = "~".join(
            f"{name}:{_number_text(value)}" for name, value in answers.numbers.items()
        )
    return params


def _number_text(value: float) -> str:
    """Return the shortest text that reads back as exactly ``value`` (``:g`` kept 6 digits)."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _link_error(problem: str) -> DiagnosticsError:
    return DiagnosticsError(
        f"This share link cannot be read: {problem}.",
        "Ask for a fresh link, or upload the answers file instead.",
    )


def answers_from_query_params(params: Mapping[str, str], bank: Bank) -> Answers | None:
    """Return the Answers a share link encodes, None when it has none; raises DiagnosticsError."""
    encoded = params.get(LINK_KEY)
    if not encoded:
        return None
    match = re.fullmatch(r"(\d+)\.([0-9a-f]{8})\.([0-5_]*)", encoded.strip())
    if not match:
        raise _link_error("the answers part is garbled")
    version, fingerprint, chars = match.groups()
    if version != _LINK_VERSION:
        raise _link_error(f"it uses format version {version}")
    if fingerprint != bank_fingerprint(bank):
        raise _link_error("it was made with a different question bank")
    if len(chars) != len(bank.questions):
        raise _link_error("it holds the wrong number of answers")
    answers: dict[str, int | None] = {}
    for q, ch in zip(bank.questions, chars, strict=True):
        if ch == _BLANK:
            continue
        answers[q.id] = None if ch == _NA else int(ch)
    role = params.get(LINK_ROLE_KEY) or None
    if role is not None and role not in {r.id for r in bank.roles}:
        raise _link_error(f"unknown role {role!r}")
    numbers: dict[str, Any] = {}
    raw_numbers = params.get(LINK_NUMBERS_KEY) or ""
    for pair in filter(None, raw_numbers.split("~")):
        name, sep, value = pair.partition(":")
        try:
            numbers[name] = float(value) if sep else None
        except ValueError:
            raise _link_error(f"number {name!r} is not a number") from None
        if not sep:
            raise _link_error(f"number {name!r} has no value")
    try:
        cleaned = clean_numbers(numbers)
    except DiagnosticsError as exc:
        raise _link_error(exc.message.rstrip(".")) from exc
    return Answers(role=role, answers=answers, numbers=cleaned)


# --------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class DimensionScore:
    """A dimension's score (None when nothing in it was answered)."""

    id: str
    name: str
    score: float | None
    answered: int
    questions: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: id, name, score, answered, weight."""
        return {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "answered": self.answered,
            "questions": self.questions,
            "weight": self.weight,
        }


@dataclass(frozen=True)
class Action:
    """What to do next: a low statement (``source`` "statement") or a numbers check's gap.

    For a statement, ``gain`` is how many score points raising it to 5 could add. For a numbers
    check (``source`` is the check's name), ``action`` names the figure that closes the gap and
    ``question_id`` is empty.
    """

    question_id: str
    dimension: str
    dimension_name: str
    statement: str
    action: str
    answer: float  # fractional when answers were averaged (workshop)
    gain: float
    source: str = "statement"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the action."""
        return {
            "question_id": self.question_id,
            "dimension": self.dimension,
            "dimension_name": self.dimension_name,
            "statement": self.statement,
            "action": self.action,
            "answer": self.answer,
            "gain": self.gain,
            "source": self.source,
        }


@dataclass(frozen=True)
class Check:
    """One numbers check: its ratio, the verdict it gives, why, and what would close its gap.

    ``name`` is "coverage" or "capacity" for the built-in checks; another evidence source (a
    forecast, say) passes its own Check to :func:`score_answers` and is treated the same way.
    ``verdict`` None means the check could not run. ``action`` says what it needs, with the
    figure, when the check falls short of likely.
    """

    name: str
    verdict: Verdict | None
    ratio: float | None
    detail: str
    action: str | None = None
    label: str = ""
    # A win rate from fewer than MIN_CLOSED closed deals: how many, the 95% range of rates they
    # fit and the expected bookings at its ends; ``cannot_tell`` when those lie either side of
    # the target (``verdict`` is then None: the check gives none).
    win_rate_closed_deals: int | None = None
    win_rate_range: tuple[float, float] | None = None
    expected_range: tuple[float, float] | None = None
    cannot_tell: bool = False
    # With ``cannot_tell``: the verdict it would give at the low and at the high end of that range.
    verdict_range: tuple[Verdict, Verdict] | None = None

    @property
    def title(self) -> str:
        """Return the name people read ("Coverage check")."""
        return self.label or f"{self.name.capitalize()} check"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the check (None ratio → null)."""
        return {"name": self.name, "title": self.title, "verdict": self.verdict,
                "ratio": self.ratio, "detail": self.detail, "action": self.action,
                "cannot_tell": self.cannot_tell,
                "win_rate_closed_deals": self.win_rate_closed_deals,
                "win_rate_range": _listed(self.win_rate_range),
                "expected_bookings_range": _listed(self.expected_range),
                "verdict_range": _listed(self.verdict_range)}


def _cannot_tell(check: Check) -> str:
    """Return "the coverage check cannot tell on 5 closed deals" for a check without a verdict."""
    deals = _closed_deals(check.win_rate_closed_deals or 0)
    return f"the {check.name} check cannot tell on {deals}"


def _listed(pair: tuple[Any, Any] | None) -> list[Any] | None:
    return None if pair is None else list(pair)


@dataclass(frozen=True)
class ScoreResult:
    """The verdict, the score and everything needed to explain them.

    ``score_verdict`` is what the answers alone say (score, weakest link, provisional cap);
    ``low_confidence`` is True when the verdict is provisional (too few statements answered, or
    a whole dimension without an answer) and ``next_to_answer`` lists what to answer first.
    ``verdict`` is "cannot_tell" when a numbers check that cannot tell could move it either way;
    ``verdict_range`` then gives the best and the worst verdict its range allows.
    """

    verdict: Outcome
    score: float
    band: str
    band_label: str
    decided_by: str
    rule_lines: tuple[str, ...]
    dimensions: tuple[DimensionScore, ...]
    binding_constraint: DimensionScore | None
    actions: tuple[Action, ...]
    unanswered: tuple[str, ...]
    checks: tuple[Check, ...]
    answered_share: float
    low_confidence: bool
    score_verdict: Verdict
    role: str | None = None
    binding_reason: str = ""
    next_to_answer: tuple[str, ...] = ()
    weakest_link: DimensionScore | None = None
    lowered_by_answers: bool = False
    verdict_range: tuple[Verdict, Verdict] | None = None

    @property
    def provisional(self) -> bool:
        """Return True when too little is answered for a firm verdict (same as low_confidence)."""
        return self.low_confidence

    @property
    def rule(self) -> str:
        """Return the verdict rule as one paragraph (the steps of ``rule_lines`` joined)."""
        return " ".join(self.rule_lines)

    @property
    def verdict_label(self) -> str:
        """Return the verdict as shown to people ("Likely", "At risk", "Unlikely", "Cannot
        tell")."""
        return VERDICT_LABELS[self.verdict]

    @property
    def title(self) -> str:
        """Return the verdict's headline ("Likely (provisional) to make the number"; with no
        verdict, the verdicts the numbers allow: "Cannot tell: likely or at risk to make the
        number")."""
        if self.verdict == "cannot_tell" and self.verdict_range is not None:
            # Every verdict the range allows, in order: "likely, at risk or unlikely".
            low, high = (_VERDICT_ORDER[v] for v in self.verdict_range)
            names = [VERDICT_LABELS[v].lower() for v in ("likely", "at_risk", "unlikely")]
            allowed = names[low:high + 1]
            return (f"Cannot tell: {', '.join(allowed[:-1])} or {allowed[-1]} to make the "
                    "number")
        provisional = " (provisional)" if self.provisional else ""
        return f"{self.verdict_label}{provisional} to make the number"

    @property
    def decided_text(self) -> str:
        """Return what decided the verdict, for the line beside it ("decided by the score").

        With no verdict ("cannot_tell"), which check cannot tell, the verdicts its range allows,
        and what the answers alone say, which the numbers cannot confirm.
        """
        if self.verdict != "cannot_tell" or self.verdict_range is None:
            return f"decided by {self.decider}"
        unsure = "; ".join(_cannot_tell(c) for c in self.checks if c.cannot_tell)
        return (f"{unsure}; the answers alone say {VERDICT_LABELS[self.score_verdict].lower()}, "
                "which the numbers cannot confirm")

    @property
    def decider(self) -> str:
        """Return what decided the verdict, in words ("the score", "the coverage check")."""
        unsure = "".join(f"; {_cannot_tell(c)}" for c in self.checks if c.cannot_tell)
        if self.verdict == "cannot_tell":
            return unsure.removeprefix("; ")
        if self.decided_by == "score":
            return "the score" + unsure
        check = next((c for c in self.checks if c.name == self.decided_by), None)
        return (f"the {check.title[0].lower()}{check.title[1:]}" if check else "the score") \
            + unsure

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``python -m diagnostics score --json``."""
        bc = self.binding_constraint
        return {
            "verdict": self.verdict,
            "score": self.score,
            "band": self.band,
            "band_label": self.band_label,
            "decided_by": self.decided_by,
            "rule": self.rule,
            "dimensions": [d.to_dict() for d in self.dimensions],
            "binding_constraint": bc.to_dict() if bc else None,
            "binding_reason": self.binding_reason,
            "actions": [a.to_dict() for a in self.actions],
            "unanswered": list(self.unanswered),
            "checks": [c.to_dict() for c in self.checks],
            "answered_share": self.answered_share,
            "low_confidence": self.low_confidence,
            "provisional": self.low_confidence,
            "next_to_answer": list(self.next_to_answer),
            "score_verdict": self.score_verdict,
            "lowered_by_answers": self.lowered_by_answers,
            "verdict_range": _listed(self.verdict_range),
            "role": self.role,
        }


def score_text(score: float) -> str:
    """Return a score as shown everywhere: its stored value (one decimal at most), 69.8 not 70.

    The verdict compares the stored value with the thresholds, so a score shown as 70 is never
    judged as 69.85.
    """
    return f"{score:g}"


def _ratio_verdict(ratio: float, rule: VerdictRule) -> Verdict:
    if ratio >= rule.likely_min_ratio:
        return "likely"
    if ratio < rule.unlikely_below_ratio:
        return "unlikely"
    return "at_risk"


def _skipped(missing: Sequence[str]) -> str:
    names = ", ".join(NUMBER_FIELDS[name][0].lower() for name in missing)
    return f"not checked: it needs {names}."


def _coverage_gap(pipeline: float, win_rate: float, needed: float) -> str:
    """Return what closes a coverage gap: more pipeline, or a higher win rate on today's."""
    if win_rate <= 0:
        if pipeline <= 0:
            return (f"Build pipeline and win some of it: {_money(needed)} of bookings "
                    "are needed and there is no pipeline or win rate to expect them from.")
        return (f"Win deals from today's pipeline: at a 0% win rate nothing is expected; "
                f"{needed / pipeline:.0%} of {_money(pipeline)} would be needed.")
    more = needed / win_rate - pipeline
    text = (f"Add {_money(more)} of open pipeline (to {_money(needed / win_rate)} at your "
            f"{win_rate:.0%} win rate)")
    if pipeline > 0 and needed / pipeline <= 1:
        text += f", or lift the win rate on today's pipeline from {win_rate:.0%} to " \
                f"{needed / pipeline:.0%}"
    return text + "."


def _forecast_coverage(numbers: Mapping[str, float], rule: VerdictRule) -> Check:
    """Return the coverage check from a forecast learned from the data (see diagnostics.forecast).

    The forecast times each open deal to the period end and adds new pipeline, which pipeline ×
    win rate cannot: when it is given, it is the evidence. With the deals it learned from
    (``forecast_closed_deals``, ``forecast_won_deals``) the check says what it rests on, and
    below MIN_CLOSED closed deals gives the range of bookings the 95% range of their win rate
    allows, with no verdict when that range lies on both sides of what a likely verdict needs.
    """
    target, closed = numbers["target"], numbers.get("closed_so_far", 0.0)
    label = "Coverage check (forecast from your data)"
    remaining = target - closed
    if remaining <= 0:
        return Check("coverage", "likely", None,
                     "The target is already closed; nothing is left to cover.", label=label)
    expected = numbers["expected_bookings"]
    ratio = round(max(expected - closed, 0.0) / remaining, 3)
    chance = numbers.get("p_target")
    basis = _forecast_basis(numbers)
    # Below MIN_CLOSED the range says what it learned from; otherwise the count does.
    learned = "" if basis is None or _is_rough(basis) else \
        f" It learned from {_closed_deals(basis[1])}."
    detail = (
        f"The forecast from your data expects {_money(expected)} by the period end (closed so "
        f"far {_money(closed)} plus each open deal's chance of closing in time and new "
        f"pipeline) against a target of {_money(target)}: {ratio:.1%} of what is left"
        + (f", a {chance:.0%} chance of reaching it" if chance is not None else "")
        + f".{learned} It replaces open pipeline × win rate, which counts deals that cannot "
        "close in time."
    )
    verdict = _ratio_verdict(ratio, rule)
    action = None
    if verdict != "likely":
        gap = closed + remaining * rule.likely_min_ratio - expected
        action = (f"Close the forecast gap of {_money(gap)}: the Forecast page says how much "
                  "more pipeline at which stage, or which step's conversion, would do it.")
    check = Check("coverage", verdict, ratio, detail, action, label=label)
    if basis is None:
        return check
    return _rough_forecast(
        check, numbers, basis, closed + remaining * rule.likely_min_ratio,
        lambda booked: _ratio_verdict(round(max(booked - closed, 0.0) / remaining, 3), rule))


def _forecast_basis(numbers: Mapping[str, float]) -> tuple[int, int] | None:
    """Return (won, closed) deals the forecast learned from, None when not given (typed)."""
    if "forecast_closed_deals" not in numbers or "forecast_won_deals" not in numbers:
        return None
    return int(numbers["forecast_won_deals"]), int(numbers["forecast_closed_deals"])


def _is_rough(basis: tuple[int, int]) -> bool:
    from diagnostics.cohorts import rough_rate_range

    return rough_rate_range(*basis) is not None


def _rough_forecast(check: Check, numbers: Mapping[str, float], basis: tuple[int, int],
                    bar: float, judge: Callable[[float], Verdict]) -> Check:
    """Return the forecast's coverage ``check`` with the range of bookings its few deals allow.

    The win rate its closed deals fit (:func:`diagnostics.cohorts.rough_rate_range`, the
    planner's rule) moves every chance the forecast gives in proportion: what it expects still
    to come scales from the low end of that range to the high end. ``bar`` is the bookings a
    likely verdict needs; ``judge`` the verdict a period's bookings give.
    """
    from diagnostics.cohorts import rough_rate_range

    won, closed = basis
    band = rough_rate_range(won, closed)
    if band is None or won <= 0:
        return check
    booked = numbers.get("closed_so_far", 0.0)
    to_come = max(numbers["expected_bookings"] - booked, 0.0)
    rate = won / closed
    low, high = booked + to_come * band[0] / rate, booked + to_come * band[1] / rate
    fits = (f"the forecast learned from {_closed_deals(closed)} ({won:,} won), which fit any "
            f"win rate from {band[0]:.0%} to {band[1]:.0%} (95% interval), and at those rates "
            f"it would expect from {_money(low)} to {_money(high)} by the period end")
    return _rough(check, f"forecast from only {_closed_deals(closed)}", closed, band,
                  (low, high), bar, fits, judge)


def _rough(check: Check, label: str, closed: int, band: tuple[float, float],
           outcomes: tuple[float, float], bar: float, fits: str,
           judge: Callable[[float], Verdict]) -> Check:
    """Return a coverage ``check`` resting on few closed deals said with its range of
    ``outcomes``, with no verdict ("cannot tell") when they lie on both sides of ``bar``; it then
    keeps the verdict ``judge`` gives at either end, for the overall verdict to weigh."""
    low, high = outcomes
    rough = replace(check, label=f"Coverage check ({label})", win_rate_closed_deals=closed,
                    win_rate_range=band, expected_range=(low, high))
    if low < bar <= high:
        return replace(rough, verdict=None, action=None, cannot_tell=True,
                       verdict_range=(judge(low), judge(high)), detail=(
            f"cannot tell. {check.detail} But {fits}, either side of the {_money(bar)} a "
            "likely verdict needs, so this check gives no verdict. More closed deals, or a win "
            "rate you know, would settle it."))
    side = "short of" if high < bar else "above"
    return replace(rough, detail=(f"{check.detail} Rough: {fits}, {side} the {_money(bar)} "
                                  "a likely verdict needs either way."))


def _coverage_check(numbers: Mapping[str, float], rule: VerdictRule) -> Check:
    if "expected_bookings" in numbers and "target" in numbers:
        return _forecast_coverage(numbers, rule)
    needed = ("target", "closed_so_far", "open_pipeline", "win_rate")
    missing = [n for n in needed if n not in numbers]
    if missing:
        return Check("coverage", None, None, _skipped(missing))
    remaining = numbers["target"] - numbers["closed_so_far"]
    if remaining <= 0:
        return Check("coverage", "likely", None,
                     "The target is already closed; nothing is left to cover.")
    win_rate = numbers["win_rate"]
    pipeline = numbers["open_pipeline"]
    expected = pipeline * win_rate
    ratio = round(expected / remaining, 3)
    coverage = pipeline / remaining
    needed_cov = f"{1 / win_rate:.1f}×" if win_rate > 0 else "—"
    detail = (
        f"Expected bookings {_money(expected)} (pipeline {_money(pipeline)} × "
        f"win rate {win_rate:.0%}) against {_money(remaining)} left of the target: "
        f"{ratio:.1%}. Coverage is {coverage:.1f}× where the win rate needs {needed_cov}."
    )
    verdict = _ratio_verdict(ratio, rule)
    action = None
    if verdict != "likely":
        action = _coverage_gap(pipeline, win_rate, remaining * rule.likely_min_ratio)
    check = Check("coverage", verdict, ratio, detail, action)
    return _rough_coverage(check, numbers, remaining * rule.likely_min_ratio,
                           lambda expected: _ratio_verdict(round(expected / remaining, 3), rule))


def _closed_deals(closed: int) -> str:
    return f"{closed:,} closed deal{'s' if closed != 1 else ''}"


def _rough_coverage(check: Check, numbers: Mapping[str, float], bar: float,
                    judge: Callable[[float], Verdict]) -> Check:
    """Return the coverage ``check`` said with the range of outcomes its win rate allows when it
    rests on fewer than MIN_CLOSED closed deals (the planner's rule), with no verdict ("cannot
    tell") when that range lies on both sides of ``bar`` (what a likely verdict needs).

    The count comes with the numbers (``win_rate_closed_deals``, filled from the data): a win
    rate without it was typed, and is taken as given.
    """
    from diagnostics.cohorts import rough_rate_range

    closed = int(numbers.get("win_rate_closed_deals", 0))
    win_rate, pipeline = numbers["win_rate"], numbers["open_pipeline"]
    band = rough_rate_range(min(round(win_rate * closed), closed), closed)
    if band is None:
        return check
    low, high = pipeline * band[0], pipeline * band[1]
    deals = _closed_deals(closed)
    fits = (f"the win rate rests on {deals}, which fit any rate from {band[0]:.0%} to "
            f"{band[1]:.0%} (95% interval), and the open pipeline would then bring from "
            f"{_money(low)} to {_money(high)}")
    return _rough(check, f"win rate from only {deals}", closed, band, (low, high), bar, fits,
                  judge)


def _capacity_gap(numbers: Mapping[str, float], capacity: float, needed: float) -> str:
    """Return what closes a capacity gap: more ramped reps, or more deals per rep."""
    gap = needed - capacity
    per_rep = numbers["deals_per_rep_month"] * numbers["months_left"] \
        * numbers["average_deal_size"]
    text = f"Add {_money(gap)} of selling capacity"
    if per_rep > 0:
        text += (f": about {gap / per_rep:.1f} more ramped reps at "
                 f"{numbers['deals_per_rep_month']:g} deals a month each")
        reps = numbers["ramped_reps"]
        per_deal = numbers["months_left"] * numbers["average_deal_size"] * reps
        if reps > 0 and per_deal > 0:
            text += (f", or {needed / per_deal:.2f} won deals per rep per month from the "
                     f"{reps:g} you have (now {numbers['deals_per_rep_month']:g})")
    return text + "."


def _capacity_check(numbers: Mapping[str, float], rule: VerdictRule) -> Check:
    needed = ("target", "closed_so_far", "ramped_reps", "deals_per_rep_month",
              "average_deal_size", "months_left")
    missing = [n for n in needed if n not in numbers]
    if missing:
        return Check("capacity", None, None, _skipped(missing))
    remaining = numbers["target"] - numbers["closed_so_far"]
    if remaining <= 0:
        return Check("capacity", "likely", None,
                     "The target is already closed; no more capacity is needed.")
    capacity = (numbers["ramped_reps"] * numbers["deals_per_rep_month"]
                * numbers["months_left"] * numbers["average_deal_size"])
    ratio = round(capacity / remaining, 3)
    detail = (
        f"Capacity {_money(capacity)} ({numbers['ramped_reps']:g} ramped reps × "
        f"{numbers['deals_per_rep_month']:g} deals a month × {numbers['months_left']:g} months × "
        f"{_money(numbers['average_deal_size'])} a deal) against {_money(remaining)} left: "
        f"{ratio:.1%}."
    )
    verdict = _ratio_verdict(ratio, rule)
    action = None
    if verdict != "likely":
        action = _capacity_gap(numbers, capacity, remaining * rule.likely_min_ratio)
    return Check("capacity", verdict, ratio, detail, action)


def _answer_values(bank: Bank, answers: Mapping[str, int | float | None]) -> dict[str, float]:
    """Return the 1..5 answers as floats (n/a left out); raises DiagnosticsError when invalid."""
    known = {q.id for q in bank.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise DiagnosticsError(f"Unknown question id {unknown[0]!r}.")
    values: dict[str, float] = {}
    for qid, value in answers.items():
        if value is None:
            continue
        if isinstance(value, bool) or not (1 <= float(value) <= 5):
            raise DiagnosticsError(f"Answer to {qid!r} is {value!r}; it must be from 1 to 5.")
        values[qid] = float(value)
    if not values:
        raise DiagnosticsError(
            "No statement is answered yet.",
            "Rate at least one statement from 1 to 5 to get a verdict.",
        )
    return values


def _dimension_scores(bank: Bank, values: Mapping[str, float]) -> list[DimensionScore]:
    dims: list[DimensionScore] = []
    for d in bank.dimensions:
        qs = bank.questions_of(d.id)
        answered = [q for q in qs if q.id in values]
        total_w = sum(q.weight for q in answered)
        score = (
            round(sum(q.weight * _points_f(values[q.id]) for q in answered) / total_w, 1)
            if answered else None
        )
        dims.append(DimensionScore(d.id, d.name, score, len(answered), len(qs), d.weight))
    return dims


def _heavy_weight(bank: Bank) -> float:
    """Return the weight from which a failing dimension caps the verdict (rule, else the mean)."""
    if bank.verdict.weakest_link_min_weight is not None:
        return bank.verdict.weakest_link_min_weight
    return sum(d.weight for d in bank.dimensions) / len(bank.dimensions)


def _weakest_link(bank: Bank, dims: Sequence[DimensionScore]) -> DimensionScore | None:
    """Return the lowest heavily weighted dimension scoring below the failing line, if any."""
    heavy = _heavy_weight(bank)
    failing = [d for d in dims if d.score is not None and d.weight >= heavy
               and d.score < bank.verdict.failing_below_score]
    return min(failing, key=lambda d: (d.score or 0.0, -d.weight), default=None)


def _capped(verdict: Verdict, cap: Verdict) -> Verdict:
    return verdict if _VERDICT_ORDER[verdict] >= _VERDICT_ORDER[cap] else cap


def _combine(answers_verdict: Verdict, checks: Sequence[Check]) -> tuple[Verdict, str, bool]:
    """Return (verdict, decided_by, lowered): the numbers set it, answers lower it one step at most.

    Without a check that ran, the answers decide. With several, the worst check decides (the
    first listed wins ties).
    """
    ran = [c for c in checks if c.verdict is not None]
    if not ran:
        return answers_verdict, "score", False
    worst = ran[0]
    for check in ran[1:]:
        assert check.verdict is not None and worst.verdict is not None
        if _VERDICT_ORDER[check.verdict] > _VERDICT_ORDER[worst.verdict]:
            worst = check
    assert worst.verdict is not None
    rank = _VERDICT_ORDER[worst.verdict]
    if _VERDICT_ORDER[answers_verdict] > rank:
        lowered: Verdict = ("likely", "at_risk", "unlikely")[rank + 1]
        return lowered, worst.name, True
    return worst.verdict, worst.name, False


def _settle(
    answers_verdict: Verdict, checks: Sequence[Check]
) -> tuple[Outcome, str, bool, tuple[Verdict, Verdict] | None]:
    """Return :func:`_combine`'s verdict, or "cannot_tell" when a check that cannot tell could
    move it: the verdict is worked out at either end of each such check's range and, when the
    ends differ, the numbers cannot settle it (the last item gives the best and the worst).

    When they agree, that verdict stands whatever the check would find.
    """
    verdict, decided_by, lowered = _combine(answers_verdict, checks)
    unsure = [c for c in checks if c.cannot_tell and c.verdict_range is not None]
    if not unsure:
        return verdict, decided_by, lowered, None
    ends: list[tuple[Verdict, str, bool]] = []
    for picked in itertools.product(*(c.verdict_range or () for c in unsure)):
        chosen = dict(zip((id(c) for c in unsure), picked, strict=True))
        ends.append(_combine(answers_verdict, [
            replace(c, verdict=chosen[id(c)]) if id(c) in chosen else c for c in checks]))
    found = sorted({end[0] for end in ends}, key=_VERDICT_ORDER.__getitem__)
    if len(found) > 1:
        return "cannot_tell", unsure[0].name, False, (found[0], found[-1])
    if found[0] == verdict:
        return verdict, decided_by, lowered, None
    return ends[0][0], ends[0][1], ends[0][2], None


def _binding(scored: Sequence[DimensionScore]) -> tuple[DimensionScore | None, str]:
    """Return the binding constraint (largest weight × points missing) and why it was chosen."""
    binding = max(scored, key=lambda d: (d.weight * (100 - (d.score or 0.0)), -(d.score or 0.0)))
    if binding.score is not None and binding.score >= 100:
        return None, ""
    lowest = min(scored, key=lambda d: (d.score or 0.0, -d.weight))
    assert binding.score is not None and lowest.score is not None
    cost = binding.weight * (100 - binding.score)
    if lowest.score < binding.score:
        other = lowest.weight * (100 - lowest.score)
        return binding, (
            f"{binding.name} ({score_text(binding.score)}/100) is the binding constraint rather "
            f"than {lowest.name}, which scores lower ({score_text(lowest.score)}/100), because "
            f"it weighs more ({binding.weight:g} against {lowest.weight:g}): weight × points "
            f"missing is {cost:.0f} against {other:.0f}, so lifting it moves the overall score "
            "more."
        )
    return binding, (
        f"{binding.name} has the lowest score ({score_text(binding.score)}/100) and, at weight "
        f"{binding.weight:g}, costs the overall score the most (weight × points missing: "
        f"{cost:.0f})."
    )


def _next_to_answer(
    bank: Bank, answers: Mapping[str, Any], values: Mapping[str, float],
    dims: Sequence[DimensionScore],
) -> tuple[str, ...]:
    """Return the statements to answer next for a firm verdict, most useful first.

    One statement of each dimension without an answer comes first (heaviest dimension first),
    then enough others to reach the answered share, from the least answered dimensions.
    """
    by_id = {d.id: d for d in dims}
    need = max(0, math.ceil(bank.verdict.min_answered_share * len(bank.questions) - 1e-9)
               - len(values))
    empty = sorted((d for d in dims if d.score is None), key=lambda d: -d.weight)
    open_qs = [q for q in bank.questions if q.id not in values]
    # Statements never touched come before ones marked "don't know".
    open_qs.sort(key=lambda q: q.id in answers)
    first = [next(q.id for q in open_qs if q.dimension == d.id) for d in empty
             if any(q.dimension == d.id for q in open_qs)]
    rest = sorted(
        (q for q in open_qs if q.id not in first),
        key=lambda q: (by_id[q.dimension].answered / by_id[q.dimension].questions,
                       -by_id[q.dimension].weight),
    )
    return tuple(first + [q.id for q in rest][: max(0, need - len(first))])


def score_answers(
    bank: Bank,
    answers: Mapping[str, int | float | None],
    numbers: Mapping[str, float] | None = None,
    *,
    role: str | None = None,
    evidence: Sequence[Check] = (),
) -> ScoreResult:
    """Return the verdict, score, dimension scores, constraint and actions for a set of answers.

    ``answers`` maps question ids to 1..5 (fractional values are accepted: the workshop averages
    participants) or None for "not applicable / don't know"; missing ids are unanswered.
    ``evidence`` adds numbers checks from elsewhere (a forecast, say) to coverage and capacity.
    Raises DiagnosticsError when no statement is answered or an answer is out of range.
    """
    rule = bank.verdict
    values = _answer_values(bank, answers)
    clean = clean_numbers(numbers or {})
    dims = _dimension_scores(bank, values)
    scored = [d for d in dims if d.score is not None]
    weight_sum = sum(d.weight for d in scored)
    overall = round(sum(d.weight * (d.score or 0.0) for d in scored) / weight_sum, 1)

    if overall >= rule.likely_min_score:
        by_score: Verdict = "likely"
    elif overall < rule.unlikely_below_score:
        by_score = "unlikely"
    else:
        by_score = "at_risk"
    weakest = _weakest_link(bank, dims)
    share = round(len(values) / len(bank.questions), 3)
    provisional = share < rule.min_answered_share or len(scored) < len(dims)
    answers_verdict = by_score
    if weakest is not None or provisional:
        answers_verdict = _capped(answers_verdict, "at_risk")

    checks = (_coverage_check(clean, rule), _capacity_check(clean, rule), *evidence)
    verdict, decided_by, lowered, possible = _settle(answers_verdict, checks)
    # The band is held below "likely" too when the numbers cannot tell: "the number is a
    # managed outcome" beside "cannot tell" would claim what they cannot confirm.
    band = bank.shown_band(overall, weakest is not None or provisional
                           or verdict == "cannot_tell")
    binding, reason = _binding(scored)
    decider = next((c for c in checks if c.name == decided_by), None)
    actions = _top_actions(bank, values, dims, weight_sum, binding, decider)
    next_up = _next_to_answer(bank, answers, values, dims) if provisional else ()
    steps = _Steps(overall, by_score, weakest, share, provisional, next_up, answers_verdict,
                   tuple(checks), verdict, decided_by, lowered, possible)
    return ScoreResult(
        verdict=verdict,
        score=overall,
        band=band.id,
        band_label=band.label,
        decided_by=decided_by,
        rule_lines=_rule_lines(bank, dims, steps),
        dimensions=tuple(dims),
        binding_constraint=binding,
        actions=actions,
        unanswered=tuple(q.id for q in bank.questions if q.id not in values),
        checks=tuple(checks),
        answered_share=share,
        low_confidence=provisional,
        score_verdict=answers_verdict,
        role=role,
        binding_reason=reason,
        next_to_answer=next_up,
        weakest_link=weakest,
        lowered_by_answers=lowered,
        verdict_range=possible,
    )


def _points_f(answer: float) -> float:
    return (answer - 1) / 4 * 100


def _ranked_statements(
    bank: Bank, values: Mapping[str, float], dims: Sequence[DimensionScore], weight_sum: float
) -> list[Action]:
    """Return every statement below 5 as an action, largest possible score gain first."""
    by_id = {d.id: d for d in dims}
    candidates: list[tuple[float, float, int, Action]] = []
    for order, q in enumerate(bank.questions):
        if q.id not in values or values[q.id] >= 5:
            continue
        dim = by_id[q.dimension]
        dim_w = sum(x.weight for x in bank.questions_of(q.dimension) if x.id in values)
        gain = dim.weight / weight_sum * q.weight / dim_w * (100 - _points_f(values[q.id]))
        action = Action(q.id, dim.id, dim.name, q.statement, q.action,
                        round(values[q.id], 2), round(gain, 1))
        candidates.append((-gain, values[q.id], order, action))
    candidates.sort(key=lambda c: c[:3])
    return [c[3] for c in candidates]


def _top_actions(
    bank: Bank,
    values: Mapping[str, float],
    dims: Sequence[DimensionScore],
    weight_sum: float,
    binding: DimensionScore | None,
    decider: Check | None,
) -> tuple[Action, ...]:
    """Return three actions: the deciding check's gap first, and one from the binding constraint.

    When a numbers check decides and falls short, its gap (the pipeline, conversion or capacity
    it needs) comes first, since no answer can move that verdict. The statements that would add
    the most to the score fill the rest, and one of them is always from the binding constraint.
    """
    head: list[Action] = []
    if decider is not None and decider.action and decider.verdict != "likely":
        head.append(Action("", decider.name, decider.title, "", decider.action, 0.0, 0.0,
                           source=decider.name))
    ranked = _ranked_statements(bank, values, dims, weight_sum)
    chosen = ranked[: 3 - len(head)]
    from_binding = [a for a in ranked if binding is not None and a.dimension == binding.id]
    if chosen and from_binding and not any(a.dimension == from_binding[0].dimension
                                           for a in chosen):
        chosen[-1] = from_binding[0]
    return tuple(head + chosen)


@dataclass(frozen=True)
class _Steps:
    """The intermediate results of the verdict rule, for its plain-language explanation."""

    score: float
    by_score: Verdict
    weakest: DimensionScore | None
    share: float
    provisional: bool
    next_up: tuple[str, ...]
    answers_verdict: Verdict
    checks: tuple[Check, ...]
    verdict: Outcome
    decided_by: str
    lowered: bool
    possible: tuple[Verdict, Verdict] | None = None


def _answers_lines(bank: Bank, dims: Sequence[DimensionScore], s: _Steps) -> list[str]:
    rule = bank.verdict
    lines = [
        f"Score {score_text(s.score)}/100 from the answers: {rule.likely_min_score:g} or more "
        f"reads as likely, below {rule.unlikely_below_score:g} as unlikely, in between as at "
        f"risk, so the score says {VERDICT_LABELS[s.by_score].lower()}.",
    ]
    heavy = f"weighted {_heavy_weight(bank):.3g} or more"
    if s.weakest is not None and s.weakest.score is not None:
        lines.append(
            f"Weakest link: a dimension {heavy} that scores below "
            f"{rule.failing_below_score:g} keeps the verdict from likely, whatever the average. "
            f"{s.weakest.name} scores {score_text(s.weakest.score)}, so the answers say at "
            "most at risk."
        )
    else:
        lines.append(
            f"Weakest link: no dimension {heavy} scores below {rule.failing_below_score:g} "
            "(such a dimension would keep the verdict from likely)."
        )
    if s.provisional:
        answered = round(s.share * len(bank.questions))
        empty = [d.name for d in dims if d.score is None]
        why = [f"{answered} of {len(bank.questions)} statements answered ({s.share:.0%}; "
               f"{rule.min_answered_share:.0%} needed)"] if s.share < rule.min_answered_share \
            else []
        if empty:
            why.append("no answer yet in " + ", ".join(empty))
        lines.append(
            "Provisional: " + "; ".join(why) + ". Until then the verdict is at best at risk. "
            f"Answer next: {_next_text(bank, s.next_up)}."
        )
    held = s.weakest is not None or s.provisional or s.verdict == "cannot_tell"
    shown = bank.shown_band(s.score, held)
    if shown != bank.band_for(s.score):
        because = ("the numbers cannot tell whether the number is made"
                   if s.verdict == "cannot_tell" and s.weakest is None and not s.provisional
                   else "the verdict is held from likely")
        lines.append(
            f"Band: {shown.label}, not {bank.band_for(s.score).label} as the score alone would "
            f"read, since {because}."
        )
    return lines


def _next_text(bank: Bank, next_up: Sequence[str]) -> str:
    """Return "N statements, starting with <dimension names>" for the provisional line."""
    names = list(dict.fromkeys(bank.dimension(bank.question(q).dimension).name for q in next_up))
    count = len(next_up)
    plural = "s" if count != 1 else ""
    return f"{count} more statement{plural}, in " + ", ".join(names) if names else "—"


def _rule_lines(bank: Bank, dims: Sequence[DimensionScore], s: _Steps) -> tuple[str, ...]:
    """Return the plain-language steps that explain how the verdict was reached."""
    rule = bank.verdict
    lines = _answers_lines(bank, dims, s)
    lines.append(
        "When a numbers check can run, the numbers set the verdict and the answers can lower it "
        "by one step at most, never raise it: the numbers are evidence about this period, the "
        f"answers about the engine's health. A check that reaches {rule.likely_min_ratio:.0%} "
        f"of what is left of the target reads as likely, below {rule.unlikely_below_ratio:.0%} "
        "as unlikely."
    )
    for check in s.checks:
        if check.verdict is None:
            lines.append(f"{check.title}: {check.detail}")
        else:
            lines.append(f"{check.title} says {VERDICT_LABELS[check.verdict].lower()}. "
                         f"{check.detail}")
    lines.append(_verdict_line(s))
    return tuple(lines)


def _verdict_line(s: _Steps) -> str:
    """Return the last step: the verdict, what decided it, and any check that cannot tell."""
    provisional = " (provisional)" if s.provisional else ""
    unsure = [c for c in s.checks if c.cannot_tell]
    if s.verdict == "cannot_tell" and s.possible is not None:
        ends = " and ".join(
            f"{_cannot_tell(c)}: at the low end of its range the verdict would be "
            f"{VERDICT_LABELS[_low_end(s, c)].lower()}, at the high end "
            f"{VERDICT_LABELS[_high_end(s, c)].lower()}" for c in unsure if c.verdict_range)
        return (f"Verdict: Cannot tell. {ends[0].upper()}{ends[1:]}. The answers alone say "
                f"{VERDICT_LABELS[s.answers_verdict].lower()}{provisional}, which the numbers "
                "can neither confirm nor rule out.")
    decider = "the answers" if s.decided_by == "score" else next(
        f"the {c.title[0].lower()}{c.title[1:]}" for c in s.checks if c.name == s.decided_by)
    tail = ""
    if s.lowered:
        tail = (f", lowered one step because the answers say "
                f"{VERDICT_LABELS[s.answers_verdict].lower()}")
    elif s.decided_by != "score" and s.answers_verdict != s.verdict:
        tail = (f"; the answers say {VERDICT_LABELS[s.answers_verdict].lower()} but cannot "
                "raise what the numbers show")
    either = "".join(
        f"; {_cannot_tell(c)}, but at either end of its range the verdict would be "
        f"{VERDICT_LABELS[s.verdict].lower()}" for c in unsure)
    return (f"Verdict: {VERDICT_LABELS[s.verdict]}{provisional}, decided by {decider}{tail}"
            f"{either}.")


def _low_end(s: _Steps, check: Check) -> Verdict:
    """Return the overall verdict were ``check`` to give what the low end of its range gives."""
    return _at_end(s, check, 0)


def _high_end(s: _Steps, check: Check) -> Verdict:
    """Return the overall verdict were ``check`` to give what the high end of its range gives."""
    return _at_end(s, check, 1)


def _at_end(s: _Steps, check: Check, end: int) -> Verdict:
    assert check.verdict_range is not None
    picked = replace(check, verdict=check.verdict_range[end])
    return _combine(s.answers_verdict, [picked if c is check else c for c in s.checks])[0]


# --------------------------------------------------------------------------------------------
# Numbers from the active dataset


def numbers_from_dataset(dataset: Dataset, target: float | None = None) -> dict[str, float]:
    """Return the numbers the data can supply: win rate, deal size, pipeline, reps, productivity.

    The win rate comes from the deals that have had time to close (:func:`numbers_source` says
    which), not from young deals still largely open.
    Ramped reps counts reps with a win in the last 90 days of the data; deals per rep per month
    is their won deals in those 90 days ÷ 3. The forecast of the quarter still being played
    adds closed so far, expected bookings and the chance of ``target`` (without one, the
    bookings of the quarter before stand in as the target); data that cannot support a
    forecast leaves them out. A number the data cannot back is left out, not filled as 0: the
    pipeline when no open deal has an amount, the forecast when no won deal has one.
    """
    return numbers_with_sources(dataset, target)[0]


def numbers_with_sources(
    dataset: Dataset, target: float | None = None
) -> tuple[dict[str, float], dict[str, str]]:
    """Return :func:`numbers_from_dataset`'s numbers and, by number, the deals each comes from.

    The sentences name how many deals stand behind each number (and say when a number was left
    out because the data cannot back it); a page shows them beside the numbers.
    """
    from diagnostics.cohorts import rate_cohort
    from diagnostics.dataset import Filters
    from diagnostics.forecast import forecast_check
    from diagnostics.formatting import format_date, none_has_amount
    from diagnostics.funnel import headline_metrics

    metrics = headline_metrics(dataset, Filters())
    cohort = rate_cohort(dataset, Filters())
    out: dict[str, Any] = {}
    sources: dict[str, str] = {}
    rated = metrics if cohort.filters == Filters() else headline_metrics(dataset, cohort.filters)
    win_rate = _get(rated, "win_rate")
    if win_rate is not None:
        out["win_rate"] = round(win_rate, 4)
        # What the win rate rests on: the coverage check gives a range below MIN_CLOSED.
        out["win_rate_closed_deals"] = rated.won + rated.lost
        sources["win_rate"] = cohort.sentence("Win rate")
    avg = _get(metrics, "avg_won_amount")
    priced = metrics.won_with_amount or 0
    if avg is not None:
        out["average_deal_size"] = round(avg, 2)
        sources["average_deal_size"] = (
            f"Average deal size: the mean of {_deals(priced, 'won deal')} with an amount"
            + (f" (of {metrics.won:,} won)." if priced < metrics.won else "."))
    pipeline = metrics.pipeline_known
    known = metrics.open_with_amount or 0
    unpriced = metrics.open - known
    if pipeline is None:
        sources["open_pipeline"] = ("Open pipeline left blank: "
                                    f"{none_has_amount(metrics.open, 'open deal')}.")
    else:
        out["open_pipeline"] = round(pipeline, 2)
        sources["open_pipeline"] = (
            f"Open pipeline: the amounts of {known:,} open deals at any stage of the funnel, "
            "qualified or not" + (f"; {_deals(unpriced, 'more open deal')} without an amount "
                                  f"add{'s' if unpriced == 1 else ''} nothing." if unpriced
                                  else "."))
        if metrics.aged_open and metrics.live_days is not None:
            # Counted in full, as on the Funnel, though past the age deals are won at.
            sources["open_pipeline"] += (
                f" {metrics.aged_open:,} of the {metrics.open:,} open deals were created more "
                f"than {metrics.live_days:,} days ago, longer than 4 in 5 won deals took to "
                "close: few of them will.")
    row = dataset.con.execute(
        """
        SELECT count(DISTINCT rep), count(*)
        FROM opportunities
        WHERE status = 'won' AND rep IS NOT NULL
          AND close_date > CAST(? AS DATE) - INTERVAL 90 DAY AND close_date <= ?
        """,
        [dataset.as_of, dataset.as_of],
    ).fetchone()
    reps, won = (row or (0, 0))
    if reps:
        out["ramped_reps"] = float(reps)
        out["deals_per_rep_month"] = round(won / reps / 3, 2)
        sources["ramped_reps"] = (
            f"Ramped reps: the {reps:,} rep{'s' if reps != 1 else ''} with a win in the 90 days "
            f"to {format_date(dataset.as_of)}; deals per rep per month: their {won:,} wins in "
            f"those days ÷ {reps:,} ÷ 3.")
    if metrics.won and not priced:
        sources["forecast"] = ("Forecast numbers left blank: no won deal has an amount to value "
                               "bookings with.")
    else:
        with contextlib.suppress(DiagnosticsError):  # no won deal to learn from: the rest stands
            check = forecast_check(dataset, target)
            out.update(check.numbers)
            sources["forecast"] = f"Target and forecast numbers: {check.sentence()}"
    return clean_numbers(out), sources


# The numbers each source sentence of numbers_with_sources speaks for.
_SOURCE_NUMBERS: dict[str, tuple[str, ...]] = {
    "win_rate": ("win_rate", "win_rate_closed_deals"),
    "average_deal_size": ("average_deal_size",),
    "open_pipeline": ("open_pipeline",),
    "ramped_reps": ("ramped_reps", "deals_per_rep_month"),
    "forecast": ("target", "closed_so_far", "expected_bookings", "p_target",
                 "forecast_closed_deals", "forecast_won_deals"),
}


# A sentence that goes as soon as this one of its numbers no longer holds what was filled.
_SOURCE_LEAD: dict[str, str] = {"forecast": "expected_bookings"}


def sources_still_filled(sources: Mapping[str, str], filled: Mapping[str, float],
                         numbers: Mapping[str, float]) -> list[str]:
    """Return the source sentences whose numbers still hold the values filled from the data.

    A number typed over no longer comes from the data, so its sentence goes; a sentence saying
    why a number was left blank stays while that number is still blank. The forecast's sentence
    goes once its expected bookings are typed over or cleared: it describes them (their range,
    the deals they rest on), and would no longer describe the number beside it.
    """
    shown = []
    for key, text in sources.items():
        names = _SOURCE_NUMBERS.get(key, ())
        taken = [n for n in names if n in filled]
        still = (any(numbers.get(n) == filled[n] for n in taken) if taken
                 else not any(n in numbers for n in names))
        lead = _SOURCE_LEAD.get(key, "")
        if lead in filled and numbers.get(lead) != filled[lead]:
            still = False
        if still:
            shown.append(text)
    return shown


def numbers_source(dataset: Dataset) -> str:
    """Return the sentence naming the deals :func:`numbers_from_dataset` takes the win rate from."""
    from diagnostics.cohorts import rate_cohort
    from diagnostics.dataset import Filters

    return rate_cohort(dataset, Filters()).sentence("Win rate")


def _deals(count: int, noun: str) -> str:
    """Return "1 more open deal" / "3 more open deals"."""
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


def _get(metrics: Any, name: str) -> float | None:
    value = metrics.get(name) if isinstance(metrics, Mapping) else getattr(metrics, name, None)
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
