"""Rendering helpers for the Rep quadrant page: its settings, its four views and the rep table."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from diagnostics import quadrant as quad
from diagnostics.charts import quadrant as charts
from diagnostics.dataset import Dataset, Filters
from diagnostics.export import to_csv_bytes, to_excel_bytes
from ui.charts import show_chart
from ui.errors import stop_on_error
from ui.memo import remembered
from ui.state import QUADRANT_FILTERS_OPEN
from ui.text import escape_markdown
from ui.widgets import KeptWidgets

VIEWS = ("Quadrant", "Funnel plot", "Movement", "Rep drill-down")
FILTERS = ("team", "segment", "product", "region")
FILTERS_LABEL = "Team, segment, product, region"
SPLITS = ("Team", "Targets")  # Team: median engagement, the team's close ratio
Y_FIELDS = {"close_ratio": "As observed", "shrunk_close_ratio": "Shrunk toward team"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class QuadrantChoice:
    """What the settings ask for: which reps, measured how, split where, plotted how."""

    filters: Filters
    options: dict[str, Any]  # keyword arguments of classify_reps and compare_periods
    y_field: str

    @property
    def key(self) -> Hashable:
        """Return the filters and options as a hashable key (what the classification depends on)."""
        return (self.filters, tuple(sorted(self.options.items())))


def settings_bar(
    dataset: Dataset, content: quad.QuadrantContent, keep: KeptWidgets
) -> QuadrantChoice:
    """Show the period, engagement measure, minimum deals, filters and split; return them."""
    first_day, last_day = remembered(dataset, ("date_range",), dataset.date_range)[0], dataset.as_of
    choices = remembered(dataset, ("filter_values", FILTERS),
                         lambda: {n: dataset.filter_values(n) for n in FILTERS})
    usable = remembered(dataset, ("activities_name_reps",),
                        lambda: quad.activities_name_reps(dataset))
    measures = [m for m in quad.ENGAGEMENTS
                if usable or not content.engagement[m].needs_activities]
    if dataset.has_activities and not usable:
        st.warning("No activity in the activity file names a rep who owns a deal, so engagement "
                   "is measured by opportunities worked. Make the rep names match in both files "
                   "(the Data page lists the names it could not match).")
    top = st.columns([2, 2, 1])
    period = top[0].date_input("Period", min_value=first_day, max_value=last_day, **keep(
        "period", (first_day, last_day), valid=lambda v: all(first_day <= d <= last_day
                                                             for d in v)))
    measure = top[1].selectbox("Engagement", measures,
                               format_func=lambda m: content.engagement[m].label,
                               **keep("engagement", measures[0], measures))
    min_deals = top[2].number_input("Minimum closed deals", min_value=1, max_value=1000, step=1,
                                    **keep("min_deals", content.defaults.min_deals))
    chosen = _category_filters(choices, keep)
    opts = st.columns([2, 1, 1, 2])
    split = opts[0].radio("Split lines at", SPLITS, horizontal=True,
                          **keep("split", SPLITS[0], SPLITS))
    targets: dict[str, float | None] = {"engagement_target": None, "close_target": None}
    if split == "Targets":
        targets["engagement_target"] = opts[1].number_input(
            "Engagement target", min_value=0.0, step=0.1, **keep("engagement_target", 1.0))
        targets["close_target"] = opts[2].number_input(
            "Close target %", min_value=0.0, max_value=100.0, step=5.0,
            **keep("close_target", 25.0)) / 100
    y_field = opts[3].radio("Plot close ratio", list(Y_FIELDS), format_func=Y_FIELDS.get,
                            horizontal=True, **keep("y_field", "close_ratio", Y_FIELDS))
    start, end = (period[0], period[1]) if len(period) == 2 else (first_day, last_day)
    if (start, end) == (first_day, last_day):
        # The whole range is asked for as such, as the CLI does without --from/--to: closed
        # deals without a close date then count, and the page and the CLI agree.
        filters = Filters(**chosen)
    else:
        filters = Filters(start=start, end=end, **chosen)
    return QuadrantChoice(filters, {"min_deals": int(min_deals), "engagement": measure,
                                    **targets}, y_field)


def _category_filters(choices: dict[str, list[str]],
                      keep: KeptWidgets) -> dict[str, tuple[str, ...]]:
    """Show the team, segment, product and region filters when their expander is open.

    Four multi-selects are much of what the browser draws for this page: they are sent only
    while the expander is open (opening it reruns the page). Closed, the values picked before
    still apply, and a caption under it names them.
    """
    box = st.expander(FILTERS_LABEL, key=QUADRANT_FILTERS_OPEN, on_change="rerun")
    if box.open:
        with box:
            return {name: tuple(col.multiselect(name.title(), choices[name], **keep(
                        name, [], valid=lambda v, ok=choices[name]: set(v) <= set(ok))))
                    for col, name in zip(st.columns(len(FILTERS)), FILTERS, strict=True)}
    picked = {}
    for name in FILTERS:
        kept = keep.get(name) or []
        picked[name] = tuple(kept) if set(kept) <= set(choices[name]) else ()
    if applied := "; ".join(f"{name} = {', '.join(v)}" for name, v in picked.items() if v):
        st.caption(f"Only {escape_markdown(applied)}.")
    return picked


def quadrant_view(dataset: Dataset, result: quad.QuadrantResult, choice: QuadrantChoice,
                  content: quad.QuadrantContent, keep: KeptWidgets) -> None:
    """Show the quadrant chart, how many reps it cannot draw, and what each quadrant means."""
    frame = remembered(dataset, ("quadrant_frame", choice.key), result.to_frame)  # not changed
    hidden = int((frame["engagement"].isna() | frame[choice.y_field].isna()).sum())
    if hidden == len(frame):
        st.info(quad.NOTHING_TO_DRAW)  # rather than empty axes
        return
    show_bars = st.checkbox("Show intervals", **keep("intervals", False))
    th = result.thresholds
    show_chart(dataset, ("quadrant_chart", choice.key, choice.y_field, bool(show_bars)),
               lambda: charts.quadrant_chart(
                   frame, engagement_threshold=th.engagement, close_threshold=th.close_ratio,
                   engagement_label=result.engagement_label, colours=content.colours(),
                   y_field=choice.y_field, show_intervals=show_bars), width="stretch")
    if hidden:
        st.caption(f"{hidden} rep(s) without a closed deal or engagement figure are listed below "
                   "but cannot be drawn.")
    for key in quad.QUADRANTS:
        st.markdown(f"**{escape_markdown(content.quadrants[key].name)}**: "
                    f"{escape_markdown(content.quadrants[key].action)}")


def funnel_plot_view(result: quad.QuadrantResult, content: quad.QuadrantContent) -> None:
    """Show close ratio against closed deals, with the range chance alone would produce."""
    if result.team_close_ratio is None:
        st.info(quad.NOTHING_TO_DRAW)
        return
    st.caption(escape_markdown(quad.funnel_plot_note(result)))
    st.altair_chart(charts.funnel_plot_chart(result.to_frame(), quad.funnel_plot_limits(result),
                                             quad.funnel_plot_line(result), content.colours()),
                    width="stretch")


def movement_view(dataset: Dataset, result: quad.QuadrantResult, choice: QuadrantChoice,
                  content: quad.QuadrantContent, keep: KeptWidgets) -> None:
    """Show who moved between quadrants from one period to another."""
    default_a, default_b = quad.default_periods(dataset.as_of)
    cols = st.columns(2)
    first = cols[0].date_input("First period", **keep("first", default_a))
    second = cols[1].date_input("Second period", **keep("second", default_b))
    if len(first) != 2 or len(second) != 2:
        st.info("Pick a start and an end date for both periods.")
        return
    with stop_on_error():
        moves = quad.compare_periods(dataset, choice.filters, (first[0], first[1]),
                                  (second[0], second[1]), **choice.options)
    m = st.columns(2)
    m[0].metric("Moved into Stars", moves.moved_into_stars)
    m[1].metric("Left Stars", moves.left_stars)
    st.altair_chart(charts.movement_chart(moves.frame, result.engagement_label, content.colours(),
                                          content.names()), width="stretch")
    st.caption(escape_markdown(moves.note()))


def drill_down_view(dataset: Dataset, result: quad.QuadrantResult, choice: QuadrantChoice,
                    keep: KeptWidgets) -> None:
    """Show one rep's funnel against the team's and the rep's weekly activity."""
    reps = [r.rep for r in result.reps]
    if not reps:
        st.info("No rep has deals or activities with these filters.")
        return
    rep = st.selectbox("Rep", reps, **keep("rep", reps[0], reps))
    with stop_on_error():
        funnel = quad.rep_funnel(dataset, choice.filters, rep)
    st.markdown(escape_markdown(funnel.sentence()))
    st.altair_chart(charts.rep_funnel_chart(funnel.frame, rep), width="stretch")
    st.caption(escape_markdown(funnel.description))
    measure = choice.options["engagement"]
    trend = quad.rep_activity_trend(dataset, choice.filters, rep, measure)
    unit = {"activities": "Activities", "meetings": "Meetings"}.get(measure, "New deals")
    st.altair_chart(charts.activity_trend_chart(trend, rep, unit), width="stretch")


def rep_table(dataset: Dataset, result: quad.QuadrantResult, choice: QuadrantChoice,
              keep: KeptWidgets) -> None:
    """Show the rep table and its CSV and Excel downloads (formulas neutralised)."""
    st.subheader("Rep table")
    shown, export, csv = remembered(dataset, ("rep_table", choice.key), lambda: _rep_table(result))
    st.dataframe(shown, hide_index=True, width="stretch")
    d = st.columns(2)
    d[0].download_button("Download CSV", csv, "rep_quadrant.csv", "text/csv",
                         key=keep.prefix + "csv", on_click="ignore")
    d[1].download_button("Download Excel", lambda: to_excel_bytes(export, "Rep quadrant"),
                         "rep_quadrant.xlsx", XLSX, key=keep.prefix + "xlsx", on_click="ignore")


def _rep_table(result: quad.QuadrantResult) -> tuple[Any, Any, bytes]:
    """Return the rep table as shown, as exported, and the CSV download's bytes."""
    export = quad.export_frame(result)
    return quad.display_frame(result), export, to_csv_bytes(export)
