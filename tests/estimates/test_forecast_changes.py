"""The projection follows change: stops, level shifts, declines; and the backtest's limits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from estimates import backtest
from estimates.projection import HORIZON_DAYS, METHOD_VERSION, forecast_series, project

END = date(2026, 3, 2)  # exclusive
START = END - timedelta(days=90)
DAYS = [START + timedelta(days=i) for i in range(90)]


def series(value_for_index):
    return {day: value_for_index(i) for i, day in enumerate(DAYS)}


def forecast(daily):
    first = min((d for d, v in daily.items() if v), default=None)
    return forecast_series(daily, window_start=START, window_end=END, first_usage=first)


def width(f):
    return (f.high - f.low) / f.point


# Stops


def test_two_whole_weeks_without_usage_project_zero_and_say_since_when():
    daily = series(lambda i: 0 if i >= 76 else 1_000_000)

    result = project({"k": daily}, window_start=START, window_end=END)

    assert result.total.point == 0 and result.total.low == 0
    assert result.total.high > 0  # a return at the recent rate stays possible
    assert result.stopped and result.last_usage == DAYS[75]


def test_thirteen_days_without_usage_are_not_yet_a_stop():
    daily = series(lambda i: 0 if i >= 77 else 1_000_000)

    result = project({"k": daily}, window_start=START, window_end=END)

    assert not result.stopped and result.total.point > 0


def test_a_model_replaced_by_another_projects_only_the_new_one():
    old = series(lambda i: 0 if i >= 60 else 1_000)
    new = series(lambda i: 1_000 if i >= 60 else 0)

    result = project({"old": old, "new": new}, window_start=START, window_end=END)

    assert result.forecasts["old"].point == 0
    assert result.forecasts["new"].point == 1_000 * HORIZON_DAYS
    assert not result.stopped


# Level shifts


@pytest.mark.parametrize(("before", "after"), [(1_000, 3_000), (3_000, 1_000), (1_000, 1_400)])
@pytest.mark.parametrize("changed_days_ago", [16, 30, 45])
def test_a_level_shift_settles_on_the_new_level_once_it_has_held_two_whole_weeks(
    before, after, changed_days_ago
):
    daily = series(lambda i: after if i >= 90 - changed_days_ago else before)

    assert forecast(daily).point == after * HORIZON_DAYS


def test_a_step_up_is_not_extrapolated_as_a_trend():
    daily = series(lambda i: 3_000 if i >= 60 else 1_000)

    result = forecast(daily)

    assert result.point <= 3_000 * HORIZON_DAYS
    # The previous method extrapolated the step as a trend and overshot.
    assert backtest.previous_method(daily, window_start=START) > float(result.point) * 1.1


def test_a_steady_ramp_is_not_taken_for_a_step():
    ramp = series(lambda i: 1_000 + 10 * i)
    truth = sum(Decimal(1_000 + 10 * i) for i in range(90, 120)) + Decimal("0.4375") * 2_200

    assert abs(forecast(ramp).point - truth) / truth < Decimal("1e-4")


def test_the_range_is_wider_right_after_a_level_shift():
    steady = forecast(series(lambda i: 3_000 if i % 7 else 2_800))
    two_weeks_on = forecast(series(lambda i: (3_000 if i % 7 else 2_800) if i >= 76 else 1_000))
    six_weeks_on = forecast(series(lambda i: (3_000 if i % 7 else 2_800) if i >= 48 else 1_000))

    assert width(two_weeks_on) > width(six_weeks_on) > width(steady)


# Declines


def test_a_steady_decline_is_followed_below_half_of_the_last_four_weeks():
    def value(i):
        return max(0, 100_000 - 900 * i)  # 20% of its start left at the window's end

    truth = sum(Decimal(value(i)) for i in range(90, 120)) + Decimal("0.4375") * value(120)
    recent = sum(Decimal(value(i)) for i in range(62, 90)) / 28

    result = forecast(series(value))

    assert result.point < recent * HORIZON_DAYS / 2
    assert abs(result.point - truth) / truth < Decimal("0.01")


def test_a_decline_reaching_zero_within_the_month_counts_no_negative_days():
    def value(i):
        return max(0, 90_000 - 900 * i)  # zero on day 100, inside the coming month

    truth = sum(Decimal(value(i)) for i in range(90, 121))  # the days before it reaches zero

    assert abs(forecast(series(value)).point - truth) / truth < Decimal("0.05")


def test_the_method_version_names_the_new_method():
    assert METHOD_VERSION == "weekly-shifts-v2"


# The backtest


@pytest.fixture(scope="module")
def rows():
    return backtest.run()


def test_the_backtest_meets_every_limit(rows):
    assert backtest.limits_broken(rows) == []


def test_the_backtest_covers_every_pattern_at_every_noise_level(rows):
    names = {p.name for p in backtest.PATTERNS}
    assert {"flat", "weekly", "ramp", "decline", "step-up", "step-down", "stop", "start"} <= names
    assert {"outlier", "noisy-growth"} <= names
    noisy = {(r.pattern, r.noise) for r in rows if r.noise}
    assert noisy == {(n, level) for n in names for level in backtest.NOISE_LEVELS if level}


def test_the_backtest_shows_where_the_previous_method_lagged(rows):
    by_key = {(r.pattern, r.noise): r.errors for r in rows}
    for pattern in ("step-up", "step-down", "stop", "decline"):
        exact = by_key[(pattern, 0.0)]
        assert exact["this"] < 0.01 < 0.1 < exact["previous"]


def test_the_backtest_truth_is_the_patterns_next_average_month():
    flat = next(p for p in backtest.PATTERNS if p.name == "flat")
    weekly = next(p for p in backtest.PATTERNS if p.name == "weekly")

    assert backtest.next_month(flat) == pytest.approx(1_000_000 * 30.4375)
    assert backtest.next_month(weekly) == pytest.approx(1_000_000 * 30.4375 * 5.2 / 7)


def test_the_backtest_table_lists_every_row(rows):
    text = backtest.table(rows)
    assert METHOD_VERSION in text
    assert len(text.splitlines()) == 2 + len(rows)
