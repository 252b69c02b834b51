"""What history says: per stage, the share of deals won and how long deals took to close.

A deal's chance of being won inside a window, given that it is still open and has sat ``age``
days on its clock (since entering its stage, or since creation without stage dates)::

    P = p · [F_won(end) − F_won(start)] / (p · S_won(age) + (1 − p) · S_lost(age))

where ``p`` is the stage's win share, ``F`` the empirical distribution of days from the clock's
start to the close (won or lost deals) and ``S = 1 − F``. The denominator is the share of deals
that were still open at that age: old deals are judged by the deals that were once as old.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from diagnostics.forecast._deals import (
    LOST,
    NO_DATE,
    OPEN,
    PARKED,
    WON,
    AmountGaps,
    BoolArray,
    Deals,
    Evidence,
    FloatArray,
    IntArray,
)

# Rates are pulled toward the overall win rate as if each stage had this many more closed
# deals converting at that rate (the same prior strength as the funnel's rep rates).
PRIOR_DEALS = 10
# Fewer closing times than this and a stage borrows the timing of all deals.
MIN_TIMES = 5
# Deals created in this many days before the as-of date set the rate of new pipeline.
CREATION_WINDOW = 91
# Longer than this on the clock (ten years) counts as this long: it bounds the timing tables.
MAX_DAYS = 3650


@dataclass(frozen=True)
class Timing:
    """For won and for lost deals, the share closed within each number of days of the clock.

    ``won[d]`` is the share of the eventually won deals that closed within ``d`` days of the
    clock's start (a day beyond the last one is 1). It is estimated counting deals still open
    (Aalen–Johansen), so that slow deals, often still open, are not under-represented.
    """

    won: FloatArray
    lost: FloatArray
    won_times: int  # won closes seen
    lost_times: int

    def cdf_won(self, days: IntArray | int) -> FloatArray:
        """Return the share of won deals that closed within ``days`` of the clock's start."""
        return _lookup(self.won, days)

    def cdf_lost(self, days: IntArray | int) -> FloatArray:
        """Return the share of lost deals that closed within ``days`` of the clock's start."""
        return _lookup(self.lost, days)


def _lookup(cdf: FloatArray, days: IntArray | int) -> FloatArray:
    at = np.asarray(days)
    if cdf.size == 0:
        return np.zeros(at.shape)
    return np.where(at < 0, 0.0, cdf[np.clip(at, 0, cdf.size - 1)])


def estimate_timing(days: IntArray, outcome: npt.NDArray[np.int8]) -> Timing:
    """Return won and lost timing from days on the clock and outcomes (WON, LOST, else open).

    An open deal counts as "still open after that many days" (censored): competing-risks
    cumulative incidence, normalised so that each curve ends at 1.
    """
    status = np.where(outcome == WON, 1, np.where(outcome == LOST, 2, 0))
    return _timing_from_codes(np.clip(days, 0, MAX_DAYS) * 3 + status)


