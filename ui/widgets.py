"""Widget values that survive page switches: Streamlit's documented store/load pattern, once.

Streamlit forgets a widget's value when its page is not drawn. Each kept widget has the key
``prefix + name``: its ``on_change`` callback stores the value in a plain session-state dict, and
a run that finds the widget's state gone loads the stored value back into that key before the
widget is drawn. A stored value
that no longer fits (another dataset, options that went away) falls back to the default.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import streamlit as st

from diagnostics.dataset import Dataset
from ui.state import session_dict

__all__ = ["KeptWidgets", "is_same_dataset"]

T = TypeVar("T")
# Where a KeptWidgets bound to a dataset remembers which one: a weak reference, so that an old
# upload is freed as soon as the session replaces it.
_DATASET = "_dataset"
_ONCE = "_once"


def is_same_dataset(held: object, dataset: Dataset) -> bool:
    """Return True when ``held`` (a weak reference taken earlier) still points at ``dataset``.

    The one rule for "computed from the data in use?": the very same object. An ``id()`` can be
    reused by a new upload once the old one is freed; a weak reference cannot.
    """
    return isinstance(held, weakref.ref) and held() is dataset


class KeptWidgets:
    """The kept widget values of one page, stored under ``store`` in session state.

    Bound to a ``dataset``, the values (and the widgets' own state) are dropped when the session's
    data changes: a filter value of the old data may not exist in the new.
    """

    def __init__(self, store: str, prefix: str, dataset: Dataset | None = None) -> None:
        self.values = session_dict(store)
        self.prefix = prefix
        if dataset is not None and not is_same_dataset(self.values.get(_DATASET), dataset):
            self.clear()
            self.values[_DATASET] = weakref.ref(dataset)

    def __call__(
        self,
        name: str,
        default: Any,
        options: Collection[Any] | None = None,
        valid: Callable[[Any], bool] | None = None,
    ) -> dict[str, Any]:
        """Return the widget's ``key``, ``on_change`` and ``args``, its stored value loaded.

        Pass ``options`` (or a ``valid`` check) when a stored value may stop fitting.
        """
        key = self.prefix + name
        # The widget's own state while its page is shown; the stored value after a page switch.
        value = st.session_state[key] if key in st.session_state else self.values.get(name, default)
        if (options is not None and value not in options) or (
            valid is not None and not valid(value)
        ):
            value = default
        if key not in st.session_state or st.session_state[key] != value:
            st.session_state[key] = value
        return {"key": key, "on_change": self._store, "args": (name,)}

    def get(self, name: str, default: Any = None) -> Any:
        """Return a stored value (a widget's, or one set with :meth:`set`)."""
        return self.values.get(name, default)

    def set(self, name: str, value: Any) -> None:
        """Store a value that is not a kept widget's (an edited table's rates, say)."""
        self.values[name] = value

    def once(self, name: str, compute: Callable[[], T]) -> T:
        """Return ``compute()``, run once for the bound dataset (filter values, date range)."""
        held = self.values.setdefault(_ONCE, {})
        if name not in held:
            held[name] = compute()
        value: T = held[name]
        return value

    def clear(self) -> None:
        """Forget every stored value and reset every widget whose key has the prefix."""
        self.values.clear()
        for key in [k for k in st.session_state if str(k).startswith(self.prefix)]:
            del st.session_state[key]

    def _store(self, name: str) -> None:
        value = st.session_state.get(self.prefix + name)
        if value is None:  # a cleared radio or select box: nothing to keep
            self.values.pop(name, None)
        else:
            self.values[name] = value
