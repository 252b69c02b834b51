"""Run every benchmark module (``python -m bench [name ...]``)."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("ingest", "funnel", "quadrant", "workshop", "forecast", "browser", "memory")


def main() -> int:
    """Run the named benchmarks (all by default); return the exit code."""
    from diagnostics.memory import use_system_allocator

    use_system_allocator()  # as the app and the command line do at start-up
    names = sys.argv[1:] or list(MODULES)
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"== {name}: not available ({exc})")
            continue
        print(f"== {name}")
        started = time.perf_counter()
        module.main()
        print(f"   ({time.perf_counter() - started:.1f} s)\n")
    return 0


sys.exit(main())
