"""Every deal of a Dataset as numpy arrays: what the forecast learns from and projects.

One fixed query reads the canonical tables; stage names never become SQL text (the number of
funnel stages decides how many ``e<rank>`` columns are read, nothing else).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from diagnostics.dataset import MAX_AMOUNT, Dataset

# A day number later than any real date: "not known" for dates, "never" for stage entries.
NO_DATE = 2**30
EPOCH = dt.date(1970, 1, 1)
OPEN, WON, LOST, PARKED = 0, 1, 2, 3

Evidence = Literal["history", "stages", "none"]
# A stage model needs stage evidence on at least this share of the closed deals.
_EVIDENCE_SHARE = 0.5

IntArray = npt.NDArray[np.integer[Any]]
FloatArray = npt.NDArray[np.floating[Any]]
BoolArray = npt.NDArray[np.bool_]


def day_number(day: dt.date) -> int:
    """Return the number of days since 1970-01-01 (how dates are held in the arrays)."""
    return (day - EPOCH).days


def from_day_number(days: int) -> dt.date:
    """Return the date of a day number."""
    return EPOCH + dt.timedelta(days=int(days))


@dataclass(frozen=True)
class AmountGaps:
    """Deals of one group whose amount the forecast could not use, by why."""

    missing: int = 0  # no amount
    unusable: int = 0  # infinite, or beyond MAX_AMOUNT
    negative: int = 0  # below zero (a credit or refund?): counted for open deals only

    @property
    def total(self) -> int:
        """Return how many deals of the group were left out."""
        return self.missing + self.unusable + self.negative

    def reasons(self) -> str:
        """Return why, in words ("2 without an amount, 1 with a negative amount")."""
        parts = [(self.missing, "without an amount"),
                 (self.negative, "with a negative amount (a credit or refund?)"),
                 (self.unusable, "with an amount no deal can have (infinite, or more than a "
                                 "billion billion)")]
        return ", ".join(f"{n:,} {why}" for n, why in parts if n)

    def to_json(self) -> dict[str, int]:
        """Return the counts with the command line's keys."""
        return {"deals": self.total, "no_amount": self.missing,
                "unusable_amount": self.unusable, "negative_amount": self.negative}


@dataclass(frozen=True)
class Deals:
    """One row per deal (arrays of equal length) plus the funnel they move through.

    ``entered[r - 1]`` is the first day the deal was seen at funnel rank ``r`` or beyond
    (``NO_DATE`` when never, or not known); ``rank`` is the furthest rank reached today (the
    won rank for won deals, 0 when not known). ``lost_at_stage`` says a lost deal's stage names
    where it was lost (Pipedrive keeps it), which tells how far it got without a history;
    ``parked_since`` is when a deal now in an excluded stage (on hold) went there, when known.
    ``amount`` is finite and within ±:data:`MAX_AMOUNT`, or NaN: missing, or unusable where
    ``unusable_amount`` says so (an amount was there, infinite or too large).
    """

    stages: tuple[str, ...]
    status: npt.NDArray[np.int8]
    amount: FloatArray
    created: IntArray
    closed: IntArray
    rank: IntArray
    entered: tuple[IntArray, ...]
    parked_since: IntArray
    has_history: BoolArray
    lost_at_stage: BoolArray
    unusable_amount: BoolArray
    key: npt.NDArray[np.uint64]  # hash of opp_id: finds a listed deal's details again
    as_of: dt.date

    @property
    def size(self) -> int:
        """Return the number of deals."""
        return int(self.status.size)

    def details(self, rows: IntArray, dataset: Dataset) -> list[dict[str, object]]:
        """Return opp_id, rep, stage and close_date of the deals at ``rows`` (a few), in order."""
        keys = pa.table({"key": pa.array(self.key[rows], pa.uint64())})
        with dataset.con.cursor() as cursor:
            cursor.register("_forecast_keys", keys)
            found = cursor.sql(
                "SELECT hash(o.opp_id) AS key, o.opp_id, o.rep, o.stage, o.close_date "
                "FROM opportunities o WHERE hash(o.opp_id) IN (SELECT key FROM _forecast_keys)"
            ).to_arrow_table().to_pylist()
        by_key = {row.pop("key"): row for row in found}
        return [by_key.get(int(k), {}) for k in self.key[rows]]

    def amount_gaps(self, rows: IntArray | BoolArray, *, negative: bool = False) -> AmountGaps:
        """Return how many of the deals at ``rows`` have no usable amount, by why.

        With ``negative``, amounts below zero count as unusable too (see
        :func:`pipeline_amounts`).
        """
        amount, unusable = self.amount[rows], self.unusable_amount[rows]
        return AmountGaps(missing=int((np.isnan(amount) & ~unusable).sum()),
                          unusable=int(unusable.sum()),
                          negative=int((amount < 0).sum()) if negative else 0)

    @property
    def won_rank(self) -> int:
        """Return the rank of "Won" (one past the last open stage)."""
        return len(self.stages) + 1

    def evidence(self) -> Evidence:
        """Return what tells how far deals got: a stage history, the stage lost at, or nothing."""
        closed = (self.status == WON) | (self.status == LOST)
        n_closed = int(closed.sum())
        if n_closed == 0 or not self.stages:
            return "none"
        if int((closed & self.has_history).sum()) >= _EVIDENCE_SHARE * n_closed:
            return "history"
        lost = self.status == LOST
        if lost.any() and int((lost & self.lost_at_stage).sum()) >= _EVIDENCE_SHARE * lost.sum():
            return "stages"
        return "none"


