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

import json
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
# Budgets, as ratios to the floor (issue "Feels instant"). The workshop's must not get worse:
# a participant's answer is a click like the questionnaire's, the facilitator's dashboard rerun
# a page's run, so they get the same budgets.
BUDGETS = {"answer click": 1.5, "small upload → Funnel ready": 2.5, "first visit": 3.0,
           "workshop answer save": 1.5, "facilitator dashboard rerun": 3.0}
FLOOR_ATTEMPTS = 3
READING_S = 3.0  # a first visit again, after this long on Home (the browser loads code ahead)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 180_000  # a waiting step that takes longer is a failure (a loaded machine is slow)
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
NO_SKELETON = ("() => ![...document.querySelectorAll(\"[data-testid='stSkeleton']\")]"
               ".some((e) => e.offsetParent !== null)")
CHANGED_SINCE = "(start) => window.__busyAt >= start || window.__drawnAt >= start"
# Watches the page for a ready condition (a JavaScript predicate) and notes when it first held:
# the wait for something drawn ends when the page drew it, not when the driver came to look.
READY_WATCH = """
(predicate) => {
  window.__readyAt = 0;
  const test = new Function('return (' + predicate + ')()');
  const observer = new MutationObserver(() => {
    if (window.__readyAt || !test()) return;
    window.__readyAt = performance.now();
    observer.disconnect();
  });
  observer.observe(document, {subtree: true, childList: true, characterData: true});
}
"""
# The Data page names the file it uses; the Funnel's first chart is in the page.
MAPPED = ("() => (document.querySelector(\"[data-testid='stMain']\")?.textContent ?? '')"
          f".includes({json.dumps('Using ' + SMALL_UPLOAD.name)})")
CHART_DRAWN = ("() => !!document.querySelector(\"[data-testid='stVegaLiteChart'] canvas, "
               "[data-testid='stVegaLiteChart'] svg\")")
PAUSE_MS = 200  # Streamlit's e2e helpers pause before checking: a run may not have started yet
SETTLE_ROUNDS = 20
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
  // When the user's action reached the page (a click, or a file chosen): the wait starts there,
  // not when the test driver began looking for the element (slow on a loaded machine).
  window.__armed = false; window.__actAt = 0;
  for (const type of ['click', 'change']) {
    document.addEventListener(type, () => {
      if (window.__armed === type) { window.__armed = false; window.__actAt = performance.now(); }
    }, true);
  }
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
    """Wait as Streamlit's e2e helpers do: a pause, then connected, not running, no skeleton."""
    page.wait_for_timeout(PAUSE_MS)
    page.wait_for_selector(CONNECTED, state="attached", timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, state="attached", timeout=TIMEOUT_MS)
    # Visible skeletons only: the widgets of a tab not shown stay skeletons until it is opened.
    page.wait_for_function(NO_SKELETON, timeout=TIMEOUT_MS)


def _settle(page: Any) -> None:
    """Wait until the app is idle and no run started since (a rerun may follow a run)."""
    for _ in range(SETTLE_ROUNDS):
        _wait_idle(page)
        busy, idle = page.evaluate("[window.__busyAt, window.__idleAt]")
        if idle >= busy:
            return
    raise RuntimeError(f"the app kept rerunning for {SETTLE_ROUNDS} checks")


def _timed(page: Any, action: Callable[[], None], ready: str | None = None,
           event: str = "click") -> float:
    """Return the milliseconds from ``action`` until the app is idle again (and ``ready``).

    The time starts when the page received ``event`` (the click, or ``"change"`` for a chosen
    file), not when the driver started looking for the element. On a loaded machine the server
    may not even have started the run when the first check is made: the wait first sees the
    action take effect (a run started or the page changed), then waits for the app to settle.
    ``ready`` is a JavaScript predicate for something drawn after the run (a chart): the page
    notes when it first held, and the time ends there if that is later than the run's end.
    """
    if ready is not None:
        page.evaluate(READY_WATCH, ready)
    start = float(page.evaluate(
        "(event) => { window.__armed = event; window.__actAt = 0; return performance.now(); }",
        event))
    action()
    page.wait_for_function(CHANGED_SINCE, arg=start, timeout=TIMEOUT_MS)
    acted = float(page.evaluate("window.__armed = false; window.__actAt"))
    start = max(start, acted)  # the click or file choice itself, when the page saw it
    _settle(page)
    busy, idle, drawn = page.evaluate("[window.__busyAt, window.__idleAt, window.__drawnAt]")
    # A run long enough to show in the state attribute ends when it turned idle; a very short
    # one only shows in the page's own changes.
    end = idle if busy >= start else drawn
    if ready is not None:
        page.wait_for_function(ready, timeout=TIMEOUT_MS)
        # Held already before the observer saw a change (should not happen): count until now.
        ready_at = float(page.evaluate("window.__readyAt || performance.now()"))
        end = max(end, ready_at)
    return float(end) - start


