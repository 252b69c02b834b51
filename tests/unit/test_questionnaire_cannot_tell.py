"""The overall verdict when a numbers check cannot tell (a win rate or forecast from few deals).

The check's range of outcomes is weighed at both ends: when the verdict would differ, it is
"cannot tell" (with the verdicts the range allows, and what the answers alone say, which the
numbers cannot confirm); when it would be the same either way, that verdict stands. The page,
the report, the answers file, the share link, ``score --json`` and the workshop say the same.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from diagnostics import workshop as ws
from diagnostics.cli import score as score_cli
from diagnostics.questionnaire import (
    Answers,
    answers_from_query_params,
    answers_to_query_params,
    load_bank,
    score_answers,
)
from diagnostics.report import build_report_html, result_headline, result_sections

BANK = load_bank()
ALL = {level: {q.id: level for q in BANK.questions} for level in (1, 2, 3, 4, 5)}
# 2 won of 5 closed fit 12% to 77%: 500k of pipeline brings 59k (unlikely) to 385k (likely).
STRADDLE = {"target": 200_000.0, "closed_so_far": 0.0, "open_pipeline": 500_000.0,
            "win_rate": 0.4, "win_rate_closed_deals": 5.0}
# 10 won of 19 closed fit 32% to 73%: 550k brings 174k (at risk: 87%) to 400k (likely).
NARROW = {**STRADDLE, "open_pipeline": 550_000.0, "win_rate": 10 / 19,
          "win_rate_closed_deals": 19.0}


def test_strong_answers_beside_a_check_that_cannot_tell_are_not_read_as_likely() -> None:
    result = score_answers(BANK, ALL[5], STRADDLE)
    assert result.checks[0].cannot_tell
    assert result.checks[0].verdict_range == ("unlikely", "likely")  # low end, high end
    assert result.verdict == "cannot_tell" and result.verdict_label == "Cannot tell"
    assert result.verdict_range == ("likely", "unlikely") and result.score_verdict == "likely"
    assert result.title == "Cannot tell: likely, at risk or unlikely to make the number"
    assert result.decided_text == ("the coverage check cannot tell on 5 closed deals; the "
                                   "answers alone say likely, which the numbers cannot confirm")
    assert result.rule_lines[-1] == (
        "Verdict: Cannot tell. The coverage check cannot tell on 5 closed deals: at the low end "
        "of its range the verdict would be unlikely, at the high end likely. The answers alone "
        "say likely, which the numbers can neither confirm nor rule out.")
    # Nor does the band beside it say "the number is a managed outcome".
    assert result.band_label == "Solid"
    assert ("Band: Solid, not Strong as the score alone would read, since the numbers cannot "
            "tell whether the number is made.") in result.rule_lines


def test_a_range_that_only_spans_likely_and_at_risk_says_so() -> None:
    result = score_answers(BANK, ALL[5], NARROW)
    assert result.checks[0].verdict_range == ("at_risk", "likely")
    assert result.title == "Cannot tell: likely or at risk to make the number"


def test_a_verdict_the_same_at_either_end_of_the_range_stands() -> None:
    # The answers say at risk: at risk at the low end, likely lowered one step at the high end.
    result = score_answers(BANK, ALL[3], NARROW)
    assert result.verdict == "at_risk" and result.verdict_range is None
    assert result.title == "At risk to make the number"
    assert result.decided_text == ("decided by the score; the coverage check cannot tell on 19 "
                                   "closed deals")
    assert result.rule_lines[-1].endswith(
        "the coverage check cannot tell on 19 closed deals, but at either end of its range the "
        "verdict would be at risk.")


def test_a_check_that_settles_it_anyway_decides() -> None:
    # Capacity of 1 rep × 1 deal × 1 month × 10k against 200k: unlikely whatever coverage finds.
    numbers = {**STRADDLE, "ramped_reps": 1.0, "deals_per_rep_month": 1.0,
               "average_deal_size": 10_000.0, "months_left": 1.0}
    result = score_answers(BANK, ALL[5], numbers)
    assert result.verdict == "unlikely" and result.decided_by == "capacity"
    assert result.title == "Unlikely to make the number"
    assert "but at either end of its range the verdict would be unlikely" in result.rule_lines[-1]


def test_a_forecast_from_few_deals_that_cannot_tell_leaves_no_verdict_either() -> None:
    numbers = {"target": 3_000.0, "closed_so_far": 0.0, "expected_bookings": 6_391.67,
               "p_target": 0.96, "forecast_closed_deals": 8.0, "forecast_won_deals": 3.0}
    result = score_answers(BANK, ALL[5], numbers)
    assert result.verdict == "cannot_tell"
    assert result.decided_text.startswith("the coverage check cannot tell on 8 closed deals;")


def test_report_link_file_cli_and_workshop_say_what_the_page_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = score_answers(BANK, ALL[5], STRADDLE)
    headline = result_headline(result)
    assert headline.text == result.title and headline.colour == "#5F6B7A"
    assert headline.detail == f"Score 100/100 (Solid) · {result.decided_text}"
    page = build_report_html(result_sections(result), headline=headline)
    assert "Cannot tell: likely, at risk or unlikely to make the number" in page
    assert "Likely to make the number" not in page
    link = answers_from_query_params(
        answers_to_query_params(Answers("cro", ALL[5], STRADDLE), BANK), BANK)
    assert link is not None
    assert score_answers(BANK, link.answers, link.numbers).to_dict() == result.to_dict()
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": ALL[5], "numbers": STRADDLE}), encoding="utf-8")
    parser = argparse.ArgumentParser()
    score_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["score", str(path), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "cannot_tell" and out["verdict_range"] == ["likely", "unlikely"]
    assert out["score_verdict"] == "likely" and out["checks"][0]["verdict_range"] == [
        "unlikely", "likely"]
    assert out == result.to_dict()
    team = ws.load_content().score(ALL[5], STRADDLE)
    assert (team.verdict, team.label) == ("cannot_tell", "Cannot tell")


def test_the_workshop_team_verdict_says_the_numbers_cannot_tell(tmp_path: Path) -> None:
    from diagnostics.workshop_store import DuckDBStore

    store = DuckDBStore(tmp_path / "ws.duckdb")
    try:
        content = ws.load_content()
        created = ws.create_workshop(store, "Acme", "K", [ws.MAKE_YOUR_NUMBER])
        for name in ("Ann", "Bob", "Cy"):
            joined = ws.join_workshop(store, created.code, name, "sales")
            for statement in content.statements:
                ws.answer(store, content, created.code, joined.token, statement.id, 5)
        summary = ws.summarise(store, content, created.code, created.key, numbers=STRADDLE)
    finally:
        store.close()
    assert summary.verdict is not None and summary.verdict.label == "Cannot tell"
    assert ("No verdict: the coverage check cannot tell on 5 closed deals; the answers alone "
            "say likely, which the numbers cannot confirm.") in summary.verdict_notes
    assert summary.to_json()["verdict"]["title"] == (
        "Cannot tell: likely, at risk or unlikely to make the number")
    page = ws.report_html(summary, content)
    assert "Cannot tell: likely, at risk or unlikely to make the number" in page
    assert "Cannot tell to make the number" not in page
