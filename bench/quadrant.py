"""Rep quadrant benchmarks on 1,000,000 opportunities and 5,000,000 activities.

Figures printed against their budgets:

- computation after a filter change (``classify_reps`` with a new period, team or segment):
  100 ms. The first computation on new data also builds a (rep, day) activity rollup, once;
  its time is printed without a budget;
- an AppTest rerun of the quadrant page after a widget change, the dataset already in the
  session: 300 ms (a trivial Streamlit rerun costs 70–80 ms of that on this kind of machine);
- the same computation written the naive pandas way, reported as a ratio to DuckDB.

The chart receives one row per rep (200 here), whatever the number of activities; a unit test
checks that 2,000 reps give 2,000 chart rows. Run with ``make bench`` or
``python -m bench quadrant``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.data import large_dataset
from diagnostics import quadrant as quad
from diagnostics.charts import quadrant as charts
from diagnostics.dataset import Dataset, Filters

N_OPPORTUNITIES = 1_000_000
N_ACTIVITIES = 5_000_000
COMPUTE_BUDGET_MS = 100.0
RERUN_BUDGET_MS = 300.0
ROOT = Path(__file__).resolve().parent.parent

# Filter changes a user makes: new periods, a team, back to everything.
FILTERS = [
    Filters(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31)),
    Filters(start=dt.date(2025, 4, 1), end=dt.date(2025, 6, 30), team=("Team 3",)),
    Filters(start=dt.date(2025, 7, 1), end=dt.date(2026, 6, 30)),
    Filters(start=dt.date(2025, 10, 1), end=dt.date(2025, 12, 31), team=("Team 1", "Team 7")),
    Filters(),
    Filters(start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30), segment=("SMB",)),
]


def _report(name: str, value_ms: float, budget_ms: float | None) -> None:
    if budget_ms is None:
        print(f"{name:<52} {value_ms:9.1f} ms")
    else:
        print(f"{name:<52} {value_ms:9.1f} ms   budget {budget_ms:7.1f} ms   "
              f"ratio {value_ms / budget_ms:5.2f}")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def bench_first(dataset: Dataset) -> float:
    """Return the ms of the first ``classify_reps`` on new data (it builds the rollup)."""
    return _timed(lambda: quad.classify_reps(dataset, FILTERS[0]))


def bench_compute(dataset: Dataset) -> tuple[float, float]:
    """Return the median and the slowest ms of ``classify_reps`` over filter changes."""
    times = [_timed(lambda f=f: quad.classify_reps(dataset, f)) for f in FILTERS * 2]
    return statistics.median(times), max(times)


def _naive(opps: pd.DataFrame, acts: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The same per-rep figures written the way a notebook would (pandas, no DuckDB)."""
    start = pd.Timestamp(f.start or opps["created_date"].min())
    end = pd.Timestamp(f.end or opps["close_date"].max())
    sel = opps
    if f.team:
        sel = sel[sel["team"].isin(f.team)]
    if f.segment:
        sel = sel[sel["segment"].isin(f.segment)]
    closed = sel[sel["status"].isin(["won", "lost"]) & sel["close_date"].between(start, end)]
    ratio = closed.groupby("rep")["status"].apply(lambda s: (s == "won").mean())
    a = acts[acts["activity_date"].between(start, end) & acts["rep"].isin(sel["rep"].unique())]
    days = np.busday_count(start.date(), (end + pd.Timedelta(days=1)).date())
    engagement = a.groupby("rep").size() / max(int(days), 1)
    return pd.DataFrame({"close_ratio": ratio, "engagement": engagement})


def bench_naive(dataset: Dataset) -> float:
    """Return the median ms of the pandas version over the same filter changes."""
    opps = dataset.query_df("SELECT rep, team, segment, status, created_date, close_date "
                            "FROM opportunities")
    acts = dataset.query_df("SELECT rep, activity_date FROM activities")
    for col in ("created_date", "close_date"):
        opps[col] = pd.to_datetime(opps[col])
    acts["activity_date"] = pd.to_datetime(acts["activity_date"])
    times = [_timed(lambda f=f: _naive(opps, acts, f)) for f in FILTERS]
    return statistics.median(times)


def bench_apptest_rerun(dataset: Dataset) -> float:
    """Return the median ms of an AppTest rerun of the page after a min-deals change."""
    from streamlit.testing.v1 import AppTest

    from ui.state import DATASET, QUADRANT_WIDGET

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[DATASET] = dataset
    at.run()
    at.switch_page("pages/quadrant.py")
    at.run()
    if at.exception:
        raise RuntimeError(f"the quadrant page failed: {at.exception[0].message}")
    times = []
    for value in (6, 7, 8, 5, 9, 10):
        widget = at.number_input(key=QUADRANT_WIDGET + "min_deals").set_value(value)
        times.append(_timed(widget.run))
    return statistics.median(times)


def main() -> None:
    """Print every figure with its budget and ratio."""
    started = time.perf_counter()
    dataset = large_dataset(N_OPPORTUNITIES, N_ACTIVITIES)
    _report("build 1M opportunities + 5M activities (setup)",
            (time.perf_counter() - started) * 1000, None)
    _report("first classify_reps on new data (one-off rollup)", bench_first(dataset), None)
    compute, slowest = bench_compute(dataset)
    _report("classify_reps after a filter change (median)", compute, COMPUTE_BUDGET_MS)
    _report("classify_reps, slowest filter change", slowest, COMPUTE_BUDGET_MS)
    naive = bench_naive(dataset)
    _report("naive pandas, same figures (median)", naive, None)
    print(f"{'pandas ÷ DuckDB':<52} {naive / compute:9.1f} ×")
    result = quad.classify_reps(dataset, Filters())
    spec = charts.quadrant_chart(
        result.to_frame(), engagement_threshold=result.thresholds.engagement,
        close_threshold=result.thresholds.close_ratio, engagement_label=result.engagement_label,
        colours=quad.content().colours(),
    ).to_dict()
    rows = max(len(v) for v in spec["datasets"].values())
    print(f"{'scatter rows sent to the browser':<52} {rows:9d} (one per rep, "
          f"{N_ACTIVITIES:,} activities behind them)")
    rerun = bench_apptest_rerun(dataset)
    _report("AppTest rerun of the quadrant page (median)", rerun, RERUN_BUDGET_MS)


if __name__ == "__main__":
    main()
