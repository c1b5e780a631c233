import random
import statistics
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from estimates.projection import (
    HORIZON_DAYS,
    METHOD_VERSION,
    forecast_series,
    project,
    trend_pct,
)

END = date(2026, 3, 2)  # exclusive
START = END - timedelta(days=90)
DAYS = [START + timedelta(days=i) for i in range(90)]


def series(value_for_index, *, last=90):
    """A daily series over the last `last` days of the window; index 0 is the window's first day."""
    return {day: value_for_index(i) for i, day in enumerate(DAYS) if i >= 90 - last}


def forecast(daily, first_usage=None):
    if first_usage is None:
        first_usage = min((day for day, value in daily.items() if value), default=None)
    return forecast_series(daily, window_start=START, window_end=END, first_usage=first_usage)


def plain_mean_forecast(daily):
    active = [
        Decimal(v) for d, v in sorted(daily.items()) if d >= min(d for d, v in daily.items() if v)
    ]
    return sum(active) / len(active) * HORIZON_DAYS


def true_next_month(value_for_index):
    """The true total of the next 30.4375 days for a series defined past the window."""
    return sum(Decimal(value_for_index(i)) for i in range(90, 120)) + Decimal("0.4375") * Decimal(
        value_for_index(120)
    )


def noisy_seasonal(seed, level=10_000):
    rng = random.Random(seed)

    def value(i):
        weekend = DAYS[i].weekday() >= 5 if i < 90 else False
        return int(level * (0.3 if weekend else 1.0) * rng.uniform(0.8, 1.2))

    return value


# 1. Flat usage


@pytest.mark.parametrize("days", [90, 30, 20, 14, 7, 3, 1])
@pytest.mark.parametrize("value", [1_234_567, Decimal("12.34")])
def test_flat_usage_is_exactly_the_daily_mean_times_30_4375(days, value):
    result = forecast(series(lambda i: value, last=days))

    assert result.point == Decimal(value) * Decimal("30.4375")
    assert result.low == result.high == result.point


def test_flat_usage_across_keys_sums_exactly():
    data = {
        ("anthropic", "large", "output"): series(lambda i: 1_000),
        ("anthropic", "large", "cache_read"): series(lambda i: 250_000),
    }

    result = project(data, window_start=START, window_end=END)

    assert result.total.point == Decimal(251_000) * Decimal("30.4375")
    assert result.forecasts[("anthropic", "large", "output")].point == Decimal("30437.5")
    assert result.method == METHOD_VERSION


# 2. Days before the first usage


def test_days_before_first_usage_are_not_counted_as_zeros():
    daily = series(lambda i: 0 if i < 70 else 5_000)  # 70 explicit empty days, then 20 of usage

    result = project({"tokens": daily}, window_start=START, window_end=END)

    assert result.first_usage == DAYS[70]
    assert result.active_days == 20
    assert not result.preliminary
    assert result.total.point == Decimal(5_000) * Decimal("30.4375")
    diluted = sum(Decimal(v) for v in daily.values()) / 90 * HORIZON_DAYS
    assert result.total.point > 4 * diluted


@pytest.mark.parametrize(("days", "preliminary"), [(1, True), (6, True), (7, False), (30, False)])
def test_fewer_than_7_active_days_is_preliminary(days, preliminary):
    result = project({"k": series(lambda i: 100, last=days)}, window_start=START, window_end=END)

    assert result.active_days == days
    assert result.preliminary is preliminary


def test_first_usage_is_the_sources_first_day_with_any_tokens_across_all_series():
    old_model = series(lambda i: 900 if 60 <= i < 76 else 0)
    new_model = series(lambda i: 900 if i >= 76 else 0)

    result = project({"old": old_model, "new": new_model}, window_start=START, window_end=END)

    assert result.first_usage == DAYS[60]
    assert result.active_days == 30
    # The new model is measured from the source's first usage, so the switch reads as growth
    # and the old model's forecast falls towards zero, while the total stays flat.
    assert result.forecasts["new"] == forecast(new_model, first_usage=DAYS[60])
    assert result.forecasts["old"].point < Decimal(900) * HORIZON_DAYS / 2
    assert result.total.point == Decimal(900) * HORIZON_DAYS


def test_a_source_without_usage_projects_zero():
    result = project({"k": series(lambda i: 0)}, window_start=START, window_end=END)

    assert result.first_usage is None
    assert result.active_days == 0
    assert result.preliminary
    assert result.total.point == result.total.high == 0
    assert project({}, window_start=START, window_end=END).total.point == 0


def test_days_outside_the_window_are_ignored():
    daily = series(lambda i: 100)
    daily[START - timedelta(days=3)] = 10**9
    daily[END] = 10**9

    assert forecast(daily, first_usage=START).point == Decimal(100) * HORIZON_DAYS


# 3. Steady growth or decline


@pytest.mark.parametrize(
    "value_for_index",
    [lambda i: 100 + 10 * i, lambda i: 10 * i, lambda i: 2_000 - 10 * i, lambda i: 1_000 + 40 * i],
    ids=["growth", "growth-from-zero", "decline", "slow-growth"],
)
def test_a_linear_ramp_is_followed_where_a_flat_mean_is_far_off(value_for_index):
    truth = true_next_month(value_for_index)

    result = forecast(series(value_for_index))

    assert abs(result.point - truth) / truth < Decimal("0.10")
    assert abs(plain_mean_forecast(series(value_for_index)) - truth) / truth > Decimal("0.30")


