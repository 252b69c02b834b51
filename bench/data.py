"""Large synthetic CRM data for benchmarks (deterministic; built in memory, not committed)."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from diagnostics.dataset import Dataset, StageConfig, build_dataset

STAGES = ("Lead", "Discovery", "Demo", "Trial", "Proposal", "Negotiation")
CONFIG = StageConfig(funnel=STAGES, won=("Won",), lost=("Lost",), excluded=("On hold",))
START = dt.date(2025, 1, 1)
DAYS = 540
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
PRODUCTS = np.array(["Core", "Analytics", "Platform"])
REGIONS = np.array(["North America", "EMEA", "APAC"])
TYPES = np.array(["Call", "Email", "Meeting", "Demo"])


def opportunities_table(n: int, n_reps: int = 200, seed: int = 7) -> pa.Table:
    """Return ``n`` canonical opportunities (parsed types) as an Arrow table."""
    rng = np.random.default_rng(seed)
    created = np.datetime64(START) + rng.integers(0, DAYS, n).astype("timedelta64[D]")
    cycle = rng.integers(5, 120, n).astype("timedelta64[D]")
    roll = rng.random(n)
    status = np.where(roll < 0.15, "won", np.where(roll < 0.85, "lost", "open"))
    stage_idx = rng.integers(0, len(STAGES), n)
    stage = np.where(status == "won", "Won",
                     np.where(status == "lost", "Lost", np.array(STAGES)[stage_idx]))
    close = np.where(status == "open", created + cycle + 30, created + cycle)
    return pa.table({
        "opp_id": pa.array([f"OPP-{i:07d}" for i in range(n)]),
        "rep": pa.array(np.char.add("Rep ", rng.integers(0, n_reps, n).astype(str))),
        "team": pa.array(np.char.add("Team ", rng.integers(0, 10, n).astype(str))),
        "stage": pa.array(stage),
        "status": pa.array(status),
        "amount": pa.array(np.round(rng.lognormal(9.8, 0.8, n), -1)),
        "created_date": pa.array(created.astype("datetime64[D]")),
        "close_date": pa.array(close.astype("datetime64[D]")),
        "segment": pa.array(SEGMENTS[rng.integers(0, 3, n)]),
        "product": pa.array(PRODUCTS[rng.integers(0, 3, n)]),
        "region": pa.array(REGIONS[rng.integers(0, 3, n)]),
    })


def activities_table(n: int, n_reps: int = 200, n_opportunities: int = 0,
                     seed: int = 11) -> pa.Table:
    """Return ``n`` canonical activities as an Arrow table."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64(START) + rng.integers(0, DAYS, n).astype("timedelta64[D]")
    opp = rng.integers(0, max(n_opportunities, 1), n)
    return pa.table({
        "activity_id": pa.array(np.arange(n).astype(str)),
        "rep": pa.array(np.char.add("Rep ", rng.integers(0, n_reps, n).astype(str))),
        "type": pa.array(TYPES[rng.integers(0, 4, n)]),
        "activity_date": pa.array(dates.astype("datetime64[D]")),
        "opp_id": pa.array([f"OPP-{i:07d}" for i in opp]) if n_opportunities else pa.nulls(
            n, pa.string()),
    })


def large_dataset(n_opportunities: int, n_activities: int, n_reps: int = 200) -> Dataset:
    """Return a Dataset of synthetic deals and activities, built like an upload."""
    opportunities = opportunities_table(n_opportunities, n_reps)
    activities = activities_table(n_activities, n_reps) if n_activities else None
    return build_dataset(opportunities, CONFIG, activities=activities, source="benchmark")


def opportunities_csv(n: int) -> bytes:
    """Return a CRM-like CSV export of ``n`` opportunities (~100 bytes a row)."""
    table = opportunities_table(n).drop_columns(["status"])
    table = table.rename_columns(["opportunity_id", "sales_agent", "team", "deal_stage",
                                  "amount", "created_date", "close_date", "segment", "product",
                                  "region"])
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()
