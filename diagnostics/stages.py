"""Pipeline stages found in a file: which mean won, lost or "parked", and a proposed order.

The order comes, by preference, from stage history (the order deals actually moved in), then
from a probability column (Salesforce exports carry one), then from common stage vocabularies.
The user can always reorder, rename, mark won/lost and exclude on the Data page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from diagnostics.dataset import StageConfig

__all__ = ["classify_stage", "propose_stages"]

_WON = re.compile(
    r"(\bwon\b|closed\s*-?\s*won|closedwon|\bsigned\b|\bbooked\b|\bwin\b|\brenewed\b)", re.I)
_LOST = re.compile(
    r"(\blost\b|closed\s*-?\s*lost|closedlost|\bdead\b|disqualified|\bchurn|\brejected\b|"
    r"no\s+decision|closed\s*-?\s*no)",
    re.I,
)
_PARKED = re.compile(r"(on\s*hold|\bhold\b|stalled|paused|dormant|parked|nurtur|inactive|"
                     r"\bsnoozed\b|\bdeferred\b)", re.I)

# Typical position of a stage in a B2B funnel, by the words in its name (lower = earlier).
_VOCABULARY: tuple[tuple[str, int], ...] = (
    (r"\b(inquiry|enquiry|new|lead|prospect|suspect|raw)\w*", 10),
    (r"\bmql\b|marketing qualified", 15),
    (r"\bsal\b|accepted", 18),
    (r"\bcontact\s+made\b", 22),  # Pipedrive's default pipeline: Qualified, then Contact Made
    (r"\b(sql|sqo)\b|qualif|contact(ed)?\b|connected|appointment", 20),
    (r"discover|needs?\s+analysis|first\s+meeting|intro", 30),
    (r"meeting|engag", 33),
    (r"demo|presentation", 40),
    (r"value\s+prop|solution|business\s+case", 43),
    (r"decision\s+maker|champion|perception|bought\s*in", 46),
    (r"trial|\bpoc\b|proof|pilot|evaluation|technical", 50),
    (r"proposal|quote|pricing|price", 60),
    (r"negotiat|review|legal|procurement", 70),
    (r"contract|commit|verbal|closing", 80),
)


def classify_stage(stage: str) -> str:
    """Return 'won', 'lost', 'excluded' (placeholder stages) or 'open' for a stage name."""
    if _LOST.search(stage):
        return "lost"
    if _WON.search(stage):
        return "won"
    if _PARKED.search(stage):
        return "excluded"
    return "open"


def _vocabulary_rank(stage: str) -> int | None:
    for pattern, rank in _VOCABULARY:
        if re.search(pattern, stage, re.I):
            return rank
    return None


def propose_stages(
    stages: Sequence[str],
    *,
    counts: Mapping[str, int] | None = None,
    history_position: Mapping[str, float] | None = None,
    probability: Mapping[str, float] | None = None,
    status_won: Sequence[str] = (),
    status_lost: Sequence[str] = (),
) -> tuple[StageConfig, str]:
    """Return a proposed stage configuration and a sentence on how the order was chosen.

    ``history_position`` is each stage's average position in deals' stage histories;
    ``probability`` the average win probability recorded at each stage; ``status_won`` /
    ``status_lost`` are stages whose every deal has that status (e.g. Pipedrive's status column).
    """
    counts = counts or {}
    won: list[str] = []
    lost: list[str] = []
    excluded: list[str] = []
    open_stages: list[str] = []
    for stage in stages:
        role = classify_stage(stage)
        # A status column carries the outcome; the stage of a won or lost deal is where it was
        # (Pipedrive keeps it). A stage holding only won (or lost) deals is an outcome stage only
        # when its name is no pipeline step: "Negotiations Started" all won in a small export
        # is still a step of the funnel, "Gewonnen" is not.
        is_step = _vocabulary_rank(stage) is not None
        if role == "open" and stage in status_won and not is_step:
            role = "won"
        elif role == "open" and stage in status_lost and not is_step:
            role = "lost"
        {"won": won, "lost": lost, "excluded": excluded, "open": open_stages}[role].append(stage)

    def by_vocabulary(stage: str) -> tuple[float, int, str]:
        rank = _vocabulary_rank(stage)
        return (rank if rank is not None else 55, -counts.get(stage, 0), stage)

    if history_position and all(s in history_position for s in open_stages):
        open_stages.sort(key=lambda s: (history_position[s], by_vocabulary(s)))
        how = "Order taken from the stage history (the order deals actually moved in)."
    elif probability and all(s in probability for s in open_stages):
        open_stages.sort(key=lambda s: (probability[s], by_vocabulary(s)))
        how = "Order taken from the probability recorded at each stage."
    else:
        open_stages.sort(key=by_vocabulary)
        unknown = [s for s in open_stages if _vocabulary_rank(s) is None]
        how = "Order guessed from common stage names."
        if unknown:
            how += f" Not recognised (placed mid-funnel): {', '.join(unknown)}. Check the order."
    config = StageConfig(
        funnel=tuple(open_stages), won=tuple(won), lost=tuple(lost), excluded=tuple(excluded)
    )
    return config, how


ROLES = ("open", "won", "lost", "excluded")


def stage_rows(config: StageConfig) -> list[dict[str, object]]:
    """Return one editable row per stage: source name, shown name, role and funnel order."""
    rows: list[dict[str, object]] = []
    for i, stage in enumerate(config.funnel, start=1):
        rows.append({"stage": stage, "show_as": config.display_name(stage), "role": "open",
                     "order": i})
    for role, stages in (("won", config.won), ("lost", config.lost),
                         ("excluded", config.excluded)):
        for stage in stages:
            rows.append({"stage": stage, "show_as": config.display_name(stage), "role": role,
                         "order": None})
    return rows


def config_from_rows(rows: Sequence[Mapping[str, object]]) -> StageConfig:
    """Return stage settings from edited rows; raise DiagnosticsError when they cannot work.

    Open stages are ordered by ``order`` (blank orders go last, in row order).
    """
    from diagnostics.errors import DiagnosticsError

    groups: dict[str, list[tuple[float, int, str]]] = {role: [] for role in ROLES}
    renames: list[tuple[str, str]] = []
    for i, row in enumerate(rows):
        stage = str(row["stage"])
        role = str(row.get("role") or "open")
        if role not in ROLES:
            raise DiagnosticsError(f"Stage “{stage}” has an unknown role “{role}”.",
                                   f"Choose one of: {', '.join(ROLES)}.")
        order = row.get("order")
        try:
            key = float(str(order)) if order is not None and str(order) != "" else float("inf")
        except (TypeError, ValueError):
            key = float("inf")
        if key != key:  # NaN from an emptied cell
            key = float("inf")
        groups[role].append((key, i, stage))
        shown = str(row.get("show_as") or "").strip()
        if shown and shown != stage:
            renames.append((stage, shown))
    if not groups["open"]:
        raise DiagnosticsError("Every stage is marked won, lost or excluded.",
                               "Mark at least one stage as an open funnel stage.")
    ordered = [s for _, _, s in sorted(groups["open"])]
    return StageConfig(
        funnel=tuple(ordered),
        won=tuple(s for _, _, s in groups["won"]),
        lost=tuple(s for _, _, s in groups["lost"]),
        excluded=tuple(s for _, _, s in groups["excluded"]),
        renames=tuple(renames),
    )
