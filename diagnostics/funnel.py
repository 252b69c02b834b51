"""Funnel counts, headline metrics and each rep at each step, computed in DuckDB.

Every count comes from one grouped query per call: each opportunity is reduced to a bit mask of
the funnel ranks it counts at (bit ``r`` set = counted at rank ``r``) under the chosen rule, and
DuckDB returns one row per (rep, mask, status). Everything after that works on a few hundred
rows, whatever the size of the dataset.

Counting rules:

``furthest``
    An opportunity counts at every stage up to the furthest one it reached
    (``opportunities.reached_rank``: won deals reach every stage).
``strict``
    From stage history: it counts at a stage only if it passed through every earlier stage, in
    order of first entry.
``any``
    From stage history: it counts at every stage it ever touched, skipped stages included.

Next-step conversion at S = deals counted at both S and the next stage ÷ deals counted at S;
cumulative conversion = deals counted at S ÷ every deal counted somewhere in the funnel. Both stay
in [0, 1] under every rule; an undefined ratio is None (shown as "—", null in JSON).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from diagnostics.cohorts import MIN_CLOSED, maturity_days
from diagnostics.dataset import Dataset, Filters, opportunity_filter_sql
from diagnostics.errors import DiagnosticsError
from diagnostics.formatting import DASH, format_amount, format_days, format_rate
from diagnostics.stats import wilson_interval

__all__ = [
    "RULES",
    "FunnelResult",
    "HeadlineMetrics",
    "Rule",
    "StageCount",
    "available_rules",
    "compare_funnels",
    "compute_funnel",
    "counting_caveat",
    "provisional_note",
    "describe_rule",
    "quarter_number",
    "quarterly_stages",
    "funnel_with_metrics",
    "headline_metrics",
    "FILTER_COLUMNS",
    "NO_DEALS",
    "rates_frame",
    "rates_from_frame",
    "rep_transitions",
    "small_sample_note",
    "FEW_DEALS",
    "MIN_STEP_DEALS",
    "few_deals_sentence",
    "thin_steps_note",
    "unrated_reps_note",
]

Rule = Literal["furthest", "strict", "any"]

RULES: dict[str, str] = {
    "furthest": "furthest stage reached",
    "strict": "strict order (stage history)",
    "any": "any stage touched (stage history)",
}
NO_DEALS = "No deals match these filters: widen the period or clear a filter."
LOST_STAGE_UNKNOWN = "Lost, stage unknown"
# A cohort of created deals with more than this share still open has rates that will move.
PROVISIONAL_OPEN_SHARE = 0.25
FILTER_COLUMNS = ("segment", "product", "region", "team", "rep")
# A step rate resting on fewer deals than this moves 25 points or more with one deal: it is
# shown with its counts and flagged "few deals" (the planner's thin steps, the weakest-step rule).
MIN_STEP_DEALS = 5
FEW_DEALS = "few deals"
# Bit masks live in a BIGINT: bit 0 is unused and bit 63 is the sign.
_MAX_RANKS = 62


def rates_frame(
    labels: Sequence[str], rates: Sequence[float | None], column: str = "Rate (%)"
) -> pd.DataFrame:
    """Return an editable table of steps and rates in percent (blank where undefined)."""
    return pd.DataFrame(
        {"Step": list(labels), column: [None if r is None else round(r * 100, 1) for r in rates]}
    )


def rates_from_frame(frame: pd.DataFrame, column: str = "Rate (%)") -> list[float | None]:
    """Return the rates of an edited :func:`rates_frame` as fractions (None where blank)."""
    out: list[float | None] = []
    for value in frame[column]:
        number = pd.to_numeric(value, errors="coerce")
        out.append(None if pd.isna(number) else float(number) / 100)
    return out


def _ratio(numerator: float, denominator: float) -> float | None:
    """Return numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StageCount:
    """One funnel stage: how many opportunities count there and how they convert.

    ``open_here``, ``lost_here`` and ``won_here`` count the opportunities whose last counted stage
    is this one, by status; ``amount`` is the summed amount of those counted at the stage.
    """

    rank: int
    stage: str
    reached: int
    amount: float
    next_step_conversion: float | None
    cumulative_conversion: float | None
    open_here: int
    lost_here: int
    won_here: int

    @property
    def moved_on(self) -> int:
        """Return how many of the opportunities counted here also count at the next stage."""
        return self.reached - self.open_here - self.lost_here - self.won_here

    @property
    def advanced(self) -> int:
        """Return the deals behind the next-step conversion's numerator (0 when undefined).

        Under "any stage touched" a deal can skip the next stage: it moved on without advancing.
        """
        rate = self.next_step_conversion
        return 0 if rate is None else round(rate * self.reached)

    @property
    def is_thin(self) -> bool:
        """Return whether its next-step conversion rests on fewer than MIN_STEP_DEALS deals."""
        return self.next_step_conversion is not None and self.reached < MIN_STEP_DEALS

    def rests_on(self) -> str:
        """Return "1,199 of 1,482" behind the next-step rate ("3 of 3 · few deals"; "" if none)."""
        if self.next_step_conversion is None:
            return ""
        text = f"{self.advanced:,} of {self.reached:,}"
        return f"{text} · {FEW_DEALS}" if self.is_thin else text


