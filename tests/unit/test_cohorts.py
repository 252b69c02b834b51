"""Planning rates from cohorts that have had time to close, on hand-built datasets."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from diagnostics import cohorts as co
from diagnostics import funnel as fn
from diagnostics import planner as pl
from diagnostics import questionnaire as q
from diagnostics.dataset import Dataset, Filters, StageConfig, build_dataset

D = dt.date
AS_OF = D(2025, 6, 30)
STAGES = StageConfig(funnel=("Discovery", "Proposal"), won=("Won",), lost=("Lost",))


def _deal(i: int, stage: str, created: dt.date, closed: dt.date | None) -> dict[str, object]:
    return {"opp_id": f"O{i}", "rep": "Ana" if i % 2 else "Ben", "stage": stage,
            "amount": 1000.0, "created_date": created, "close_date": closed}


def _young_and_old() -> Dataset:
    """40 old deals (16 won in 60 days, 24 lost) and 40 deals created in June (10 lost, 30 open).

    Old: created 2 Jan – 10 Feb 2025. The 16 won took 60 days; 24 were lost after 20 days, half
    of them at Proposal. Young: created 1–20 June; 10 were lost at Discovery within 5 days and 30
    sit at Discovery. By hand: the 80th percentile of the won cycle is 60 days, so deals created
    by 1 May 2025 have had time to close.
    """
    rows = []
    for i in range(40):
        created = D(2025, 1, 2) + dt.timedelta(days=i)
        if i < 16:
            rows.append(_deal(i, "Won", created, created + dt.timedelta(days=60)))
        else:
            # Lost deals: the first 12 at Proposal (Lost, last stage Proposal), 12 at Discovery.
            rows.append(_deal(i, "Lost", created, created + dt.timedelta(days=20)))
    for i in range(40, 80):
        created = D(2025, 6, 1) + dt.timedelta(days=(i - 40) // 2)
        if i < 50:
            rows.append(_deal(i, "Lost", created, created + dt.timedelta(days=5)))
        else:
            rows.append(_deal(i, "Discovery", created, None))
    frame = pd.DataFrame(rows)
    # Where lost deals got to: old ones half at Proposal, young ones at Discovery.
    history = pd.DataFrame(
        [{"opp_id": f"O{i}", "stage": "Discovery", "entered_date": r["created_date"]}
         for i, r in enumerate(rows) if r["stage"] == "Lost"]
        + [{"opp_id": f"O{i}", "stage": "Proposal", "entered_date": rows[i]["created_date"]}
           for i in range(16, 28)])
    return build_dataset(frame, STAGES, stage_history=history, as_of=AS_OF)


def test_maturity_age_is_the_age_by_which_four_in_five_won_deals_were_won() -> None:
    assert co.maturity_days(_young_and_old(), Filters()) == 60


def test_a_young_period_takes_its_rates_from_every_older_deal() -> None:
    data = _young_and_old()
    june = Filters(start=D(2025, 6, 1), end=D(2025, 6, 30))
    naive = fn.headline_metrics(data, june)
    assert naive.win_rate == 0.0  # 0 won of 10 closed: what the young cohort reads today
    cohort = co.rate_cohort(data, june)
    assert (cohort.kind, cohort.cutoff) == ("matured", D(2025, 5, 1))
    assert cohort.filters == Filters(end=D(2025, 5, 1))
    assert (cohort.deals, cohort.closed, cohort.still_open) == (40, 40, 0)
    assert fn.headline_metrics(data, cohort.filters).win_rate == pytest.approx(16 / 40)
    text = cohort.sentence()
    assert "Deals created up to 01 May 2025: 40 deals, 40 of them closed" in text
    assert "too few deals created by 01 May 2025" in text


def test_the_whole_range_leaves_out_deals_too_young_to_have_closed() -> None:
    data = _young_and_old()
    naive, _ = fn.funnel_with_metrics(data, Filters())
    inputs = pl.plan_inputs_from_data(data, Filters())
    # Naive: 16 won of 50 closed (32%); 16 + 12 of 80 deals got past Discovery (35%).
    assert fn.headline_metrics(data, Filters()).win_rate == pytest.approx(16 / 50)
    assert naive.next_rates()[0] == pytest.approx(28 / 80)
    # Matured: 16 won of 40 (40%); 28 of 40 got past Discovery (70%): twice the naive rate.
    assert inputs.win_rate == pytest.approx(16 / 40)
    assert inputs.rates[0] == pytest.approx(28 / 40)
    assert inputs.rate_cohort is not None and inputs.rate_cohort.kind == "matured"
    assert "Deals created after 01 May 2025 are left out" in inputs.rates_caption()
    # Deal size and pipeline still come from the view shown: the 30 open deals are pipeline.
    assert inputs.pipeline == 30_000


def test_a_period_old_enough_is_used_as_it_is() -> None:
    data = _young_and_old()
    winter = Filters(start=D(2025, 1, 1), end=D(2025, 3, 31))
    cohort = co.rate_cohort(data, winter)
    assert (cohort.kind, cohort.filters, cohort.reason, cohort.enough) == (
        "matured", winter, None, True)


def test_too_few_closed_deals_anywhere_take_the_first_view_holding_some_and_say_so() -> None:
    data = _young_and_old()
    june = Filters(start=D(2025, 6, 1), end=D(2025, 6, 30))
    cohort = co.rate_cohort(data, june, min_closed=41)
    # Neither every matured deal (40 closed) nor the deals closed in June (10) reach 41: the
    # first view holding closed deals (every matured deal) is used, and flagged rough.
    assert (cohort.kind, cohort.closed, cohort.enough) == ("matured", 40, False)
    assert "Fewer than 41 closed deals: treat these rates as rough" in cohort.sentence()


def test_closed_in_period_stands_in_when_matured_deals_are_too_few() -> None:
    rows = [_deal(1, "Won", D(2025, 6, 1), D(2025, 6, 11))]
    rows += [_deal(i, "Lost", D(2025, 6, 21), D(2025, 6, 22)) for i in range(2, 5)]
    data = build_dataset(pd.DataFrame(rows), STAGES, as_of=AS_OF)
    cohort = co.rate_cohort(data, Filters(start=D(2025, 6, 15), end=D(2025, 6, 30)), 3)
    # Cut-off 20 June (10-day cycle): one matured deal in all, but 3 deals closed in the period.
    assert (cohort.kind, cohort.closed, cohort.enough) == ("closed", 3, True)
    assert cohort.filters == Filters(start=D(2025, 6, 15), end=D(2025, 6, 30), cohort="closed")
    assert "from Deals won or lost 15 Jun 2025 – 30 Jun 2025: 3 deals, 3 of them closed" in (
        cohort.sentence())
    assert "deals won or lost in the period stand in" in cohort.sentence()


def test_closed_in_period_stands_in_when_no_deal_is_old_enough() -> None:
    rows = [_deal(1, "Won", D(2025, 6, 1), D(2025, 6, 11)),
            _deal(2, "Lost", D(2025, 6, 2), D(2025, 6, 4)),
            _deal(3, "Discovery", D(2025, 6, 25), None)]
    data = build_dataset(pd.DataFrame(rows), STAGES, as_of=AS_OF)
    cohort = co.rate_cohort(data, Filters(start=D(2025, 6, 20), end=D(2025, 6, 30)))
    # Cut-off 20 June (10-day cycle): the period starts after it, every older deal is 2 closed
    # deals, and the closed-in-period view holds none; the older deals have the most.
    assert cohort.cutoff == D(2025, 6, 20)
    assert (cohort.kind, cohort.closed, cohort.enough) == ("matured", 2, False)


def test_without_a_won_cycle_the_closed_view_stands_in() -> None:
    rows = [_deal(1, "Lost", D(2025, 6, 1), D(2025, 6, 11)),
            _deal(2, "Discovery", D(2025, 6, 2), None)]
    data = build_dataset(pd.DataFrame(rows), STAGES, as_of=AS_OF)
    cohort = co.rate_cohort(data, Filters(), min_closed=1)
    assert (cohort.kind, cohort.filters.cohort, cohort.closed) == ("closed", "closed", 1)
    assert "how long deals take to close is unknown" in cohort.sentence()


def test_nothing_closed_keeps_the_view_shown_and_says_the_rates_will_move() -> None:
    rows = [_deal(1, "Discovery", D(2025, 6, 1), None)]
    data = build_dataset(pd.DataFrame(rows), STAGES, as_of=AS_OF)
    cohort = co.rate_cohort(data, Filters())
    assert (cohort.kind, cohort.filters, cohort.enough) == ("shown", Filters(), False)
    assert "will move as its deals close" in cohort.sentence()


def test_a_closed_in_period_view_is_used_as_it_is() -> None:
    data = _young_and_old()
    closed = Filters(cohort="closed")
    cohort = co.rate_cohort(data, closed)
    assert (cohort.kind, cohort.filters, cohort.closed, cohort.still_open) == (
        "closed", closed, 50, 0)
    assert "None is still open" in cohort.sentence()
    inputs = pl.plan_inputs_from_data(data, closed)
    assert inputs.win_rate == pytest.approx(16 / 50)


def test_a_closed_in_period_view_of_few_deals_is_said_to_be_rough() -> None:
    data = _young_and_old()
    # March 2025 closed the 16 won deals (60 days after 2–17 Jan) and the last 2 lost ones
    # (20 days after 9–10 Feb): 18 closed deals, fewer than 20.
    march = Filters(start=D(2025, 3, 1), end=D(2025, 3, 31), cohort="closed")
    cohort = co.rate_cohort(data, march)
    assert (cohort.kind, cohort.closed, cohort.enough) == ("closed", 18, False)
    assert cohort.sentence().endswith(
        "Fewer than 20 closed deals: treat these rates as rough and edit them if you know better.")
    assert co.rate_cohort(data, Filters(cohort="closed")).enough  # 50 closed


def test_category_filters_carry_over_to_the_rate_cohort() -> None:
    data = _young_and_old()
    cohort = co.rate_cohort(data, Filters(rep=("Ana",)))
    assert cohort.filters == Filters(end=D(2025, 5, 1), rep=("Ana",))
    assert cohort.deals == 20


def test_fill_from_data_takes_the_matured_win_rate_and_names_its_deals() -> None:
    data = _young_and_old()
    assert q.numbers_from_dataset(data)["win_rate"] == pytest.approx(0.4)
    assert q.numbers_source(data).startswith("Win rate from Deals created up to 01 May 2025: "
                                             "40 deals, 40 of them closed")
