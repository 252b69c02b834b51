"""Upload speed: bytes of a 1M-row CSV → queryable DuckDB table, against a naive pandas load.

Each measurement runs in a freshly started process that, like the app when a session opens, has
loaded the bundled sample and holds the upload's bytes: its peak memory (VmHWM above the RSS
at that point) is then the upload's own, with no memory left over by the data generator to
reuse. A 2-core machine is noisy, so each is repeated and the median is reported with the range.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

N_ROWS = 1_000_000
RUNS = 5
NAIVE_RUNS = 3
BUDGET_SECONDS = 1.0
BUDGET_MEMORY_RATIO = 3.0


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _ours(path: str, out: Any) -> None:
    from diagnostics.dataset import connect_locked
    from diagnostics.ingest import assemble_dataset, parse_table, propose_table_mapping
    from diagnostics.memory import use_system_allocator
    from diagnostics.readers import read_raw
    from diagnostics.sample import load_sample_dataset

    use_system_allocator()  # a fresh process: start up as the app does

    sample = load_sample_dataset()  # what every session of the app starts on
    data = Path(path).read_bytes()
    base = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    raw = read_raw(data, "opportunities.csv")
    t1 = time.perf_counter()
    con = connect_locked()  # as the Data page does: one DuckDB for the upload and the Dataset
    loaded = parse_table(raw, propose_table_mapping(raw), con=con)
    t2 = time.perf_counter()
    result = assemble_dataset([loaded], con=con)
    t3 = time.perf_counter()
    rows = result.dataset.con.execute("SELECT count(*) FROM opportunities").fetchall()[0][0]
    sample.con.close()
    out.put({"read": t1 - t0, "type": t2 - t1, "build": t3 - t2, "total": t3 - t0,
             "rows": rows, "peak_kib": _rss_kib("VmHWM") - base})


def _naive(path: str, out: Any) -> None:
    import io

    import pandas as pd

    data = Path(path).read_bytes()
    base = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(data), parse_dates=["created_date", "close_date"])
    out.put({"total": time.perf_counter() - t0, "rows": len(frame),
             "peak_kib": _rss_kib("VmHWM") - base})


def _run(target: Any, path: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(path, queue))
    proc.start()
    while True:  # a run that fails ends its process: say so instead of waiting for it
        try:
            result: dict[str, Any] = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise SystemExit(f"a benchmark run failed (exit code {proc.exitcode})") from None
    proc.join()
    return result


def _median_run(target: Any, path: str, runs: int) -> tuple[dict[str, Any], list[float], int]:
    """Return the run with the median total time, every total, and the highest peak memory."""
    results = sorted((_run(target, path) for _ in range(runs)), key=lambda r: r["total"])
    return (results[len(results) // 2], [r["total"] for r in results],
            max(r["peak_kib"] for r in results))


def main() -> None:
    """Print load time and peak memory for our path and the naive one."""
    from bench.data import opportunities_csv

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opportunities.csv"
        path.write_bytes(opportunities_csv(N_ROWS))
        size_mib = path.stat().st_size / 2**20
        ours, totals, peak_kib = _median_run(_ours, str(path), RUNS)
        naive, naive_totals, naive_peak = _median_run(_naive, str(path), NAIVE_RUNS)
    if ours["rows"] != N_ROWS or naive["rows"] != N_ROWS:
        raise SystemExit(f"row count mismatch: ours {ours['rows']:,}, naive {naive['rows']:,}")
    print(f"   file: {N_ROWS:,} opportunities, {size_mib:.0f} MiB CSV; median of {RUNS} runs")
    print(f"   ours: {ours['total']:.2f} s (read {ours['read']:.2f} + type/validate "
          f"{ours['type']:.2f} + stages/build {ours['build']:.2f}; runs "
          f"{min(totals):.2f}–{max(totals):.2f} s); budget {BUDGET_SECONDS:.1f} s "
          f"→ {'within' if ours['total'] <= BUDGET_SECONDS else 'OVER'} budget")
    ratio = peak_kib / 1024 / size_mib
    print(f"   peak memory (highest run): {peak_kib / 1024:.0f} MiB = {ratio:.1f}× file size; "
          f"budget {BUDGET_MEMORY_RATIO:.0f}× → "
          f"{'within' if ratio <= BUDGET_MEMORY_RATIO else 'OVER'}")
    print(f"   naive pandas.read_csv(parse_dates): {naive['total']:.2f} s (runs "
          f"{min(naive_totals):.2f}–{max(naive_totals):.2f} s), peak {naive_peak / 1024:.0f} MiB "
          f"(no validation, no mapping, no queryable table)")
    print(f"   ratio ours/naive: {ours['total'] / naive['total']:.1f}× the time, "
          f"{peak_kib / max(naive_peak, 1):.1f}× the memory")
