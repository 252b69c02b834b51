"""Rep quadrant: engagement × close ratio per rep, with honest uncertainty for small samples.

Definitions (shown to users on the page and in the README):

- *Close ratio* = won ÷ (won + lost) over the rep's deals **closed** in the period.
- *Engagement* = activities (or meetings) in the period ÷ working days (Monday–Friday) in the
  period; or, without an activity file, opportunities worked per week: deals open at any time in
  the period (created on or before its end, not closed before its start) ÷ (working days ÷ 5).
- Split lines: engagement at the median of the reps with at least ``min_deals`` closed deals (an
  engagement on its line counts as high); close ratio at the **team's close ratio**, all won ÷
  all closed deals of the reps in play. A typed target replaces either line.
- The close-ratio test (:class:`CloseRule`): a rep's close ratio counts as below (or above) the
  line only when its whole interval is on that side, at 95% confidence for the team as a whole:
  with k reps compared each interval is at confidence 0.95 ** (1/k) (Šidák), so on a team whose
  reps all close alike, 19 periods in 20 flag nobody. Not the median: the median of a few noisy
  ratios is itself noisy, and with it some rep sits below it by chance in most periods. The team
  rate includes the rep it is compared with, which makes the test slightly cautious rather than
  hasty (see :class:`CloseRule`).
- Placement: with engagement at or above its line: close ratio at or above its line → star;
  clearly below → needs coaching; below with an interval that reaches the line → too close to
  call. Below the engagement line: clearly below → performance plan, clearly above → check the
  data, an interval that reaches the line → too close to call. "Too close to call" is one state
  on either side (watch, no plan yet), with how many more closed deals at the same ratio would
  settle it. The funnel plot draws its limits around the same line at the same confidence, so a
  rep is labelled weak (needs coaching, performance plan) exactly when it sits below the plot's
  lower limit.
- Reps with fewer than ``min_deals`` closed deals are "not enough data", never in a quadrant.
- Segment/product/region filters keep the deals in those categories and the activities logged
  against them; team/rep filters keep the reps whose deals belong to the team.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import tomllib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from diagnostics import stats
from diagnostics.dataset import Dataset, Filters, opportunity_filter_sql
from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import DASH, format_count, format_number, format_period, format_rate
from diagnostics.funnel import compute_funnel

__all__ = [
    "ENGAGEMENTS",
    "NOTHING_TO_DRAW",
    "QUADRANTS",
    "CloseRule",
    "Movement",
    "QuadrantContent",
    "QuadrantResult",
    "RepRow",
    "Thresholds",
    "classify_reps",
    "close_rule",
    "content",
    "default_periods",
    "display_frame",
    "compare_periods",
    "export_frame",
    "funnel_plot_levels",
    "funnel_plot_limits",
    "funnel_plot_line",
    "funnel_plot_note",
    "load_content",
    "rep_activity_trend",
    "rep_funnel",
]

Engagement = Literal["activities", "meetings", "opportunities"]
ENGAGEMENTS: tuple[Engagement, ...] = ("activities", "meetings", "opportunities")
QUADRANTS = ("star", "needs_coaching", "performance_plan", "too_close", "check_data",
             "not_enough_data")
NOT_ENOUGH = "not_enough_data"
TOO_CLOSE = "too_close"
# "Check the data" should be rare: above this share of the placed reps, the page says why.
CHECK_DATA_RARE_SHARE = 0.1
NOTHING_TO_DRAW = (
    "Nothing to draw: no rep has a deal closed (or a working day) in this period with these "
    "filters. Widen the period or clear a filter."
)
CONTENT_PATH = Path(__file__).parent / "content" / "quadrant.toml"


# --- content ---------------------------------------------------------------------------------


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_deals: int = Field(ge=1)
    confidence: float = Field(gt=0, lt=1)
    warning_limits: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _limits_are_probabilities(self) -> _Defaults:
        if any(not 0 < c < 1 for c in self.warning_limits):
            raise ValueError("warning_limits must lie strictly between 0 and 1")
        return self


class _Measure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    short: str = Field(min_length=1)
    needs_activities: bool


class _Quadrant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    action: str = Field(min_length=1)
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    engagement: Literal["high", "low"] | None = None
    close: Literal["high", "low", "around"] | None = None


class QuadrantContent(BaseModel):
    """The quadrant's names, actions, colours and defaults, validated from TOML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: _Defaults
    engagement: dict[str, _Measure]
    quadrants: dict[str, _Quadrant]

    @model_validator(mode="after")
    def _complete(self) -> QuadrantContent:
        if set(self.engagement) != set(ENGAGEMENTS):
            raise ValueError(f"engagement must define exactly {list(ENGAGEMENTS)}")
        if set(self.quadrants) != set(QUADRANTS):
            raise ValueError(f"quadrants must define exactly {list(QUADRANTS)}")
        cells = [(q.engagement, q.close) for k, q in self.quadrants.items()
                 if k not in (NOT_ENOUGH, TOO_CLOSE)]
        wanted = {(e, c) for e in ("high", "low") for c in ("high", "low")}
        if set(cells) != wanted or len(cells) != 4:
            raise ValueError("the four quadrants must cover each high/low combination once")
        close = self.quadrants[TOO_CLOSE]
        if (close.engagement, close.close) != (None, "around"):
            # One state on both sides of the engagement line: no engagement level.
            raise ValueError('too_close takes close = "around" and no engagement level')
        nd = self.quadrants[NOT_ENOUGH]
        if nd.engagement is not None or nd.close is not None:
            raise ValueError("not_enough_data takes no engagement/close level")
        return self

    def names(self) -> dict[str, str]:
        """Return quadrant id → display name, in the order of :data:`QUADRANTS`."""
        return {k: self.quadrants[k].name for k in QUADRANTS}

    def colours(self) -> dict[str, str]:
        """Return display name → colour, in the order of :data:`QUADRANTS` (for chart legends)."""
        return {self.quadrants[k].name: self.quadrants[k].colour for k in QUADRANTS}

    def quadrant_for(self, high_engagement: bool, high_close: bool) -> str:
        """Return the quadrant id for a pair of high/low levels."""
        e = "high" if high_engagement else "low"
        c = "high" if high_close else "low"
        return next(k for k, q in self.quadrants.items() if (q.engagement, q.close) == (e, c))

    def place(self, high_engagement: bool, ratio: float, line: float, side: int) -> str:
        """Return the quadrant id under the evidence rule (see the module docstring).

        ``side`` is :func:`diagnostics.stats.side_of_line` of the close ratio: -1 clearly below
        the close-ratio line, 1 clearly above, 0 when the interval reaches it. A high-engagement
        rep at or above the line is a star whatever the interval; any other rep whose interval
        reaches the line is too close to call.
        """
        if high_engagement and ratio >= line:
            return self.quadrant_for(True, True)
        if side == 0:
            return TOO_CLOSE
        return self.quadrant_for(high_engagement, side > 0)