@dataclass(frozen=True)
class FunnelResult:
    """The funnel of one filtered cohort under one counting rule."""

    rule: Rule
    filters: Filters
    stages: tuple[StageCount, ...]
    total: int
    # Lost deals with no evidence of how far they got: in the totals, charged to no step.
    lost_stage_unknown: int = 0

    @property
    def lost_stage_known_share(self) -> float | None:
        """Return the share of lost deals whose stage is known (None when none was lost)."""
        known = sum(s.lost_here for s in self.stages)
        return _ratio(known, known + self.lost_stage_unknown)

    @property
    def description(self) -> str:
        """Return the sentence naming the counting rule and the cohort behind every number."""
        return describe_rule(self.rule, self.filters)

    def transition_labels(self) -> list[str]:
        """Return "From → To" for every step of the funnel."""
        pairs = zip(self.stages, self.stages[1:], strict=False)
        return [f"{a.stage} → {b.stage}" for a, b in pairs]

    def next_rates(self) -> list[float | None]:
        """Return the next-step conversion of every transition, top first."""
        return [s.next_step_conversion for s in self.stages[:-1]]

    def thin_steps(self) -> tuple[tuple[str, int, int], ...]:
        """Return (label, entered, advanced) of each step whose rate rests on few deals."""
        return tuple((label, s.reached, s.advanced)
                     for label, s in zip(self.transition_labels(), self.stages, strict=False)
                     if s.is_thin)

    def to_frame(self) -> pd.DataFrame:
        """Return the funnel as a display table (undefined rates shown as "—").

        Lost deals whose stage is unknown get a row of their own, below the stages.
        """
        frame = pd.DataFrame(
            {
                "Stage": [s.stage for s in self.stages],
                "Reached": [s.reached for s in self.stages],
                "Next-step conversion": [format_rate(s.next_step_conversion) for s in self.stages],
                # The counts behind each next-step rate, flagged when they are few.
                "Step rests on": [s.rests_on() for s in self.stages],
                "Cumulative conversion": [
                    format_rate(s.cumulative_conversion) for s in self.stages
                ],
                "Open here": [s.open_here for s in self.stages],
                "Lost here": [s.lost_here for s in self.stages],
                "Won": [s.won_here for s in self.stages],
            }
        )
        if self.lost_stage_unknown:
            frame.loc[len(frame)] = [LOST_STAGE_UNKNOWN, None, DASH, "", DASH, None,
                                     self.lost_stage_unknown, None]
            frame = frame.astype({c: "Int64" for c in ("Reached", "Open here", "Won")})
        return frame

    def to_json(self) -> list[dict[str, Any]]:
        """Return the stages as JSON-ready dicts (undefined rates are null)."""
        return [
            {
                "stage": s.stage,
                "reached": s.reached,
                "next_step_conversion": s.next_step_conversion,
                "next_step_deals": s.advanced if s.next_step_conversion is not None else None,
                "few_deals": s.is_thin,
                "cumulative_conversion": s.cumulative_conversion,
                "open": s.open_here,
                "lost": s.lost_here,
                "won": s.won_here,
            }
            for s in self.stages
        ]


