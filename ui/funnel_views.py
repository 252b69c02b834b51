"""Rendering helpers for the Funnel page: its settings and its views (the planner is in
planner_views)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import weakref
from collections.abc import Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from diagnostics import breakage as bk
from diagnostics import funnel as fn
from diagnostics.charts import funnel as charts
from diagnostics.dataset import Dataset, Filters, prepare_spare_connection
from diagnostics.formatting import DASH, format_date
from ui.charts import chart_key, show_chart, vega_lite_spec
from ui.errors import stop_on_error
from ui.memo import remembered
from ui.state import FUNNEL_FILTERS_OPEN, FUNNEL_PREFETCH
from ui.text import escape_markdown
from ui.widgets import KeptWidgets, is_same_dataset

VIEWS = ("Funnel", "Where it breaks", "Reps", "Planner: make your number")
COHORTS = {"created": "Created in period", "closed": "Closed in period"}
TARGETS = "Target rate (%)"
FILTERS_LABEL = "Segment, product, region, team, rep"
# The settings a first visit starts from (each a kept widget's default).
DEFAULT_COHORT, DEFAULT_RULE, DEFAULT_STALE_DAYS = "created", "furthest", 60
DEFAULT_REFERENCE, DEFAULT_MIN_COUNT = "history", 5
RANGE_KEY = ("date_range",)
OPTIONS_KEY = ("filter_values", fn.FILTER_COLUMNS)
_log = logging.getLogger(__name__)
# Works out an upload's first Funnel view while the Data page is drawn and read (see prefetch).
_prefetcher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="myn-funnel-prefetch")


@dataclass(frozen=True)
class FunnelChoice:
    """What the settings bar asks for: which deals, counted how."""

    filters: Filters
    rule: fn.Rule
    stale_days: int
    first_day: dt.date
    last_day: dt.date


def table_frame(result: fn.FunnelResult) -> pd.DataFrame:
    """Return the funnel's table as shown in a plain table: a table reads its cells as Markdown,
    so the stage names (from the data) are escaped; a count that does not apply reads "—"."""
    frame = result.to_frame()
    frame["Stage"] = frame["Stage"].map(escape_markdown)
    if frame.isna().to_numpy().any():  # the row of lost deals whose stage is unknown
        frame = frame.astype(object).where(frame.notna(), DASH)
    return frame


def funnel_key(choice: FunnelChoice) -> tuple[Hashable, ...]:
    """Return the memo key of the funnel and headline metrics for ``choice``."""
    return ("funnel", choice.filters, choice.rule, choice.stale_days)


def breakage_key(choice: FunnelChoice, reference: str, targets: tuple[float, ...] | None,
                 min_count: int) -> tuple[Hashable, ...]:
    """Return the memo key of the breakage report (the settings alone decide it)."""
    return ("breakages", choice.filters, choice.rule, choice.stale_days, reference, targets,
            min_count)


def funnel_chart_key(choice: FunnelChoice) -> tuple[Hashable, ...]:
    """Return the key of the funnel chart drawn for ``choice``."""
    return ("funnel_chart", choice.filters, choice.rule)


def _choice(dataset: Dataset, span: tuple[dt.date, dt.date], period: tuple[dt.date, ...],
            cohort: str, rule: fn.Rule, stale_days: int,
            picked: dict[str, tuple[str, ...]]) -> FunnelChoice:
    start = period[0] if len(period) > 0 else None
    end = period[1] if len(period) > 1 else None
    filters = dataset.period_filters(start, end, cohort=cohort, **picked)
    return FunnelChoice(filters, rule, int(stale_days), *span)


def first_view(dataset: Dataset) -> dict[Hashable, Any]:
    """Return what the Funnel page's first view draws with its default settings, by memo key.

    No Streamlit here: a background thread runs it for a fresh upload (see :func:`prefetch`).
    """
    span = dataset.date_range()
    options = {n: dataset.filter_values(n) for n in fn.FILTER_COLUMNS}
    choice = _choice(dataset, span, span, DEFAULT_COHORT, DEFAULT_RULE, DEFAULT_STALE_DAYS,
                     {n: () for n in fn.FILTER_COLUMNS})
    result, metrics = fn.funnel_with_metrics(dataset, choice.filters, choice.rule,
                                             choice.stale_days)
    report = bk.find_breakages(dataset, choice.filters, choice.rule, DEFAULT_REFERENCE, None,
                               DEFAULT_MIN_COUNT, result=result, reps=None,
                               avg_won_amount=metrics.avg_won_amount)
    values: dict[Hashable, Any] = {
        RANGE_KEY: span, OPTIONS_KEY: options, funnel_key(choice): (result, metrics),
        ("funnel_frame", *funnel_key(choice)): table_frame(result),
        breakage_key(choice, DEFAULT_REFERENCE, None, DEFAULT_MIN_COUNT): report,
    }
    if result.total:
        values[chart_key(funnel_chart_key(choice))] = vega_lite_spec(charts.funnel_chart(result))
    return values


def _first_view_on_cursor(dataset: Dataset) -> dict[Hashable, Any]:
    try:
        return first_view(dataset)
    finally:
        dataset.con.close()  # the thread's own cursor, not the session's connection


def prefetch(dataset: Dataset) -> None:
    """Have an upload's first Funnel view worked out in the background (from a callback).

    Started by :func:`start_prefetch` once the page's run is over: the run itself then has the
    server to itself, and the browser's drawing of the page leaves the server idle. By the time
    the user opens the Funnel, its numbers are ready.
    """
    st.session_state[FUNNEL_PREFETCH] = (weakref.ref(dataset), None)


def start_prefetch() -> None:
    """Start the job :func:`prefetch` asked for, if any (at the end of a page's run).

    The thread queries through its own cursor on the same in-memory database (a DuckDB
    connection is not shared between threads).
    """
    held = st.session_state.get(FUNNEL_PREFETCH)
    if held is None or held[1] is not None or (dataset := held[0]()) is None:
        return
    job = dataclasses.replace(dataset, con=dataset.con.cursor())
    future = _prefetcher.submit(_first_view_on_cursor, job)
    # Then, still while nobody waits, the locked connection of the next upload.
    future.add_done_callback(lambda _: _prefetcher.submit(_make_spare_connection))
    st.session_state[FUNNEL_PREFETCH] = (held[0], future)


def _make_spare_connection() -> None:
    try:
        prepare_spare_connection()
    except Exception:  # noqa: BLE001 - only a head start: the next upload opens its own
        _log.exception("making the next upload's connection ahead failed")


def take_prefetched(dataset: Dataset) -> None:
    """Remember for this session what :func:`prefetch` worked out for ``dataset``, if anything.

    A job still running is waited for (the page would compute the same); one still queued behind
    other sessions' is cancelled and the page computes for itself. A failed job is only logged.
    """
    held = st.session_state.pop(FUNNEL_PREFETCH, None)
    if held is None or held[1] is None or not is_same_dataset(held[0], dataset):
        return  # nothing asked for, never started (the page's run was cut short), or stale
    future: Future[dict[Hashable, Any]] = held[1]
    if future.cancel():
        return
    try:
        values = future.result()
    except Exception:  # noqa: BLE001 - only a head start: the page computes what it needs
        _log.exception("working out the Funnel ahead failed; the page computes it")
        return
    for key, value in values.items():
        remembered(dataset, key, lambda value=value: value)


def settings_bar(dataset: Dataset, keep: KeptWidgets) -> FunnelChoice:
    """Show the period, cohort, rule, stale-days and category filters; return the choice."""
    lo, hi = remembered(dataset, RANGE_KEY, dataset.date_range)
    options = remembered(dataset, OPTIONS_KEY,
                         lambda: {n: dataset.filter_values(n) for n in fn.FILTER_COLUMNS})
    c1, c2, c3, c4 = st.columns([2, 1, 1.4, 1])
    period = c1.date_input("Period", min_value=lo, max_value=hi, **keep("period", (lo, hi)))
    cohort = c2.radio("Cohort", list(COHORTS), horizontal=True, format_func=COHORTS.get,
                      **keep("cohort", DEFAULT_COHORT, COHORTS))
    rules = fn.available_rules(dataset)
    rule = c3.selectbox("Counting rule", rules, format_func=fn.RULES.get,
                        **keep("rule", DEFAULT_RULE, rules))
    stale_days = c4.number_input("Stale after (days)", 1, 730,
                                 **keep("stale_days", DEFAULT_STALE_DAYS))
    if not dataset.has_stage_history:
        c3.caption("Strict and any-stage counting need an uploaded stage history.")
    return _choice(dataset, (lo, hi), tuple(period), cohort, rule, int(stale_days),
                   _category_filters(options, keep))


def _category_filters(options: dict[str, list[str]],
                      keep: KeptWidgets) -> dict[str, tuple[str, ...]]:
    """Show the category filters when their expander is open; return the values picked.

    Five multi-selects are much of what the browser draws for the page: they are sent only
    while the expander is open (opening it reruns the page). Closed, the values picked before
    still apply, and the page's caption names them.
    """
    picked: dict[str, tuple[str, ...]] = {}
    box = st.expander(FILTERS_LABEL, key=FUNNEL_FILTERS_OPEN, on_change="rerun")
    if not box.open:
        for name, values in options.items():
            kept = keep.get(name) or []
            picked[name] = tuple(kept) if set(kept) <= set(values) else ()
        return picked
    with box:
        for col, (name, values) in zip(st.columns(5), options.items(), strict=True):
            picked[name] = tuple(col.multiselect(
                name.title(), values, **keep(name, [], valid=lambda v, ok=values: set(v) <= set(ok))
            ))
    return picked


def reps_view(dataset: Dataset, choice: FunnelChoice, keep: KeptWidgets) -> pd.DataFrame:
    """Show each rep at each step as a heat map; return the rep table (for the breakages)."""
    min_count = st.slider("Minimum deals entering a step to rate a rep", 1, 50,
                          **keep("min_count", 5))
    key = (choice.filters, choice.rule, int(min_count))
    reps = remembered(dataset, ("rep_transitions", *key),
                      lambda: fn.rep_transitions(dataset, choice.filters, choice.rule, min_count))
    st.caption(charts.HEATMAP_CAPTION)
    if reps.empty:
        st.info("No rep has deals with these filters.")
    elif note := fn.unrated_reps_note(reps, min_count):
        st.info(note)
    else:
        show_chart(dataset, ("rep_heatmap", *key), lambda: charts.rep_heatmap(reps),
                   width="stretch")
    return reps


def reference_picker(dataset: Dataset, choice: FunnelChoice, result: fn.FunnelResult,
                     keep: KeptWidgets) -> None:
    """Show the choice of reference and, for targets, the editable target rates.

    Targets start from the team's best quarter (else its best reps), not from the actual rates.
    """
    reference = st.radio("Compare each step with", list(bk.REFERENCES), horizontal=True,
                         format_func=bk.REFERENCES.get,
                         **keep("reference", "history", bk.REFERENCES))
    if reference == "targets":
        start = keep.get("targets") or bk.starting_targets(
            dataset, choice.filters, choice.rule, result, keep.get("min_count", 5))
        edited = st.data_editor(
            fn.rates_frame(result.transition_labels(), start, TARGETS),
            disabled=["Step"], hide_index=True, key=keep.prefix + "targets",
        )
        keep.set("targets", fn.rates_from_frame(edited, TARGETS))


def breakages(dataset: Dataset, choice: FunnelChoice, result: fn.FunnelResult,
              metrics: fn.HeadlineMetrics, keep: KeptWidgets,
              reps: pd.DataFrame | None) -> bk.BreakageReport:
    """Return the steps ranked against the reference picked (best reps unless changed)."""
    reference = keep.get("reference", DEFAULT_REFERENCE)
    targets = keep.get("targets") if reference == "targets" else None
    min_count = keep.get("min_count", DEFAULT_MIN_COUNT)
    # The report depends on the settings only (result, reps and metrics follow from them).
    key = breakage_key(choice, reference, None if targets is None else tuple(targets), min_count)
    with stop_on_error():
        report = remembered(dataset, key, lambda: bk.find_breakages(
            dataset, choice.filters, choice.rule, reference, targets, min_count,
            result=result, reps=reps, avg_won_amount=metrics.avg_won_amount,
        ))
    return report


def breakage_view(dataset: Dataset, report: bk.BreakageReport) -> None:
    """Show the ranked steps as a chart and a table."""
    show_chart(dataset, ("breakage_chart", report), lambda: charts.breakage_chart(report),
               width="stretch")
    st.dataframe(report.to_frame(), hide_index=True, width="stretch")


def funnel_view(dataset: Dataset, choice: FunnelChoice, result: fn.FunnelResult,
                metrics: fn.HeadlineMetrics, keep: KeptWidgets) -> None:
    """Show the headline figures, the funnel chart and table, and a comparison on demand."""
    beside = metrics.display_notes()
    for col, (label, value, note) in zip([*st.columns(5), *st.columns(5)],
                                         metrics.display_items(), strict=False):
        col.metric(label, value, help=note or None)
        if label in beside:  # what the figure rests on, where it is not the obvious
            col.caption(beside[label])
    if result.total:  # an empty chart says nothing; the sentence above says why
        show_chart(dataset, funnel_chart_key(choice), lambda: charts.funnel_chart(result),
                   width="stretch")
    frame = remembered(dataset, ("funnel_frame", *funnel_key(choice)), lambda: table_frame(result))
    # A handful of rows: a plain table, drawn at once (a grid loads and lays out far more).
    st.table(frame, hide_index=True)
    if thin := fn.thin_steps_note(result):  # stage names come from the data
        st.caption(f":material/warning: {escape_markdown(thin)}")
    if not st.toggle("Compare with another period", **keep("compare_on", False)):
        return
    filters = choice.filters
    before = filters.previous_period() or filters.with_period(choice.first_day, choice.last_day)
    other = st.date_input("Other period", **keep("compare", (before.start, before.end)))
    if len(other) != 2:
        st.info("Pick a start and an end date for the other period.")
        return
    result_b = fn.compute_funnel(dataset, filters.with_period(*other), choice.rule)
    # Short headers keep the Change column in view; the dates go in the caption.
    st.caption(f"This period: {filters.describe_period()}. Other period: "
               f"{result_b.filters.describe_period()}.")
    if not result_b.total:
        st.info(f"No deals in the other period: the data runs from {format_date(choice.first_day)}"
                f" to {format_date(choice.last_day)}.")
    st.dataframe(fn.compare_funnels(result, result_b, ("this period", "other period")),
                 hide_index=True, width="stretch")