def load_content(path: Path = CONTENT_PATH) -> QuadrantContent:
    """Return the validated quadrant content; raises DiagnosticsError naming the bad field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return QuadrantContent.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DiagnosticsError(f"Cannot read {path.name}: {exc}") from exc
    except ValidationError as exc:
        raise DiagnosticsError(f"{path.name} is not valid: {exc}") from exc


@cache
def _content() -> QuadrantContent:
    return load_content()


def content() -> QuadrantContent:
    """Return the bundled quadrant content (loaded and validated once per process)."""
    return _content()


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Where the split lines sit; ``basis`` is "team", "target" or "mixed".

    "team": engagement at the team median and close ratio at the team's close ratio; "mixed":
    a target on one axis and the team's figure on the other."""

    engagement: float | None
    close_ratio: float | None
    basis: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form ``{engagement, close_ratio, basis}``."""
        return {"engagement": self.engagement, "close_ratio": self.close_ratio, "basis": self.basis}


def _level(confidence: float) -> str:
    """Return a confidence as a short percentage: 0.95 → "95%", 0.99270 → "99.3%"."""
    return f"{confidence:.1%}".replace(".0%", "%")


@dataclass(frozen=True)
class CloseRule:
    """The close-ratio test every placed rep gets: the line, and a confidence for the whole team.

    ``line`` is the team's close ratio (``source="team"``) or a typed target (``"target"``).
    ``confidence`` holds for the team as a whole: each of the ``compared`` reps is tested at
    :attr:`rep_confidence` (Šidák), so when every rep closes alike the chance that any of them
    is flagged is at most 1 - ``confidence``. A rep is clearly below or above the line when the
    line lies outside the rep's Wilson interval at that confidence: the score test
    |ratio - line| > z·sqrt(line(1 - line)/n), i.e. outside the funnel plot's limits.

    Why the team rate, and not the median, is the line: the team rate includes the rep, so when
    everybody closes alike the gap between a rep with n of the team's N closed deals and the
    line has variance p(1 - p)/n·(1 - n/N), a little less than the p(1 - p)/n the test allows.
    The line's own noise is covered and the test is the rep-against-the-rest-of-the-team test,
    made slightly cautious. The median of a few noisy ratios has no such property: some rep
    sits clearly below it by chance in most periods.
    """

    line: float | None
    source: Literal["team", "target"]
    confidence: float
    compared: int

    @property
    def rep_confidence(self) -> float:
        """Return the confidence of each rep's interval: ``confidence`` ** (1 / ``compared``)."""
        return stats.sidak_confidence(self.confidence, self.compared)

    def interval(self, won: int, closed: int) -> tuple[float | None, float | None]:
        """Return the rep's Wilson interval at :attr:`rep_confidence` ((None, None) if no deals)."""
        return stats.wilson_interval(won, closed, self.rep_confidence)

    def side(self, won: int, closed: int) -> int:
        """Return -1 clearly below the line, 1 clearly above, 0 when the interval reaches it."""
        if self.line is None:
            return 0
        return stats.side_of_line(won, closed, self.line, self.rep_confidence)

    def deals_to_settle(self, won: int, closed: int) -> int | None:
        """Return how many more closed deals at the same ratio would settle the rep's side."""
        if self.line is None or closed == 0:
            return None
        return stats.trials_to_settle(won / closed, self.line, closed, self.rep_confidence)

    def text(self) -> str:
        """Return the rule in plain words: the line, the confidence, the reps it allows for."""
        if self.line is None:
            return "No close-ratio line: no rep closed a deal in this period."
        what = (f"the team's close ratio, {format_rate(self.line, 1)} (won ÷ closed over every "
                "rep's deals in the period)" if self.source == "team"
                else f"your target, {format_rate(self.line, 1)}")
        if self.compared == 0:
            return (f"Close-ratio line: {what}. No rep has enough closed deals to be judged "
                    "against it.")
        reps = "1 rep" if self.compared == 1 else f"{self.compared:,} reps"
        return (
            f"Close-ratio line: {what}. A rep counts as below or above it only when the whole "
            f"interval of their close ratio is on one side, at {_level(self.confidence)} "
            "confidence for the team as a whole: the intervals allow for the number of reps "
            f"compared ({reps}, so each interval is {_level(self.rep_confidence)}). If every rep "
            f"closed alike, the chance that anyone is flagged would be at most "
            f"{_level(1 - self.confidence)}. An interval that reaches the line is too close to "
            "call: watch, no plan yet."
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: line source, team-wide and per-rep confidence, reps compared."""
        return {"close_line": self.source, "confidence": self.confidence,
                "reps_compared": self.compared, "rep_confidence": self.rep_confidence,
                "text": self.text()}


def close_rule(
    won_lost: Sequence[tuple[int, int]],
    compared: int,
    target: float | None = None,
    confidence: float | None = None,
) -> CloseRule:
    """Return the close-ratio rule for a team given as (won, lost) per rep in play.

    The line is ``target`` when given, else the team's close ratio Σwon ÷ Σclosed (None when no
    deal closed). ``compared`` is the number of reps placed against it (those with enough closed
    deals); ``confidence`` (default: the content's) holds for all of them together.
    """
    if confidence is None:
        confidence = _content().defaults.confidence
    if target is not None:
        return CloseRule(line=target, source="target", confidence=confidence, compared=compared)
    closed = sum(w + lost for w, lost in won_lost)
    line = sum(w for w, _ in won_lost) / closed if closed else None
    return CloseRule(line=line, source="team", confidence=confidence, compared=compared)


@dataclass(frozen=True)
class RepRow:
    """One rep's figures, quadrant and suggested action."""

    rep: str
    team: str | None
    engagement: float | None
    activities: int
    won: int
    lost: int
    close_ratio: float | None
    close_ratio_low: float | None
    close_ratio_high: float | None
    shrunk_close_ratio: float | None
    quadrant: str
    action: str
    deals_to_settle: int | None = None

    @property
    def closed(self) -> int:
        """Return the number of deals closed in the period (won + lost)."""
        return self.won + self.lost


_JSON_FIELDS = (
    "rep", "engagement", "close_ratio", "close_ratio_low", "close_ratio_high",
    "shrunk_close_ratio", "won", "lost", "quadrant",
)
_FRAME_COLUMNS = (
    "rep", "team", "engagement", "activities", "won", "lost", "closed", "close_ratio",
    "close_ratio_low", "close_ratio_high", "shrunk_close_ratio", "quadrant", "quadrant_name",
    "action", "deals_to_settle",
)


@dataclass(frozen=True)
class QuadrantResult:
    """Thresholds plus one row per rep, with the period and measure they were computed on."""

    thresholds: Thresholds
    reps: tuple[RepRow, ...]
    engagement: Engagement
    start: dt.date
    end: dt.date
    working_days: int
    min_deals: int
    team_close_ratio: float | None
    rule: CloseRule
    # Closed deals (in the filters, with a rep) that have no close date, and whether they count:
    # over the whole data range they do; a period cannot hold them.
    undated_closed: int = 0
    undated_counted: bool = True

    @property
    def engagement_label(self) -> str:
        """Return the axis label of the engagement measure."""
        return _content().engagement[self.engagement].label

    def summary(self) -> str:
        """Return one sentence: the period, where the split lines sit and what they are."""
        th, rule = self.thresholds, self.rule
        engagement_target = th.basis == "target" or (th.basis == "mixed" and rule.source == "team")
        short = _content().engagement[self.engagement].short
        if th.engagement is None:  # only the team median can be missing: it needs placed reps
            engagement = (f"none, as no rep is placed (the team median is taken over reps with "
                          f"{self.min_deals} or more closed deals and an engagement figure)")
        else:
            engagement = ("your target" if engagement_target else "team median") + (
                f", {format_number(th.engagement, '.2f')} {short}")
        if th.close_ratio is None:  # only the team's ratio can be missing: nothing closed
            close = "none, as no deal closed in the period"
        else:
            close = ("team close ratio" if rule.source == "team" else "your target") + (
                f", {format_rate(th.close_ratio, 1)}")
        team = ("" if rule.source == "team" else
                " No team close ratio: no deal closed in the period." if self.team_close_ratio
                is None else f" Team close ratio {format_rate(self.team_close_ratio, 1)}.")
        return (
            f"{self.working_days} working days, {format_period(self.start, self.end)}. "
            f"Engagement line: {engagement}. Close-ratio line: {close}.{team}"
        )

    def undated_note(self) -> str | None:
        """Say how the closed deals without a close date were treated (None when there are none)."""
        n = self.undated_closed
        if not n:
            return None
        one = n == 1
        deals = f"{n:,} closed deal{'' if one else 's'} without a close date"
        them = "it" if one else "them"
        if self.undated_counted:
            return (f"{deals} {'counts' if one else 'count'} in the close ratios: the whole data "
                    f"range is shown. A shorter period leaves {them} out: no date places "
                    f"{them} in it.")
        return (f"{deals} {'is' if one else 'are'} left out of this period's close ratios: no "
                f"date places {them} in it. The whole data range counts {them}.")

    def check_data_note(self) -> str | None:
        """Return why "Check the data" holds more than a few reps, or None when it stays rare.

        Low engagement with a close ratio clearly above the line is rare in real teams; when
        more than :data:`CHECK_DATA_RARE_SHARE` of the placed reps land there, the likely causes
        are counted from the data: reps with no activity logged in the period, and an
        engagement line that is a typed target rather than the team's median.
        Reps are only counted here when their whole interval is above the line (see
        :class:`CloseRule`), so chance alone rarely puts several reps here.
        """
        placed = [r for r in self.reps if r.quadrant != NOT_ENOUGH]
        flagged = [r for r in placed if r.quadrant == "check_data"]
        if not flagged or len(flagged) <= max(1, CHECK_DATA_RARE_SHARE * len(placed)):
            return None
        reasons = []
        explained: set[str] = set()
        silent = [r.rep for r in flagged if r.activities == 0]
        if silent and self.engagement != "opportunities":
            explained.update(silent)
            reasons.append(f"{len(silent)} of them logged no activity at all in the period, "
                           "which points to activities kept outside the CRM")
        line = self.thresholds.engagement
        # The engagement split has no interval of its own: a rep a few activities under the
        # median is "low engagement" by a hair.
        near = [r.rep for r in flagged
                if line and r.engagement is not None and r.engagement >= 0.9 * line]
        if near:
            explained.update(near)
            reasons.append(f"{len(near)} of them sit within 10% of the engagement line, where a "
                           "few more activities would make them Stars")
        if self.thresholds.basis in ("target", "mixed"):
            reasons.append("the split lines include your targets, so the lines may sit far "
                           "from where this team works")
        elif not reasons:
            reasons.append("nothing in the data explains it: compare their deal mix, territory "
                           "and lead sources with the team's")
        elif len(explained) < len(flagged):
            reasons.append(f"for the other {len(flagged) - len(explained)}, compare their deal "
                           "mix, territory and lead sources with the team's")
        share = len(flagged) / len(placed)
        because = "; ".join(reasons)
        return (f"{len(flagged)} of {len(placed)} placed reps ({share:.0%}) have low engagement "
                "and a close ratio clearly above the line, where only a few are expected. "
                + because[:1].upper() + because[1:] + ".")

    def counts(self) -> dict[str, int]:
        """Return the number of reps per quadrant id (every id present, zeros included)."""
        out = dict.fromkeys(QUADRANTS, 0)
        for row in self.reps:
            out[row.quadrant] += 1
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return one row per rep (the chart and table input) with the quadrant's display name."""
        names = {k: q.name for k, q in _content().quadrants.items()}
        rows = [
            {
                **{c: getattr(r, c) for c in _FRAME_COLUMNS if hasattr(r, c)},
                "closed": r.closed,
                "quadrant_name": names[r.quadrant],
            }
            for r in self.reps
        ]
        frame = pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))
        for col in ("engagement", "close_ratio", "close_ratio_low", "close_ratio_high",
                    "shrunk_close_ratio"):
            frame[col] = frame[col].astype("float64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON payload: thresholds, reps (the documented fields) and context."""
        return {
            "thresholds": self.thresholds.to_dict(),
            "reps": [{f: getattr(r, f) for f in _JSON_FIELDS} for r in self.reps],
            "engagement_measure": self.engagement,
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat(),
                       "working_days": self.working_days},
            "min_deals": self.min_deals,
            "team_close_ratio": self.team_close_ratio,
            "counts": self.counts(),
            "rule": self.rule.to_dict(),
            "undated_closed": {"deals": self.undated_closed, "counted": self.undated_counted},
            "summary": self.summary(),
        }