@dataclass(frozen=True)
class HeadlineMetrics:
    """The funnel's headline numbers; None wherever a number is undefined (nothing to divide)."""

    won: int
    lost: int
    open: int
    win_rate: float | None
    median_cycle_days: float | None
    avg_won_amount: float | None
    open_pipeline: float
    velocity_per_day: float | None
    stale_open: int | None  # None: nothing in the data says when a deal last changed
    stale_days: int
    open_with_amount: int | None = None  # open deals carrying an amount (None: not counted)
    won_with_amount: int | None = None
    # The age by which 4 in 5 won deals were won (cohorts.maturity_days; None: no won deal with
    # both dates), and the open deals created longer ago than that: velocity leaves them out.
    live_days: int | None = None
    aged_open: int = 0
    # Open deals without a created date: their age is unknown, so velocity cannot count them
    # as live when it ages the others (live_days known).
    undated_open: int = 0
    # True when nothing but the created date says when a deal last changed (stale = old).
    stale_from_created: bool = False

    @property
    def pipeline_known(self) -> float | None:
        """Return the open pipeline, or None when open deals exist and none carries an amount.

        Their sum would read 0, as if nothing were open: the pipeline is unknown, not empty.
        """
        if self.open and self.open_with_amount == 0:
            return None
        return self.open_pipeline

    def _win_rate_range(self) -> str:
        """Return "; 6 closed deals: 95% interval 19%–81%" ("" with no closed deal)."""
        closed = self.won + self.lost
        low, high = wilson_interval(self.won, closed)
        if low is None or high is None:
            return ""
        return (f"; {closed:,} closed deal{'s' if closed != 1 else ''}: 95% interval "
                f"{format_rate(low)}–{format_rate(high)}")

    def _amounts(self, n: int, known: int | None) -> str:
        if known is None or known == n:
            return ""
        return f"; amounts known for {known:,} of {n:,} deals"

    @property
    def live_open(self) -> int:
        """Return the open deals velocity counts: those known to be younger than won deals take
        to close (every open deal when no won deal gives that age)."""
        if self.live_days is None:
            return self.open
        return self.open - self.aged_open - self.undated_open

    @property
    def velocity_few_deals(self) -> bool:
        """Return whether velocity rests on fewer than MIN_STEP_DEALS open deals."""
        return self.velocity_per_day is not None and 0 < self.live_open < MIN_STEP_DEALS

    def velocity_note(self) -> str | None:
        """Return which open deals velocity counts and whether they are few (else None)."""
        left_out = self._velocity_left_out()
        if not self.velocity_few_deals:
            return left_out
        few = (f"{self.live_open:,} open deal{'s' if self.live_open != 1 else ''} "
               f"({FEW_DEALS}): read it as rough.")
        return f"{left_out[:-1]}; velocity rests on {few}" if left_out else (
            f"Velocity rests on {few}")

    def _velocity_left_out(self) -> str | None:
        if not (self.aged_open or self.undated_open) or self.live_days is None:
            return None
        days = f"{self.live_days:,} day{'s' if self.live_days != 1 else ''}"
        left = []
        if self.aged_open:
            left.append(f"{self.aged_open:,} created more than {days} ago are left out, since 4 "
                        f"in 5 won deals closed within {days}")
        if self.undated_open:
            left.append(f"{self.undated_open:,} with no created date are left out too (their age "
                        "is unknown)" if self.aged_open else
                        f"{self.undated_open:,} with no created date are left out (their age is "
                        f"unknown, and 4 in 5 won deals closed within {days})")
        return f"Counts {self.live_open:,} of {self.open:,} open deals: {'; '.join(left)}."

    def stale_note(self) -> str | None:
        """Return what "stale" rests on when only created dates age the deals (else None)."""
        if self.stale_open is None or not self.stale_from_created:
            return None
        undated = (f"; {self.undated_open:,} with no created date are not counted"
                   if self.undated_open else "")
        return (f"From created dates: no activity or change dates in the data, so an open deal "
                f"created more than {self.stale_days:,} days ago counts as stale (it may have "
                f"moved since){undated}.")

    def display_notes(self) -> dict[str, str]:
        """Return, by label of :meth:`display_items`, a note to show beside the figure."""
        labels = [label for label, _, _ in self.display_items()]
        notes = {labels[7]: self.velocity_note(), labels[8]: self.stale_note()}
        return {label: note for label, note in notes.items() if note}

    def _velocity_help(self) -> str:
        base = "open deals × win rate × average won deal ÷ median cycle days"
        note = self.velocity_note()
        return base if note is None else f"{base}. {note}"

    def _stale_help(self) -> str:
        if self.stale_open is None:
            return ("unknown: the data has no last-activity or last-modified date, no "
                    "activities and no stage history, and no open deal here has a created date, "
                    "so nothing says when a deal last changed")
        if self.stale_from_created:
            return (f"open deals created more than {self.stale_days} days ago. "
                    f"{self.stale_note()}")
        return f"open deals with no change or activity for more than {self.stale_days} days"

    def display_items(self) -> list[tuple[str, str, str]]:
        """Return (label, value, help) for each headline figure, "—" where undefined."""
        return [
            ("Win rate", format_rate(self.win_rate),
             "won ÷ (won + lost), closed deals only" + self._win_rate_range()),
            ("Won", f"{self.won:,}", "deals won"),
            ("Lost", f"{self.lost:,}", "deals lost"),
            ("Open", f"{self.open:,}", "open deals in the funnel (placeholder stages left out)"),
            (
                "Median cycle (won)",
                format_days(self.median_cycle_days),
                "median days from created to won",
            ),
            ("Average won deal", format_amount(self.avg_won_amount),
             "won deals" + self._amounts(self.won, self.won_with_amount)),
            ("Open pipeline", format_amount(self.pipeline_known),
             "open deals in the funnel" + self._amounts(self.open, self.open_with_amount)),
            ("Velocity per day", format_amount(self.velocity_per_day)
             + (f" · {FEW_DEALS}" if self.velocity_few_deals else ""), self._velocity_help()),
            (
                f"Stale open (> {self.stale_days} d)",
                DASH if self.stale_open is None else f"{self.stale_open:,}",
                self._stale_help(),
            ),
        ]

    def to_json(self) -> dict[str, Any]:
        """Return the metrics as a JSON-ready dict."""
        return {
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": self.win_rate,
            "median_cycle_days": self.median_cycle_days,
            "avg_won_amount": self.avg_won_amount,
            "open_pipeline": self.pipeline_known,
            "velocity_per_day": self.velocity_per_day,
            "velocity_open_deals": self.live_open,
            "velocity_left_out": self.open - self.live_open,
            "live_days": self.live_days,
            "velocity_note": self.velocity_note(),
            "velocity_few_deals": self.velocity_few_deals,
            "stale_open": self.stale_open,
            "stale_basis": (None if self.stale_open is None
                            else "created" if self.stale_from_created else "activity"),
            "stale_note": self.stale_note(),
            "open_undated": self.undated_open,
            "open_with_amount": self.open_with_amount,
            "won_with_amount": self.won_with_amount,
            "stale_days": self.stale_days,
        }


