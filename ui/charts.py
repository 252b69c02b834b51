"""Altair charts drawn from a Vega-Lite spec converted once per dataset and settings.

``st.altair_chart`` converts its chart on every call (``to_dict``: a deep copy, a JSON-schema
validation and the data serialised to Arrow), which costs tens to hundreds of milliseconds per
chart on every run. :func:`show_chart` converts a chart exactly as ``st.altair_chart`` does, keeps
the result with :func:`ui.memo.remembered` (the bundled sample's once per process, other data's
once per session) and draws it with ``st.vega_lite_chart``: the same element, the same spec.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

from diagnostics.dataset import Dataset
from ui.memo import remembered

try:  # the conversion st.altair_chart itself uses (a private helper of Streamlit)
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
except ImportError:  # pragma: no cover - another Streamlit: draw each chart as Altair
    _convert_altair_to_vega_lite_spec = None

__all__ = ["chart_key", "show_chart", "vega_lite_spec"]


def vega_lite_spec(chart: Any) -> dict[str, Any]:
    """Return the Vega-Lite spec ``st.altair_chart`` would send for ``chart`` (data as Arrow)."""
    if _convert_altair_to_vega_lite_spec is None:  # pragma: no cover
        raise RuntimeError("this Streamlit cannot convert Altair charts ahead of drawing")
    spec: dict[str, Any] = dict(_convert_altair_to_vega_lite_spec(chart))
    return spec


def chart_key(key: Hashable) -> tuple[Hashable, ...]:
    """Return the memo key under which :func:`show_chart` keeps the spec of chart ``key``."""
    return ("chart", key)


def show_chart(dataset: Dataset, key: Hashable, build: Callable[[], Any], where: Any = st,
               **kwargs: Any) -> None:
    """Draw the chart ``build()`` returns, converted once per dataset and ``key``.

    ``key`` names the chart and every setting it depends on; ``where`` is a container (a
    column) or ``st``; ``kwargs`` go to the drawing call (``width="stretch"``...).
    """
    if _convert_altair_to_vega_lite_spec is None:  # pragma: no cover
        where.altair_chart(build(), **kwargs)
        return
    spec = remembered(dataset, chart_key(key), lambda: vega_lite_spec(build()))
    # Streamlit edits a spec it draws (legend titles, datasets moved out): give it a copy.
    where.vega_lite_chart(copy.deepcopy(spec), **kwargs)
