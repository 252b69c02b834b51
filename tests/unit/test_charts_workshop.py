"""Workshop charts: specs built from summary aggregates (hand-checked rows and encodings)."""

from __future__ import annotations

from typing import Any

from diagnostics.charts import workshop as charts
from diagnostics.charts.palette import contrast_ratio
from diagnostics.workshop import DimensionStat, GapCell, RoleResult


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    datasets = spec["datasets"]
    assert len(datasets) == 1
    return list(next(iter(datasets.values())))


def test_responses_chart_orders_roles_and_skips_empty_ones() -> None:
    spec = charts.responses_chart({"marketing": 2, "sales": 3, "finance": 0}).to_dict()
    rows = [(r["role"], r["responses"]) for r in _values(spec)]
    assert rows == [("Sales team", 3), ("Marketing", 2)]
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "responses"


def test_dimension_chart_clips_whiskers_to_the_scale_and_skips_empty_dimensions() -> None:
    dims = [
        DimensionStat("a", "Alpha", 4.5, 1.0, 3, 2.0),
        DimensionStat("b", "Beta", 2.0, 0.5, 3, None),
        DimensionStat("c", "Gamma", None, None, 0, None),
    ]
    spec = charts.dimension_chart(dims).to_dict()
    rows = _values(spec)
    assert [(r["dimension"], r["mean"], r["low"], r["high"]) for r in rows] == [
        ("Alpha", 4.5, 3.5, 5.0),
        ("Beta", 2.0, 1.5, 2.5),
    ]
    bars, whiskers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and whiskers["mark"]["type"] == "rule"
    assert bars["encoding"]["x"]["scale"]["domain"] == [1, 5]
    assert bars["encoding"]["x2"] == {"datum": 1}  # bars grow from the lowest answer


def test_perception_gap_chart_cells_colour_and_text() -> None:
    gaps = [
        GapCell("sales", "a", 4.0, 1.5, 2),
        GapCell("sales_ops", "a", 1.0, -1.5, 1),
        GapCell("marketing", "b", None, None, 0),
    ]
    spec = charts.perception_gap_chart(gaps, {"a": "Alpha", "b": "Beta"}).to_dict()
    rows = _values(spec)
    assert [(r["role"], r["dimension"], r["mean"], r["gap"]) for r in rows] == [
        ("Sales team", "Alpha", 4.0, 1.5),
        ("Sales ops / RevOps", "Alpha", 1.0, -1.5),
    ]
    cells, text = spec["layer"]
    assert cells["mark"]["type"] == "rect"
    assert cells["encoding"]["color"]["field"] == "gap"
    assert cells["encoding"]["color"]["scale"]["domain"] == [-2.0, 2.0]
    assert text["encoding"]["text"]["field"] == "label"
    assert [r["label"] for r in rows] == ["4.0", "1.0"]
    assert "name" not in str(rows)  # aggregates only: no participant names reach the chart


def test_perception_gap_chart_stars_a_mean_resting_on_few_ratings() -> None:
    # Three people, four statements: 3 of 12 possible ratings is thin, 6 of 12 is not.
    gaps = [GapCell("sales", "a", 2.0, -1.0, 3, answers=3, possible=12),
            GapCell("marketing", "a", 4.0, 1.0, 3, answers=6, possible=12)]
    rows = _values(charts.perception_gap_chart(gaps, {"a": "Alpha"}).to_dict())
    assert [(r["label"], r["ratings"]) for r in rows] == [("2.0*", "3 of 12"), ("4.0", "6 of 12")]


def test_leadership_fit_chart_adds_the_whole_room_row() -> None:
    roles = [
        RoleResult("sales", 2, None, {"tsar": 60.0, "federation": 50.0}),
        RoleResult("marketing", 1, None, {}),
    ]
    spec = charts.leadership_fit_chart(
        roles, {"tsar": 55.0, "federation": 55.04}, {"tsar": "Tsar"}
    ).to_dict()
    rows = _values(spec)
    assert [(r["group"], r["model"], r["fit"]) for r in rows] == [
        ("Sales team", "Tsar", 60.0),
        ("Sales team", "federation", 50.0),
        ("Whole room", "Tsar", 55.0),
        ("Whole room", "federation", 55.0),
    ]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [0, 100]


