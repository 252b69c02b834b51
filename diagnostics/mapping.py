"""Which uploaded column means which canonical field: detection, proposal, saving and re-applying.

Header synonyms live in ``content/fields.toml``. A saved mapping is plain JSON (see
:func:`mapping_to_json`) so that next month's export can be read the same way.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from diagnostics.errors import DiagnosticsError

__all__ = [
    "KINDS",
    "FieldSpec",
    "Kind",
    "TableMapping",
    "detect_kind",
    "field_specs",
    "mapping_from_json",
    "mapping_to_json",
    "normalise_header",
    "propose_mapping",
    "read_mapping",
]

Kind = Literal["opportunities", "activities", "stage_history"]
KINDS: tuple[Kind, ...] = ("opportunities", "activities", "stage_history")
KIND_LABELS: dict[Kind, str] = {
    "opportunities": "Opportunities (one row per deal)",
    "activities": "Activities (calls, emails, meetings)",
    "stage_history": "Stage history (deal, stage, date entered)",
}
DateOrder = Literal["ymd", "mdy", "dmy"]
CONTENT = Path(__file__).resolve().parent / "content" / "fields.toml"
MAPPING_VERSION = 1


class FieldSpec(BaseModel):
    """One canonical field: its name, label, value kind and the headers that mean it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    kind: Literal["text", "amount", "date", "number"]
    synonyms: tuple[str, ...]
    required: bool = False
    key: bool = False


class _FieldsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    opportunities: tuple[FieldSpec, ...]
    activities: tuple[FieldSpec, ...]
    stage_history: tuple[FieldSpec, ...]


@cache
def field_specs() -> dict[Kind, tuple[FieldSpec, ...]]:
    """Return the canonical fields of every kind of table (validated content)."""
    try:
        parsed = _FieldsFile.model_validate(tomllib.loads(CONTENT.read_text(encoding="utf-8")))
    except (ValidationError, tomllib.TOMLDecodeError) as exc:  # a broken release, not user input
        raise RuntimeError(f"content/fields.toml is invalid: {exc}") from exc
    return {k: getattr(parsed, k) for k in KINDS}


_CONVERTED = re.compile(r"\bconverted\b|\b(company|corporate|home) currency\b")
_PREFIX = re.compile(r"^(deal|opportunity|opp|activity|task)\s*-\s*")


@functools.lru_cache(maxsize=4096)
def normalise_header(header: str) -> str:
    """Return a header in comparable form: lower case, no accents or punctuation, one spacing."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    text = _PREFIX.sub("", text.strip())
    text = re.sub(r"[^a-z0-9%]+", " ", text).strip()
    return re.sub(r"\s+", " ", text)


@dataclass
class TableMapping:
    """How one uploaded file is read: its kind, field → header, and per-column value formats."""

    kind: Kind
    columns: dict[str, str] = field(default_factory=dict)
    date_orders: dict[str, DateOrder] = field(default_factory=dict)
    decimal_comma: dict[str, bool] = field(default_factory=dict)
    # Amount field → the currency kept when its column holds several ("" keeps the amounts
    # without a mark); a field not named here keeps the most common currency.
    currency: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (``currency`` only when one was chosen)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "columns": dict(self.columns),
            "date_orders": dict(self.date_orders),
            "decimal_comma": dict(self.decimal_comma),
        }
        if self.currency:
            out["currency"] = dict(self.currency)
        return out


@functools.lru_cache(maxsize=256)
def _comparable(
    name: str, synonyms: tuple[str, ...]
) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """Return a field's name and synonyms in comparable form, and the synonyms without spaces
    (worked out once per field, not once per header and field)."""
    forms = tuple(normalise_header(s) for s in synonyms)
    return normalise_header(name), forms, frozenset(s.replace(" ", "") for s in forms)


def _match_score(header: str, spec: FieldSpec) -> int:
    norm = normalise_header(header)
    name, synonyms, squashed = _comparable(spec.name, tuple(spec.synonyms))
    if norm == name:
        return 100
    if norm in synonyms:
        return 90 - synonyms.index(norm)  # earlier synonyms are the more specific ones
    if norm.replace(" ", "") in squashed:
        return 60
    return 0


def propose_mapping(headers: Sequence[str], kind: Kind) -> dict[str, str]:
    """Return canonical field → header for the headers that clearly match, each header used once."""
    candidates: list[tuple[int, str, str]] = []
    for spec in field_specs()[kind]:
        for header in headers:
            score = _match_score(header, spec)
            if score:
                candidates.append((score, spec.name, header))
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _score, name, header in sorted(candidates, key=lambda c: -c[0]):
        if name not in mapping and header not in used:
            mapping[name] = header
            used.add(header)
    # An amount converted to the company's currency ("Amount (converted)") is not in the
    # currency a deal's currency column names: that column does not describe it.
    if "currency" in mapping and _CONVERTED.search(normalise_header(mapping.get("amount", ""))):
        del mapping["currency"]
    return mapping


def detect_kind(headers: Sequence[str]) -> tuple[Kind, dict[Kind, int]]:
    """Return the most likely kind of table for these headers, and each kind's score."""
    scores: dict[Kind, int] = {}
    for kind in KINDS:
        mapping = propose_mapping(headers, kind)
        specs = {s.name: s for s in field_specs()[kind]}
        scores[kind] = sum(3 if specs[f].key else 1 for f in mapping)
    # An activity file has a type and a date but no amount; stage history has no owner/amount.
    mapped_opp = propose_mapping(headers, "opportunities")
    if "amount" in mapped_opp and "stage" in mapped_opp:
        scores["opportunities"] += 4
    best = max(KINDS, key=lambda k: (scores[k], -KINDS.index(k)))
    return best, scores