def _nav(page: Any, label: str) -> Callable[[], None]:
    return lambda: page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()


def _open(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    _settle(page)  # a first run may rerun itself (the routing guard)
    return page


def _floor(browser: Any, url: str) -> list[float]:
    """A trivial page switch: from the Leadership model page back to Home."""
    context = browser.new_context()
    page = _open(context, url)
    times = []
    for _ in range(REPEATS + 1):  # the first switch warms the session up: not counted
        page.get_by_test_id("stSidebarNav").get_by_text("Leadership model", exact=True).click()
        _settle(page)
        times.append(_timed(page, _nav(page, "Home")))
    context.close()
    return times[1:]


def _first_visit(browser: Any, url: str, label: str, reading_s: float = 0) -> list[float]:
    """The page ``label``, opened from Home by a fresh session (a new browser context each time).

    The click comes as soon as Home has settled, or after ``reading_s`` seconds on it (what the
    browser does meanwhile, such as loading the element code ahead, then counts for the visit).
    """
    times = []
    for _ in range(REPEATS):
        context = browser.new_context()
        try:
            page = _open(context, url)
            page.wait_for_timeout(reading_s * 1000)
            times.append(_timed(page, _nav(page, label)))
        finally:
            context.close()
    return times


def _answer_clicks(browser: Any, url: str) -> list[float]:
    """One click on a statement's level in the questionnaire, alternating two levels."""
    from diagnostics.questionnaire import load_bank

    question = load_bank().questions[0]
    context = browser.new_context()
    page = _open(context, url)
    _nav(page, "Make your number")()
    _settle(page)
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
        _settle(page)

        def drop(page: Any = page) -> None:
            with page.expect_file_chooser() as chooser:
                page.get_by_test_id("stFileUploaderDropzone").first.click()
            chooser.value.set_files(str(SMALL_UPLOAD))

        uploads.append(_timed(page, drop, MAPPED, event="change"))
        funnels.append(_timed(page, _nav(page, "Funnel"), CHART_DRAWN))
        context.close()
    return uploads, funnels


def _workshop(browser: Any, url: str) -> tuple[list[float], list[float]]:
    """A participant's answer save, and a rerun of the facilitator's dashboard (reveal toggle)."""
    from diagnostics import workshop as ws

    statement = ws.load_content().statements[0]
    facilitator = browser.new_context()
    page = _open(facilitator, url)
    _nav(page, "Workshop")()
    _settle(page)
    page.get_by_label("Client").fill("Bench")
    page.get_by_label("Workshop title").fill("Timing")
    page.get_by_role("button", name="Create workshop").click()
    _settle(page)
    page.get_by_text("Facilitator view", exact=False).wait_for(timeout=TIMEOUT_MS)
    code = page.url.split("workshop=")[1].split("&")[0]
    participant = browser.new_context()
    other = _open(participant, f"{url}/workshop?workshop={code}")
    other.get_by_label("Your name", exact=False).fill("Ann")
    other.get_by_test_id("stSelectbox").click()
    other.get_by_role("option", name="Sales team", exact=True).click()
    other.get_by_role("button", name="Start answering").click()
    _settle(other)
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


def _failed(name: str, exc: Exception) -> None:
    message = str(exc).splitlines()[0] if str(exc) else ""
    print(f"   {name:<38} FAILED: {type(exc).__name__}: {message}", flush=True)


def _measure_floor(browser: Any, url: str) -> list[float]:
    """Return the floor's times, trying again when a loaded machine breaks a run."""
    for attempt in range(1, FLOOR_ATTEMPTS + 1):
        try:
            return _floor(browser, url)
        except Exception as exc:  # noqa: BLE001 - reported; the next attempt may pass
            _failed(f"floor (attempt {attempt})", exc)
    raise RuntimeError("the floor could not be measured: no ratio can be given")


def main() -> int:
    """Print each latency (median and max of several runs) and its ratio to the floor.

    The floor is measured before and after the sections; each line is printed as it is measured
    (ratio to the first floor), and the budgets are then judged against both floors together, so
    a load that changes during the run moves the verdict less. Return how many budgets were
    missed (a section that fails counts as a miss).
    """
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("   skipped: Debian's chromium is not installed (apt-get install chromium)")
        return 0
    with tempfile.TemporaryDirectory() as folder, _server(Path(folder)) as url, \
            sync_playwright() as pw:
        browser = _Observed(pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS))
        warm = _open(browser.new_context(), url)  # the server imports its modules once
        for label in PAGES:
            _nav(warm, label)()
            _settle(warm)
        warm.context.close()
        print(f"   {REPEATS} repetitions each; load average {os.getloadavg()[0]:.1f} "
              f"at the start, on {os.cpu_count()} cores", flush=True)
        before = _measure_floor(browser, url)
        _line("floor: page switch to Home", before, statistics.median(before))
        results = []
        for name, times, budget in _sections(browser, url):
            if times is not None:
                _line(name, times, statistics.median(before), budget)
            results.append((name, times, budget))
        after = _measure_floor(browser, url)  # the load may change during the run
        browser.close()
    floor = statistics.median(before + after)
    _line("floor again, at the end", after, statistics.median(before))
    print(f"   budgets against the floor of the whole run ({floor:.0f} ms, load average "
          f"{os.getloadavg()[0]:.1f} at the end):")
    misses = 0
    for name, times, budget in results:
        if budget is None:
            continue
        if times is None:
            print(f"   {name:<38} FAILED  budget ≤ {budget:.1f}× → MISS")
            misses += 1
            continue
        ratio = statistics.median(times) / floor
        ok = ratio <= budget
        misses += not ok
        print(f"   {name:<38} {ratio:4.1f}×  budget ≤ {budget:.1f}× → {'pass' if ok else 'MISS'}")
    print(f"   {'every budget met' if not misses else f'{misses} budget(s) missed'}")
    return misses