def available_rules(dataset: Dataset) -> list[Rule]:
    """Return the counting rules this dataset supports (strict and any need stage history)."""
    return ["furthest", "strict", "any"] if dataset.has_stage_history else ["furthest"]


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        hint = f"Use one of {', '.join(RULES)}."
        raise DiagnosticsError(f"Unknown counting rule {rule!r}.", hint)


def describe_rule(rule: Rule, filters: Filters) -> str:
    """Return "Counting rule: …. Cohort: …." for captions and JSON."""
    _check_rule(rule)
    return f"Counting rule: {RULES[rule]}. Cohort: {filters.describe()}."


# ---------------------------------------------------------------------------- core query


def _rank_count(dataset: Dataset) -> int:
    row = dataset.con.execute("SELECT count(*) FROM funnel_stages").fetchall()[0]
    n = int(row[0])
    if n > _MAX_RANKS:
        raise DiagnosticsError(
            f"The funnel has {n} stages; at most {_MAX_RANKS} can be counted.",
            "Merge or exclude some stages on the Data page.",
        )
    return n


def _mask_sql(rule: Rule, won_rank: int) -> str:
    """Return the CTEs defining ``m(opp_id, mask)`` for strict/any (``sel`` = filtered deals)."""
    # Every funnel stage an opportunity touched, with the day it first got there: its history,
    # its current stage when open, and "Won" (on its close date) when won.
    touches = f"""
        touch AS (
            SELECT h.opp_id, h.stage_rank AS r, h.entered_date AS d
            FROM stage_history h JOIN sel ON sel.opp_id = h.opp_id
            WHERE h.stage_rank IS NOT NULL
            UNION ALL
            SELECT sel.opp_id, f.rank, sel.last_touch
            FROM sel JOIN funnel_stages f ON f.stage = sel.stage
            WHERE sel.status = 'open'
            UNION ALL
            SELECT opp_id, {won_rank:d}, coalesce(close_date, last_touch)
            FROM sel WHERE status = 'won'
        ), t AS (SELECT opp_id, r, min(d) AS d FROM touch GROUP BY opp_id, r)"""
    if rule == "any":
        return touches + ", m AS (SELECT opp_id, bit_or(1::BIGINT << r) AS mask FROM t GROUP BY 1)"
    # Strict: walk the ranks in order; the chain holds while ranks are 1, 2, 3… without a gap and
    # each stage was first entered no earlier than the one before it.
    return (
        touches
        + """, s AS (
            SELECT opp_id, r, d, row_number() OVER w AS rn, lag(d) OVER w AS prev_d
            FROM t WINDOW w AS (PARTITION BY opp_id ORDER BY r)
        ), g AS (
            SELECT opp_id, r,
                   bool_and(r = rn AND (prev_d IS NULL OR d IS NULL OR d >= prev_d)) OVER (
                       PARTITION BY opp_id ORDER BY r
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ok
            FROM s
        ), m AS (
            SELECT opp_id, (1::BIGINT << (max(r) + 1)) - 2 AS mask FROM g WHERE ok GROUP BY 1
        )"""
    )


def _grouped_masks(
    dataset: Dataset, filters: Filters, rule: Rule, by_rep: bool = False,
    by_quarter: bool = False,
) -> pd.DataFrame:
    """Return one row per ([rep,] [quarter,] mask, status) with the count ``n`` and summed
    ``amount``. ``quarter`` numbers the calendar quarter of the cohort's date (year × 4 +
    quarter − 1); deals without that date are then left out."""
    _check_rule(rule)
    if rule != "furthest" and not dataset.has_stage_history:
        raise DiagnosticsError(
            "Strict and any-stage counting need the stage history of each deal.",
            "Upload a stage history file on the Data page, or count by furthest stage reached.",
        )
    n_ranks = _rank_count(dataset)
    where, params = opportunity_filter_sql(filters, "o")
    if rule == "furthest":
        # One scan, no join: the furthest rank is already on the row.
        rep = "coalesce(o.rep, '(no rep)') AS rep, " if by_rep else ""
        rep += _quarter_sql(filters, "o") if by_quarter else ""
        sql = f"""
            SELECT {rep}(1::BIGINT << (o.reached_rank + 1)) - 2 AS mask, o.status,
                   count(*) AS n, sum(coalesce(o.amount, 0)) AS amount
            FROM opportunities o
            WHERE o.reached_rank IS NOT NULL AND {where}
            GROUP BY ALL
        """
        return dataset.query_df(sql, params)
    rep = "coalesce(sel.rep, '(no rep)') AS rep, " if by_rep else ""
    rep += _quarter_sql(filters, "sel") if by_quarter else ""
    sql = f"""
        WITH sel AS (  -- deals parked in an excluded stage stay out under every rule
            SELECT o.* FROM opportunities o WHERE o.reached_rank IS NOT NULL AND {where}),
        {_mask_sql(rule, n_ranks)}
        SELECT {rep}m.mask, sel.status, count(*) AS n, sum(coalesce(sel.amount, 0)) AS amount
        FROM m JOIN sel ON sel.opp_id = m.opp_id
        WHERE m.mask <> 0
        GROUP BY ALL
    """
    return dataset.query_df(sql, params)


