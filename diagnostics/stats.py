"""Small-sample statistics for rates: Wilson intervals, beta-binomial shrinkage, funnel limits.

Also counts working days (Monday to Friday), the denominator of "activities per day".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "BetaPrior",
    "fit_beta_prior",
    "funnel_limits",
    "shrink",
    "side_of_line",
    "sidak_confidence",
    "trials_to_settle",
    "wilson_interval",
    "working_days",
    "z_for",
]

# The strongest prior we allow: when reps differ no more than chance predicts, every shrunk
# ratio sits (almost) on the team rate; an infinite prior would only add division trouble.
MAX_PRIOR_STRENGTH = 1e6


def z_for(confidence: float) -> float:
    """Return the two-sided standard normal quantile for ``confidence`` (0.95 → 1.95996...)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def sidak_confidence(confidence: float, comparisons: int) -> float:
    """Return the confidence each of ``comparisons`` tests needs for all to hold at ``confidence``.

    Šidák: confidence ** (1 / comparisons). When nothing differs, each test errs with chance
    1 - c, so all of them hold together with chance c ** comparisons = ``confidence``: exactly for
    independent tests, and at least that for two-sided tests of correlated normal statistics
    (Šidák 1967), such as reps tested against a shared line. 0.95 over 7 reps → 0.99270 each,
    two-sided z 2.68 instead of 1.96. Fewer than one comparison counts as one.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return float(confidence ** (1 / max(1, comparisons)))


def wilson_interval(
    successes: int, trials: int, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Return the Wilson score interval (low, high) for successes/trials; (None, None) if no trials.

    Wilson (1927): unlike the plain p ± z·se interval it stays inside [0, 1] and is not zero-width
    at 0/n or n/n, which matters for the small samples reps have.
    """
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return (None, None)
    z = z_for(confidence)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials)) / (1 + z2n)
    # Clamp rounding noise so that the bounds always contain the observed ratio.
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior fitted on the team; ``mean`` is the pooled team rate."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """Return the prior mean alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """Return alpha + beta: how many deals' worth of weight the team rate carries."""
        return self.alpha + self.beta


def fit_beta_prior(successes: Sequence[int], trials: Sequence[int]) -> BetaPrior | None:
    """Return a method-of-moments Beta prior for per-rep rates, or None when nobody has trials.

    The mean is the pooled rate Σs/Σn. The spread between reps is the variance of their rates less
    the part binomial noise explains (p(1-p) times the mean of 1/n); when noise explains it all,
    the prior gets :data:`MAX_PRIOR_STRENGTH` and shrinks everyone onto the team rate.
    """
    if len(successes) != len(trials):
        raise ValueError("successes and trials must have the same length")
    pairs = [(s, n) for s, n in zip(successes, trials, strict=True) if n > 0]
    if not pairs:
        return None
    total_s = sum(s for s, _ in pairs)
    total_n = sum(n for _, n in pairs)
    p = total_s / total_n
    if p in (0.0, 1.0) or len(pairs) < 2:
        strength = MAX_PRIOR_STRENGTH
    else:
        rates = [s / n for s, n in pairs]
        mean_rate = sum(rates) / len(rates)
        observed = sum((r - mean_rate) ** 2 for r in rates) / (len(rates) - 1)
        noise = p * (1 - p) * sum(1 / n for _, n in pairs) / len(pairs)
        between = observed - noise
        strength = MAX_PRIOR_STRENGTH if between <= 0 else p * (1 - p) / between - 1
        strength = min(max(strength, 1e-6), MAX_PRIOR_STRENGTH)
    return BetaPrior(alpha=p * strength, beta=(1 - p) * strength)


def shrink(successes: int, trials: int, prior: BetaPrior | None) -> float | None:
    """Return the posterior mean (s + alpha) / (n + alpha + beta); None without prior or trials.

    It is a weighted average of the rep's own rate and the team rate, so it always lies between
    the two: it moves toward the team and never past it.
    """
    if prior is None:
        return None
    if trials == 0:
        return prior.mean
    own = successes / trials
    weight = trials / (trials + prior.strength)
    # Written as a weighted average (not (s+a)/(n+a+b)) so float rounding cannot overshoot.
    value = weight * own + (1 - weight) * prior.mean
    lo, hi = min(own, prior.mean), max(own, prior.mean)
    return min(max(value, lo), hi)


def funnel_limits(
    rate: float, trials: Sequence[int], confidence: float
) -> list[tuple[float, float]]:
    """Return (low, high) control limits around ``rate`` for each sample size in ``trials``.

    Normal approximation to the binomial, rate ± z·sqrt(rate(1-rate)/n), clipped to [0, 1]: a
    rep outside the limits at ``confidence`` differs from ``rate`` by more than chance explains at
    that confidence (pass a :func:`sidak_confidence` when several reps are compared at once).
    """
    z = z_for(confidence)
    out: list[tuple[float, float]] = []
    for n in trials:
        if n <= 0:
            raise ValueError("sample sizes must be positive")
        half = z * math.sqrt(rate * (1 - rate) / n)
        out.append((max(0.0, rate - half), min(1.0, rate + half)))
    return out


def working_days(start: dt.date, end: dt.date) -> int:
    """Return the count of Monday–Friday days from ``start`` to ``end`` inclusive (0 if empty).

    Public holidays differ by country and are not removed.
    """
    if end < start:
        return 0
    return int(np.busday_count(start, end + dt.timedelta(days=1)))


def side_of_line(successes: int, trials: int, line: float, confidence: float) -> int:
    """Return -1 if the rate is clearly below ``line``, 1 if clearly above, 0 if it may sit on it.

    "Clearly" is the score test at ``confidence``: |rate - line| > z·sqrt(line(1-line)/n). That
    is exactly "the Wilson interval excludes the line", and exactly "outside the funnel plot's
    limits drawn around the line" (:func:`funnel_limits`), so a label and a plot built on this
    cannot contradict each other. No trials → 0.
    """
    if trials <= 0:
        return 0
    rate = successes / trials
    half = z_for(confidence) * math.sqrt(line * (1 - line) / trials)
    if rate < line - half:
        return -1
    if rate > line + half:
        return 1
    return 0


def trials_to_settle(rate: float, line: float, trials: int, confidence: float) -> int | None:
    """Return how many more trials at ``rate`` would put it clearly on one side of ``line``.

    The smallest k ≥ 1 with |rate - line| > z·sqrt(line(1-line)/(n + k)); None when the rate sits
    on the line (no number of trials settles it) and 0 when it is already settled.
    """
    gap = abs(rate - line)
    if gap == 0:
        return None
    z = z_for(confidence)
    needed = z * z * line * (1 - line) / (gap * gap)  # n must exceed this
    if trials > needed:
        return 0
    return max(1, math.floor(needed) + 1 - trials)
