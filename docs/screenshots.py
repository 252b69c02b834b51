"""Take the README screenshots: start the app on the sample data and capture each page.

Run with ``.venv/bin/python docs/screenshots.py [page ...]`` (needs Debian's chromium); with no
page named, every page is retaken.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PAGES = {"home": "", "data": "data", "make_your_number": "make_your_number",
         "leadership": "leadership", "funnel": "funnel", "quadrant": "quadrant",
         "workshop": "workshop", "forecast": "forecast"}


def _free_port() -> int:
    """A port nobody listens on now: two people retaking screenshots do not collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])



def main() -> None:
    """Save one PNG per page (those named on the command line, else all) into docs/screenshots/."""
    wanted = {name: PAGES[name] for name in sys.argv[1:]} or PAGES
    port = _free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MYN_WORKSHOP_DB": str(Path(tempfile.mkdtemp()) / "ws.duckdb")}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            for name, path in wanted.items():
                page.goto(f"http://127.0.0.1:{port}/{path}")
                page.wait_for_selector(
                    "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
                page.wait_for_timeout(2500)
                # A slow page may only have started its run: wait for it to finish too.
                page.wait_for_selector(
                    "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
                # Charts and tables draw after the run ends; a loaded machine needs a moment.
                page.wait_for_timeout(6000)
                page.screenshot(path=str(OUT / f"{name}.png"))
            browser.close()
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