def _quarter_sql(filters: Filters, alias: str) -> str:
    """Return the select item numbering the calendar quarter of the cohort's date."""
    column = "created_date" if filters.cohort == "created" else "close_date"
    return f"year({alias}.{column}) * 4 + quarter({alias}.{column}) - 1 AS quarter, "


def quarter_number(day: dt.date) -> int:
    """Return the number of the calendar quarter holding ``day`` (year × 4 + quarter − 1)."""
    return day.year * 4 + (day.month - 1) // 3


def quarterly_stages(
    dataset: Dataset, filters: Filters, rule: Rule = "furthest"
) -> tuple[list[str], dict[int, tuple[StageCount, ...]]]:
    """Return the stage names and, per calendar quarter of the cohort's date, its stage counts.

    One query for every quarter: the counts of a quarter are those of
    ``compute_funnel(dataset, filters.with_period(quarter's first day, its last day), rule)``.
    Quarters are keyed by :func:`quarter_number`; a quarter without deals is not in the dict.
    """
    names = _stage_names(dataset)
    frame = _grouped_masks(dataset, filters, rule, by_quarter=True)
    frame = frame[frame["quarter"].notna()]  # deals without the cohort's date: in no quarter
    quarters = frame["quarter"].to_numpy(dtype=np.int64)
    return names, {int(q): _stages_from_masks(names, frame[quarters == q].drop(columns="quarter"))
                   for q in np.unique(quarters)}


def _stage_names(dataset: Dataset) -> list[str]:
    rows = dataset.con.execute("SELECT stage FROM funnel_stages ORDER BY rank").fetchall()
    return [str(r[0]) for r in rows]


def _stages_from_masks(names: Sequence[str], frame: pd.DataFrame) -> tuple[StageCount, ...]:
    """Return the stage counts of a grouped-mask frame (columns mask, status, n, amount)."""
    masks = frame["mask"].to_numpy(dtype=np.int64) if len(frame) else np.zeros(0, np.int64)
    n = frame["n"].to_numpy(dtype=np.int64) if len(frame) else np.zeros(0, np.int64)
    amount = frame["amount"].to_numpy(dtype=float) if len(frame) else np.zeros(0)
    status = frame["status"].to_numpy(dtype=object) if len(frame) else np.zeros(0, object)
    top = np.array([int(m).bit_length() - 1 for m in masks], dtype=np.int64)
    base = int(n.sum())
    out: list[StageCount] = []
    for rank, name in enumerate(names, start=1):
        here = (masks >> rank) & 1 == 1
        reached = int(n[here].sum())
        advanced = int(n[here & ((masks >> (rank + 1)) & 1 == 1)].sum())
        stops = top == rank
        out.append(
            StageCount(
                rank=rank,
                stage=name,
                reached=reached,
                amount=float(amount[here].sum()),
                next_step_conversion=_ratio(advanced, reached) if rank < len(names) else None,
                cumulative_conversion=_ratio(reached, base),
                open_here=int(n[stops & (status == "open")].sum()),
                lost_here=int(n[stops & (status == "lost")].sum()),
                won_here=int(n[stops & (status == "won")].sum()),
            )
        )
    return tuple(out)


def compute_funnel(dataset: Dataset, filters: Filters, rule: Rule = "furthest") -> FunnelResult:
    """Return the funnel of the filtered opportunities under a counting rule.

    Raises DiagnosticsError for an unknown rule, or for strict/any without stage history.
    """
    frame = _grouped_masks(dataset, filters, rule)
    stages = _stages_from_masks(_stage_names(dataset), frame)
    return FunnelResult(rule=rule, filters=filters, stages=stages, total=int(frame["n"].sum()),
                        lost_stage_unknown=_lost_stage_unknown(dataset, filters))


def _lost_stage_unknown(dataset: Dataset, filters: Filters) -> int:
    """Return how many filtered lost deals have no evidence of the stage they reached."""
    where, params = opportunity_filter_sql(filters, "o")
    return int(dataset.con.execute(
        f"SELECT count(*) FROM opportunities o WHERE o.status = 'lost' "
        f"AND o.reached_rank IS NULL AND {where}", params).fetchall()[0][0])


