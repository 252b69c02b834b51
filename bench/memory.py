"""Memory under attack: three 300 MB uploads and three bombs at once, while another session works.

One freshly started process plays the server: six sessions (threads) read their uploads through
the Data page's own steps (the ledger's hold, then the upload pipeline) at the same moment, while
a seventh session keeps asking the bundled sample for its funnel. Reported: the peak memory of the
process (VmHWM), what the ledger admitted or refused, and the slowest answer the other session
got. The server survives when every session ends with data or a message and the other session
never waits longer than ``BUDGET_ANSWER_SECONDS``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from queue import Empty
from typing import Any

from diagnostics.memory import process_memory_kib

UPLOAD_ROWS = int(os.environ.get("BENCH_MEMORY_ROWS", 3_000_000))  # ~300 MB
SERVER_BUDGET_MB = 4096  # the ledger's capacity in this run (MYN_SERVER_BUDGET_MB)
BUDGET_PEAK_MB = 6144  # the process may not pass this, everything included
BUDGET_ANSWER_SECONDS = 5.0



def _session(name: str, data: bytes, results: dict[str, str]) -> None:
    from diagnostics.budget import estimate_upload, ledger, upload_budget
    from diagnostics.errors import DiagnosticsError
    from diagnostics.uploads import UploadWorkspace

    try:
        held = estimate_upload(data, name).peak_bytes
        ledger().hold(name, held if held <= upload_budget() else 0)
        workspace = UploadWorkspace.read([(name, data)])
        result = workspace.rebuild()
        state = workspace.files[name]
        results[name] = ("read" if result is not None else
                         f"refused: {state.error or workspace.problem}")[:110]
    except DiagnosticsError as exc:
        results[name] = f"refused: {exc}"[:110]
    finally:
        ledger().release(name)


def _server(out: Any) -> None:
    os.environ["MYN_SERVER_BUDGET_MB"] = str(SERVER_BUDGET_MB)
    from bench.data import opportunities_csv
    from diagnostics.dataset import Filters
    from diagnostics.funnel import compute_funnel
    from diagnostics.sample import load_sample_dataset
    from tests.hostile_files import hostile_file

    sample = load_sample_dataset()
    big = opportunities_csv(UPLOAD_ROWS)
    uploads = [(f"export {i}.csv", big) for i in range(3)] + [
        (name, hostile_file(name)) for name in
        ("shared strings bomb.xlsx", "dimension bomb.xlsx", "dictionary bomb.parquet")]
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    base = process_memory_kib("VmRSS")
    results: dict[str, str] = {}
    threads = [threading.Thread(target=_session, args=(name, data, results))
               for name, data in uploads]
    waits: list[float] = []
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        t0 = time.perf_counter()
        compute_funnel(sample, Filters())
        waits.append(time.perf_counter() - t0)
        time.sleep(0.1)
    out.put({"results": results, "seconds": time.perf_counter() - started,
             "peak_mib": (process_memory_kib("VmHWM")) / 1024, "base_mib": base / 1024,
             "slowest": max(waits or [0.0]), "answers": len(waits),
             "size_mib": len(big) / 2**20})


def main() -> None:
    """Print what each session got, the peak memory and the other session's slowest answer."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_server, args=(queue,))
    proc.start()
    while True:
        try:
            report: dict[str, Any] = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise SystemExit(f"the server process died (exit code {proc.exitcode})") from None
    proc.join()
    print(f"   three uploads of {report['size_mib']:.0f} MiB CSV and three bombs at once "
          f"({report['seconds']:.1f} s); ledger capacity {SERVER_BUDGET_MB:,} MiB")
    for name, outcome in report["results"].items():
        print(f"   {name}: {outcome}")
    print(f"   peak memory of the process: {report['peak_mib']:,.0f} MiB (at start "
          f"{report['base_mib']:,.0f} MiB); budget {BUDGET_PEAK_MB:,} MiB → "
          f"{'within' if report['peak_mib'] <= BUDGET_PEAK_MB else 'OVER'}")
    print(f"   another session's funnel: {report['answers']} answers, slowest "
          f"{report['slowest']:.2f} s; budget {BUDGET_ANSWER_SECONDS:.0f} s → "
          f"{'within' if report['slowest'] <= BUDGET_ANSWER_SECONDS else 'OVER'}")