def _timing_from_codes(code: IntArray) -> Timing:
    """Return the timing from ``days * 3 + (0 open, 1 won, 2 lost)`` of each deal.

    Negative days (a close before the clock's start) count as 0, more than ``MAX_DAYS`` as that.
    """
    if code.size and (int(code.min()) < 0 or int(code.max()) >= 3 * (MAX_DAYS + 1)):
        code = np.clip(code // 3, 0, MAX_DAYS) * 3 + code % 3
    size = int(code.max()) // 3 + 2 if code.size else 1
    counts = np.bincount(code, minlength=3 * size)[: 3 * size].reshape(size, 3).astype(float)
    every = counts.sum(axis=1)
    at_risk = np.cumsum(every[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        h_won = np.where(at_risk > 0, counts[:, 1] / at_risk, 0.0)
        h_lost = np.where(at_risk > 0, counts[:, 2] / at_risk, 0.0)
    survival = np.cumprod(1 - h_won - h_lost)
    before = np.concatenate(([1.0], survival[:-1]))
    cif_won, cif_lost = np.cumsum(before * h_won), np.cumsum(before * h_lost)
    return Timing(
        cif_won / cif_won[-1] if cif_won[-1] > 0 else cif_won,
        cif_lost / cif_lost[-1] if cif_lost[-1] > 0 else cif_lost,
        int(counts[:, 1].sum()),
        int(counts[:, 2].sum()),
    )


@dataclass(frozen=True)
class Exits:
    """Days deals stayed in a stage: ``advance[d]`` the share moving on after exactly d days,
    ``staying[d]`` the share still in the stage after d days (deals still there count)."""

    advance: FloatArray
    staying: FloatArray
    moves: int

    def window_probability(
        self, next_won: FloatArray, age: IntArray, start: IntArray, end: IntArray
    ) -> FloatArray:
        """Return P(move on, then be won from the next stage inside (start, end]), given age."""
        out = np.zeros(np.shape(age))
        lead = start - age  # days from the as-of date to the window's start: one value a call
        width = end - start
        for d, w in set(zip(lead.tolist(), width.tolist(), strict=True)):
            rows = (lead == d) & (width == w)
            table = self._table(next_won, int(d), int(w))
            out[rows] = table[np.clip(age[rows], 0, table.size - 1)]
        return np.clip(out, 0.0, 1.0)

    def _table(self, next_won: FloatArray, lead: int, width: int) -> FloatArray:
        """Return, for every age a, P(won in the window | still in the stage after a days).

        Σ over u ≥ 1 days more in the stage: advance[a + u] · [G(lead + width − u) − G(lead − u)]
        ÷ staying[a], where G is ``next_won`` (0 before day 0, its last value after its end).
        """
        size = self.advance.size
        top = lead + width
        if width <= 0 or top <= 0:
            return np.zeros(size + 1)
        u = np.arange(top + 1)
        g = _lookup(next_won, top - u) - _lookup(next_won, lead - u)
        g[0] = 0.0  # still in the stage on the as-of date: it moves on a day later at best
        reached = np.convolve(self.advance, g[::-1])[top: top + size]
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.where(self.staying > 0, reached / self.staying, 0.0)
        # Older than any deal that stayed in the stage: history has no such deal moving on.
        return np.append(table, 0.0)


def exits_from_codes(code: IntArray) -> Exits:
    """Return stay-in-stage tables from ``days * 3 + (0 still there, 1 moved on, 2 lost)``."""
    size = int(code.max()) // 3 + 2 if code.size else 1
    counts = np.bincount(code, minlength=3 * size)[: 3 * size].reshape(size, 3).astype(float)
    at_risk = np.cumsum(counts.sum(axis=1)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        h_move = np.where(at_risk > 0, counts[:, 1] / at_risk, 0.0)
        h_lost = np.where(at_risk > 0, counts[:, 2] / at_risk, 0.0)
    staying = np.cumprod(1 - h_move - h_lost)
    before = np.concatenate(([1.0], staying[:-1]))
    return Exits(before * h_move, staying, int(counts[:, 1].sum()))


@dataclass(frozen=True)
class StageModel:
    """What closed deals that reached one stage did (rank 0: every deal, from creation)."""

    rank: int
    name: str
    closed: int
    won: int
    win_probability: float
    timing: Timing
    borrowed_timing: bool
    # With a stage history: how long deals stay in this stage before moving on, and the chance
    # of a deal just entering the next stage being won within each number of days.
    exits: Exits | None = None
    next_won: FloatArray | None = None

    def window_probability(
        self, age: IntArray, start: IntArray, end: IntArray
    ) -> FloatArray:
        """Return P(won with a close between ``start`` (excluded) and ``end`` days on the clock).

        ``age`` is how long each deal has been open on the same clock. A deal older than every
        closed deal of the stage gets 0: history has no deal that was won after that long.
        With a stage history, a deal still in its stage after ``age`` days must first move on
        (as deals that stayed that long did), then be won from the next stage in time.
        """
        if self.exits is not None and self.next_won is not None:
            return self.exits.window_probability(self.next_won, age, start, end)
        p = self.win_probability
        still_open = p * (1 - self.timing.cdf_won(age)) + (1 - p) * (1 - self.timing.cdf_lost(age))
        won = p * (self.timing.cdf_won(end) - self.timing.cdf_won(start))
        won = np.where(end > start, won, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(still_open > 0, won / still_open, 0.0)
        return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class History:
    """Everything learned from the deals closed by one date."""

    evidence: Evidence
    overall: StageModel
    stages: tuple[StageModel, ...]
    next_rates: tuple[float | None, ...]
    won_amounts: FloatArray
    created_per_day: float
    creation_days: int
    closed_deals: int
    won_amount_gaps: AmountGaps  # won deals left out of ``won_amounts`` (no usable amount)

    def model(self, rank: int) -> StageModel:
        """Return the model of a funnel rank, or the overall one without stage evidence."""
        if self.evidence == "none" or not 1 <= rank <= len(self.stages):
            return self.overall
        return self.stages[rank - 1]


def _outcomes(deals: Deals, as_of: int) -> tuple[IntArray, IntArray]:
    """Return each deal's last known day on ``as_of`` (its close, else ``as_of``) and outcome.

    Outcomes: 0 still open then, 1 won by then, 2 lost by then.
    """
    won = (deals.status == WON) & (deals.closed <= as_of)
    lost = (deals.status == LOST) & (deals.closed <= as_of)
    end = np.where(won | lost, deals.closed, as_of).astype(np.int32)
    return end, (won.view(np.int8) + 2 * lost.view(np.int8)).astype(np.int32)


def _clocked(start: IntArray, known: tuple[IntArray, IntArray], as_of: int,
             rows: BoolArray) -> Timing:
    """Return the timing of ``rows`` whose clock started on ``start``, as known on ``as_of``."""
    at = np.flatnonzero(rows & (start <= as_of))
    return _timing_from_codes((known[0][at] - start[at]) * 3 + known[1][at])


def _stage_exits(deals: Deals, rank: int, at: IntArray, begun: IntArray, day: IntArray,
                 outcome: IntArray, as_of: int) -> Exits | None:
    """Return how long deals stayed at ``rank`` before moving on (None: too few moved on).

    ``at`` are the deals at or past the stage by ``as_of``, ``begun`` when they entered it,
    ``day`` and ``outcome`` their last known day and outcome then.
    """
    if rank < len(deals.entered):
        moved = deals.entered[rank][at]
    else:  # moving on from the last open stage is being won
        moved = np.where(deals.status[at] == WON, deals.closed[at], NO_DATE)
    moved_by = moved <= as_of
    lost_here = (outcome == 2) & ~moved_by  # lost by then, without moving on first
    end = np.where(moved_by, moved, day)
    exits = exits_from_codes(np.clip(end - begun, 0, MAX_DAYS) * 3 + moved_by + 2 * lost_here)
    return exits if exits.moves >= MIN_TIMES else None


def _linked(models: list[StageModel]) -> list[StageModel]:
    """Return the models with each one's chance of winning from the next stage attached."""
    out = []
    for i, model in enumerate(models):
        if i + 1 < len(models):
            after = models[i + 1]
            next_won = after.win_probability * after.timing.won
        else:
            next_won = np.ones(1)
        out.append(replace(model, next_won=next_won))
    return out


def _shrunk(won: int, closed: int, prior: float) -> float:
    return (won + PRIOR_DEALS * prior) / (closed + PRIOR_DEALS)


def clock_starts(deals: Deals, evidence: Evidence, rank: int) -> IntArray:
    """Return when each deal's clock for ``rank`` started: stage entry (history), else creation."""
    if evidence == "history" and 1 <= rank <= len(deals.entered):
        return deals.entered[rank - 1]
    return deals.created


def learn_history(deals: Deals, evidence: Evidence, as_of: int, mask: BoolArray) -> History:
    """Return what the deals closed by ``as_of`` (among ``mask``) say about winning and timing.

    ``mask`` limits the deals looked at (those known on ``as_of``); a closed deal counts only
    when its close date is known and on or before ``as_of``.
    """
    closed = mask & ((deals.status == WON) | (deals.status == LOST)) & (deals.closed <= as_of)
    won = closed & (deals.status == WON)
    n_closed, n_won = int(closed.sum()), int(won.sum())
    prior = n_won / n_closed if n_closed else 0.0
    # Deals known then: closed by then, or open then (whatever became of them since).
    seen = mask & ((deals.status != PARKED) | (deals.parked_since > as_of))
    known = _outcomes(deals, as_of)
    overall_timing = _clocked(deals.created, known, as_of, seen & (deals.created < NO_DATE))
    overall = StageModel(0, "All deals", n_closed, n_won, prior, overall_timing, False)
    models: list[StageModel] = []
    reached_counts: list[int] = []
    if evidence != "none":
        # Won deals reached every stage; closed deals' reach is the furthest rank they got to.
        # A deal lost with no evidence of how far it got ("lost, stage unknown") still entered
        # the funnel: it counts at the first stage.
        rank = np.where(deals.status == WON, deals.won_rank, np.maximum(deals.rank, 1))
        # Closed deals reaching each rank (won deals reach them all), from one count.
        by_rank = np.bincount(np.clip(rank[closed], 0, deals.won_rank),
                              minlength=deals.won_rank + 1)
        reaching = np.cumsum(by_rank[::-1])[::-1]
        # With a history, deals whose clock for a stage started by then had reached it then;
        # reaching a stage means having reached the one before, so each stage narrows the last.
        at = np.flatnonzero(seen)
        for r, name in enumerate(deals.stages, start=1):
            n_r = int(reaching[r])
            reached_counts.append(n_r)
            start = clock_starts(deals, evidence, r)
            exits = None
            if evidence == "history":
                at = at[start[at] <= as_of]
                begun, day, outcome = start[at], known[0][at], known[1][at]
                timing = _timing_from_codes((day - begun) * 3 + outcome)
                exits = _stage_exits(deals, r, at, begun, day, outcome, as_of)
            else:
                timing = _clocked(start, known, as_of, seen & (rank >= r))
            borrowed = timing.won_times < MIN_TIMES or timing.lost_times < MIN_TIMES
            if timing.won_times < MIN_TIMES:
                timing = replace(timing, won=overall_timing.won)
            if timing.lost_times < MIN_TIMES:
                timing = replace(timing, lost=overall_timing.lost)
            models.append(StageModel(r, name, n_r, n_won, _shrunk(n_won, n_r, prior), timing,
                                     borrowed, exits))
        reached_counts.append(n_won)
        models = _linked(models)
    next_rates = tuple(
        b / a if a else None for a, b in zip(reached_counts, reached_counts[1:], strict=False)
    )
    window_start = as_of - CREATION_WINDOW
    created = mask & (deals.created <= as_of) & (deals.created < NO_DATE)
    first = int(deals.created[created].min()) if created.any() else as_of
    days = max(min(as_of - first + 1, CREATION_WINDOW), 1)
    recent = int((created & (deals.created > window_start)).sum())
    amounts = deals.amount[won]
    return History(
        evidence=evidence,
        overall=overall,
        stages=tuple(models),
        next_rates=next_rates,
        won_amounts=amounts[np.isfinite(amounts)],
        created_per_day=recent / days,
        creation_days=days,
        closed_deals=n_closed,
        won_amount_gaps=deals.amount_gaps(won),
    )


@dataclass(frozen=True)
class OpenView:
    """The deals open on a date, where each one was then and since when."""

    index: IntArray  # rows of the Deals arrays
    rank: IntArray  # funnel rank then (0 when not known)
    clock: IntArray  # start of the clock used for the deal's stage
    timed_from_creation: int  # open deals whose stage entry was not known


def open_view_now(deals: Deals, evidence: Evidence) -> OpenView:
    """Return the deals open today (parked ones left out) with their current stage."""
    index = np.flatnonzero(deals.status == OPEN)
    rank = deals.rank[index]
    return _with_clock(deals, evidence, index, rank)


def open_view_at(deals: Deals, evidence: Evidence, as_of: int) -> OpenView:
    """Return the deals open on a past date, using only what was known on that date.

    A deal counts as open when it was created by then and not yet closed (it may have been won
    or lost since) and was not parked by then. Its stage then is the furthest one its history
    had reached by that date; without a history only its existence was known: it sits at the
    first stage since creation.
    """
    created = (deals.created <= as_of) & (deals.created < NO_DATE)
    # A closed deal without a close date cannot be placed in time: it is left out.
    still_open = ((deals.status == OPEN) | (deals.status == PARKED)
                  | ((deals.closed > as_of) & (deals.closed < NO_DATE)))
    parked = deals.parked_since <= as_of  # went on hold by then, as its history says
    index = np.flatnonzero(created & still_open & ~parked)
    rank = np.ones(index.size, dtype=np.int32)
    if evidence == "history":
        for column in deals.entered[1:]:  # entries are ordered: reaching r means reaching r - 1
            rank += column[index] <= as_of
    return _with_clock(deals, evidence, index, rank)


def _with_clock(deals: Deals, evidence: Evidence, index: IntArray, rank: IntArray) -> OpenView:
    if evidence != "history" or not deals.entered:
        return OpenView(index=index, rank=rank, clock=deals.created[index], timed_from_creation=0)
    clock = deals.created[index].copy()
    timed = 0
    for r, column in enumerate(deals.entered, start=1):
        at = rank == r
        entered = column[index[at]]
        missing = entered >= NO_DATE
        if missing.any():
            # Without the date the deal entered its stage, its latest known step (else its
            # creation) is the earliest it can have entered it: its age counts from there.
            latest = deals.created[index[at]]
            for earlier in deals.entered[: r - 1]:
                step = earlier[index[at]]
                latest = np.where(step < NO_DATE, np.maximum(latest, step), latest)
            entered = np.where(missing, latest, entered)
            timed += int(missing.sum())
        clock[at] = entered
    return OpenView(index=index, rank=rank, clock=clock, timed_from_creation=timed)


def open_probabilities(
    history: History, view: OpenView, as_of: int, window: tuple[int, int]
) -> FloatArray:
    """Return each open deal's chance of being won with a close inside the window.

    ``window`` holds day numbers (first excluded, last included); closes on or before the
    as-of date cannot happen any more.
    """
    lo, hi = max(window[0], as_of), window[1]
    out = np.zeros(view.index.size)
    ranks = view.rank if history.evidence != "none" else np.zeros_like(view.rank)
    for rank in np.unique(ranks):
        rows = ranks == rank
        model = history.model(int(rank))
        clock = np.where(view.clock[rows] < NO_DATE, view.clock[rows], as_of)
        out[rows] = model.window_probability(as_of - clock, lo - clock, hi - clock)
    return out


def new_pipeline_wins(history: History, as_of: int, window: tuple[int, int]) -> float:
    """Return how many deals not yet created are expected to be created and won in the window.

    Deals appear at the recent creation rate every day after the as-of date up to the window's
    end; each is won in time with the overall win rate and the overall days from creation to win.
    """
    lo, hi = window
    days = np.arange(as_of + 1, hi + 1)
    if days.size == 0 or history.created_per_day <= 0:
        return 0.0
    timing = history.overall.timing
    share = timing.cdf_won(hi - days) - timing.cdf_won(lo - days)  # 0 below zero days
    return float(history.created_per_day * history.overall.win_probability * share.sum())
