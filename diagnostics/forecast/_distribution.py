"""The spread of bookings: which open deals close, and how much new pipeline is won.

Each open deal is a coin with its own chance and amount; new pipeline is a Poisson number of
won deals whose amounts are drawn from past won deals. The sum is computed on an amount grid,
exactly for the deals that move the total most (a Poisson-binomial convolution) and with a
normal curve for the many small ones left, whose sum the central limit theorem describes well;
Fourier transforms add the parts. No random draws: the same data gives the same range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from diagnostics.dataset import MAX_AMOUNT
from diagnostics.forecast._deals import FloatArray

GRID = 4096
# The deals with the largest spread (amount² · p · (1 − p)) convolved exactly, one by one.
EXACT_DEALS = 500
_SPAN_SDS = 8.0


@dataclass(frozen=True)
class Distribution:
    """A probability for each amount on an evenly spaced grid (amounts ascending)."""

    values: FloatArray
    probabilities: FloatArray

    def quantile(self, q: float) -> float:
        """Return the smallest amount whose cumulative probability reaches ``q``."""
        cdf = np.cumsum(self.probabilities)
        i = int(np.searchsorted(cdf, q - 1e-12, side="left"))
        return float(self.values[min(i, self.values.size - 1)])

    def probability_at_least(self, amount: float) -> float:
        """Return P(total ≥ amount) (grid points within half a step count as reaching it)."""
        step = float(self.values[1] - self.values[0]) if self.values.size > 1 else 0.0
        first = int(np.searchsorted(self.values, amount - step / 2 - 1e-9 * max(abs(amount), 1)))
        if first >= self.values.size:
            return 0.0
        tail = np.cumsum(self.probabilities[::-1])[::-1]  # never grows with the amount
        return float(min(max(tail[first], 0.0), 1.0))

    def shifted(self, amount: float) -> Distribution:
        """Return the distribution of (total + amount)."""
        return Distribution(self.values + amount, self.probabilities)

    def histogram(self, bins: int = 60) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return (lower edge, upper edge, probability) of ``bins`` bars over the likely range."""
        lo, hi = self.quantile(0.001), self.quantile(0.999)
        if hi <= lo:
            step = max(abs(lo) * 0.01, 1.0)
            return (np.array([lo - step / 2]), np.array([lo + step / 2]), np.array([1.0]))
        edges = np.linspace(lo, hi, bins + 1)
        which = np.clip(np.searchsorted(edges, self.values, side="right") - 1, 0, bins - 1)
        inside = (self.values >= lo) & (self.values <= hi)
        mass = np.bincount(which[inside], weights=self.probabilities[inside], minlength=bins)
        return edges[:-1], edges[1:], mass.astype(np.float64)


def point(amount: float) -> Distribution:
    """Return a distribution with all its mass on one amount."""
    return Distribution(np.array([amount]), np.array([1.0]))


def _normal_on_grid(mean: float, sd: float, step: float) -> FloatArray:
    """Return a normal curve's mass on the circular grid (index i holds amount i · step)."""
    out = np.zeros(GRID)
    centre = int(round(mean / step))
    if sd <= 0:
        out[centre % GRID] = 1.0
        return out
    reach = min(int(math.ceil(_SPAN_SDS * sd / step)) + 1, GRID // 2 - 1)
    offsets = np.arange(-reach, reach + 1)
    dist = NormalDist(mean, sd)
    edges = [(centre + k - 0.5) * step for k in range(-reach, reach + 2)]
    cdf = np.array([dist.cdf(x) for x in edges])
    np.add.at(out, (centre + offsets) % GRID, np.diff(cdf))
    normalised: FloatArray = out / out.sum()
    return normalised


def _check_finite(
    amounts: FloatArray, probabilities: FloatArray, new_wins: float, new_amounts: FloatArray
) -> None:
    for name, values in (("amounts", amounts), ("new_amounts", new_amounts)):
        if not bool((np.abs(values) <= MAX_AMOUNT).all()):
            raise ValueError(f"{name} must be finite and within ±{MAX_AMOUNT:g}")
    if not bool(np.isfinite(probabilities).all()) or not math.isfinite(new_wins):
        raise ValueError("probabilities and new_wins must be finite")


def bookings_distribution(
    amounts: FloatArray, probabilities: FloatArray, new_wins: float, new_amounts: FloatArray
) -> Distribution:
    """Return the distribution of the sum of won open deals and won new pipeline.

    ``amounts[i]`` is won with probability ``probabilities[i]``, independently; ``new_wins``
    is the expected number of new deals won, each worth one of ``new_amounts`` (equally likely).
    Deals with a zero or negative amount or chance add nothing.

    Raises ValueError on a value that is NaN, infinite or beyond ±``MAX_AMOUNT`` (a range
    cannot be computed from it): the caller leaves such deals out and says how many.
    """
    _check_finite(amounts, probabilities, new_wins, new_amounts)
    keep = (probabilities > 0) & (amounts > 0)
    a, q = amounts[keep], probabilities[keep]
    if new_amounts.size == 0:
        new_wins = 0.0
    new_mean = float(new_amounts.mean()) if new_wins else 0.0
    new_square = float((new_amounts**2).mean()) if new_wins else 0.0
    mean = float((a * q).sum()) + new_wins * new_mean
    sd = math.sqrt(float((a * a * q * (1 - q)).sum()) + new_wins * new_square)
    biggest = max(float(a.max(initial=0.0)), float(new_amounts.max(initial=0.0)) if new_wins else 0)
    if sd <= 0:
        return point(mean)
    lo = max(0.0, mean - _SPAN_SDS * sd - biggest)
    hi = mean + _SPAN_SDS * sd + biggest
    step = (hi - lo) / (GRID - 1)
    base = int(math.floor(lo / step))

    spread = a * a * q * (1 - q)
    order = np.argsort(-spread, kind="stable")
    exact, rest = order[:EXACT_DEALS], order[EXACT_DEALS:]
    pmf = np.zeros(GRID)
    pmf[0] = 1.0
    for amount, p in zip(a[exact].tolist(), q[exact].tolist(), strict=True):
        shift = int(round(amount / step)) % GRID
        moved = p * pmf
        pmf *= 1 - p
        pmf[shift:] += moved[: GRID - shift]  # circular shift by ``shift`` grid steps
        pmf[:shift] += moved[GRID - shift:]
    spectrum = np.fft.rfft(pmf)
    if rest.size:
        rest_mean = float((a[rest] * q[rest]).sum())
        rest_sd = math.sqrt(float((a[rest] ** 2 * q[rest] * (1 - q[rest])).sum()))
        spectrum = spectrum * np.fft.rfft(_normal_on_grid(rest_mean, rest_sd, step))
    if new_wins > 0:
        bins = np.rint(new_amounts / step).astype(np.int64) % GRID
        per_deal = np.bincount(bins, minlength=GRID) / new_amounts.size
        spectrum = spectrum * np.exp(new_wins * (np.fft.rfft(per_deal) - 1))
    circular = np.clip(np.fft.irfft(spectrum, n=GRID), 0.0, None)
    # Index i holds every amount ≡ i · step (mod GRID · step); the total lies in [lo, hi], so
    # reading the circle from ``base`` gives each amount once.
    ordered = np.roll(circular, -(base % GRID))
    ordered /= ordered.sum()
    values = (base + np.arange(GRID)) * step
    # Amounts were rounded to the grid: move the curve so that its mean is the exact one.
    return Distribution(values + (mean - float((values * ordered).sum())), ordered)