def _days(column: pa.ChunkedArray) -> IntArray:
    """Return a date column as day numbers, ``NO_DATE`` where empty."""
    ints = pc.cast(column, pa.int32()).fill_null(NO_DATE)
    return np.asarray(ints.to_numpy(), dtype=np.int32)


def usable_amounts(raw: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Return the amounts with every unusable one as NaN, and where an amount was unusable.

    Unusable: infinite, or beyond ±:data:`MAX_AMOUNT`. Missing amounts stay NaN, not flagged.
    """
    unusable = ~np.isnan(raw) & ~(np.abs(raw) <= MAX_AMOUNT)
    return np.where(unusable, np.nan, raw), unusable


def pipeline_amounts(deals: Deals, rows: IntArray) -> FloatArray:
    """Return what the open deals at ``rows`` are worth to the forecast: 0 where unusable.

    A missing, unusable or negative amount counts as 0: a credit is not pipeline, and the range
    (which adds deals that close) could not hold it. :meth:`Deals.amount_gaps` counts them.
    """
    amount = deals.amount[rows]
    return np.where(amount > 0, amount, 0.0)


def load_deals(dataset: Dataset) -> Deals:
    """Return every deal of ``dataset`` as arrays, with when it entered each funnel stage."""
    n_open = len(dataset.stages.funnel)
    # Column names e1..eN come from a count, never from the data.
    entries = ", ".join(
        f"min(entered_date) FILTER (WHERE stage_rank >= {r}) AS e{r}" for r in range(1, n_open + 1)
    ) or "NULL AS e_none"
    picked = ", ".join(f"h.e{r}" for r in range(1, n_open + 1))
    sql = f"""
        WITH h AS (
            SELECT opp_id, {entries},
                   max(entered_date) FILTER (WHERE stage_rank IS NULL) AS left_funnel
            FROM stage_history
            WHERE entered_date IS NOT NULL
            GROUP BY opp_id
        )
        SELECT hash(o.opp_id) AS key, o.close_date, h.left_funnel,
               CASE WHEN o.status = 'won' THEN {WON} WHEN o.status = 'lost' THEN {LOST}
                    WHEN o.reached_rank IS NULL THEN {PARKED} ELSE {OPEN} END::TINYINT AS code,
               o.amount, o.created_date, coalesce(o.reached_rank, 0)::TINYINT AS rank,
               h.opp_id IS NOT NULL AS has_history,
               o.status = 'lost' AND coalesce(o.stage IN (
                   SELECT stage FROM funnel_stages WHERE rank <= ?), false) AS lost_at_stage
               {', ' + picked if picked else ''}
        FROM opportunities o LEFT JOIN h ON h.opp_id = o.opp_id
    """
    # Its own cursor: a caller may have left a result unfinished on the dataset's connection.
    with dataset.con.cursor() as cursor:
        table = cursor.sql(sql, params=[n_open]).to_arrow_table()
    created = _days(table.column("created_date"))
    entered = [_days(table.column(f"e{r}")) for r in range(1, n_open + 1)]
    if entered:
        # Entering the first stage is being created, when the history does not say otherwise.
        entered[0] = np.minimum(entered[0], created)
    status = np.asarray(table.column("code").to_numpy(), dtype=np.int8)
    amount, unusable = usable_amounts(np.asarray(
        pc.cast(table.column("amount"), pa.float64()).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    ))
    return Deals(
        stages=tuple(dataset.stages.display_name(s) for s in dataset.stages.funnel),
        status=status,
        amount=amount,
        created=created,
        closed=_days(table.column("close_date")),
        rank=np.asarray(table.column("rank").to_numpy(), dtype=np.int32),
        entered=tuple(entered),
        parked_since=np.where(status == PARKED, _days(table.column("left_funnel")), NO_DATE),
        has_history=np.asarray(table.column("has_history").to_numpy(zero_copy_only=False),
                               dtype=bool),
        lost_at_stage=np.asarray(
            table.column("lost_at_stage").to_numpy(zero_copy_only=False), dtype=bool
        ),
        unusable_amount=unusable,
        key=np.asarray(table.column("key").to_numpy(), dtype=np.uint64),
        as_of=dataset.as_of,
    )
