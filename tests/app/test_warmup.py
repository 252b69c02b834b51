"""The process warms up once in the background: chart libraries, the sample and its forecast."""

from __future__ import annotations

import gc
import sys

from diagnostics.sample import load_sample_dataset
from ui import memo, warmup
from ui.forecast_views import prepared


def _sample_forecast_keys() -> list[object]:
    return [key for key in memo._shared if key[-1] == ("forecast_deals",)]  # type: ignore[index]


def test_warm_up_leaves_the_sample_forecast_shared() -> None:
    warmup.warm_up()
    assert "altair" in sys.modules
    assert len(_sample_forecast_keys()) == 1
    first = prepared(load_sample_dataset())
    assert prepared(load_sample_dataset()) is first  # every session gets the shared result
    assert len(_sample_forecast_keys()) == 1


def test_the_background_warm_up_starts_once_per_process() -> None:
    thread = warmup.start_warmup()
    if thread is not None:  # a page test in this process may have started it already
        thread.join(timeout=120)
        assert not thread.is_alive()
    assert warmup.start_warmup() is None


def test_warm_up_leaves_what_is_loaded_out_of_later_garbage_collections() -> None:
    gc.unfreeze()
    try:
        warmup.warm_up()
        # The libraries' objects and the shared sample: tens of thousands, never collected again.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on collecting as usual
