"""Results worked out once: per process for the bundled sample, per session for any other data.

Every session starts on the bundled sample, an immutable read-only database shared by the
process (see diagnostics.sample): a result computed from it alone with given settings is the same
for everyone, so it is computed once per process and shared. An upload never goes there: its
results are remembered in the session's own state, for the session's current dataset only, so a
rerun that changes nothing (a toggle elsewhere on the page, a page switch and back) does not
recompute them, and they are dropped with the dataset.

Keys name what is computed and every setting it depends on (hashable: tuples, frozen dataclasses,
dates, numbers). A shared value must never be changed by its caller.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from diagnostics.dataset import Dataset
from diagnostics.sample import is_sample_dataset
from ui import state
from ui.widgets import is_same_dataset

__all__ = ["SESSION_LIMIT", "SHARED_LIMIT", "remembered", "shared_size"]

T = TypeVar("T")
SHARED_LIMIT = 256  # results of the sample kept for the process (least recently used dropped)
SESSION_LIMIT = 64  # results of a session's own data kept in its state

_shared: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


def remembered(dataset: Dataset, key: Hashable, compute: Callable[[], T]) -> T:
    """Return ``compute()``, worked out once per ``key`` for this dataset.

    Shared by the process when ``dataset`` is the bundled sample; kept in this session's state
    otherwise. An exception is not remembered: the next call computes again.
    """
    if is_sample_dataset(dataset):
        return _from_shared(("sample", dataset.stages, dataset.as_of, key), compute)
    return _from_session(dataset, key, compute)


def shared_size() -> int:
    """Return how many results of the bundled sample the process holds."""
    return len(_shared)


def _from_shared(key: Hashable, compute: Callable[[], T]) -> T:
    with _lock:
        if key in _shared:
            _shared.move_to_end(key)
            found: T = _shared[key]
            return found
    # Computed outside the lock: two sessions asking at once both compute, neither waits.
    value = compute()
    with _lock:
        _shared[key] = value
        while len(_shared) > SHARED_LIMIT:
            _shared.popitem(last=False)
    return value


def _from_session(dataset: Dataset, key: Hashable, compute: Callable[[], T]) -> T:
    store = state.session_dict(state.MEMO)
    if not is_same_dataset(store.get("dataset"), dataset):
        store.clear()
        store.update(dataset=weakref.ref(dataset), entries=OrderedDict())
    entries: OrderedDict[Hashable, Any] = store["entries"]
    if key in entries:
        entries.move_to_end(key)
        found: T = entries[key]
        return found
    value = compute()
    entries[key] = value
    while len(entries) > SESSION_LIMIT:
        entries.popitem(last=False)
    return value