def export_frame(result: QuadrantResult) -> pd.DataFrame:
    """Return the rep table with readable headers for CSV/Excel export (not yet neutralised)."""
    frame = result.to_frame()
    return pd.DataFrame(
        {
            "Rep": frame["rep"],
            "Team": frame["team"],
            result.engagement_label: frame["engagement"].round(3),
            "Close ratio": frame["close_ratio"].round(4),
            "Close ratio low": frame["close_ratio_low"].round(4),
            "Close ratio high": frame["close_ratio_high"].round(4),
            "Interval confidence": round(result.rule.rep_confidence, 4),
            "Shrunk close ratio": frame["shrunk_close_ratio"].round(4),
            "Won": frame["won"],
            "Lost": frame["lost"],
            "Closed deals": frame["closed"],
            "Quadrant": frame["quadrant_name"],
            "Action": frame["action"],
        }
    )


def display_frame(result: QuadrantResult) -> pd.DataFrame:
    """Return the rep table as text for the page: percentages, intervals, "—" where undefined."""
    names = _content().names()
    return pd.DataFrame(
        {
            "Rep": [r.rep for r in result.reps],
            "Team": [r.team or DASH for r in result.reps],
            result.engagement_label: [
                format_number(r.engagement, ".2f") for r in result.reps
            ],
            "Close ratio": [format_rate(r.close_ratio) for r in result.reps],
            f"{_level(result.rule.rep_confidence)} interval": [
                DASH if r.close_ratio_low is None or r.close_ratio_high is None
                else f"{r.close_ratio_low:.0%}–{r.close_ratio_high:.0%}"
                for r in result.reps
            ],
            "Shrunk": [format_rate(r.shrunk_close_ratio) for r in result.reps],
            "Won": [r.won for r in result.reps],
            "Lost": [r.lost for r in result.reps],
            "Quadrant": [names[r.quadrant] for r in result.reps],
            "Action": [r.action for r in result.reps],
        }
    )


