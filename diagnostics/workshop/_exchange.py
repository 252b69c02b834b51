"""Exports of a workshop's responses and the CSV import with a per-row report."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from diagnostics.errors import DiagnosticsError
from diagnostics.workshop._codes import (
    match_role,
    role_label,
)
from diagnostics.workshop._content import (
    INSTRUMENTS,
    LEADERSHIP,
    MAKE_YOUR_NUMBER,
    NOT_APPLICABLE,
    Content,
)
from diagnostics.workshop._lifecycle import (
    _now,
    _refuse_if_closed,
    _validated_value,
    authorise,
    join_workshop,
)
from diagnostics.workshop._roster import excluded_ids
from diagnostics.workshop._summary import WorkshopSummary
from diagnostics.workshop_store import (
    AnswerRecord,
    WorkshopStore,
)

# Columns of an exported file that an import accepts and ignores.
_IGNORED_COLUMNS = {"participant", "joined_at", "answered", "counted"}


def export_frame(
    store: WorkshopStore, content: Content, raw_code: object, key: str, reveal: bool = False
) -> pd.DataFrame:
    """Return one row per participant (name, role, joined_at, counted, one column per question).

    ``counted`` is "no" for a participant the facilitator left out of the results.
    """
    workshop = authorise(store, raw_code, key)
    excluded = excluded_ids(store.list_settings(workshop.code))
    question_ids = content.question_ids(workshop.instruments)
    answers: dict[str, dict[str, str]] = defaultdict(dict)
    for a in store.list_answers(workshop.code):
        if a.instrument in INSTRUMENTS:  # votes on the plan are not responses
            answers[a.participant_id][a.question_id] = a.value
    rows = []
    for i, p in enumerate(store.list_participants(workshop.code), start=1):
        row: dict[str, Any] = {
            "name": f"Participant {i}" if reveal else p.name,
            "role": role_label(p.role),
            "joined_at": p.joined_at.isoformat(timespec="seconds"),
            "counted": "no" if p.participant_id in excluded else "yes",
        }
        for qid in question_ids:
            value = answers[p.participant_id].get(qid)
            statement = content.statement(qid)
            if value == NOT_APPLICABLE and statement is not None:
                value = "n/a"  # an import reads it back as not applicable
            row[qid] = int(value) if value not in (None, "n/a") and statement else value
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["name", "role", "joined_at", "counted", *question_ids])
    for qid in question_ids:
        if content.statement(qid) is not None and not (frame[qid] == "n/a").any():
            frame[qid] = frame[qid].astype("Int64")
    return frame


def plan_frame(summary: WorkshopSummary) -> pd.DataFrame:
    """Return the action plan as a table: action, owner, due date, votes."""
    return pd.DataFrame(
        [{"action": p.action, "owner": p.owner, "due": p.due.isoformat() if p.due else "",
          "votes": p.votes} for p in summary.plan],
        columns=["action", "owner", "due", "votes"],
    )


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
        joined = join_workshop(store, workshop.code, name, role, now=now, limited=False)
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
