"""Charts of the rep quadrant: the scatter, the funnel plot, movement arrows and a rep's drill-down.

Each takes aggregates (one row per rep, per stage or per week) and returns an Altair chart, so the
browser receives as many rows as there are reps whatever the number of activities behind them.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from diagnostics.charts.describe import listing
from diagnostics.charts.palette import PALETTE
from diagnostics.formatting import format_rate

__all__ = [
    "activity_trend_chart",
    "funnel_plot_chart",
    "movement_chart",
    "quadrant_chart",
    "rep_funnel_chart",
]

_LINE = PALETTE["line"]
_POINT_SIZE = 90
# "Too close to call" reps are open diamonds, unlike the filled dots of settled reps, so a
# watch-list rep is never read as a performance-plan one.
_TOO_CLOSE = "datum.quadrant == 'too_close'"
_SETTLED = "datum.quadrant != 'not_enough_data' && datum.quadrant != 'too_close'"


def _counts(names: pd.Series) -> str:
    """Return "3 Stars; 2 Performance plan" from one quadrant name per rep, largest first."""
    counts = names.value_counts()
    return listing([f"{int(n):,} {name}" for name, n in counts.items()])


def _line(what: str, value: float | None, rate: bool = False) -> str:
    if value is None:
        return f"no {what} line"
    return f"{what} line at {format_rate(value) if rate else f'{value:.2f}'}"


def _colour_scale(colours: Mapping[str, str]) -> alt.Scale:
    return alt.Scale(domain=list(colours), range=list(colours.values()))


def _ratio_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format=".0%")


def quadrant_chart(
    reps: pd.DataFrame,
    *,
    engagement_threshold: float | None,
    close_threshold: float | None,
    engagement_label: str,
    colours: Mapping[str, str],
    y_field: str = "close_ratio",
    show_intervals: bool = False,
) -> alt.LayerChart:
    """Return the engagement × close-ratio scatter with split lines and optional Wilson bars.

    ``reps`` is ``QuadrantResult.to_frame()`` (one row per rep); reps without a value on either
    axis are left out. ``colours`` maps quadrant display names to colours; reps named
    "Not enough data" (``quadrant == 'not_enough_data'``) are drawn hollow.
    """
    if y_field not in ("close_ratio", "shrunk_close_ratio"):
        raise ValueError(f"y_field must be close_ratio or shrunk_close_ratio, not {y_field!r}")
    columns = ["rep", "team", "engagement", "close_ratio", "close_ratio_low",
               "close_ratio_high", "shrunk_close_ratio", "closed", "quadrant", "quadrant_name"]
    data = reps.loc[reps["engagement"].notna() & reps[y_field].notna(), columns]
    y_title = "Close ratio" if y_field == "close_ratio" else "Close ratio, shrunk toward team"
    base = alt.Chart(data).encode(
        x=alt.X("engagement:Q", title=engagement_label, scale=alt.Scale(zero=True)),
        y=alt.Y(f"{y_field}:Q", axis=_ratio_axis(y_title), scale=alt.Scale(zero=True, nice=True)),
        color=alt.Color("quadrant_name:N", title="Quadrant", scale=_colour_scale(colours)),
        tooltip=[
            alt.Tooltip("rep:N", title="Rep"),
            alt.Tooltip("team:N", title="Team"),
            alt.Tooltip("engagement:Q", title=engagement_label, format=".2f"),
            alt.Tooltip("close_ratio:Q", title="Close ratio", format=".0%"),
            alt.Tooltip("close_ratio_low:Q", title="Interval low", format=".0%"),
            alt.Tooltip("close_ratio_high:Q", title="Interval high", format=".0%"),
            alt.Tooltip("shrunk_close_ratio:Q", title="Shrunk", format=".0%"),
            alt.Tooltip("closed:Q", title="Closed deals"),
            alt.Tooltip("quadrant_name:N", title="Quadrant"),
        ],
    )
    placed = base.transform_filter(_SETTLED).mark_circle(size=_POINT_SIZE, opacity=0.9)
    hollow = base.transform_filter("datum.quadrant == 'not_enough_data'").mark_point(
        size=_POINT_SIZE, filled=False, strokeWidth=1.5
    )
    close_call = base.transform_filter(_TOO_CLOSE).mark_point(
        size=_POINT_SIZE * 1.4, shape="diamond", filled=False, strokeWidth=2.2
    )
    layers: list[alt.Chart] = []
    if show_intervals:
        layers.append(
            base.mark_rule(opacity=0.45).encode(
                y=alt.Y("close_ratio_low:Q"), y2=alt.Y2("close_ratio_high:Q")
            )
        )
    layers += [placed, hollow, close_call]
    if engagement_threshold is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"x": [engagement_threshold]}))
            .mark_rule(color=_LINE, strokeDash=[6, 4])
            .encode(x="x:Q")
        )
    if close_threshold is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [close_threshold]}))
            .mark_rule(color=_LINE, strokeDash=[6, 4])
            .encode(y="y:Q")
        )
    description = (
        f"Rep quadrant of {len(data):,} reps, {engagement_label} against {y_title.lower()}: "
        f"{_counts(data['quadrant_name'])}; {_line('engagement', engagement_threshold)}, "
        f"{_line('close-ratio', close_threshold, rate=True)}."
    )
    return alt.LayerChart(layer=layers).properties(height=460, description=description)


def funnel_plot_chart(
    reps: pd.DataFrame,
    limits: pd.DataFrame,
    line: float | None,
    colours: Mapping[str, str],
) -> alt.LayerChart:
    """Return close ratio against closed deals with control-limit curves around the close line.

    ``limits`` is ``funnel_plot_limits(result)`` (columns closed, level, low, high) and ``line``
    the rate they are drawn around (``funnel_plot_line(result)``, the quadrant's close-ratio
    line); its first level is the rule's, so a rep outside those curves is one the quadrant
    places by its whole interval.
    "Too close to call" reps are open diamonds, as on the quadrant.
    """
    data = reps.loc[reps["close_ratio"].notna(), ["rep", "closed", "close_ratio", "quadrant",
                                                   "quadrant_name"]]
    base = alt.Chart(data).encode(
        x=alt.X("closed:Q", title="Closed deals in the period"),
        y=alt.Y("close_ratio:Q", axis=_ratio_axis("Close ratio"),
                scale=alt.Scale(zero=True, nice=True)),
        color=alt.Color("quadrant_name:N", title="Quadrant", scale=_colour_scale(colours)),
        tooltip=[
            alt.Tooltip("rep:N", title="Rep"),
            alt.Tooltip("closed:Q", title="Closed deals"),
            alt.Tooltip("close_ratio:Q", title="Close ratio", format=".0%"),
            alt.Tooltip("quadrant_name:N", title="Quadrant"),
        ],
    )
    points = base.transform_filter(f"!({_TOO_CLOSE})").mark_circle(size=_POINT_SIZE, opacity=0.9)
    close_call = base.transform_filter(_TOO_CLOSE).mark_point(
        size=_POINT_SIZE * 1.4, shape="diamond", filled=False, strokeWidth=2.2
    )
    layers: list[alt.Chart] = []
    if not limits.empty:
        long = limits.melt(id_vars=["closed", "level"], value_vars=["low", "high"],
                           var_name="side", value_name="limit")
        layers.append(
            alt.Chart(long)
            .mark_line(color=_LINE, strokeWidth=1)
            .encode(
                x="closed:Q",
                y="limit:Q",
                detail="side:N",
                # The levels say what each curve is ("Rule: 99.3% per rep, 95% for the team"):
                # room for them rather than an ellipsis.
                strokeDash=alt.StrokeDash("level:N", title="Control limits",
                                          legend=alt.Legend(labelLimit=320)),
            )
        )
    if line is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [line]})).mark_rule(color=_LINE).encode(y="y:Q")
        )
    layers += [points, close_call]
    levels = list(dict.fromkeys(limits["level"])) if not limits.empty else []
    curves = f"control limits ({listing(levels)})" if levels else "no control limits"
    description = (
        f"Close ratio against closed deals for {len(data):,} reps, "
        f"{_line('close-ratio', line, rate=True)} with {curves}: "
        f"{_counts(data['quadrant_name'])}."
    )
    return alt.LayerChart(layer=layers).properties(height=420, description=description)


def movement_chart(
    movement: pd.DataFrame, engagement_label: str, colours: Mapping[str, str], names: Mapping[
        str, str]
) -> alt.LayerChart:
    """Return one arrow per rep: a line from the first period's point to the second's.

    ``movement`` is ``Movement.frame``; reps without both points are left out. The start is a
    hollow dot, the end a filled dot coloured by the rep's quadrant in the second period.
    """
    cols = ["engagement_a", "close_ratio_a", "engagement_b", "close_ratio_b"]
    data = movement.loc[movement[cols].notna().all(axis=1)].copy()
    data["quadrant_name"] = data["quadrant_b"].map(dict(names))
    data = data[["rep", *cols, "quadrant_name", "moved"]]
    base = alt.Chart(data)
    x_title = alt.X("engagement_a:Q", title=engagement_label)
    y_axis = _ratio_axis("Close ratio")
    line = base.mark_rule(strokeWidth=1.5, opacity=0.6, color=_LINE).encode(
        x=x_title, y=alt.Y("close_ratio_a:Q", axis=y_axis, scale=alt.Scale(zero=True, nice=True)),
        x2="engagement_b:Q", y2="close_ratio_b:Q",
    )
    start = base.mark_point(filled=False, color=_LINE, size=40).encode(
        x="engagement_a:Q", y="close_ratio_a:Q"
    )
    end = base.mark_circle(size=_POINT_SIZE, opacity=0.9).encode(
        x="engagement_b:Q",
        y="close_ratio_b:Q",
        color=alt.Color("quadrant_name:N", title="Quadrant (second period)",
                        scale=_colour_scale(colours)),
        tooltip=[
            alt.Tooltip("rep:N", title="Rep"),
            alt.Tooltip("close_ratio_a:Q", title="Close ratio before", format=".0%"),
            alt.Tooltip("close_ratio_b:Q", title="Close ratio after", format=".0%"),
            alt.Tooltip("engagement_a:Q", title="Engagement before", format=".2f"),
            alt.Tooltip("engagement_b:Q", title="Engagement after", format=".2f"),
            alt.Tooltip("quadrant_name:N", title="Quadrant now"),
        ],
    )
    moved = int(data["moved"].fillna(False).astype(bool).sum())
    description = (
        f"How {len(data):,} reps moved between the two periods: {moved:,} changed quadrant; "
        f"where they are now: {_counts(data['quadrant_name'].fillna('no quadrant'))}."
    )
    return alt.LayerChart(layer=[line, start, end]).properties(height=440,
                                                              description=description)


def rep_funnel_chart(funnel: pd.DataFrame, rep: str) -> alt.Chart:
    """Return side-by-side bars of cumulative conversion per stage, the rep's next to the team's.

    ``funnel`` is ``RepFunnel.frame`` (stage, rank, who, reached, cumulative_conversion, ...).
    """
    data = funnel.assign(who=funnel["who"].map({"rep": rep, "team": "Team"}))
    order = list(dict.fromkeys(funnel.sort_values("rank")["stage"]))
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("stage:N", sort=order, title=None),
            xOffset=alt.XOffset("who:N", sort=[rep, "Team"]),
            y=alt.Y("cumulative_conversion:Q", axis=_ratio_axis("Share of closed deals reaching")),
            color=alt.Color("who:N", title=None, sort=[rep, "Team"],
                            scale=alt.Scale(range=[PALETTE["rep"], PALETTE["team"]])),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("reached:Q", title="Deals reaching"),
                alt.Tooltip("cumulative_conversion:Q", title="Share", format=".0%"),
                alt.Tooltip("next_step_conversion:Q", title="Move on", format=".0%"),
            ],
        )
        .properties(height=300, description=_rep_funnel_text(funnel, rep, order))
    )
    return chart


def _rep_funnel_text(funnel: pd.DataFrame, rep: str, order: list[str]) -> str:
    share = {(str(r["stage"]), str(r["who"])): r["cumulative_conversion"]
             for r in funnel.to_dict("records")}
    steps = [f"{stage} {rep} {format_rate(share.get((stage, 'rep')))}, team "
             f"{format_rate(share.get((stage, 'team')))}" for stage in order]
    return f"Share of closed deals reaching each stage, {rep} against the team: {listing(steps)}."


def activity_trend_chart(trend: pd.DataFrame, rep: str, unit: str) -> alt.Chart:
    """Return the rep's weekly count as a line next to the team's average per active rep.

    ``trend`` is ``rep_activity_trend(...)`` (week, rep, team_average).
    """
    long = trend.rename(columns={"rep": rep, "team_average": "Team average"}).melt(
        id_vars=["week"], value_vars=[rep, "Team average"], var_name="who", value_name="count"
    )
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week starting"),
            y=alt.Y("count:Q", title=f"{unit} per week"),
            color=alt.Color("who:N", title=None, sort=[rep, "Team average"],
                            scale=alt.Scale(range=[PALETTE["rep"], PALETTE["team_average"]])),
            strokeDash=alt.StrokeDash("who:N", sort=[rep, "Team average"], legend=None),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("week:T", title="Week", format="%d %b %Y"),
                alt.Tooltip("count:Q", title=unit, format=".1f"),
            ],
        )
        .properties(height=260, description=_trend_text(trend, rep, unit))
    )
    return chart


def _trend_text(trend: pd.DataFrame, rep: str, unit: str) -> str:
    weeks = len(trend)
    if not weeks:
        return f"{unit} per week: no weeks to show."
    mine, team = float(trend["rep"].mean()), float(trend["team_average"].mean())
    return (f"{unit} per week over {weeks:,} weeks: {rep} averages {mine:.1f} a week, the team "
            f"{team:.1f} per active rep.")
