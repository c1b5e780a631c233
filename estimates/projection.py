"""How we project your next month from the last 90 days (method v2).

Per vendor, model class and token type: daily values since the source's first usage, turned into
a forecast by ``weekly_model`` (weekly rates; a stop, a level shift, a clear trend or a level);
the headline is the sum of the per-key forecasts with its range from the total series. The public
explanation of each step is templates/docs/includes/projection_method.html: change both together.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from .weekly_model import HORIZON_DAYS, STOP_DAYS, ZERO_FORECAST, Forecast, forecast_days

__all__ = ["HORIZON_DAYS", "METHOD_VERSION", "Forecast", "Projection", "project", "trend_pct"]

# Recorded on every projection; bump it whenever the method changes.
METHOD_VERSION = "weekly-shifts-v2"
PRELIMINARY_BELOW_DAYS = 7

_ZERO = Decimal(0)
# Fixed precision, whatever the global context: flat usage must come out exact.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)

Daily = Mapping[date, int | Decimal]


@dataclass(frozen=True)
class Projection:
    forecasts: dict[Hashable, Forecast]  # per series key, e.g. (vendor, model_class, token_type)
    total: Forecast  # headline: the sum of the per-key points, range from the total series
    first_usage: date | None
    last_usage: date | None
    active_days: int
    window_end: date
    method: str = METHOD_VERSION

    @property
    def preliminary(self) -> bool:
        return self.active_days < PRELIMINARY_BELOW_DAYS

    @property
    def stopped(self) -> bool:
        """No usage at all in the last two whole weeks of the window."""
        if self.last_usage is None:
            return False
        return (self.window_end - self.last_usage).days > STOP_DAYS


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
    return forecast_days(values)


def last_usage_day(series: Iterable[Daily], *, window_start: date, window_end: date) -> date | None:
    """The last day inside the window with any non-zero value in any of the series."""
    days = [
        day
        for daily in series
        for day, value in daily.items()
        if value and window_start <= day < window_end
    ]
    return max(days, default=None)


def project(
    series: Mapping[Hashable, Daily], *, window_start: date, window_end: date
) -> Projection:
    """Forecast every series of one source, and the headline total with its range."""
    window = {"window_start": window_start, "window_end": window_end}
    first = first_usage_day(series.values(), **window)
    kwargs = {**window, "first_usage": first}
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
        last_usage=last_usage_day(series.values(), **window),
        active_days=active_days(first, **window),
        window_end=window_end,
    )


def trend_pct(current_total: Decimal | None, previous_total: Decimal | None) -> float | None:
    """Change against the previous projection in percent; None when there is nothing to compare."""
    if current_total is None or previous_total is None or previous_total <= 0:
        return None
    return float((Decimal(current_total) - Decimal(previous_total)) / Decimal(previous_total) * 100)
