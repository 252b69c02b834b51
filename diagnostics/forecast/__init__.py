"""The forecast: the odds of making the number, learned from the company's own closed deals.

Closed deals teach, per stage, the share that were won and how long they took from entering the
stage to closing; each open deal then brings its amount times its chance of being won by the
period end, new pipeline adds the recent creation rate times the chance a new deal is won in
time, and the range comes from which deals close. :func:`run_backtest` reruns the same model as
of the middle of past quarters to show how good it has been.
"""

from __future__ import annotations

from diagnostics.forecast._backtest import Backtest, BacktestPoint, quarter_of, run_backtest
from diagnostics.forecast._deals import Deals, Evidence, load_deals
from diagnostics.forecast._distribution import Distribution, bookings_distribution
from diagnostics.forecast._forecast import (
    DealLine,
    Forecast,
    ForecastCheck,
    Lever,
    StageLine,
    deals_frame,
    default_period,
    forecast_bookings,
    forecast_check,
    method_explained,
    suggested_target,
)

__all__ = [
    "Backtest",
    "BacktestPoint",
    "DealLine",
    "Deals",
    "Distribution",
    "Evidence",
    "Forecast",
    "ForecastCheck",
    "Lever",
    "StageLine",
    "bookings_distribution",
    "deals_frame",
    "default_period",
    "forecast_bookings",
    "forecast_check",
    "load_deals",
    "method_explained",
    "quarter_of",
    "run_backtest",
    "suggested_target",
]
