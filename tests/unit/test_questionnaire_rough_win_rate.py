"""The questionnaire's coverage check on a win rate filled from few closed deals.

Below MIN_CLOSED closed deals (the planner's and the Funnel's small-sample rule) the check says
what the rate rests on and the range of outcomes its 95% range of rates allows, and gives no
verdict when that range lies on both sides of what a likely verdict needs. A win rate typed
without a count is taken as given. Page, answers file, share link, report and CLI agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.cli import score as score_cli
from diagnostics.cohorts import MIN_CLOSED, rough_rate_range
from diagnostics.dataset import StageConfig, build_dataset
from diagnostics.errors import DiagnosticsError
from diagnostics.planner import plan_reverse_funnel
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
from diagnostics.stats import wilson_interval

BANK = load_bank()
ALL_FIVE = {q.id: 5 for q in BANK.questions}
# 2 won of 5 closed: 40%, and any rate from about 12% to 77% fits (95%).
STRADDLE = {"target": 200_000.0, "closed_so_far": 0.0, "open_pipeline": 500_000.0,
            "win_rate": 0.4, "win_rate_closed_deals": 5.0}
SHORT = {**STRADDLE, "open_pipeline": 100_000.0}


def test_rough_rate_range_is_the_wilson_interval_below_min_closed_only() -> None:
    assert MIN_CLOSED == 20
    assert rough_rate_range(2, 5) == wilson_interval(2, 5)
    low, high = rough_rate_range(2, 5) or (0.0, 0.0)
    assert 0.11 < low < 0.12 and 0.76 < high < 0.77
    assert rough_rate_range(10, 20) is None  # enough closed deals
    assert rough_rate_range(0, 0) is None  # no closed deal: no range


def test_the_planner_keeps_its_range_through_the_shared_function() -> None:
    plan = plan_reverse_funnel(200_000, 10_000, ["Demo", "Won"], [0.4], pipeline=100_000,
                               win_rate=0.4, win_rate_basis=(2, 5))
    assert plan.win_rate_range == rough_rate_range(2, 5)
    assert plan.verdict.startswith("Unlikely (win rate from only 5 closed deals)")


def test_a_range_on_both_sides_of_the_target_gives_no_coverage_verdict() -> None:
    result = score_answers(BANK, ALL_FIVE, STRADDLE)
    coverage = result.checks[0]
    assert coverage.name == "coverage" and coverage.verdict is None and coverage.cannot_tell
    assert coverage.ratio == 1.0  # 500k × 40% covers the 200k at the rate itself...
    low, high = wilson_interval(2, 5)
    assert coverage.win_rate_range == (low, high)
    assert coverage.expected_range == (500_000 * low, 500_000 * high)
    assert coverage.win_rate_closed_deals == 5
    # ... but 58,810 to 384,638 lie either side of 200,000: the check does not decide.
    assert "from 12% to 77% (95% interval)" in coverage.detail
    assert "from 58,810 to 384,638, either side of the 200,000" in coverage.detail
    # Nor does the overall verdict read as the answers' "likely": the numbers cannot tell.
    assert result.verdict == "cannot_tell" and result.score_verdict == "likely"
    assert result.verdict_range == ("likely", "unlikely")
    assert result.decider == "the coverage check cannot tell on 5 closed deals"
    assert any(line.startswith("Coverage check (win rate from only 5 closed deals): cannot tell.")
               for line in result.rule_lines)
    # No action from a check that gives no verdict.
    assert all(a.source == "statement" for a in result.actions)


def test_a_range_short_of_the_target_keeps_the_verdict_and_says_it_is_rough() -> None:
    result = score_answers(BANK, ALL_FIVE, SHORT)
    coverage = result.checks[0]
    assert coverage.verdict == "unlikely" and not coverage.cannot_tell
    assert coverage.title == "Coverage check (win rate from only 5 closed deals)"
    assert coverage.detail.endswith(
        "Rough: the win rate rests on 5 closed deals, which fit any rate from 12% to 77% (95% "
        "interval), and the open pipeline would then bring from 11,762 to 76,928, short of the "
        "200,000 a likely verdict needs either way.")
    assert result.decided_by == "coverage"
    assert result.decider == "the coverage check (win rate from only 5 closed deals)"


def test_a_range_above_the_target_says_likely_either_way() -> None:
    numbers = {**STRADDLE, "open_pipeline": 2_000_000.0}  # 12% of 2M is 235k: above 200k
    coverage = score_answers(BANK, ALL_FIVE, numbers).checks[0]
    assert coverage.verdict == "likely" and "above the 200,000" in coverage.detail


@pytest.mark.parametrize("numbers", [
    {k: v for k, v in STRADDLE.items() if k != "win_rate_closed_deals"},  # typed: as given
    {**STRADDLE, "win_rate_closed_deals": 20.0, "win_rate": 0.4},  # enough closed deals
])
def test_a_typed_win_rate_or_enough_closed_deals_is_taken_as_it_is(numbers) -> None:
    result = score_answers(BANK, ALL_FIVE, numbers)
    coverage = result.checks[0]
    assert coverage.verdict == "likely" and coverage.title == "Coverage check"
    assert coverage.win_rate_range is None and "Rough" not in coverage.detail
    assert result.decided_by == "coverage" and "cannot tell" not in result.decider


def test_the_forecast_coverage_is_not_given_a_win_rate_range() -> None:
    numbers = {**STRADDLE, "expected_bookings": 250_000.0}
    coverage = score_answers(BANK, ALL_FIVE, numbers).checks[0]
    assert coverage.title == "Coverage check (forecast from your data)"
    assert coverage.win_rate_range is None


def test_the_count_must_be_a_whole_number() -> None:
    assert clean_numbers({"win_rate_closed_deals": 5})["win_rate_closed_deals"] == 5.0
    with pytest.raises(DiagnosticsError, match="whole number"):
        clean_numbers({"win_rate_closed_deals": 5.5})


def test_answers_file_and_share_link_carry_the_count_and_the_same_verdict() -> None:
    answers = Answers("cro", ALL_FIVE, STRADDLE)
    on_page = score_answers(BANK, ALL_FIVE, STRADDLE)
    from_file = parse_answers_file(json.loads(json.dumps(answers_to_dict(answers, BANK))), BANK)
    from_link = answers_from_query_params(answers_to_query_params(answers, BANK), BANK)
    assert from_link is not None
    assert "win_rate_closed_deals:5" in answers_to_query_params(answers, BANK)["myn_num"]
    for loaded in (from_file, from_link):
        again = score_answers(BANK, loaded.answers, loaded.numbers)
        assert again.to_dict() == on_page.to_dict()


def test_cli_score_json_says_what_the_page_says(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": ALL_FIVE, "numbers": STRADDLE}), encoding="utf-8")
    parser = argparse.ArgumentParser()
    score_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["score", str(path), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    coverage = out["checks"][0]
    assert coverage["verdict"] is None and coverage["cannot_tell"] is True
    assert coverage["win_rate_closed_deals"] == 5
    assert coverage["win_rate_range"] == list(wilson_interval(2, 5))
    assert coverage["title"] == "Coverage check (win rate from only 5 closed deals)"
    assert out["verdict"] == "cannot_tell" and out["score_verdict"] == "likely"
    assert out == score_answers(BANK, ALL_FIVE, STRADDLE).to_dict()


def test_the_report_says_what_the_page_says() -> None:
    result = score_answers(BANK, ALL_FIVE, STRADDLE)
    headline = result_headline(result)
    assert "the coverage check cannot tell on 5 closed deals" in headline.detail
    bullets = [b for s in result_sections(result) for b in s.bullets]
    assert any("either side of the 200,000" in b for b in bullets)
    page = build_report_html(result_sections(result), headline=headline)
    assert "cannot tell on 5 closed deals" in page and "from 12% to 77%" in page


def _six_closed() -> pd.DataFrame:
    day = dt.date(2026, 3, 31)
    return pd.DataFrame({
        "opp_id": [str(i) for i in range(1, 10)],
        "rep": ["ann", "ann", "bob", "bob", "cy", "cy", "ann", "bob", "cy"],
        "stage": ["Won", "Won", "Lost", "Lost", "Lost", "Lost", "Demo", "Demo", "Demo"],
        "amount": [100.0, 300.0, 200.0, 50.0, 80.0, 10.0, 1000.0, 2000.0, 3000.0],
        "created_date": [dt.date(2025, 10, 1)] * 9,
        "close_date": [dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 1, 20),
                       dt.date(2026, 2, 1), dt.date(2026, 3, 1), day, None, None, None],
    })


def test_fill_from_my_data_records_the_closed_deals_behind_the_win_rate() -> None:
    dataset = build_dataset(_six_closed(), StageConfig(funnel=("Demo",), won=("Won",),
                                                        lost=("Lost",)))
    numbers, sources = numbers_with_sources(dataset, 2_000.0)
    assert numbers["win_rate"] == 0.3333 and numbers["win_rate_closed_deals"] == 6.0
    assert "6 of them closed" in sources["win_rate"]
    # Without the forecast (cleared), coverage is pipeline × win rate: 2 of 6 fit 10% to 70%,
    # so 6,000 of pipeline brings 581 to 4,200 against the 2,000 target: no verdict.
    numbers.pop("expected_bookings")
    coverage = score_answers(BANK, ALL_FIVE, numbers).checks[0]
    assert coverage.cannot_tell and coverage.win_rate_closed_deals == 6
    assert "from 10% to 70% (95% interval)" in coverage.detail
    assert "either side of the 2,000 a likely verdict needs" in coverage.detail
    # The win rate's sentence stays while both numbers hold what was filled.
    kept = sources_still_filled(sources, dict(numbers), numbers)
    assert sources["win_rate"] in kept
