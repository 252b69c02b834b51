"""Upload speed: bytes of a 1M-row CSV → queryable DuckDB table, against a naive pandas load.

Each measurement runs in a fresh process so that its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

N_ROWS = 1_000_000
BUDGET_SECONDS = 1.0
BUDGET_MEMORY_RATIO = 3.0


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _ours(data: bytes, out: Any) -> None:
    from diagnostics.ingest import assemble_dataset, parse_table, propose_table_mapping
    from diagnostics.readers import read_raw

    base = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    raw = read_raw(data, "opportunities.csv")
    t1 = time.perf_counter()
    loaded = parse_table(raw, propose_table_mapping(raw))
    t2 = time.perf_counter()
    result = assemble_dataset([loaded])
    t3 = time.perf_counter()
    rows = result.dataset.con.execute("SELECT count(*) FROM opportunities").fetchall()[0][0]
    out.put({"read": t1 - t0, "type": t2 - t1, "build": t3 - t2, "total": t3 - t0,
             "rows": rows, "peak_kib": _rss_kib("VmHWM") - base})


def _naive(data: bytes, out: Any) -> None:
    import io

    import pandas as pd

    base = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(data), parse_dates=["created_date", "close_date"])
    out.put({"total": time.perf_counter() - t0, "rows": len(frame),
             "peak_kib": _rss_kib("VmHWM") - base})


def _run(target: Any, data: bytes) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(data, queue))
    proc.start()
    result: dict[str, Any] = queue.get(timeout=600)
    proc.join()
    return result


def main() -> None:
    """Print load time and peak memory for our path and the naive one."""
    from bench.data import opportunities_csv

    data = opportunities_csv(N_ROWS)
    size_mib = len(data) / 2**20
    ours = _run(_ours, data)
    naive = _run(_naive, data)
    print(f"   file: {N_ROWS:,} opportunities, {size_mib:.0f} MiB CSV")
    print(f"   ours: {ours['total']:.2f} s (read {ours['read']:.2f} + type/validate "
          f"{ours['type']:.2f} + stages/build {ours['build']:.2f}); budget {BUDGET_SECONDS:.1f} s "
          f"→ {'within' if ours['total'] <= BUDGET_SECONDS else 'OVER'} budget")
    ratio = ours["peak_kib"] / 1024 / size_mib
    print(f"   peak memory: {ours['peak_kib'] / 1024:.0f} MiB = {ratio:.1f}× file size; budget "
          f"{BUDGET_MEMORY_RATIO:.0f}× → {'within' if ratio <= BUDGET_MEMORY_RATIO else 'OVER'}")
    print(f"   naive pandas.read_csv(parse_dates): {naive['total']:.2f} s, peak "
          f"{naive['peak_kib'] / 1024:.0f} MiB (no validation, no mapping)")
    print(f"   ratio naive/ours: {naive['total'] / ours['total']:.1f}× time")
