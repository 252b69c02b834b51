"""Rendering helpers for the Funnel page: its settings and its views (the planner is in
planner_views)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from diagnostics import breakage as bk
from diagnostics import funnel as fn
from diagnostics.charts import funnel as charts
from diagnostics.dataset import Dataset, Filters
from diagnostics.formatting import format_date
from ui.charts import show_chart
from ui.errors import stop_on_error
from ui.memo import remembered
from ui.widgets import KeptWidgets

VIEWS = ("Funnel", "Where it breaks", "Reps", "Planner: make your number")
COHORTS = {"created": "Created in period", "closed": "Closed in period"}
TARGETS = "Target rate (%)"


@dataclass(frozen=True)
class FunnelChoice:
    """What the settings bar asks for: which deals, counted how."""

    filters: Filters
    rule: fn.Rule
    stale_days: int
    first_day: dt.date
    last_day: dt.date


def settings_bar(dataset: Dataset, keep: KeptWidgets) -> FunnelChoice:
    """Show the period, cohort, rule, stale-days and category filters; return the choice."""
    lo, hi = remembered(dataset, ("date_range",), dataset.date_range)
    options = remembered(dataset, ("filter_values", fn.FILTER_COLUMNS),
                         lambda: {n: dataset.filter_values(n) for n in fn.FILTER_COLUMNS})
    c1, c2, c3, c4 = st.columns([2, 1, 1.4, 1])
    period = c1.date_input("Period", min_value=lo, max_value=hi, **keep("period", (lo, hi)))
    cohort = c2.radio("Cohort", list(COHORTS), horizontal=True, format_func=COHORTS.get,
                      **keep("cohort", "created", COHORTS))
    rules = fn.available_rules(dataset)
    rule = c3.selectbox("Counting rule", rules, format_func=fn.RULES.get,
                        **keep("rule", "furthest", rules))
    stale_days = c4.number_input("Stale after (days)", 1, 730, **keep("stale_days", 60))
    if not dataset.has_stage_history:
        c3.caption("Strict and any-stage counting need an uploaded stage history.")
    picked: dict[str, tuple[str, ...]] = {}
    with st.expander("Segment, product, region, team, rep"):
        for col, (name, values) in zip(st.columns(5), options.items(), strict=True):
            picked[name] = tuple(col.multiselect(
                name.title(), values, **keep(name, [], valid=lambda v, ok=values: set(v) <= set(ok))
            ))
    start = period[0] if len(period) > 0 else None
    end = period[1] if len(period) > 1 else None
    filters = dataset.period_filters(start, end, cohort=cohort, **picked)
    return FunnelChoice(filters, rule, int(stale_days), lo, hi)


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
    reference = keep.get("reference", "history")
    targets = keep.get("targets") if reference == "targets" else None
    min_count = keep.get("min_count", 5)
    # The report depends on the settings only (result, reps and metrics follow from them).
    key = ("breakages", choice.filters, choice.rule, choice.stale_days, reference,
           None if targets is None else tuple(targets), min_count)
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
    for col, (label, value, note) in zip([*st.columns(5), *st.columns(5)],
                                         metrics.display_items(), strict=False):
        col.metric(label, value, help=note or None)
    if result.total:  # an empty chart says nothing; the sentence above says why
        show_chart(dataset, ("funnel_chart", choice.filters, choice.rule),
                   lambda: charts.funnel_chart(result), width="stretch")
    st.dataframe(result.to_frame(), hide_index=True, width="stretch")
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
