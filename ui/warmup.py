"""Start-up work done once per process in the background, so that no visitor waits for it.

The first session of a new server process would otherwise pay for importing Altair (about a
second), reading the bundled sample and learning the sample's forecast on its first visit to a
page that needs them. The first run of any page starts a background thread that does this while
the visitor reads the page; a page that needs it sooner simply does its share itself (the sample
is built under a lock, and results are shared through ui.memo).
"""

from __future__ import annotations

import gc
import logging
import threading

__all__ = ["start_warmup", "warm_up"]

_started = False
_lock = threading.Lock()
_log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import the chart libraries, work out what every session of the sample starts with and
    make the first upload's connection."""
    import altair  # noqa: F401 - the import is the work

    from diagnostics.dataset import prepare_spare_connection
    from diagnostics.sample import load_sample_dataset
    from ui.charts import vega_lite_spec  # noqa: F401 - Streamlit's chart conversion
    from ui.forecast_views import prepared

    dataset = load_sample_dataset()
    try:
        prepared(dataset)  # the sample's deals and backtest, shared through ui.memo
    finally:
        dataset.con.close()
    prepare_spare_connection()  # the first upload's locked connection, made ahead
    # What is loaded by now lives as long as the process: frozen, it is left out of Python's
    # garbage collections, which then walk only what sessions add (the app collects after each
    # full run: ui.frame.collect_garbage).
    gc.freeze()


def start_warmup() -> threading.Thread | None:
    """Start :func:`warm_up` in a background thread, once per process; return the thread."""
    global _started
    with _lock:
        if _started:
            return None
        _started = True
    # Not a daemon: the interpreter waits for it at exit instead of tearing DuckDB and the
    # sample's temporary folder down under it (which aborts the process).
    thread = threading.Thread(target=_run, name="myn-warmup", daemon=False)
    thread.start()
    return thread


def _run() -> None:
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - only a head start: a page does the work itself if needed
        _log.exception("warm-up failed; pages will do the work on first use")
