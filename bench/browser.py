"""What a user waits for in the browser, as ratios to the framework's own floor.

One ``streamlit run`` server, driven by Debian's Chromium through Playwright (the launch of the
browser tests). Each action is timed inside the page: a MutationObserver records when the app's
``data-test-script-state`` last turned ``notRunning``; after an action the bench waits for the
app to be idle as Streamlit's own e2e helpers do (about 200 ms, then ``notRunning`` and no
``stSkeleton``) and takes that last transition as the end of the wait. The floor is a trivial page
switch (to Home) measured in the same run, so a loaded machine moves every figure together and the
ratios stay comparable. Run with ``make bench`` or ``python -m bench browser``.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SMALL_UPLOAD = ROOT / "sample_data" / "salesforce_opportunities.csv"  # 5,000 deals
REPEATS = int(os.environ.get("BENCH_BROWSER_REPEATS", "5"))
PAGES = {  # navigation label → something the page shows when it is ready
    "Home": None,
    "Make your number": "Make your number",
    "Leadership model": "Leadership model",
    "Data": "Data",
    "Funnel": "Funnel",
    "Rep quadrant": "Rep quadrant",
    "Forecast": "Forecast",
    "Workshop": "Workshop",
}
# Budgets, as ratios to the floor (issue "Feels instant").
BUDGETS = {"answer click": 1.5, "small upload → Funnel ready": 2.5, "first visit": 3.0}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 180_000  # a waiting step that takes longer is a failure (a loaded machine is slow)
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Installed before any page script: remembers when a script run last started and ended.
OBSERVER = """
(() => {
  window.__busyAt = 0; window.__idleAt = 0; window.__drawnAt = 0;
  new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
        const s = r.target.getAttribute('data-test-script-state');
        if (s === 'running') window.__busyAt = now;
        else if (s === 'notRunning') window.__idleAt = now;
      } else if (r.type !== 'attributes') {
        // A very short run can flip the state twice within one frame: the page's own
        // changes then tell when the run's output was drawn.
        window.__drawnAt = now;
      }
    }
  }).observe(document, {subtree: true, childList: true, characterData: true,
                        attributes: true, attributeFilter: ['data-test-script-state']});
})();
"""


class _Observed:
    """A browser whose every new context carries the run observer."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self) -> Any:
        context = self._browser.new_context()
        context.add_init_script(OBSERVER)
        context.set_default_timeout(TIMEOUT_MS)
        return context

    def close(self) -> None:
        self._browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(folder: Path) -> Iterator[str]:
    """Start the app as the browser tests do; yield its base URL."""
    port = _free_port()
    env = {**os.environ, "MYN_WORKSHOP_DB": str(folder / "workshops.duckdb")}
    with (folder / "streamlit.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("streamlit did not become healthy in 60 s") from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_idle(page: Any) -> None:
    """Wait as Streamlit's e2e helpers do: a pause, then not running and no skeleton."""
    page.wait_for_timeout(200)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stSkeleton']\")", timeout=TIMEOUT_MS)


def _timed(page: Any, action: Callable[[], None], ready: Callable[[], None] | None = None,
           ) -> float:
    """Return the milliseconds from ``action`` until the app is idle again (and ``ready``)."""
    start = float(page.evaluate("performance.now()"))
    action()
    _wait_idle(page)
    if ready is not None:
        ready()
    busy, idle, drawn = page.evaluate("[window.__busyAt, window.__idleAt, window.__drawnAt]")
    if busy >= start:
        end = idle
    elif drawn >= start:  # the run was too short for the state attribute to show it
        end = drawn
    else:
        raise RuntimeError("the action changed nothing on the page")
    if ready is not None:  # a chart may draw after the run: the wait ends when it is there
        end = max(idle, float(page.evaluate("performance.now()")))
    return float(end) - start


def _nav(page: Any, label: str) -> Callable[[], None]:
    return lambda: page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()


def _open(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    _wait_idle(page)
    return page


def _floor(browser: Any, url: str) -> list[float]:
    """A trivial page switch: from the Leadership model page back to Home."""
    context = browser.new_context()
    page = _open(context, url)
    times = []
    for _ in range(REPEATS + 1):  # the first switch warms the session up: not counted
        page.get_by_test_id("stSidebarNav").get_by_text("Leadership model", exact=True).click()
        _wait_idle(page)
        times.append(_timed(page, _nav(page, "Home")))
    context.close()
    return times[1:]


def _first_visits(browser: Any, url: str) -> dict[str, list[float]]:
    """Each page, opened from Home by a fresh session (a new browser context each time)."""
    found: dict[str, list[float]] = {label: [] for label in PAGES if label != "Home"}
    for _ in range(REPEATS):
        for label in found:
            context = browser.new_context()
            page = _open(context, url)
            found[label].append(_timed(page, _nav(page, label)))
            context.close()
    return found


def _answer_clicks(browser: Any, url: str) -> list[float]:
    """One click on a statement's level in the questionnaire, alternating two levels."""
    from diagnostics.questionnaire import load_bank

    question = load_bank().questions[0]
    context = browser.new_context()
    page = _open(context, url)
    _nav(page, "Make your number")()
    _wait_idle(page)
    times = []
    for i in range(REPEATS + 1):
        level = 5 if i % 2 == 0 else 2
        option = page.get_by_text(f"{level} · {question.levels[level - 1]}")
        times.append(_timed(page, option.click))
    context.close()
    return times[1:]


def _uploads(browser: Any, url: str) -> tuple[list[float], list[float]]:
    """A small export dropped on the Data page, then the Funnel page drawn from it."""
    uploads, funnels = [], []
    for _ in range(REPEATS):
        context = browser.new_context()
        page = _open(context, url)
        _nav(page, "Data")()
        _wait_idle(page)

        def drop(page: Any = page) -> None:
            with page.expect_file_chooser() as chooser:
                page.get_by_test_id("stFileUploaderDropzone").first.click()
            chooser.value.set_files(str(SMALL_UPLOAD))

        def mapped(page: Any = page) -> None:
            page.get_by_text(f"Using {SMALL_UPLOAD.name}").wait_for(timeout=TIMEOUT_MS)

        def drawn(page: Any = page) -> None:
            page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=TIMEOUT_MS)

        uploads.append(_timed(page, drop, mapped))
        funnels.append(_timed(page, _nav(page, "Funnel"), drawn))
        context.close()
    return uploads, funnels


def _workshop(browser: Any, url: str) -> tuple[list[float], list[float]]:
    """A participant's answer save, and a rerun of the facilitator's dashboard (reveal toggle)."""
    from diagnostics import workshop as ws

    statement = ws.load_content().statements[0]
    facilitator = browser.new_context()
    page = _open(facilitator, url)
    _nav(page, "Workshop")()
    _wait_idle(page)
    page.get_by_label("Client").fill("Bench")
    page.get_by_label("Workshop title").fill("Timing")
    page.get_by_role("button", name="Create workshop").click()
    _wait_idle(page)
    page.get_by_text("Facilitator view", exact=False).wait_for(timeout=TIMEOUT_MS)
    code = page.url.split("workshop=")[1].split("&")[0]
    participant = browser.new_context()
    other = _open(participant, f"{url}/workshop?workshop={code}")
    other.get_by_label("Your name", exact=False).fill("Ann")
    other.get_by_test_id("stSelectbox").click()
    other.get_by_role("option", name="Sales team", exact=True).click()
    other.get_by_role("button", name="Start answering").click()
    _wait_idle(other)
    group = other.get_by_test_id("stRadio").filter(has_text=statement.text)
    saves = []
    for i in range(REPEATS + 1):
        option = group.get_by_text(statement.level_text(5 if i % 2 == 0 else 2), exact=True)
        saves.append(_timed(other, option.click))
    participant.close()
    reveal = page.get_by_text("Reveal mode", exact=False)
    dashboards = [_timed(page, reveal.click) for _ in range(REPEATS + 1)]
    facilitator.close()
    return saves[1:], dashboards[1:]


def _line(name: str, times: list[float], floor: float, budget: float | None = None) -> bool:
    median = statistics.median(times)
    ratio = median / floor
    verdict = ""
    ok = True
    if budget is not None:
        ok = ratio <= budget
        verdict = f"  budget ≤ {budget:.1f}× → {'pass' if ok else 'MISS'}"
    print(f"   {name:<38} median {median:6.0f} ms  max {max(times):6.0f} ms  "
          f"{ratio:4.1f}× floor{verdict}", flush=True)
    return ok


def main() -> None:
    """Print each latency (median and max of several runs) and its ratio to the floor."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("   skipped: Debian's chromium is not installed (apt-get install chromium)")
        return
    with tempfile.TemporaryDirectory() as folder, _server(Path(folder)) as url, \
            sync_playwright() as pw:
        browser = _Observed(pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS))
        warm = _open(browser.new_context(), url)  # the server imports its modules once
        for label in PAGES:
            _nav(warm, label)()
            _wait_idle(warm)
        warm.context.close()
        print(f"   {REPEATS} repetitions each; load average {os.getloadavg()[0]:.1f} "
              f"at the start, on {os.cpu_count()} cores")
        floor_times = _floor(browser, url)
        floor = statistics.median(floor_times)
        _line("floor: page switch to Home", floor_times, floor)
        misses = sum(not ok for ok in _sections(browser, url, floor))
        browser.close()
    print(f"   load average {os.getloadavg()[0]:.1f} at the end; "
          f"{'every budget met' if not misses else f'{misses} budget(s) missed'}")


def _sections(browser: Any, url: str, floor: float) -> Iterator[bool]:
    """Measure and print each section; yield whether each budget is met."""
    try:
        yield _line("answer click (questionnaire)", _answer_clicks(browser, url), floor,
                    BUDGETS["answer click"])
        uploads, funnels = _uploads(browser, url)
        _line("  small upload until mapped", uploads, floor)
        _line("  then switch to Funnel until drawn", funnels, floor)
        total = [a + b for a, b in zip(uploads, funnels, strict=True)]
        yield _line("small upload → Funnel ready", total, floor,
                    BUDGETS["small upload → Funnel ready"])
        for label, times in _first_visits(browser, url).items():
            yield _line(f"first visit: {label}", times, floor, BUDGETS["first visit"])
        saves, dashboards = _workshop(browser, url)
        _line("workshop answer save", saves, floor)
        _line("facilitator dashboard rerun", dashboards, floor)
    except Exception as exc:  # a broken journey is a finding: report it, count it as a miss
        print(f"   FAILED: {type(exc).__name__}: {exc}")
        yield False
