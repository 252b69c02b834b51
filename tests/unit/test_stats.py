"""Wilson intervals, beta-binomial shrinkage, funnel-plot limits and working days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnostics import stats


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17: 857-872, Table I, method 3 (score interval without continuity correction).
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0000),
    ],
)
def test_wilson_matches_published_examples(
    successes: int, trials: int, low: float, high: float
) -> None:
    lo, hi = stats.wilson_interval(successes, trials, 0.95)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_without_trials_is_unknown() -> None:
    assert stats.wilson_interval(0, 0) == (None, None)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        stats.wilson_interval(3, 2)


def test_wider_confidence_gives_wider_interval() -> None:
    lo95, hi95 = stats.wilson_interval(5, 12, 0.95)
    lo99, hi99 = stats.wilson_interval(5, 12, 0.99)
    assert lo95 is not None and hi95 is not None and lo99 is not None and hi99 is not None
    assert lo99 < lo95 and hi99 > hi95


@pytest.mark.parametrize(
    ("confidence", "z"), [(0.95, 1.959964), (0.998, 3.090232), (0.5, 0.674490)]
)
def test_z_for(confidence: float, z: float) -> None:
    assert stats.z_for(confidence) == pytest.approx(z, abs=1e-6)


# Šidák: c ** (1/k). 0.95 ** (1/7) = exp(ln 0.95 / 7) = exp(-0.0073277) = 0.992699; its
# two-sided z is 2.6828 (the 0.99635 quantile; tables: P(Z > 2.68) = 0.00368, P(Z > 2.69) =
# 0.00357), against 1.96 for a single comparison.
@pytest.mark.parametrize(
    ("comparisons", "each", "z"),
    [(0, 0.95, 1.959964), (1, 0.95, 1.959964), (2, 0.974679, 2.236477),
     (7, 0.992699, 2.682801), (38, 0.998651, 3.205365)],
)
def test_sidak_confidence(comparisons: int, each: float, z: float) -> None:
    confidence = stats.sidak_confidence(0.95, comparisons)
    assert confidence == pytest.approx(each, abs=1e-6)
    assert stats.z_for(confidence) == pytest.approx(z, abs=1e-5)
    # All k hold together with the confidence asked for, when the tests are independent.
    assert confidence ** max(1, comparisons) == pytest.approx(0.95)


def test_sidak_rejects_a_confidence_outside_0_1() -> None:
    with pytest.raises(ValueError):
        stats.sidak_confidence(1.0, 3)


@given(st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
))
def test_wilson_bounds_contain_the_ratio(pair: tuple[int, int]) -> None:
    s, n = pair
    lo, hi = stats.wilson_interval(s, n)
    assert lo is not None and hi is not None
    assert 0.0 <= lo <= s / n <= hi <= 1.0


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (dt.date(2026, 1, 5), dt.date(2026, 1, 9), 5),  # Monday to Friday
        (dt.date(2026, 1, 5), dt.date(2026, 1, 11), 5),  # the weekend adds nothing
        (dt.date(2026, 1, 10), dt.date(2026, 1, 11), 0),  # Saturday and Sunday only
        (dt.date(2026, 1, 9), dt.date(2026, 1, 12), 2),  # Friday and Monday
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31), 22),  # January 2026
        (dt.date(2026, 1, 7), dt.date(2026, 1, 7), 1),
        (dt.date(2026, 1, 8), dt.date(2026, 1, 7), 0),  # end before start
    ],
)
def test_working_days(start: dt.date, end: dt.date, days: int) -> None:
    assert stats.working_days(start, end) == days


def test_prior_mean_is_the_pooled_team_rate() -> None:
    prior = stats.fit_beta_prior([2, 8, 5], [10, 10, 10])
    assert prior is not None
    assert prior.mean == pytest.approx(15 / 30)
    # Rates 0.2, 0.8, 0.5: variance 0.09 against binomial noise 0.25/10 = 0.025, so the spread
    # between reps is 0.065 and the prior weighs 0.25/0.065 - 1 = 2.846 deals.
    assert prior.strength == pytest.approx(0.25 / 0.065 - 1)


def test_prior_is_strong_when_reps_differ_by_chance_only() -> None:
    prior = stats.fit_beta_prior([5, 5, 5], [10, 10, 10])
    assert prior is not None
    assert prior.strength == stats.MAX_PRIOR_STRENGTH
    assert stats.shrink(5, 10, prior) == pytest.approx(0.5)


def test_no_prior_without_closed_deals() -> None:
    assert stats.fit_beta_prior([0, 0], [0, 0]) is None
    assert stats.shrink(1, 2, None) is None


def test_shrink_hand_checked() -> None:
    prior = stats.BetaPrior(alpha=3.0, beta=7.0)  # team rate 0.3, weight 10 deals
    assert stats.shrink(8, 10, prior) == pytest.approx((8 + 3) / (10 + 10))
    assert stats.shrink(0, 0, prior) == pytest.approx(0.3)


@given(
    st.lists(
        st.integers(min_value=0, max_value=60).flatmap(
            lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
        ),
        min_size=1,
        max_size=40,
    )
)
def test_shrinkage_moves_toward_team_rate_and_never_past(pairs: list[tuple[int, int]]) -> None:
    prior = stats.fit_beta_prior([s for s, _ in pairs], [n for _, n in pairs])
    if all(n == 0 for _, n in pairs):
        assert prior is None
        return
    assert prior is not None
    team = prior.mean
    for s, n in pairs:
        if n == 0:
            continue
        own = s / n
        value = stats.shrink(s, n, prior)
        assert value is not None
        assert min(own, team) - 1e-12 <= value <= max(own, team) + 1e-12
        assert abs(value - team) <= abs(own - team) + 1e-12


def test_funnel_limits_hand_checked() -> None:
    (lo, hi), = stats.funnel_limits(0.25, [100], 0.95)
    half = 1.959964 * (0.25 * 0.75 / 100) ** 0.5
    assert lo == pytest.approx(0.25 - half, abs=1e-6)
    assert hi == pytest.approx(0.25 + half, abs=1e-6)


def test_funnel_limits_narrow_with_volume_and_stay_in_range() -> None:
    limits = stats.funnel_limits(0.1, [1, 5, 50, 500], 0.998)
    widths = [hi - lo for lo, hi in limits]
    assert widths == sorted(widths, reverse=True)
    assert all(0.0 <= lo <= 0.1 <= hi <= 1.0 for lo, hi in limits)
    with pytest.raises(ValueError):
        stats.funnel_limits(0.1, [0], 0.95)


@pytest.mark.parametrize(
    ("successes", "trials", "line", "side"),
    [
        # Limits around 30% on 20 trials: 30% ± 1.96·√(0.21/20) = 9.92%–50.08%.
        (2, 20, 0.3, 0),    # 10% is just inside
        (1, 20, 0.3, -1),   # 5% is below
        (11, 20, 0.3, 1),   # 55% is above
        (6, 20, 0.3, 0),    # on the line
        (0, 0, 0.3, 0),     # no trials: nothing to say
    ],
)
def test_side_of_line_matches_wilson(successes: int, trials: int, line: float, side: int) -> None:
    assert stats.side_of_line(successes, trials, line, 0.95) == side
    low, high = stats.wilson_interval(successes, trials, 0.95)
    if trials:
        assert low is not None and high is not None
        # The same test as the Wilson interval: the line lies outside it exactly when side != 0.
        assert (side == -1) == (high < line) and (side == 1) == (low > line)


@pytest.mark.parametrize(
    ("rate", "line", "trials", "more"),
    [
        (0.1, 0.3, 20, 1),      # n > 1.96² × 0.21 / 0.04 = 20.17 → 21 trials
        (0.1, 0.3, 21, 0),      # already settled
        (0.3, 0.3, 20, None),   # on the line: never
        (0.35, 0.3, 10, 313),   # n > 1.96² × 0.21 / 0.0025 = 322.7 → 323
    ],
)
def test_trials_to_settle(rate: float, line: float, trials: int, more: int | None) -> None:
    assert stats.trials_to_settle(rate, line, trials, 0.95) == more
