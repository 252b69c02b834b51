"""Forecast speed on 1,000,000 deals with their stage history (about 3.5 million stage rows).

Figures printed against their budgets (median of three runs):

- the forecast of a quarter: learning per stage from every closed deal, every open deal's chance
  by the period end, new pipeline, and the range with the probability of the target: 1 s;
- the same with the backtest (the model rerun as of the middle of every past quarter): 5 s.

Both start from the deals' arrays, which the Forecast page reads from the dataset once per upload
and keeps in the session (one DuckDB pass grouping the stage history by deal): that first read
is printed without a budget, as the quadrant's activity rollup is.

Run with ``make bench`` or ``python -m bench forecast``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from bench.data import CONFIG, STAGES, opportunities_table
from diagnostics.dataset import Dataset, build_dataset
from diagnostics.forecast import default_period, forecast_bookings, load_deals, run_backtest

N_OPPORTUNITIES = 1_000_000
FORECAST_BUDGET_S = 1.0
BACKTEST_BUDGET_S = 5.0


def _history(opportunities: pa.Table, seed: int = 5) -> pa.Table:
    """Return a stage history consistent with the deals: every stage up to the one reached."""
    rng = np.random.default_rng(seed)
    n = opportunities.num_rows
    status = np.asarray(opportunities.column("status").to_numpy(zero_copy_only=False))
    stage = np.asarray(opportunities.column("stage").to_numpy(zero_copy_only=False))
    index = {name: i + 1 for i, name in enumerate(STAGES)}
    reached = np.array([index.get(s, 0) for s in stage])
    # Lost deals got somewhere in the funnel; won deals through all of it.
    reached = np.where(status == "lost", rng.integers(1, len(STAGES) + 1, n), reached)
    reached = np.where(status == "won", len(STAGES), reached)
    created = np.asarray(opportunities.column("created_date").to_numpy(zero_copy_only=False),
                         dtype="datetime64[D]")
    close = np.asarray(opportunities.column("close_date").to_numpy(zero_copy_only=False),
                       dtype="datetime64[D]")
    rows = np.repeat(np.arange(n), reached)
    step = np.arange(rows.size) - np.repeat(np.cumsum(reached) - reached, reached)
    span = (close - created).astype(np.int64)[rows]
    # Each step starts a share of the way from creation to close (open deals: to 30 days early).
    entered = created[rows] + (span * step // np.maximum(reached[rows], 1)).astype(
        "timedelta64[D]")
    ids = np.asarray(opportunities.column("opp_id").to_numpy(zero_copy_only=False))
    return pa.table({
        "opp_id": pa.array(ids[rows]),
        "stage": pa.array(np.array(STAGES)[step]),
        "entered_date": pa.array(entered.astype("datetime64[D]")),
    })


def large_dataset_with_history(n: int) -> Dataset:
    """Return ``n`` synthetic deals with their stage history, built like an upload."""
    opportunities = opportunities_table(n)
    return build_dataset(opportunities, CONFIG, stage_history=_history(opportunities),
                         source="benchmark")


def _median_s(run: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    run()  # warm-up: the first scan after a build pays page-ins
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def _line(label: str, times: tuple[float, float], budget: float) -> bool:
    seconds, best = times
    verdict = "ok" if seconds <= budget else "OVER BUDGET"
    print(f"   {label:<46} {seconds:7.2f} s (best {best:.2f})  budget {budget:.0f} s  "
          f"ratio {seconds / budget:.2f}  {verdict}")
    return seconds <= budget


def main() -> int:
    """Print each figure, its budget and the ratio against it; return how many were missed."""
    started = time.perf_counter()
    dataset = large_dataset_with_history(N_OPPORTUNITIES)
    rows = dataset.con.execute("SELECT count(*) FROM stage_history").fetchall()[0][0]
    print(f"   {N_OPPORTUNITIES:,} deals and {rows:,} stage rows built in "
          f"{time.perf_counter() - started:.1f} s")
    as_of = dataset.as_of
    start, end = default_period(as_of)
    target = 1e9

    started = time.perf_counter()
    deals = load_deals(dataset)
    print(f"   {'reading deals and stage entries (once per upload)':<46} "
          f"{time.perf_counter() - started:7.2f} s")

    def forecast() -> object:
        return forecast_bookings(dataset, target, start, end, deals=deals)

    def with_backtest() -> object:
        result = forecast_bookings(dataset, target, start, end, deals=deals)
        return result, run_backtest(deals, as_of)

    misses = 0
    misses += not _line("forecast of a quarter (1M deals + history)", _median_s(forecast),
                        FORECAST_BUDGET_S)
    result, backtest = with_backtest()
    print(f"   as of {as_of}, {start} – {end}: {result.headline()}")
    print(f"   backtest: {len(backtest.points)} quarters, MAPE "
          f"{backtest.mean_abs_pct_error or 0:.1%}")
    misses += not _line("forecast + backtest", _median_s(with_backtest), BACKTEST_BUDGET_S)
    return misses


if __name__ == "__main__":
    main()