def default_periods(end: dt.date, days: int = 90) -> tuple[tuple[dt.date, dt.date], ...]:
    """Return two back-to-back periods of ``days`` days, the second ending on ``end``."""
    second = (end - dt.timedelta(days=days - 1), end)
    first = (second[0] - dt.timedelta(days=days), second[0] - dt.timedelta(days=1))
    return (first, second)


# --- computation -----------------------------------------------------------------------------


def _category_filter(filters: Filters) -> tuple[str, list[Any], bool, bool]:
    """Return (opportunity SQL, params, has deal-category filter, has any filter), dates ignored."""
    undated = replace(filters, start=None, end=None, cohort="created")
    sql, params = opportunity_filter_sql(undated, "o")
    has_category = bool(filters.segment or filters.product or filters.region)
    return sql, params, has_category, bool(params)


def _resolve_period(dataset: Dataset, filters: Filters) -> tuple[dt.date, dt.date]:
    """Return the filter's period, completing missing ends with the whole data range."""
    start, end = filters.start, filters.end
    if start is None:
        rows = dataset.con.execute(
            """
            SELECT least((SELECT min(created_date) FROM opportunities),
                         (SELECT min(close_date) FROM opportunities WHERE status <> 'open'),
                         (SELECT min(activity_date) FROM activities))
            """
        ).fetchall()
        start = (rows[0][0] if rows else None) or dataset.as_of
    if end is None:
        end = dataset.as_of
    if end < start:
        raise DiagnosticsError(
            f"The period ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y}).",
            "Pick an end date on or after the start date.",
        )
    return start, end


