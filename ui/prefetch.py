"""Have the browser load the code of the app's elements while the visitor reads the first page.

Streamlit's browser code comes in chunks, one per kind of element (a chart, a date picker, a
number input ...), each loaded the first time a page shows that kind. In a fresh browser that
made the first visit to a page with a chart, a grid and date pickers spend most of its time
loading and starting those chunks (about 700 ms for the Rep quadrant, 350 ms with its chunks
loaded beforehand). A session's first run therefore adds a small script that imports the chunks
the app's pages use, one at a time, only once the browser has had nothing to do and the visitor
has not touched the page for a while: a visitor who clicks at once is not slowed down, one who
reads the page first finds the next page's code already there.

The chunk files are named after the element plus a content hash; they are looked up in the
installed Streamlit's static folder, so a Streamlit upgrade that renames them makes the script
skip the missing ones (a unit test says which) instead of requesting files that do not exist.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import streamlit as st

__all__ = ["CHUNKS", "chunk_files", "prefetch_script", "start_prefetch"]

# The elements the app's pages show, in the order they are worth having: the chart first (Data,
# Funnel, Rep quadrant, Forecast and the questionnaire's result), with the chart library it loads
# on first use, then the filters' widgets, the metrics and the grid.
CHUNKS = (
    "ArrowVegaLiteChart", "loadVegaEmbed", "embed", "vega-interpreter",
    "Selectbox", "NumberInput", "DateInput", "Metric", "Radio", "ButtonGroup",
    "DownloadButton", "DataFrame", "Table", "FileUploader", "Multiselect", "TextInput",
    "Checkbox", "Button",
)
QUIET_MS = 1500  # no input for this long, and an idle browser, before each chunk is loaded
_SESSION_KEY = "_prefetch_sent"
_STATIC_JS = Path(st.__file__).resolve().parent / "static" / "static" / "js"

# Runs once per page load (a second copy does nothing). The chunks sit beside Streamlit's main
# module, whose address also carries any base path the app is served under.
_SCRIPT = """<script>
(() => {
  if (window.__mynPrefetch) return;
  window.__mynPrefetch = true;
  const main = document.querySelector('script[src*="/static/js/index."]');
  if (!main || !("requestIdleCallback" in window)) return;
  const queue = %(files)s.map((name) => new URL(name, main.src).href);
  let touched = performance.now();
  for (const type of ["pointerdown", "keydown", "wheel", "touchstart"]) {
    addEventListener(type, () => { touched = performance.now(); }, {capture: true, passive: true});
  }
  const next = () => {
    const wait = touched + %(quiet)d - performance.now();
    if (wait > 0) { setTimeout(next, wait); return; }
    requestIdleCallback(() => {
      if (performance.now() - touched < %(quiet)d) { next(); return; }
      import(queue.shift()).catch(() => {}).finally(() => { if (queue.length) next(); });
    });
  };
  setTimeout(next, %(quiet)d);
})();
</script>"""


@functools.cache
def chunk_files(folder: Path = _STATIC_JS) -> tuple[str, ...]:
    """Return the file of each of :data:`CHUNKS` found in ``folder``, in that order."""
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return ()
    found = []
    for chunk in CHUNKS:
        pattern = re.compile(re.escape(chunk) + r"\.[A-Za-z0-9_-]+\.js")
        found += [name for name in names if pattern.fullmatch(name)][:1]
    return tuple(found)


def prefetch_script(files: tuple[str, ...]) -> str:
    """Return the script that loads ``files`` (names beside Streamlit's main module) when idle."""
    return _SCRIPT % {"files": json.dumps(list(files)), "quiet": QUIET_MS}


def start_prefetch() -> None:
    """On a session's first run, add the script to the page (nothing when no chunk is found)."""
    if st.session_state.get(_SESSION_KEY):
        return
    st.session_state[_SESSION_KEY] = True
    files = chunk_files()
    if files:
        # Our own fixed script, built from file names found on disk: no user text in it.
        st.sidebar.html(prefetch_script(files), unsafe_allow_javascript=True, width="content")
