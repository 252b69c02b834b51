"""Browser-test fixtures: one `streamlit run` server per session, driven by Debian's Chromium.

Playwright cannot download its own browsers here, so the launch points at the system build.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests on a developer machine without Chromium; never skip them in CI."""
    if CHROMIUM or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system Chromium with flags that suit a closed network and no GPU."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(workshop_db: str, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``streamlit run app.py`` on a free port with this workshop store; return it, URL."""
    port = _free_port()
    env = {**os.environ, "MYN_WORKSHOP_DB": workshop_db}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
                "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    """Stop an app started by ``start_app``."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app on a free port (workshop store in a temp dir); yield its base URL."""
    proc, url = start_app(str(tmp_path_factory.mktemp("ws") / "workshops.duckdb"),
                          tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    stop_app(proc)


def wait_idle(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the rerun an interaction started (call after each one).

    As Streamlit's own e2e helper does: a short pause first (a check made at once can pass before
    the rerun has even started), then the app connected, its script not running, and no element
    visible skeleton left. Read values afterwards with Playwright's retrying ``expect(...)``.
    """
    page.wait_for_timeout(200)
    app = page.get_by_test_id("stApp")
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout
    )
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    # Visible ones only: the widgets of a tab not shown stay skeletons until it is opened.
    expect(page.locator("[data-testid='stSkeleton']:visible")).to_have_count(0, timeout=timeout)


def upload_on_data_page(page: Page, app_url: str, path: Path) -> None:
    """Open the Data page, upload ``path`` through the file chooser and wait until it is used."""
    page.goto(f"{app_url}/data")
    wait_idle(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("stFileUploaderDropzone").first.click()
    chooser.value.set_files(str(path))
    expect(page.get_by_text(f"Using {path.name}")).to_be_visible(timeout=30_000)
    wait_idle(page)


def assert_no_exception(page: Page) -> None:
    """Fail when Streamlit shows an exception box on the page."""
    expect(page.get_by_test_id("stException")).to_have_count(0)


def facilitator_key(page: Page) -> str:
    """Return the facilitator key from the dashboard's private link (the address never holds it)."""
    page.get_by_text("Your facilitator link (private)").click()
    link = page.get_by_test_id("stCode").filter(has_text="key=")
    expect(link).to_be_visible()
    return link.inner_text().strip().rsplit("key=", 1)[1]