def test_a_noisy_seasonal_ramp_is_followed():
    rng = random.Random(3)

    def value(i):
        return (20_000 + 400 * i) * (0.3 if DAYS[i].weekday() >= 5 else 1.0)

    daily = {day: int(value(i) * rng.uniform(0.8, 1.2)) for i, day in enumerate(DAYS)}
    # Expected next month: the ramp's level at each future day, at the weekly mix of 5 busy days
    # and 2 quiet ones.
    truth = true_next_month(lambda i: 20_000 + 400 * i) * Decimal("5.6") / 7

    result = forecast(daily)

    assert abs(result.point - truth) / truth < Decimal("0.10")


# 4. Weekly seasonality


@pytest.mark.parametrize("shift", range(7))
def test_quiet_weekends_do_not_bias_the_result_whatever_the_weekday_the_window_ends(shift):
    end = END + timedelta(days=shift)
    start = end - timedelta(days=90)
    daily = {
        start + timedelta(days=i): 100 if (start + timedelta(days=i)).weekday() >= 5 else 1_000
        for i in range(90)
    }

    result = forecast_series(daily, window_start=start, window_end=end, first_usage=start)

    expected = Decimal(5 * 1_000 + 2 * 100) / 7 * HORIZON_DAYS
    assert abs(result.point - expected) < Decimal("1e-20")


def test_a_source_that_started_on_a_quiet_weekend_is_not_pulled_down():
    # 14 whole weeks of weekday-heavy usage preceded by a lone Saturday and Sunday.
    first = END - timedelta(days=16)
    assert first.weekday() == 5
    daily = {
        first + timedelta(days=i): 100 if (first + timedelta(days=i)).weekday() >= 5 else 1_000
        for i in range(16)
    }

    result = forecast(daily)

    expected = Decimal(5_200) / 7 * HORIZON_DAYS
    assert abs(result.point - expected) < Decimal("1e-20")
    assert abs(plain_mean_forecast(daily) - expected) > expected / 20


def test_noisy_seasonal_usage_is_forecast_near_its_true_mean():
    daily = series(noisy_seasonal(seed=7))
    expected = Decimal(10_000) * Decimal("5.6") / 7 * HORIZON_DAYS

    assert abs(forecast(daily).point - expected) / expected < Decimal("0.05")


# 5. A single outlier day


@pytest.mark.parametrize("day", [7, 30, 45, 60, 80, 85, 89])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_single_20x_outlier_moves_the_headline_less_than_a_plain_mean(day, seed):
    normal = series(noisy_seasonal(seed))
    backfill = dict(normal)
    backfill[DAYS[day]] += 19 * statistics.median(normal.values())  # the day is now 20× normal

    before = project({"k": normal}, window_start=START, window_end=END).total.point
    after = project({"k": backfill}, window_start=START, window_end=END).total.point

    plain_shift = plain_mean_forecast(backfill) - plain_mean_forecast(normal)
    assert abs(after - before) < plain_shift


def test_an_outlier_on_flat_usage_leaves_the_headline_unchanged():
    daily = series(lambda i: 1_000)
    daily[DAYS[85]] = 20_000

    assert forecast(daily).point == Decimal(1_000) * HORIZON_DAYS


# 6. A range from week-to-week variability


def test_the_range_surrounds_the_point_and_widens_with_variability():
    calm = series(lambda i: 10_000 + (500 if (i // 7) % 2 else -500))
    choppy = series(lambda i: 10_000 + (4_000 if (i // 7) % 2 else -4_000))

    calm_forecast, choppy_forecast = forecast(calm), forecast(choppy)

    assert calm_forecast.low < calm_forecast.point < calm_forecast.high
    assert choppy_forecast.low < choppy_forecast.point < choppy_forecast.high
    calm_width = calm_forecast.high - calm_forecast.low
    assert choppy_forecast.high - choppy_forecast.low > 4 * calm_width


def test_the_headline_range_comes_from_the_total_series():
    data = {"a": series(noisy_seasonal(1)), "b": series(noisy_seasonal(2, level=500))}

    result = project(data, window_start=START, window_end=END)

    summed = sum(f.point for f in result.forecasts.values())
    assert abs(result.total.point - summed) < Decimal("1e-15")
    assert 0 < result.total.low < result.total.point < result.total.high


def test_a_young_source_gets_a_range_from_daily_variability():
    daily = series(lambda i: 100 if i % 2 else 300, last=5)

    result = forecast(daily)

    assert result.low < result.point < result.high


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=90))
def test_low_never_exceeds_point_and_point_never_exceeds_high(values):
    daily = {DAYS[90 - len(values) + i]: v for i, v in enumerate(values)}

    result = project({"k": daily}, window_start=START, window_end=END)

    assert 0 <= result.total.low <= result.total.point <= result.total.high
    for f in result.forecasts.values():
        assert 0 <= f.low <= f.point <= f.high


# 7. Trend against the previous projection


def test_trend_pct_compares_with_the_previous_projection():
    assert trend_pct(Decimal(118), Decimal(100)) == pytest.approx(18.0)
    assert trend_pct(Decimal(75), Decimal(100)) == pytest.approx(-25.0)
    assert trend_pct(Decimal(100), Decimal(100)) == 0.0


def test_trend_pct_is_none_without_a_usable_previous_projection():
    assert trend_pct(Decimal(100), None) is None
    assert trend_pct(Decimal(100), Decimal(0)) is None


def test_growth_shows_as_a_positive_trend_between_weekly_samples():
    ramp = series(lambda i: 1_000 + 20 * i)
    last_week = {day: v for day, v in ramp.items() if day < END - timedelta(days=7)}

    previous = forecast_series(
        last_week,
        window_start=START - timedelta(days=7),
        window_end=END - timedelta(days=7),
        first_usage=START,
    )
    current = forecast(ramp)

    assert trend_pct(current.point, previous.point) > 0
