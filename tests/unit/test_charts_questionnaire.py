"""The dimension chart of a make-your-number result (spec checked through to_dict)."""

from __future__ import annotations

import json

import altair as alt
import pytest

from diagnostics.charts.questionnaire import (
    dimension_chart,
    dimension_chart_spec,
    dimension_frame,
    dimension_scores_text,
)
from diagnostics.questionnaire import load_bank, score_answers


def _result(answers=None):
    bank = load_bank()
    return bank, score_answers(bank, answers or {q.id: 4 for q in bank.questions})


def test_frame_has_one_row_per_answered_dimension_and_marks_the_constraint() -> None:
    bank = load_bank()
    planning = {q.id for q in bank.questions_of("planning")}
    tools = {q.id for q in bank.questions_of("tools_data")}
    answers = {q.id: (2 if q.id in planning else 4) for q in bank.questions if q.id not in tools}
    result = score_answers(bank, answers)
    frame = dimension_frame(result)
    assert len(frame) == len(bank.dimensions) - 1  # tools_data has no answer, so no bar
    binding = frame[frame["is_binding"]]
    assert binding["dimension"].tolist() == ["Planning and forecasting"]
    assert binding["score"].tolist() == [25.0]
    assert set(frame["score"]) == {25.0, 75.0}


def test_chart_spec() -> None:
    _, result = _result()
    spec = dimension_chart(result, 70, 45).to_dict()
    bars, rules = spec["layer"]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["x"]["field"] == "score"
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 100]
    assert bars["encoding"]["color"]["condition"]["test"] == "datum.is_binding"
    data = next(iter(spec["datasets"].values()))
    assert len(data) == 8 and {row["score"] for row in data} == {75.0}
    assert rules["mark"]["type"] == "rule"
    thresholds = spec["datasets"][rules["data"]["name"]]
    assert [t["value"] for t in thresholds] == [45, 70]


def test_chart_without_thresholds_has_only_bars() -> None:
    _, result = _result()
    spec = dimension_chart(result).to_dict()
    assert len(spec["layer"]) == 1
    assert spec["height"] == {"step": 32}  # grows with the bars drawn
    assert "thresholds" not in spec["description"]


def test_scores_text_says_every_score_and_the_constraint_in_words() -> None:
    bank = load_bank()
    planning = {q.id for q in bank.questions_of("planning")}
    result = score_answers(bank, {q.id: (2 if q.id in planning else 4) for q in bank.questions})
    described = dimension_scores_text(result, 70, 45)
    assert described.startswith("Dimension scores out of 100: ")
    assert "Planning and forecasting 25 (binding constraint)" in described
    assert described.count(" 75") == len(bank.dimensions) - 1
    assert described.endswith("Verdict thresholds: unlikely below 45; likely from 70.")


def test_chart_encodings_pin_every_field_and_type() -> None:
    _, result = _result()
    bars, rules = dimension_chart(result, 70, 45).to_dict()["layer"]
    enc = bars["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"], enc["x"]["title"]) == (
        "score", "quantitative", "Score out of 100")
    assert (enc["y"]["field"], enc["y"]["type"], enc["y"]["title"]) == (
        "dimension", "nominal", None)
    assert enc["y"]["sort"] == [d.name for d in result.dimensions]
    assert enc["y"]["axis"] == {"labelLimit": 320}
    assert enc["color"]["value"] != enc["color"]["condition"]["value"]
    assert [(t["field"], t["type"], t.get("title")) for t in enc["tooltip"]] == [
        ("dimension", "nominal", "Dimension"), ("score", "quantitative", "Score"),
        ("weight", "quantitative", "Weight"), ("answered", "nominal", "Answered")]
    assert enc["tooltip"][1]["format"] == ".1~f"
    assert rules["encoding"]["x"] == {"field": "value", "type": "quantitative"}
    assert [(t["field"], t["type"]) for t in rules["encoding"]["tooltip"]] == [
        ("label", "nominal"), ("value", "quantitative")]
    assert rules["mark"]["strokeDash"] == [4, 3]


def _inline(spec: dict) -> dict:
    """The spec with each layer's data written out in place of the dataset names."""
    datasets = spec.pop("datasets")
    if "data" in spec:  # one layer: its data sits on the chart
        spec["data"] = datasets[spec["data"]["name"]]
        return spec
    spec["layer"] = [{**layer, "data": datasets[layer["data"]["name"]]} for layer in spec["layer"]]
    return spec


@pytest.mark.parametrize(("likely", "unlikely"), [(70, 45), (None, None), (65.5, None)])
@pytest.mark.parametrize("planning", [2, None])
def test_spec_without_altair_equals_the_altair_chart(likely, unlikely, planning) -> None:
    bank = load_bank()
    weak = {q.id for q in bank.questions_of("planning")}
    answers = {q.id: ((planning if planning is not None else None) if q.id in weak else 4)
               for q in bank.questions}
    result = score_answers(bank, {k: v for k, v in answers.items() if v is not None})
    expected = dimension_chart(result, likely, unlikely).to_dict()
    spec = dimension_chart_spec(result, likely, unlikely)
    assert json.loads(json.dumps(spec)) == spec  # plain JSON: nothing left to convert
    assert _inline(spec) == _inline(expected)


def test_spec_is_valid_vega_lite_and_each_call_gets_its_own_copy() -> None:
    _, result = _result()
    spec = dimension_chart_spec(result, 70, 45)
    alt.LayerChart.from_dict(spec)  # validates against the Vega-Lite schema, raises if not
    spec["layer"][0]["encoding"]["y"]["sort"].clear()
    assert dimension_chart_spec(result, 70, 45)["layer"][0]["encoding"]["y"]["sort"]


def test_two_results_of_one_bank_differ_only_in_their_data() -> None:
    """The browser swaps the data of a drawn chart in place when nothing else changed."""
    bank = load_bank()
    one = score_answers(bank, {bank.questions[0].id: 5})
    every = score_answers(bank, {q.id: 2 for q in bank.questions})
    a, b = dimension_chart_spec(one, 70, 45), dimension_chart_spec(every, 70, 45)
    assert len(a["datasets"]["scores"]) == 1 and len(b["datasets"]["scores"]) == 8
    a.pop("datasets"), b.pop("datasets")
    assert a == b
    assert "Planning" not in a["description"]  # no score in the description: it stays put