def test_empty_inputs_give_empty_but_valid_charts() -> None:
    assert _values(charts.responses_chart({}).to_dict()) == []
    assert _values(charts.dimension_chart([]).to_dict()) == []
    assert _values(charts.perception_gap_chart([], {}).to_dict()) == []
    assert _values(charts.leadership_fit_chart([], {}, {}).to_dict()) == []


def test_every_chart_describes_its_aggregates_for_screen_readers() -> None:
    assert charts.responses_chart({"marketing": 2, "sales": 3}).to_dict()["description"] == (
        "Responses by role: Sales team 3; Marketing 2.")
    dims = [DimensionStat("a", "Alpha", 4.5, 1.0, 3, 2.0),
            DimensionStat("c", "Gamma", None, None, 0, None)]
    assert charts.dimension_chart(dims).to_dict()["description"] == (
        "Team mean by dimension on the 1–5 scale, ± spread: Alpha 4.5 ± 1.0.")
    gaps = [GapCell("sales", "a", 3.5, 0.5, 3), GapCell("sales_ops", "a", 1.0, -2.0, 3)]
    assert charts.perception_gap_chart(gaps, {"a": "Alpha"}).to_dict()["description"] == (
        "Each role's mean by dimension against the room, widest gaps first: Sales ops / RevOps "
        "on Alpha 1.0 (-2.0 to the room); Sales team on Alpha 3.5 (+0.5 to the room).")
    roles = [RoleResult("sales", 3, None, {"tsar": 60.0, "federation": 50.0})]
    spec = charts.leadership_fit_chart(roles, {"tsar": 55.0}, {"tsar": "Tsar"}).to_dict()
    assert spec["description"] == ("Mean leadership-model fit out of 100 by group: Sales team: "
                                   "Tsar 60, federation 50; Whole room: Tsar 55.")
    empty = charts.responses_chart({}).to_dict()
    assert empty["description"] == "Responses by role: none."


# Vega's "redblue" and "greens" schemes run through these stops (d3-scale-chromatic's RdBu and
# Greens); between two stops the colour is taken as their linear blend.
REDBLUE = ["#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0",
           "#92c5de", "#4393c3", "#2166ac", "#053061"]
GREENS = ["#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45",
          "#006d2c", "#00441b"]


def _blend(stops: list[str], t: float) -> str:
    n = len(stops) - 1
    i = min(int(t * n), n - 1)
    share = t * n - i
    low, high = ([int(c[k:k + 2], 16) for k in (1, 3, 5)] for c in (stops[i], stops[i + 1]))
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high,
                                                                             strict=True))


def test_heatmap_text_stays_readable_on_every_cell_colour() -> None:
    gap_low, gap_high = charts.WHITE_TEXT_GAP
    for step in range(401):
        gap = -2 + step / 100
        white = gap <= gap_low or gap >= gap_high
        cell = _blend(REDBLUE, (gap + 2) / 4)
        assert contrast_ratio("#ffffff" if white else "#000000", cell) >= 4.5, (gap, cell)
    for fit in range(101):
        cell = _blend(GREENS, fit / 100)
        text = "#ffffff" if fit >= charts.WHITE_TEXT_FIT else "#000000"
        assert contrast_ratio(text, cell) >= 4.5, (fit, cell)
    gaps = [GapCell("sales", "a", 4.0, 1.5, 3), GapCell("finance", "a", 3.0, 0.2, 3)]
    text = charts.perception_gap_chart(gaps, {"a": "Alpha"}).to_dict()["layer"][1]
    assert text["encoding"]["color"]["condition"] == {
        "test": "datum.gap <= -1.32 || datum.gap >= 1.42", "value": "white"}