def _outcome_groups(
    dataset: Dataset, filters: Filters, stale_days: int, live_days: int | None = None
) -> pd.DataFrame:
    """Return one row per (furthest rank, status) with counts, amounts, stale deals and cycle.

    ``aged`` counts the deals created more than ``live_days`` days before the data's last date
    (none without ``live_days``), ``undated`` those without a created date. Won deals all sit at
    the last rank, so the won row's median cycle is the median of every won deal: the funnel
    and the headline metrics come out of this single scan.
    """
    if stale_days < 0:
        raise DiagnosticsError("The number of days for a stale deal cannot be negative.")
    where, params = opportunity_filter_sql(filters, "o")
    cutoff = dataset.as_of - dt.timedelta(days=stale_days)
    # The same test as the planner's aged pipeline (planner._aged_open_deals).
    born_before = None if live_days is None else dataset.as_of - dt.timedelta(days=live_days)
    return dataset.query_df(
        f"""
        SELECT o.reached_rank AS rank, o.status, count(*) AS n,
               sum(coalesce(o.amount, 0)) AS amount, count(o.amount) AS n_amount,
               count(*) FILTER (WHERE o.last_touch < ?) AS stale,
               count(*) FILTER (WHERE o.created_date < CAST(? AS DATE)) AS aged,
               count(*) FILTER (WHERE o.created_date IS NULL) AS undated,
               median(date_diff('day', o.created_date, o.close_date)) FILTER (
                   WHERE o.status = 'won' AND o.close_date >= o.created_date) AS cycle
        FROM opportunities o WHERE {where}
        GROUP BY ALL
        """,
        [cutoff, born_before, *params],
    )


def _open_today(
    dataset: Dataset, filters: Filters, stale_days: int, groups: pd.DataFrame,
    live_days: int | None = None,
) -> pd.DataFrame:
    """Return ``groups`` with its open rows replaced by the deals open today, for a closed cohort.

    Deals closed in a period are never open, so pipeline, velocity and stale deals would all
    read 0: the closed-in-period view shows the pipeline open today (same segment, rep… filters).
    """
    if filters.cohort != "closed":
        return groups
    today = _outcome_groups(dataset, replace(filters, start=None, end=None, cohort="created"),
                            stale_days, live_days)
    return pd.concat([groups[groups["status"] != "open"], today[today["status"] == "open"]],
                     ignore_index=True)


def _metrics_from_groups(
    groups: pd.DataFrame, stale_days: int, has_last_touch: bool = True,
    live_days: int | None = None,
) -> HeadlineMetrics:
    """Return the headline metrics of :func:`_outcome_groups`' rows.

    Velocity counts the open deals still live: those created more than ``live_days`` ago (the
    age by which 4 in 5 won deals were won) are past the age deals are won at, and left out.
    Without a last-activity or change date, stale deals are aged from their created date.
    """
    status = groups["status"]
    in_funnel = groups["rank"].notna()
    won_rows = groups[status == "won"]
    open_rows = groups[(status == "open") & in_funnel]
    won = int(won_rows["n"].sum())
    lost = int(groups.loc[status == "lost", "n"].sum())
    open_ = int(open_rows["n"].sum())
    win_rate = _ratio(won, won + lost)
    cycles = won_rows["cycle"].dropna()
    cycle_days = float(cycles.iloc[0]) if len(cycles) == 1 else None
    avg_won_amount = _ratio(float(won_rows["amount"].sum()), float(won_rows["n_amount"].sum()))
    aged = int(open_rows["aged"].sum()) if live_days is not None else 0
    undated = int(open_rows["undated"].sum())
    # Velocity counts the deals known to be live: when deals are aged, one without a created
    # date is of unknown age and left out (counted in the note) rather than taken as live.
    live = open_ - aged - (undated if live_days is not None else 0)
    velocity = None
    if win_rate is not None and avg_won_amount is not None and cycle_days and (live or not undated):
        velocity = live * win_rate * avg_won_amount / cycle_days
    # Without any date of change, last_touch is the created date: "stale" then means "old",
    # and deals without a created date have no age (stale unknown when none has one).
    stale = (int(open_rows["stale"].sum()) if has_last_touch or undated < open_
             else 0 if not open_ else None)
    return HeadlineMetrics(
        won=won,
        lost=lost,
        open=open_,
        win_rate=win_rate,
        median_cycle_days=cycle_days,
        avg_won_amount=avg_won_amount,
        open_pipeline=float(open_rows["amount"].sum()),
        velocity_per_day=velocity,
        stale_open=stale,
        open_with_amount=int(open_rows["n_amount"].sum()),
        won_with_amount=int(won_rows["n_amount"].sum()),
        stale_days=stale_days,
        live_days=live_days,
        aged_open=aged,
        undated_open=undated,
        stale_from_created=not has_last_touch and stale is not None,
    )