# One pass over the opportunities: per (rep, team) counts, rolled up per rep with the team the
# rep has most deals in (ties: first team name).
_OPP_SQL = """
WITH per_team AS (
    SELECT o.rep, o.team,
           count(*) FILTER (WHERE o.status = 'won' AND (o.close_date BETWEEN ? AND ?
                                                        OR $whole AND o.close_date IS NULL)) AS won,
           count(*) FILTER (WHERE o.status = 'lost' AND (o.close_date BETWEEN ? AND ?
                                                         OR $whole AND o.close_date IS NULL))
               AS lost,
           count(*) FILTER (WHERE o.created_date <= ?
                            AND (o.status = 'open' OR o.close_date IS NULL OR o.close_date >= ?))
               AS worked,
           count(*) AS n
    FROM opportunities o WHERE {where} AND o.rep IS NOT NULL
    GROUP BY o.rep, o.team
)
SELECT rep, first(team ORDER BY n DESC, team NULLS LAST) AS team,
       sum(won)::BIGINT, sum(lost)::BIGINT, sum(worked)::BIGINT
FROM per_team GROUP BY rep
"""
_ACT_SQL = """
SELECT a.rep, count(*), count(*) FILTER (WHERE a.is_meeting)
FROM activities a
WHERE a.activity_date BETWEEN ? AND ? AND a.rep IS NOT NULL {scope}
GROUP BY a.rep
"""
_ACT_DAYS_SQL = """
SELECT a.rep, sum(a.n)::BIGINT, sum(a.meetings)::BIGINT
FROM {table} a
WHERE a.activity_date BETWEEN ? AND ? {scope}
GROUP BY a.rep
"""

# Per-dataset rollups of activities by (rep, day): a few hundred thousand rows instead of
# millions, so a period or team change regroups days, not activities. Keyed by the Dataset object
# (a new upload is a new Dataset) and forgotten when it is garbage-collected. Segment, product
# and region filters need each activity's deal, so they read the activities themselves.
_ROLLUPS: set[int] = set()
_ROLLUP_LOCK = threading.Lock()