Result = tuple[str, list[float] | None, float | None]  # name, times (None: failed), budget


def _sections(browser: Any, url: str) -> Iterator[Result]:
    """Measure each section on its own: one that breaks is reported and the next one runs."""
    try:
        yield "answer click (questionnaire)", _answer_clicks(browser, url), BUDGETS["answer click"]
    except Exception as exc:  # noqa: BLE001 - a broken journey is a finding: report it
        _failed("answer click (questionnaire)", exc)
        yield "answer click (questionnaire)", None, BUDGETS["answer click"]
    name = "small upload → Funnel ready"
    try:
        uploads, funnels = _uploads(browser, url)
        yield "  small upload until mapped", uploads, None
        yield "  then switch to Funnel until drawn", funnels, None
        yield name, [a + b for a, b in zip(uploads, funnels, strict=True)], BUDGETS[name]
    except Exception as exc:  # noqa: BLE001
        _failed(name, exc)
        yield name, None, BUDGETS[name]
    for label in PAGES:
        if label == "Home":
            continue
        try:
            yield f"first visit: {label}", _first_visit(browser, url, label), BUDGETS["first visit"]
        except Exception as exc:  # noqa: BLE001
            _failed(f"first visit: {label}", exc)
            yield f"first visit: {label}", None, BUDGETS["first visit"]
    for label in PAGES:  # the same, by a visitor who reads Home first: no budget, for comparison
        if label == "Home":
            continue
        name = f"  after {READING_S:g} s on Home: {label}"
        try:
            yield name, _first_visit(browser, url, label, READING_S), None
        except Exception as exc:  # noqa: BLE001
            _failed(name, exc)
    try:
        saves, dashboards = _workshop(browser, url)
        yield "workshop answer save", saves, BUDGETS["workshop answer save"]
        yield "facilitator dashboard rerun", dashboards, BUDGETS["facilitator dashboard rerun"]
    except Exception as exc:  # noqa: BLE001
        _failed("workshop", exc)
        yield "workshop answer save", None, BUDGETS["workshop answer save"]
        yield "facilitator dashboard rerun", None, BUDGETS["facilitator dashboard rerun"]