def headline_metrics(dataset: Dataset, filters: Filters, stale_days: int = 60) -> HeadlineMetrics:
    """Return won/lost/open counts, win rate, cycle, deal size, pipeline, velocity and stale deals.

    Win rate = won / (won + lost); the cycle is the median of days from created to closed for won
    deals; velocity = live open deals × win rate × average won amount ÷ median cycle (revenue per
    day), an open deal being live unless created longer ago than 4 in 5 won deals took to close.
    Open deals are those in the funnel (placeholder stages left out); a deal is stale when nothing
    happened to it for more than ``stale_days`` days before the data's last date (from its
    created date when the data has no date of activity or change). For deals
    closed in a period, open deals, pipeline, velocity and stale deals are those open today.
    """
    live_days = maturity_days(dataset, filters)
    groups = _open_today(dataset, filters, stale_days,
                         _outcome_groups(dataset, filters, stale_days, live_days), live_days)
    return _metrics_from_groups(groups, stale_days, dataset.has_last_touch, live_days)


def funnel_with_metrics(
    dataset: Dataset, filters: Filters, rule: Rule = "furthest", stale_days: int = 60
) -> tuple[FunnelResult, HeadlineMetrics]:
    """Return the funnel and the headline metrics together, in one scan for the furthest rule."""
    live_days = maturity_days(dataset, filters)
    groups = _outcome_groups(dataset, filters, stale_days, live_days)
    metrics = _metrics_from_groups(_open_today(dataset, filters, stale_days, groups, live_days),
                                   stale_days, dataset.has_last_touch, live_days)
    if rule != "furthest":
        return compute_funnel(dataset, filters, rule), metrics
    _rank_count(dataset)
    ranked = groups[groups["rank"].notna()]
    frame = pd.DataFrame(
        {
            "mask": [(1 << (int(r) + 1)) - 2 for r in ranked["rank"]],
            "status": ranked["status"].to_numpy(),
            "n": ranked["n"].to_numpy(),
            "amount": ranked["amount"].to_numpy(),
        }
    )
    stages = _stages_from_masks(_stage_names(dataset), frame)
    unknown = groups[groups["rank"].isna() & (groups["status"] == "lost")]
    result = FunnelResult(rule=rule, filters=filters, stages=stages, total=int(frame["n"].sum()),
                          lost_stage_unknown=int(unknown["n"].sum()))
    return result, metrics


def provisional_note(metrics: HeadlineMetrics, filters: Filters) -> str | None:
    """Return a warning when a created-in-period cohort is still largely open, else None.

    Young deals that will be won are mostly still open, so the cohort's win rate and step
    rates read low until they close (right-censoring).
    """
    total = metrics.won + metrics.lost + metrics.open
    if filters.cohort != "created" or not total or metrics.open / total <= PROVISIONAL_OPEN_SHARE:
        return None
    return (
        f"Provisional: {metrics.open:,} of {total:,} deals in this cohort are still open, so its "
        f"win rate ({format_rate(metrics.win_rate)}) and step rates will move as they close. "
        "For rates to plan with, pick an older period or “Closed in period”."
    )


def small_sample_note(metrics: HeadlineMetrics, min_closed: int = MIN_CLOSED) -> str | None:
    """Return a warning when the win rate rests on fewer than ``min_closed`` closed deals.

    A handful of closed deals fits a wide range of true rates: the note gives the 95% Wilson
    interval, so "50%" on 6 deals is read as "somewhere from 19% to 81%".
    """
    closed = metrics.won + metrics.lost
    if not closed or closed >= min_closed:
        return None
    low, high = wilson_interval(metrics.won, closed)
    return (
        f"Few closed deals: the win rate of {format_rate(metrics.win_rate)} rests on "
        f"{metrics.won:,} won of {closed:,} closed, and any rate from {format_rate(low)} to "
        f"{format_rate(high)} fits them (95% interval). Below {min_closed} closed deals, read "
        "it and the step conversions as rough."
    )


def few_deals_sentence(thin: Sequence[tuple[str, int, int]]) -> str | None:
    """Return "Few deals behind these step rates: …" naming each (label, entered, advanced)."""
    if not thin:
        return None
    steps = "; ".join(f"{label} {on:,} of {n:,} ({format_rate(on / n)})" for label, n, on in thin)
    return (f"Few deals behind these step rates: {steps}. With fewer than {MIN_STEP_DEALS} "
            "deals, one deal going the other way moves a rate by 25 points or more")


def thin_steps_note(result: FunnelResult) -> str | None:
    """Return the Funnel's warning naming the step rates that rest on few deals, else None."""
    sentence = few_deals_sentence(result.thin_steps())
    if sentence is None:
        return None
    return (f"{sentence}: read them as rough (lighter bars in the chart, “{FEW_DEALS}” in the "
            "table).")