def _activity_days(dataset: Dataset) -> str:
    """Return the name of this dataset's (rep, day) activity rollup, building it on first use."""
    key = id(dataset)
    table = f"quadrant_activity_days_{key:d}"
    with _ROLLUP_LOCK:
        if key not in _ROLLUPS:
            dataset.con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT rep, activity_date, count(*) AS n,
                       count(*) FILTER (WHERE is_meeting) AS meetings
                FROM activities WHERE rep IS NOT NULL
                GROUP BY rep, activity_date
                """
            )
            _ROLLUPS.add(key)
            weakref.finalize(dataset, _ROLLUPS.discard, key)
    return table


def _has_category(filters: Filters) -> bool:
    return bool(filters.segment or filters.product or filters.region)


def _activity_scope(filters: Filters, reps: list[str] | None = None) -> tuple[str, list[Any]]:
    """Return SQL (and params) over activities ``a`` keeping those of the filtered deals.

    Segment/product/region filters keep activities logged against a matching deal (``a`` must
    be the activities table); a team filter alone keeps the activities of reps with deals in the
    team (``reps`` when the caller already knows them; ``a`` may be the rollup).
    """
    undated = replace(filters, start=None, end=None, cohort="created")
    sql, params = opportunity_filter_sql(undated, "o")
    if _has_category(filters):
        return f"AND a.opp_id IN (SELECT o.opp_id FROM opportunities o WHERE {sql})", params
    if filters.team or filters.rep:
        if reps is not None:
            return "AND a.rep IN (SELECT unnest(?::VARCHAR[]))", [reps]
        return f"AND a.rep IN (SELECT o.rep FROM opportunities o WHERE {sql})", params
    return "", []


def _activity_counts(
    dataset: Dataset, filters: Filters, start: dt.date, end: dt.date, reps: list[str]
) -> dict[str, tuple[int, int]]:
    """Return rep → (activities, meetings) in the period, scoped like the deals."""
    scope, params = _activity_scope(filters, reps)
    if _has_category(filters):
        sql = _ACT_SQL.format(scope=scope)
    else:
        sql = _ACT_DAYS_SQL.format(table=_activity_days(dataset), scope=scope)
    rows = dataset.con.execute(sql, [start, end, *params]).fetchall()
    return {str(rep): (int(n), int(meetings)) for rep, n, meetings in rows}


def _whole(filters: Filters) -> bool:
    """Whether the filters ask for the whole data range (no period ends)."""
    return filters.start is None and filters.end is None


def _rep_counts(
    dataset: Dataset, filters: Filters, start: dt.date, end: dt.date
) -> list[tuple[str, str | None, int, int, int, int, int]]:
    """Return (rep, team, won, lost, worked, activities, meetings) for every rep in play, by rep.

    A rep is in play with a deal closed or open in the period, or an activity in it.
    """
    where, params, _, _ = _category_filter(filters)
    # Over the whole range, closed deals without a close date count too: nothing vanishes, and
    # the totals are the funnel's.
    whole = _whole(filters)
    sql = _OPP_SQL.format(where=where).replace("$whole", "TRUE" if whole else "FALSE")
    opp_rows = dataset.con.execute(sql, [start, end, start, end, end, start, *params]).fetchall()
    acts: dict[str, tuple[int, int]] = {}
    if dataset.has_activities:
        acts = _activity_counts(dataset, filters, start, end, [str(r[0]) for r in opp_rows])
    out: dict[str, tuple[str, str | None, int, int, int, int, int]] = {}
    for rep, team, won, lost, worked in opp_rows:
        n, meetings = acts.get(str(rep), (0, 0))
        if won or lost or worked or n:
            out[str(rep)] = (str(rep), team, int(won), int(lost), int(worked), n, meetings)
    for rep, (n, meetings) in acts.items():
        out.setdefault(rep, (rep, None, 0, 0, 0, n, meetings))
    return [out[rep] for rep in sorted(out)]


def _engagement_value(
    measure: Engagement, activities: int, meetings: int, worked: int, days: int
) -> float | None:
    if days == 0:
        return None
    if measure == "activities":
        return activities / days
    if measure == "meetings":
        return meetings / days
    return worked / (days / 5)


def activities_name_reps(dataset: Dataset) -> bool:
    """Return True when an activity file was loaded and some activity names a rep who owns a
    deal: engagement by activities is measured only then (else every rep with deals would sit
    at zero activity, and the quadrant would judge them on nothing)."""
    if not dataset.has_activities:
        return False
    row = dataset.con.execute(
        "SELECT EXISTS (SELECT 1 FROM activities WHERE rep IN "
        "(SELECT rep FROM opportunities WHERE rep IS NOT NULL))").fetchone()
    return bool(row and row[0])


def _check_options(
    dataset: Dataset,
    min_deals: int,
    engagement: Engagement | None,
    engagement_target: float | None,
    close_target: float | None,
) -> Engagement:
    if engagement is None:
        engagement = "activities" if activities_name_reps(dataset) else "opportunities"
    if engagement not in ENGAGEMENTS:
        raise DiagnosticsError(
            f"Unknown engagement measure {engagement!r}.", f"Use one of {', '.join(ENGAGEMENTS)}."
        )
    if _content().engagement[engagement].needs_activities and not dataset.has_activities:
        raise DiagnosticsError(
            f"Engagement by {engagement} needs an activity file, and none was loaded.",
            "Load an activity export, or use opportunities worked per week.",
        )
    if _content().engagement[engagement].needs_activities and not activities_name_reps(dataset):
        raise DiagnosticsError(
            f"Engagement by {engagement} cannot be measured: no activity names a rep who owns a "
            "deal.",
            "Make the rep names match in both files (the Data page lists them), or use "
            "opportunities worked per week.",
        )
    if min_deals < 1:
        raise DiagnosticsError("The minimum number of closed deals must be at least 1.")
    if engagement_target is not None and engagement_target < 0:
        raise DiagnosticsError("The engagement target cannot be negative.")
    if close_target is not None and not 0 <= close_target <= 1:
        raise DiagnosticsError(
            f"The close-ratio target {close_target} is not a ratio between 0 and 1.",
            "Write 25% as 0.25.",
        )
    return engagement


def classify_reps(
    dataset: Dataset,
    filters: Filters,
    *,
    min_deals: int | None = None,
    engagement: Engagement | None = None,
    engagement_target: float | None = None,
    close_target: float | None = None,
) -> QuadrantResult:
    """Return the thresholds and one classified row per rep; raises DiagnosticsError on bad options.

    ``filters.cohort`` is ignored: close ratios always use deals closed in the period and
    engagement the activities in the period. Missing period ends mean the whole data range.
    ``engagement=None`` picks activities when an activity file was loaded, else opportunities.
    """
    content = _content()
    min_deals = content.defaults.min_deals if min_deals is None else min_deals
    measure = _check_options(dataset, min_deals, engagement, engagement_target, close_target)
    start, end = _resolve_period(dataset, filters)
    days = stats.working_days(start, end)
    counts = _rep_counts(dataset, filters, start, end)

    prior = stats.fit_beta_prior([c[2] for c in counts], [c[2] + c[3] for c in counts])
    total_closed = sum(c[2] + c[3] for c in counts)
    team_rate = sum(c[2] for c in counts) / total_closed if total_closed else None

    prepared = []
    for rep, team, won, lost, worked, activities, meetings in counts:
        value = _engagement_value(measure, activities, meetings, worked, days)
        ratio = won / (won + lost) if won + lost else None
        prepared.append((rep, team, won, lost, activities, value, ratio))

    eligible = [
        (p[5], p[6])
        for p in prepared
        if p[2] + p[3] >= min_deals and p[5] is not None and p[6] is not None
    ]
    eng_median = statistics.median(e for e, _ in eligible) if eligible else None
    eng_line = engagement_target if engagement_target is not None else eng_median
    rule = close_rule([(c[2], c[3]) for c in counts], len(eligible), close_target,
                      content.defaults.confidence)
    n_targets = (engagement_target is not None) + (close_target is not None)
    basis = ("team", "mixed", "target")[n_targets]
    thresholds = Thresholds(
        engagement=None if eng_line is None else float(eng_line),
        close_ratio=None if rule.line is None else float(rule.line),
        basis=basis,
    )

    rows = []
    for rep, team, won, lost, activities, value, ratio in prepared:
        low, high = rule.interval(won, won + lost)
        placeable = (
            won + lost >= min_deals
            and value is not None
            and ratio is not None
            and thresholds.engagement is not None
            and thresholds.close_ratio is not None
        )
        quadrant, settle = NOT_ENOUGH, None
        if placeable:
            assert value is not None and ratio is not None  # narrowed by placeable
            assert thresholds.engagement is not None and thresholds.close_ratio is not None
            side = rule.side(won, won + lost)
            quadrant = content.place(value >= thresholds.engagement, ratio,
                                     thresholds.close_ratio, side)
            if quadrant == TOO_CLOSE:
                settle = rule.deals_to_settle(won, won + lost)
        rows.append(
            RepRow(
                rep=rep, team=team, engagement=value, activities=activities, won=won, lost=lost,
                close_ratio=ratio, close_ratio_low=low, close_ratio_high=high,
                shrunk_close_ratio=stats.shrink(won, won + lost, prior) if won + lost else None,
                quadrant=quadrant, action=_action(content, quadrant, settle),
                deals_to_settle=settle,
            )
        )
    return QuadrantResult(
        thresholds=thresholds, reps=tuple(rows), engagement=measure, start=start, end=end,
        working_days=days, min_deals=min_deals, team_close_ratio=team_rate, rule=rule,
        undated_closed=_undated_closed(dataset, filters), undated_counted=_whole(filters),
    )


def _undated_closed(dataset: Dataset, filters: Filters) -> int:
    """Return how many closed deals in the filters (with a rep) have no close date."""
    where, params, _, _ = _category_filter(filters)
    row = dataset.con.execute(
        f"SELECT count(*) FROM opportunities o WHERE {where} AND o.rep IS NOT NULL "
        "AND o.status <> 'open' AND o.close_date IS NULL", params).fetchone()
    return int(row[0]) if row else 0


def _action(content: QuadrantContent, quadrant: str, settle: int | None) -> str:
    """Return the quadrant's action; for "too close to call", with the deals to settle it."""
    action = content.quadrants[quadrant].action
    if quadrant != TOO_CLOSE:
        return action
    if settle is None:
        return (f"{action} The close ratio sits on the line: more deals settle it only if the "
                "ratio moves.")
    deals = "deal" if settle == 1 else "deals"
    return (f"{action} About {format_count(settle)} more closed {deals} at this close ratio "
            "would settle it.")


