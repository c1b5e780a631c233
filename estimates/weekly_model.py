"""The model behind one forecast: weekly rates, a level or a clear trend, level shifts, stops.

Plain functions on ``Decimal`` daily values from the first day of usage to the end of the window
(the caller sets an exact decimal context). ``templates/docs/includes/projection_method.html``
explains each step in words; change both together.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

HORIZON_DAYS = Decimal("30.4375")
STOP_DAYS = 14  # two whole weeks without any usage: a stop
MIN_TREND_WEEKS = 3
RECENT_WEEKS = 4
MIN_SEGMENT_WEEKS = 2  # a new level counts once it has held for two whole weeks
MIN_SHIFT = Decimal("0.25")  # ... and differs from the old one by at least a quarter
STEP_ERROR_RATIO = Decimal("0.75")  # ... and fits the weeks clearly better than one line
TREND_STANDARD_ERRORS = 3  # a slope is extrapolated only when this clear of the noise
OUTLIER_MADS = 6  # weeks this far from the line are left out of a level
OUTLIER_DAY_MADS = 10  # days this far from their weekday's median too (noise is skewed)
MIN_NOISE = Decimal("0.05")  # outliers are judged against at least 5% day-to-day noise
WEEKDAY_EFFECT_F = 6  # weekdays weighted equally when they differ this clearly (F statistic)
MIN_TREND_EFFECT = Decimal("0.1")  # ... and moves the forecast by at least a tenth
MAX_RISE = 2  # a trend never takes the forecast beyond twice the last four weeks

_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_SEVEN = Decimal(7)
_MAD_TO_SIGMA = Decimal("1.4826")
_IQR_TO_SIGMA = Decimal("1.349")
# From the newest week's centre (3.5 days before the window end) to the horizon's start and end.
_EXACT = Context(prec=34, rounding=ROUND_HALF_EVEN)
_WEEKS_TO_HORIZON_START = _EXACT.divide(Decimal("3.5"), _SEVEN)
_WEEKS_TO_HORIZON_END = _EXACT.divide(Decimal("3.5") + HORIZON_DAYS, _SEVEN)


@dataclass(frozen=True)
class Forecast:
    point: Decimal
    low: Decimal
    high: Decimal


ZERO_FORECAST = Forecast(point=_ZERO, low=_ZERO, high=_ZERO)


def forecast_days(values: list[Decimal]) -> Forecast:
    """The next 30.4375 days from daily values since the first usage (newest last)."""
    n = len(values)
    if not any(values):
        return ZERO_FORECAST
    if n > STOP_DAYS and not any(values[-STOP_DAYS:]):
        # Stopped: nothing is projected; the range allows a return at the recent rate.
        recent = values[-RECENT_WEEKS * 7 :]
        return Forecast(_ZERO, _ZERO, sum(recent, _ZERO) / len(recent) * HORIZON_DAYS)
    weeks = n // 7
    if weeks == 0:
        rate = sum(values, _ZERO) / n
        return _with_range(rate, [v - rate for v in values])
    skip = n - 7 * weeks  # the incomplete oldest week
    rates = [sum(values[skip + 7 * k : skip + 7 * k + 7], _ZERO) / _SEVEN for k in range(weeks)]
    shift = level_shift(rates)
    if shift is None:
        return _with_range(*rate_and_deviations(rates, days=values))
    # Only the weeks since the change count; the range is wider while the new level is young.
    after = rates[shift.week :]
    rate, deviations = rate_and_deviations(after)
    doubt = abs(shift.after - shift.before) / len(after)
    return _with_range(rate, [*deviations, doubt, -doubt])


@dataclass(frozen=True)
class LevelShift:
    week: int  # index of the first week at the new level
    before: Decimal
    after: Decimal


def level_shift(rates: list[Decimal]) -> LevelShift | None:
    """The step between two levels that best explains the weekly rates, if there is a clear one.

    A step counts when the new level has held for ``MIN_SEGMENT_WEEKS``, differs from the old one
    by ``MIN_SHIFT``, every week since lies past the halfway mark, and the two levels explain the
    weeks clearly better than a straight line (so a steady ramp is never taken for a step).
    """
    weeks = len(rates)
    if weeks < 2 * MIN_SEGMENT_WEEKS:
        return None
    intercept, slope = theil_sen(rates)
    line_error = sum((abs(r - intercept - slope * x) for x, r in enumerate(rates)), _ZERO)
    best, best_error = None, None
    for k in range(MIN_SEGMENT_WEEKS, weeks - MIN_SEGMENT_WEEKS + 1):
        before, after = median(rates[:k]), median(rates[k:])
        if abs(after - before) < MIN_SHIFT * max(before, after):
            continue
        halfway = (before + after) / _TWO
        if any((r - halfway) * (after - before) <= 0 for r in rates[k:]):
            continue
        error = sum((abs(r - before) for r in rates[:k]), _ZERO)
        error += sum((abs(r - after) for r in rates[k:]), _ZERO)
        if error > STEP_ERROR_RATIO * line_error:
            continue
        if best_error is None or error < best_error:
            best, best_error = LevelShift(week=k, before=before, after=after), error
    return best


def rate_and_deviations(
    rates: list[Decimal], *, days: list[Decimal] | None = None
) -> tuple[Decimal, list[Decimal]]:
    """The daily rate to forecast from weekly rates, and the deviations that give its range.

    ``days``, when given, are the daily values behind the rates (newest last, possibly with a
    partial oldest week): a level then uses every one of them, each weekday weighted equally.
    """
    weeks = len(rates)
    if weeks < MIN_TREND_WEEKS:
        rate = sum(rates, _ZERO) / weeks
        return rate, [r - rate for r in rates]
    intercept, slope = theil_sen(rates)
    residuals = [r - (intercept + slope * x) for x, r in enumerate(rates)]
    spread = _MAD_TO_SIGMA * median([abs(r) for r in residuals])
    # Outliers stand out from at least a few percent of the level, even on exactly steady usage.
    outlier_limit = OUTLIER_MADS * max(spread, MIN_NOISE * median(rates))
    # The slope's standard error for evenly spaced weeks: spread / sqrt(Σ (x - x̄)²).
    standard_error = spread / (Decimal(weeks * (weeks * weeks - 1)) / 12).sqrt()
    kept = [x for x, e in enumerate(residuals) if abs(e) <= outlier_limit]
    # Without a clear trend: the mean of the weeks, leaving out any far from the others.
    level = weekday_mean(days) if days else sum((rates[x] for x in kept), _ZERO) / len(kept)
    if not slope or abs(slope) <= TREND_STANDARD_ERRORS * standard_error:
        return level, [r - level for r in rates]
    # Refit the line through the weeks that are not outliers, each weighted by the inverse square
    # of its level on the robust line: day-to-day noise grows with the volume.
    fitted = {x: intercept + slope * x for x in kept}
    if len(kept) >= MIN_TREND_WEEKS and all(fitted[x] > 0 for x in kept):
        intercept, slope = weighted_line([(x, rates[x], 1 / fitted[x] ** 2) for x in kept])
    recent = sum(rates[-RECENT_WEEKS:], _ZERO) / min(weeks, RECENT_WEEKS)
    at_start = intercept + slope * (weeks - 1 + _WEEKS_TO_HORIZON_START)
    at_end = intercept + slope * (weeks - 1 + _WEEKS_TO_HORIZON_END)
    rate = min(_mean_above_zero(at_start, at_end), MAX_RISE * recent)
    if abs(rate - level) < MIN_TREND_EFFECT * level:
        return level, [r - level for r in rates]  # a trend too small to be worth its noise
    return rate, residuals


def weighted_line(points: list[tuple[int, Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """(intercept, slope) of the weighted least-squares line through (x, y) with weights w."""
    total = sum((w for _, _, w in points), _ZERO)
    mean_x = sum((w * x for x, _, w in points), _ZERO) / total
    mean_y = sum((w * y for _, y, w in points), _ZERO) / total
    spread_x = sum((w * (x - mean_x) ** 2 for x, _, w in points), _ZERO)
    slope = sum((w * (x - mean_x) * (y - mean_y) for x, y, w in points), _ZERO) / spread_x
    return mean_y - slope * mean_x, slope


def weekday_mean(days: list[Decimal]) -> Decimal:
    """The mean of every day, leaving out outlier days; each weekday weighted equally when the
    weekdays clearly differ (so a partial week of quiet weekend days does not pull it down).

    Days are grouped by weekday (counted back from the newest). Day-to-day noise grows with the
    volume, so it is measured relative to each weekday's median (from the interquartile range)
    and pooled over the weekdays; a day further than ``OUTLIER_DAY_MADS`` of it from its
    weekday's median is left out.
    """
    groups = [days[len(days) - 1 - weekday :: -7] for weekday in range(7)]
    centres = [median(group) for group in groups]
    relative = [
        _interquartile_sigma(group) / c for group, c in zip(groups, centres, strict=True) if c > 0
    ]
    # At least a few percent: exactly repeating usage must not make every other day an outlier.
    noise = max(median(relative) if relative else _ZERO, MIN_NOISE)
    typical = median(days)
    groups = [
        [d for d in group if abs(d - c) <= OUTLIER_DAY_MADS * noise * max(c, typical)]
        for group, c in zip(groups, centres, strict=True)
    ]
    kept = [d for group in groups for d in group]
    overall = sum(kept, _ZERO) / len(kept)
    means = [sum(group, _ZERO) / len(group) for group in groups]
    # Between-weekday variance against the day-to-day noise (a one-way analysis of variance).
    between = sum((len(g) * (m - overall) ** 2 for g, m in zip(groups, means, strict=True)), _ZERO)
    within = (noise * overall) ** 2
    if between and (not within or between / 6 / within > WEEKDAY_EFFECT_F):
        return sum(means, _ZERO) / _SEVEN
    return overall


def _interquartile_sigma(values: list[Decimal]) -> Decimal:
    """A robust standard deviation: the interquartile range / 1.349 (exact for normal noise)."""
    ordered = sorted(values)
    spread = percentile(ordered, Decimal("0.75")) - percentile(ordered, Decimal("0.25"))
    return spread / _IQR_TO_SIGMA


def _mean_above_zero(start: Decimal, end: Decimal) -> Decimal:
    """The mean of a straight line from ``start`` to ``end``, counting its negative part as zero."""
    if start >= 0 and end >= 0:
        return (start + end) / _TWO
    if start <= 0 and end <= 0:
        return _ZERO
    top = max(start, end)
    return top * top / (_TWO * abs(end - start))


def _with_range(rate: Decimal, deviations: list[Decimal]) -> Forecast:
    ordered = sorted(deviations)
    point = rate * HORIZON_DAYS
    low = (rate + percentile(ordered, Decimal("0.1"))) * HORIZON_DAYS
    high = (rate + percentile(ordered, Decimal("0.9"))) * HORIZON_DAYS
    return Forecast(point=point, low=max(_ZERO, min(low, point)), high=max(high, point))


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / _TWO


def percentile(ordered: list[Decimal], q: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (numpy's default) on sorted values."""
    position = q * (len(ordered) - 1)
    below = int(position)
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * (position - below)


def theil_sen(ys: list[Decimal]) -> tuple[Decimal, Decimal]:
    """(intercept, slope) of the robust line through (0, ys[0]), (1, ys[1]), …"""
    n = len(ys)
    if n == 1:
        return ys[0], _ZERO
    slope = median([(ys[j] - ys[i]) / (j - i) for i in range(n) for j in range(i + 1, n)])
    intercept = median([y - slope * x for x, y in enumerate(ys)])
    return intercept, slope