def mapping_to_json(
    tables: Sequence[TableMapping], stages: Mapping[str, Any] | None, pipeline: str | None = None
) -> str:
    """Return a saved-mapping document (JSON text) for these tables, stage settings and the
    pipeline read (stage settings belong to one pipeline)."""
    return json.dumps(
        {
            "version": MAPPING_VERSION,
            "tables": {t.kind: t.to_dict() for t in tables},
            "stages": dict(stages) if stages else None,
            **({"pipeline": pipeline} if pipeline is not None else {}),
        },
        indent=2,
        ensure_ascii=False,
    )


class _SavedTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    columns: dict[str, str] = {}
    date_orders: dict[str, DateOrder] = {}
    decimal_comma: dict[str, bool] = {}
    currency: dict[str, str] = {}


class _SavedStages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    funnel: list[str]
    won: list[str] = []
    lost: list[str] = []
    excluded: list[str] = []
    renames: dict[str, str] = {}


class _SavedMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    tables: dict[Kind, _SavedTable] = {}
    stages: _SavedStages | None = None
    pipeline: str | None = None


@dataclass
class SavedMapping:
    """A mapping file read back: per-kind table mappings and optional stage settings."""

    tables: dict[Kind, TableMapping]
    stages: dict[str, Any] | None
    pipeline: str | None = None  # the pipeline the stage settings belong to


def mapping_from_json(text: str | bytes) -> SavedMapping:
    """Return the mapping in a saved-mapping document; raise DiagnosticsError naming the problem."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DiagnosticsError(
            f"The mapping file is not valid JSON ({exc}).",
            "Use a file saved with “Download mapping” on the Data page.",
        ) from exc
    try:
        parsed = _SavedMapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DiagnosticsError(
            f"The mapping file has a problem at “{where}”: {first['msg']}.",
            "Use a file saved with “Download mapping” on the Data page, or fix that entry.",
        ) from exc
    if parsed.version != MAPPING_VERSION:
        raise DiagnosticsError(
            f"The mapping file is version {parsed.version}; this app reads version "
            f"{MAPPING_VERSION}.",
            "Save the mapping again from the Data page.",
        )
    valid = {k: {s.name for s in field_specs()[k]} for k in KINDS}
    tables: dict[Kind, TableMapping] = {}
    for kind, t in parsed.tables.items():
        unknown = sorted(set(t.columns) - valid[kind])
        if unknown:
            raise DiagnosticsError(
                f"The mapping file names unknown {kind} fields: {', '.join(unknown)}.",
                f"Known fields are: {', '.join(sorted(valid[kind]))}.",
            )
        tables[kind] = TableMapping(kind, dict(t.columns), dict(t.date_orders),
                                    dict(t.decimal_comma), dict(t.currency))
    return SavedMapping(tables, parsed.stages.model_dump() if parsed.stages else None,
                        parsed.pipeline)


def read_mapping(path: Path) -> SavedMapping:
    """Return the saved mapping in a JSON file; raise DiagnosticsError when it is unusable."""
    try:
        return mapping_from_json(Path(path).read_bytes())
    except OSError as exc:
        raise DiagnosticsError(f"Cannot read the mapping file {path}: {exc.strerror}.") from exc