def funnel_plot_line(result: QuadrantResult) -> float | None:
    """Return the rate the funnel plot's limits are drawn around: the close-ratio split line.

    It is the line the quadrant labels are tested against (the team's close ratio, or your
    target), so a rep outside the rule's limits is exactly a rep whose whole interval is on one
    side of the line. Without a line (no deal closed), the team close ratio.
    """
    line = result.thresholds.close_ratio
    return result.team_close_ratio if line is None else line


def funnel_plot_levels(result: QuadrantResult) -> list[tuple[float, str]]:
    """Return the (confidence, label) of each pair of funnel-plot curves, the rule's first.

    The rule's curves are at the per-rep confidence the labels use (95% for the team as a
    whole, allowing for the reps compared). The content's warning limits (95% for one rep, as
    in funnel-plot practice) are drawn too when narrower: a rep between a warning curve and the
    rule's is within what chance gives somewhere in a team of this size.
    """
    rule = result.rule
    if rule.compared == 0:  # nobody is judged: the curves are one rep's range, not a rule
        return [(rule.rep_confidence, f"{_level(rule.rep_confidence)} for one rep")]
    levels = [(rule.rep_confidence, f"Rule: {_level(rule.rep_confidence)} per rep, "
                                    f"{_level(rule.confidence)} for the team")]
    for warning in sorted(_content().defaults.warning_limits):
        if warning < rule.rep_confidence - 1e-9:
            levels.append((warning, f"Warning: {_level(warning)} for one rep"))
    return levels


def funnel_plot_note(result: QuadrantResult) -> str:
    """Return how the funnel plot reads: the line, the rule's curves and the warning curves."""
    levels = funnel_plot_levels(result)
    rule = result.rule
    what = "the team's close ratio" if rule.source == "team" else "your target"
    start = (f"Close ratio against the number of closed deals, around the close-ratio line "
             f"({what}). ")
    if rule.compared == 0:
        return (start + f"No rep has enough closed deals to be judged against the line; the "
                f"curves show the range chance alone gives one rep closing at it "
                f"({_level(rule.rep_confidence)}).")
    text = (
        start +
        f"The rule's curves ({_level(rule.rep_confidence)} for each rep, so "
        f"{_level(rule.confidence)} for the team as a whole) mark the range chance alone gives "
        "a rep closing at the line: a rep outside them is labelled below or above the line, a "
        "rep inside them never is, however they rank."
    )
    if len(levels) > 1:
        warnings = " and ".join(_level(c) for c, _ in levels[1:])
        text += (f" The narrower warning curves ({warnings} for one rep alone) are what funnel "
                 "plots usually draw: with several reps compared, someone outside them is what "
                 "chance gives, so they only say where to look.")
    return text


