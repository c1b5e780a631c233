"""How we project your next month from the last 90 days.

Per vendor, model class and token type: weekly averages since the source's first usage, a
Theil–Sen trend held within ±50% of the last four weeks, evaluated at the middle of the coming
month × 30.4375 days; the range comes from the 10th/90th percentiles of weekly deviations. The
public explanation of each step is templates/docs/includes/projection_method.html: change both
together.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

METHOD_VERSION = "weekly-theil-sen-v1"
HORIZON_DAYS = Decimal("30.4375")
PRELIMINARY_BELOW_DAYS = 7
MIN_TREND_WEEKS = 3
RECENT_WEEKS = 4
MAX_TREND_CHANGE = Decimal("0.5")

_ZERO = Decimal(0)
_SEVEN = Decimal(7)
# Fixed precision, whatever the global context: flat usage must come out exact.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
# From the newest week's centre (3.5 days before the window end) to the centre of the horizon.
_WEEKS_TO_HORIZON_CENTRE = _CONTEXT.divide(Decimal("3.5") + HORIZON_DAYS / 2, _SEVEN)

Daily = Mapping[date, int | Decimal]


@dataclass(frozen=True)
class Forecast:
    point: Decimal
    low: Decimal
    high: Decimal


ZERO_FORECAST = Forecast(point=_ZERO, low=_ZERO, high=_ZERO)


@dataclass(frozen=True)
class Projection:
    forecasts: dict[Hashable, Forecast]  # per series key, e.g. (vendor, model_class, token_type)
    total: Forecast  # headline: the sum of the per-key points, range from the total series
    first_usage: date | None
    active_days: int
    method: str = METHOD_VERSION

    @property
    def preliminary(self) -> bool:
        return self.active_days < PRELIMINARY_BELOW_DAYS


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def _percentile(ordered: list[Decimal], q: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (numpy's default) on sorted values."""
    position = q * (len(ordered) - 1)
    below = int(position)
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * (position - below)


def _theil_sen(ys: list[Decimal]) -> tuple[Decimal, Decimal]:
    """(intercept, slope) of the line through (0, ys[0]), (1, ys[1]), …"""
    n = len(ys)
    slope = _median([(ys[j] - ys[i]) / (j - i) for i in range(n) for j in range(i + 1, n)])
    intercept = _median([y - slope * x for x, y in enumerate(ys)])
    return intercept, slope


def active_days(first_usage: date | None, *, window_start: date, window_end: date) -> int:
    """Days from the first usage (or the window start, if later) to the window end."""
    if first_usage is None or first_usage >= window_end:
        return 0
    return (window_end - max(first_usage, window_start)).days


def first_usage_day(
    series: Iterable[Daily], *, window_start: date, window_end: date
) -> date | None:
    """The first day inside the window with any non-zero value in any of the series."""
    days = [
        day
        for daily in series
        for day, value in daily.items()
        if value and window_start <= day < window_end
    ]
    return min(days, default=None)


def forecast_series(
    daily: Daily, *, window_start: date, window_end: date, first_usage: date | None
) -> Forecast:
    """Forecast the next 30.4375 days of one daily series (window_end is exclusive).

    ``first_usage`` is the source's first day with any tokens, shared by all of its series, so
    a model that replaced another mid-window is seen as growing from zero.
    """
    n = active_days(first_usage, window_start=window_start, window_end=window_end)
    if n == 0:
        return ZERO_FORECAST
    with localcontext(_CONTEXT):
        return _forecast(daily, start=max(first_usage, window_start), n=n)


def _forecast(daily: Daily, *, start: date, n: int) -> Forecast:
    values = [_ZERO] * n
    for day, value in daily.items():
        i = (day - start).days
        if 0 <= i < n:
            values[i] += Decimal(value)
    if not any(values):
        return ZERO_FORECAST

    weeks = n // 7
    if weeks == 0:
        rate = sum(values, _ZERO) / n
        return _with_range(rate, [v - rate for v in values])

    skip = n - 7 * weeks  # the incomplete oldest week
    rates = [sum(values[skip + 7 * k : skip + 7 * k + 7], _ZERO) / _SEVEN for k in range(weeks)]
    if weeks < MIN_TREND_WEEKS:
        rate = sum(rates, _ZERO) / weeks
        deviations = rates if weeks >= 2 else values[skip:]
        return _with_range(rate, [r - rate for r in deviations])

    intercept, slope = _theil_sen(rates)
    rate = intercept + slope * (weeks - 1 + _WEEKS_TO_HORIZON_CENTRE)
    recent = sum(rates[-RECENT_WEEKS:], _ZERO) / min(weeks, RECENT_WEEKS)
    rate = min(max(rate, recent * (1 - MAX_TREND_CHANGE)), recent * (1 + MAX_TREND_CHANGE))
    residuals = [y - (intercept + slope * x) for x, y in enumerate(rates)]
    return _with_range(rate, residuals)


def _with_range(rate: Decimal, deviations: list[Decimal]) -> Forecast:
    ordered = sorted(deviations)
    point = rate * HORIZON_DAYS
    low = (rate + _percentile(ordered, Decimal("0.1"))) * HORIZON_DAYS
    high = (rate + _percentile(ordered, Decimal("0.9"))) * HORIZON_DAYS
    return Forecast(point=point, low=max(_ZERO, min(low, point)), high=max(high, point))


def project(
    series: Mapping[Hashable, Daily], *, window_start: date, window_end: date
) -> Projection:
    """Forecast every series of one source, and the headline total with its range."""
    first = first_usage_day(series.values(), window_start=window_start, window_end=window_end)
    kwargs = {"window_start": window_start, "window_end": window_end, "first_usage": first}
    forecasts = {key: forecast_series(daily, **kwargs) for key, daily in series.items()}

    with localcontext(_CONTEXT):
        totals: dict[date, Decimal] = {}
        for daily in series.values():
            for day, value in daily.items():
                totals[day] = totals.get(day, _ZERO) + Decimal(value)
        of_total = forecast_series(totals, **kwargs)
        # The headline is the sum of the per-key forecasts (what the footprint is computed
        # from); the total series supplies how far the month may fall below or rise above it.
        point = sum((f.point for f in forecasts.values()), _ZERO)
        total = Forecast(
            point=point,
            low=max(_ZERO, point - (of_total.point - of_total.low)),
            high=point + (of_total.high - of_total.point),
        )
    return Projection(
        forecasts=forecasts,
        total=total,
        first_usage=first,
        active_days=active_days(first, window_start=window_start, window_end=window_end),
    )


def trend_pct(current_total: Decimal | None, previous_total: Decimal | None) -> float | None:
    """Change against the previous projection in percent; None when there is nothing to compare."""
    if current_total is None or previous_total is None or previous_total <= 0:
        return None
    return float((Decimal(current_total) - Decimal(previous_total)) / Decimal(previous_total) * 100)
