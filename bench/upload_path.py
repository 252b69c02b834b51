"""The small-upload journey alone: floor, upload → mapped, switch → Funnel drawn, first visits.

A profiling aid for the browser bench (same server, same observer, same measurement): it runs
only what the Data → Funnel path and the first visits of Funnel and Rep quadrant need, so a change
there can be checked in a couple of minutes. Run ``python -m bench upload_path``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

from bench import browser as bb


def main() -> int:
    """Print the floor, the two upload steps, their sum and two first visits, as ratios."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("   skipped: Debian's chromium is not installed")
        return 0
    with tempfile.TemporaryDirectory() as folder, bb._server(Path(folder)) as url, \
            sync_playwright() as pw:
        browser = bb._Observed(pw.chromium.launch(executable_path=chromium,
                                                  args=bb.LAUNCH_ARGS))
        warm = bb._open(browser.new_context(), url)
        for label in ("Data", "Funnel", "Rep quadrant", "Home"):
            bb._nav(warm, label)()
            bb._settle(warm)
        warm.context.close()
        floor_times = bb._measure_floor(browser, url)
        floor = statistics.median(floor_times)
        bb._line("floor: page switch to Home", floor_times, floor)
        uploads, funnels = bb._uploads(browser, url)
        bb._line("  small upload until mapped", uploads, floor)
        bb._line("  then switch to Funnel until drawn", funnels, floor)
        name = "small upload → Funnel ready"
        ok = bb._line(name, [a + b for a, b in zip(uploads, funnels, strict=True)], floor,
                      bb.BUDGETS[name])
        misses = not ok
        for label in ("Funnel", "Rep quadrant"):
            misses += not bb._line(f"first visit: {label}", bb._first_visit(browser, url, label),
                                   floor, bb.BUDGETS["first visit"])
        browser.close()
    return int(misses)