def funnel_plot_limits(result: QuadrantResult, points: int = 60) -> pd.DataFrame:
    """Return control limits around the close-ratio line: columns closed, level, low, high.

    One row per (sample size, level of :func:`funnel_plot_levels`) on a grid from 1 to the
    largest rep's closed deals, plus each rep's own number of closed deals: the curves are drawn
    as straight segments between rows, so they pass exactly through the limit the rep's label
    was tested against and a point near a curve is never drawn on the wrong side of it.
    """
    columns = ["closed", "level", "low", "high"]
    rate = funnel_plot_line(result)
    biggest = max((r.closed for r in result.reps), default=0)
    if rate is None or biggest == 0:
        return pd.DataFrame(columns=columns)
    step = max(1, biggest // points)
    sizes = sorted({*range(1, biggest + 1, step), biggest, *(r.closed for r in result.reps
                                                               if r.closed > 0)})
    rows = []
    for level, label in funnel_plot_levels(result):
        for n, (low, high) in zip(sizes, stats.funnel_limits(rate, sizes, level), strict=True):
            rows.append((n, label, low, high))
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Movement:
    """Where each rep sat in two periods, and how many moved into or out of Stars."""

    first: QuadrantResult
    second: QuadrantResult
    frame: pd.DataFrame
    moved_into_stars: int
    left_stars: int

    def note(self) -> str:
        """Return how the chart reads and where each period's split lines come from."""
        lines = {
            "team": "Each period uses its own team lines (median engagement, team close "
                    "ratio).",
            "target": "Both periods use your targets.",
            "mixed": "Both periods use your target on one axis and their own team median on "
                     "the other.",
        }[self.second.thresholds.basis]
        return (
            "Each line runs from a rep's first-period point (hollow) to the second (filled, "
            f"coloured by the new quadrant). {lines}"
        )


def compare_periods(
    dataset: Dataset,
    filters: Filters,
    first: tuple[dt.date, dt.date],
    second: tuple[dt.date, dt.date],
    **options: Any,
) -> Movement:
    """Return each rep's position in two periods (same filters and options, own thresholds).

    ``frame`` has one row per rep seen in either period: rep, quadrant_a, quadrant_b,
    engagement_a, close_ratio_a, engagement_b, close_ratio_b, moved (quadrant changed).
    """
    a = classify_reps(dataset, replace(filters, start=first[0], end=first[1]), **options)
    b = classify_reps(dataset, replace(filters, start=second[0], end=second[1]), **options)
    left = a.to_frame()[["rep", "quadrant", "engagement", "close_ratio"]]
    right = b.to_frame()[["rep", "quadrant", "engagement", "close_ratio"]]
    frame = left.merge(right, on="rep", how="outer", suffixes=("_a", "_b"))
    frame["quadrant_a"] = frame["quadrant_a"].fillna(NOT_ENOUGH)
    frame["quadrant_b"] = frame["quadrant_b"].fillna(NOT_ENOUGH)
    frame["moved"] = frame["quadrant_a"] != frame["quadrant_b"]
    frame = frame.sort_values("rep", ignore_index=True)
    into = int(((frame["quadrant_b"] == "star") & (frame["quadrant_a"] != "star")).sum())
    out = int(((frame["quadrant_a"] == "star") & (frame["quadrant_b"] != "star")).sum())
    return Movement(first=a, second=b, frame=frame, moved_into_stars=into, left_stars=out)


def rep_activity_trend(
    dataset: Dataset, filters: Filters, rep: str, measure: Engagement = "activities"
) -> pd.DataFrame:
    """Return weekly counts for ``rep`` and the average per active rep: week, rep, team_average.

    Weeks start on Monday; ``measure="meetings"`` counts meetings only; "opportunities" counts
    deals created that week (the activity-free proxy).
    """
    start, end = _resolve_period(dataset, filters)
    team_filters = replace(filters, rep=())
    if measure == "opportunities":
        where, params, _, _ = _category_filter(team_filters)
        sql = f"""
            SELECT date_trunc('week', o.created_date)::DATE AS week, o.rep, 1 AS k
            FROM opportunities o
            WHERE {where} AND o.created_date BETWEEN ? AND ? AND o.rep IS NOT NULL
        """
        args: list[Any] = [*params, start, end]
    else:
        scope, scope_params = _activity_scope(team_filters)
        if _has_category(team_filters):
            source, count = "activities", "1"
            if measure == "meetings":
                scope += " AND a.is_meeting"
        else:
            source = _activity_days(dataset)
            count = "a.meetings" if measure == "meetings" else "a.n"
        sql = f"""
            SELECT date_trunc('week', a.activity_date)::DATE AS week, a.rep, {count} AS k
            FROM {source} a
            WHERE a.activity_date BETWEEN ? AND ? AND a.rep IS NOT NULL AND {count} > 0 {scope}
        """
        args = [start, end, *scope_params]
    frame = dataset.query_df(
        f"""
        WITH items AS ({sql})
        SELECT week,
               coalesce(sum(k) FILTER (WHERE rep = ?), 0) AS rep,
               sum(k) / count(DISTINCT rep) AS team_average
        FROM items GROUP BY week ORDER BY week
        """,
        [*args, rep],
    )
    frame["rep"] = frame["rep"].astype("int64")
    frame["team_average"] = frame["team_average"].astype("float64")
    return frame


@dataclass(frozen=True)
class RepFunnel:
    """A rep's funnel next to the team's, and the step where the rep falls furthest behind.

    ``frame`` has one row per (stage, who): stage, rank, who ("rep" or "team"), reached,
    cumulative_conversion, next_step_conversion. ``weakest_step`` is None when the rep trails
    the team by less than :data:`MIN_STEP_GAP` at every step with enough deals.
    """

    rep: str
    frame: pd.DataFrame
    description: str
    weakest_step: str | None
    rep_rate: float | None
    team_rate: float | None
    closed: int = 0
    rated_steps: int = 0

    def sentence(self) -> str:
        """Return one sentence naming where the rep's funnel breaks against the team's."""
        if self.closed == 0:
            return f"{self.rep} closed no deal in this period: there is no funnel to compare."
        if self.rated_steps == 0:
            # "Within 5 points at every step with 5 deals" would be true of no step at all.
            return (
                f"{self.rep} has fewer than {MIN_STEP_DEALS} closed deals at every step: too few "
                "to say where their funnel breaks."
            )
        if self.weakest_step is None or self.rep_rate is None or self.team_rate is None:
            return (
                f"{self.rep} converts within {MIN_STEP_GAP * 100:.0f} points of the team, or "
                f"better, at every step with {MIN_STEP_DEALS} or more deals."
            )
        return (
            f"{self.rep} falls furthest behind the team at {self.weakest_step}: "
            f"{self.rep_rate:.0%} move on against {self.team_rate:.0%} for the team."
        )


# A step conversion on fewer deals than this is not used to say where a rep breaks, and a gap
# smaller than MIN_STEP_GAP (in rate points) is not called a break.
MIN_STEP_DEALS = 5
MIN_STEP_GAP = 0.05


def rep_funnel(dataset: Dataset, filters: Filters, rep: str) -> RepFunnel:
    """Return the rep's funnel (deals closed in the period) next to the whole team's."""
    start, end = _resolve_period(dataset, filters)
    # The deals behind the close ratio: where did the lost ones stop?
    cohort = replace(filters, start=start, end=end, cohort="closed", rep=())
    team = compute_funnel(dataset, cohort, rule="furthest")
    mine = compute_funnel(dataset, replace(cohort, rep=(rep,)), rule="furthest")
    rows = []
    for who, result in (("rep", mine), ("team", team)):
        for stage in result.stages:
            rows.append(
                {
                    "stage": stage.stage, "rank": stage.rank, "who": who,
                    "reached": stage.reached,
                    "cumulative_conversion": stage.cumulative_conversion,
                    "next_step_conversion": stage.next_step_conversion,
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["stage", "rank", "who", "reached", "cumulative_conversion",
                 "next_step_conversion"],
    )
    weakest: tuple[float, str, float, float] | None = None
    rated = 0
    labels = mine.transition_labels()
    for own, ref, label in zip(mine.stages, team.stages, labels, strict=False):
        a, b = own.next_step_conversion, ref.next_step_conversion
        if a is None or b is None or own.reached < MIN_STEP_DEALS:
            continue
        rated += 1
        if b - a < MIN_STEP_GAP:
            continue
        if weakest is None or b - a > weakest[0]:
            weakest = (b - a, label, a, b)
    return RepFunnel(
        rep=rep,
        frame=frame,
        description=team.description,
        weakest_step=weakest[1] if weakest else None,
        rep_rate=weakest[2] if weakest else None,
        team_rate=weakest[3] if weakest else None,
        closed=mine.total,
        rated_steps=rated,
    )
