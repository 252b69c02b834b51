"""The questionnaire's coverage check on a forecast learned from few closed deals.

"Fill from my data" records the closed deals the forecast learned from. Below MIN_CLOSED (the
planner's and the Funnel's small-sample rule, through the same cohorts.rough_rate_range) the
check says so, gives the range of bookings the 95% range of their win rate allows, and gives no
verdict when that range lies on both sides of what a likely verdict needs. A forecast typed in
(no count) is taken as given. Page, answers file, share link, report and CLI agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.cli import score as score_cli
from diagnostics.cohorts import rough_rate_range
from diagnostics.dataset import Dataset, StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError
from diagnostics.forecast import forecast_bookings, load_deals, run_backtest
from diagnostics.questionnaire import (
    Answers,
    answers_from_query_params,
    answers_to_dict,
    answers_to_query_params,
    clean_numbers,
    load_bank,
    numbers_with_sources,
    parse_answers_file,
    score_answers,
    sources_still_filled,
)
from diagnostics.report import build_report_html, result_headline, result_sections

BANK = load_bank()
ALL_FIVE = {q.id: 5 for q in BANK.questions}
# 3 won of 8 closed: 38%, and any rate from 14% to 69% fits them (95%): what the forecast
# expects still to come (6,392) scales to 2,332 … 11,833.
FORECAST = {"target": 3_000.0, "closed_so_far": 0.0, "expected_bookings": 6_391.67,
            "p_target": 0.96, "forecast_closed_deals": 8.0, "forecast_won_deals": 3.0}
D = dt.date


def _few_deals() -> Dataset:
    """8 closed deals (3 won, in about 20 days) and 6 young open deals worth 1,000 each."""
    rows = [("Won", 1000.0, D(2026, 1, 1 + i), D(2026, 1, 21 + i)) for i in range(3)]
    rows += [("Lost", 1000.0, D(2026, 1, 5 + i), D(2026, 1, 25 + i)) for i in range(4)]
    rows += [("Demo", 1000.0, D(2026, 3, 20 + i), None) for i in range(6)]
    rows.append(("Lost", 10.0, D(2026, 3, 1), D(2026, 3, 31)))
    opps = pd.DataFrame({
        "opp_id": [str(i) for i in range(len(rows))], "rep": ["ann"] * len(rows),
        "stage": [r[0] for r in rows], "amount": [r[1] for r in rows],
        "created_date": [r[2] for r in rows], "close_date": [r[3] for r in rows]})
    return build_dataset(opps, StageConfig(funnel=("Demo",), won=("Won",), lost=("Lost",)))


def _ends(numbers: dict[str, float]) -> tuple[float, float]:
    low, high = rough_rate_range(3, 8) or (0.0, 0.0)
    to_come = numbers["expected_bookings"] - numbers["closed_so_far"]
    return (numbers["closed_so_far"] + to_come * low / 0.375,
            numbers["closed_so_far"] + to_come * high / 0.375)


def test_a_forecast_range_on_both_sides_of_the_target_gives_no_coverage_verdict() -> None:
    coverage = score_answers(BANK, ALL_FIVE, FORECAST).checks[0]
    assert coverage.verdict is None and coverage.cannot_tell and coverage.action is None
    assert coverage.title == "Coverage check (forecast from only 8 closed deals)"
    assert coverage.win_rate_closed_deals == 8
    assert coverage.win_rate_range == rough_rate_range(3, 8)
    assert coverage.expected_range == pytest.approx(_ends(FORECAST))
    assert coverage.detail.startswith("cannot tell. The forecast from your data expects 6,392")
    assert ("But the forecast learned from 8 closed deals (3 won), which fit any win rate from "
            "14% to 69% (95% interval), and at those rates it would expect from 2,332 to 11,833 "
            "by the period end, either side of the 3,000 a likely verdict needs, so this check "
            "gives no verdict.") in coverage.detail


def test_a_forecast_range_short_of_the_target_keeps_its_verdict_and_says_it_is_rough() -> None:
    result = score_answers(BANK, ALL_FIVE, {**FORECAST, "target": 20_000.0})
    coverage = result.checks[0]
    assert coverage.verdict == "unlikely" and not coverage.cannot_tell
    assert coverage.detail.endswith(
        "Rough: the forecast learned from 8 closed deals (3 won), which fit any win rate from "
        "14% to 69% (95% interval), and at those rates it would expect from 2,332 to 11,833 by "
        "the period end, short of the 20,000 a likely verdict needs either way.")
    assert result.decider == "the coverage check (forecast from only 8 closed deals)"


@pytest.mark.parametrize("numbers", [
    {k: v for k, v in FORECAST.items() if not k.startswith("forecast_")},  # typed: as given
    {**FORECAST, "forecast_closed_deals": 40.0, "forecast_won_deals": 15.0},  # enough deals
])
def test_a_typed_forecast_or_one_from_enough_deals_is_taken_as_it_is(numbers) -> None:
    coverage = score_answers(BANK, ALL_FIVE, numbers).checks[0]
    assert coverage.verdict == "likely" and not coverage.cannot_tell
    assert coverage.title == "Coverage check (forecast from your data)"
    assert coverage.win_rate_range is None and "Rough" not in coverage.detail
    said = "It learned from 40 closed deals." in coverage.detail
    assert said == ("forecast_closed_deals" in numbers)


def test_the_forecast_counts_are_whole_and_the_won_among_the_closed() -> None:
    with pytest.raises(DiagnosticsError, match="whole number"):
        clean_numbers({"forecast_closed_deals": 7.5})
    with pytest.raises(DiagnosticsError, match="more than the 8 closed deals"):
        clean_numbers({"forecast_closed_deals": 8, "forecast_won_deals": 9})


def test_fill_from_my_data_records_the_deals_the_forecast_learned_from() -> None:
    dataset = _few_deals()
    numbers, sources = numbers_with_sources(dataset, 3_000.0)
    assert numbers["forecast_closed_deals"] == 8.0 and numbers["forecast_won_deals"] == 3.0
    fc = forecast_bookings(dataset, 3_000.0, D(2026, 4, 1), D(2026, 6, 30))
    assert (fc.closed_deals, fc.won_deals) == (8, 3)
    assert numbers["expected_bookings"] == round(fc.expected_bookings, 2)
    # The sentence under the button: the forecast's range and what it rests on.
    assert (f"expected bookings 6,392 (P10 {fc.percentile(0.1):,.0f} – P90 "
            f"{fc.percentile(0.9):,.0f}) against a 3,000 target") in sources["forecast"]
    assert ("It learned from a win rate of 38% on only 8 closed deals (few deals: any rate "
            "from 14% to 69% fits them, 95% interval).") in sources["forecast"]
    result = score_answers(BANK, ALL_FIVE, numbers)
    assert result.checks[0].cannot_tell
    # The sentence stays while the forecast's numbers hold what was filled, and goes once its
    # expected bookings are typed over: it would describe a number no longer shown.
    assert sources["forecast"] in sources_still_filled(sources, numbers, numbers)
    typed = {k: v for k, v in numbers.items() if not k.startswith("forecast_")}
    typed["expected_bookings"] = 9_000.0
    assert sources["forecast"] not in sources_still_filled(sources, numbers, typed)
    assert sources["win_rate"] in sources_still_filled(sources, numbers, typed)


def test_forecast_json_says_what_it_learned_from() -> None:
    dataset = _few_deals()
    fc = forecast_bookings(dataset, 3_000.0, D(2026, 4, 1), D(2026, 6, 30))
    out = fc.to_json(run_backtest(load_deals(dataset), dataset.as_of))
    assert out["closed_deals"] == 8 and out["won_deals"] == 3


def test_answers_file_share_link_cli_and_report_say_what_the_page_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = Answers("cro", ALL_FIVE, FORECAST)
    on_page = score_answers(BANK, ALL_FIVE, FORECAST)
    link = answers_to_query_params(answers, BANK)
    assert "forecast_closed_deals:8~forecast_won_deals:3" in link["myn_num"]
    from_file = parse_answers_file(json.loads(json.dumps(answers_to_dict(answers, BANK))), BANK)
    from_link = answers_from_query_params(link, BANK)
    assert from_link is not None
    for loaded in (from_file, from_link):
        assert score_answers(BANK, loaded.answers, loaded.numbers).to_dict() == on_page.to_dict()
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": ALL_FIVE, "numbers": FORECAST}), encoding="utf-8")
    parser = argparse.ArgumentParser()
    score_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["score", str(path), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    coverage = out["checks"][0]
    assert coverage["cannot_tell"] is True and coverage["win_rate_closed_deals"] == 8
    assert coverage["expected_bookings_range"] == pytest.approx(list(_ends(FORECAST)))
    assert out == on_page.to_dict()
    page = build_report_html(result_sections(on_page), headline=result_headline(on_page))
    assert "forecast learned from 8 closed deals (3 won)" in page