def counting_caveat(
    dataset: Dataset, filters: Filters, result: FunnelResult | None = None
) -> str | None:
    """Return a warning when some lost deals cannot be placed at a stage ("stage unknown").

    A deal lost without stage history and without its last open stage (a plain "Closed Lost")
    may have dropped out anywhere: it counts in the totals but at no step. Pass the ``result``
    of :func:`funnel_with_metrics` for the same filters to reuse its count.
    """
    count = (result.lost_stage_unknown if result is not None
             else _lost_stage_unknown(dataset, filters))
    if not count:
        return None
    return (
        f"Lost, stage unknown: {count:,} lost deal{'s' if count != 1 else ''} with no record of "
        "how far they got. They count in the totals and the win rate, but at no step, so the "
        "step conversions count the deals that moved on and not all of those that stopped: "
        "read them as upper bounds. Stage history, “Date entered” columns or date columns named "
        "after stages would place them."
    )


# ---------------------------------------------------------------------------- reps


def rep_transitions(
    dataset: Dataset, filters: Filters, rule: Rule = "furthest", min_count: int = 5
) -> pd.DataFrame:
    """Return each rep's conversion at each step next to the team's, one row per (rep, step).

    Columns: rep, step (label), order (0 = top step), entered, advanced, rate, team_rate, gap
    (rate − team_rate) and enough (entered ≥ min_count); rate and gap are None below min_count or
    when nothing entered the step.
    """
    names = _stage_names(dataset)
    frame = _grouped_masks(dataset, filters, rule, by_rep=True)
    team = _stages_from_masks(names, frame.drop(columns="rep"))
    columns = ["rep", "step", "order", "entered", "advanced", "rate", "team_rate", "gap", "enough"]
    if frame.empty or len(names) < 2:
        return pd.DataFrame(columns=columns)
    masks = frame["mask"].to_numpy(dtype=np.int64)
    n = frame["n"].to_numpy(dtype=np.int64)
    parts = []
    # Vectorised over the grouped rows (one per rep, mask and status): per step, sum the counts
    # of rows whose mask holds the step's stage (entered) and also the next one (advanced).
    for i in range(len(names) - 1):
        here = (masks >> (i + 1)) & 1
        on = here & ((masks >> (i + 2)) & 1)
        sums = (
            pd.DataFrame({"rep": frame["rep"].astype(str), "entered": n * here,
                          "advanced": n * on})
            .groupby("rep", sort=True, as_index=False)
            .sum()
        )
        sums["order"] = i
        sums["step"] = f"{names[i]} → {names[i + 1]}"
        sums["team_rate"] = team[i].next_step_conversion
        parts.append(sums)
    out = pd.concat(parts, ignore_index=True)
    out["enough"] = out["entered"] >= max(min_count, 1)
    entered = out["entered"].to_numpy(dtype=float)
    advanced = out["advanced"].to_numpy(dtype=float)
    enough = out["enough"].to_numpy(dtype=bool)
    team_rate = out["team_rate"].to_numpy(dtype=float)  # None → NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(enough & (entered > 0), advanced / entered, np.nan)
    gap = rate - team_rate
    out["rate"] = [None if np.isnan(r) else float(r) for r in rate]
    out["gap"] = [None if np.isnan(g) else float(g) for g in gap]
    out["team_rate"] = [None if np.isnan(t) else float(t) for t in team_rate]
    out = out.sort_values(["rep", "order"], kind="stable").reset_index(drop=True)
    return out[columns]


def unrated_reps_note(reps: pd.DataFrame, min_count: int) -> str | None:
    """Return why no rep can be compared when none has ``min_count`` deals at any step, else None.

    ``reps`` is :func:`rep_transitions`' table. Every cell would be grey, and a colour scale
    over no value says nothing (its legend reads "NaN").
    """
    if reps.empty or bool(reps["enough"].any()):
        return None
    return (f"No rep has {min_count:,} or more deals entering any step, so no rep is compared "
            "with the team. Lower the minimum to see rough rates.")


def compare_funnels(a: FunnelResult, b: FunnelResult, labels: tuple[str, str]) -> pd.DataFrame:
    """Return two funnels side by side with the change in next-step conversion (in points).

    A rate on fewer than MIN_STEP_DEALS deals carries its counts ("100% (3 of 3: few deals)"),
    and so does a change resting on one.
    """
    rows = []
    for sa, sb in zip(a.stages, b.stages, strict=False):
        ra, rb = sa.next_step_conversion, sb.next_step_conversion
        change = f"{(ra - rb) * 100:+.0f} pts" if ra is not None and rb is not None else DASH
        if change != DASH and (sa.is_thin or sb.is_thin):
            change += f" ({FEW_DEALS})"
        rows.append(
            {
                "Stage": sa.stage,
                f"Reached ({labels[0]})": sa.reached,
                f"Next step ({labels[0]})": _rate_with_counts(sa),
                f"Reached ({labels[1]})": sb.reached,
                f"Next step ({labels[1]})": _rate_with_counts(sb),
                "Change": change,
            }
        )
    return pd.DataFrame(rows)


def _rate_with_counts(stage: StageCount) -> str:
    """Return the next-step rate, with its counts when it rests on few deals."""
    rate = format_rate(stage.next_step_conversion)
    if not stage.is_thin:
        return rate
    return f"{rate} ({stage.advanced:,} of {stage.reached:,}: {FEW_DEALS})"
