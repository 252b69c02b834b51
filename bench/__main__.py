"""Run every benchmark module (``python -m bench [--strict] [name ...]``).

Each module prints its figures against their budgets. By default the run always succeeds (``make
bench`` reports); with ``--strict`` it exits 1 when a module reports a missed budget.
"""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("ingest", "funnel", "quadrant", "workshop", "forecast", "browser", "memory")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default); return the exit code."""
    from diagnostics.memory import use_system_allocator

    use_system_allocator()  # as the app and the command line do at start-up
    strict = "--strict" in argv
    names = [a for a in argv if a != "--strict"] or list(MODULES)
    misses = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"== {name}: not available ({exc})")
            continue
        print(f"== {name}")
        started = time.perf_counter()
        missed = module.main()  # a module may return how many budgets it missed
        misses += missed if isinstance(missed, int) else 0
        print(f"   ({time.perf_counter() - started:.1f} s)\n")
    if misses:
        print(f"{misses} budget(s) missed" + ("" if strict else " (pass --strict to fail on it)"))
    return 1 if strict and misses else 0


sys.exit(main(sys.argv[1:]))
