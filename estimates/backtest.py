"""The projection's backtest: synthetic organisations replayed through the real projection code.

Each pattern generates 90 days of daily tokens (exact, and with multiplicative noise at several
levels and seeds), is projected by this method, by the previous one and by a flat 90-day mean,
and each forecast is compared with what the pattern really gives over the next 30.4375 days.
``python -m estimates.backtest`` (``make backtest``) prints the table; the methodology page shows
it; the test suite asserts ``limits_broken(run()) == []``.
"""

import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .projection import HORIZON_DAYS, METHOD_VERSION, project
from .weekly_model import theil_sen

WINDOW_DAYS = 90
WINDOW_END = date(2026, 11, 23)  # exclusive; any weekday works, the patterns are weekly
WINDOW_START = WINDOW_END - timedelta(days=WINDOW_DAYS)
LEVEL = 1_000_000  # tokens a day
NOISE_LEVELS = (0.0, 0.1, 0.2)  # standard deviation of the day-to-day noise (log scale)
SEEDS = tuple(range(1, 11))
# Limits the method must meet (asserted by the test suite).
NOISE_FREE_LIMIT = 0.10
NOISY_LIMIT = 0.15
# "Never worse than the flat mean", up to floating-point rounding (on steady usage both are the
# mean of the same days).
FLAT_MEAN_TOLERANCE = 1e-9
MUST_BEAT_FLAT_MEAN = ("ramp", "decline", "step-up", "step-down", "stop")


def _weekend(t: int) -> bool:
    return (WINDOW_START + timedelta(days=t)).weekday() >= 5


@dataclass(frozen=True)
class Pattern:
    name: str
    description: str
    level: Callable[[int], float]  # expected tokens on day t (0 = the window's first day) ...
    weekend: float = 1.0  # ... times this on Saturdays and Sundays
    noise_free: bool = True  # also run without noise
    stops: bool = False  # the truth is zero: errors are relative to the level before the stop

    def rate(self, t: int) -> float:
        return self.level(t) * (self.weekend if _weekend(t) else 1)


PATTERNS = (
    Pattern("flat", "the same every day", lambda t: LEVEL),
    Pattern("weekly", "weekends at a tenth", lambda t: LEVEL, weekend=0.1),
    Pattern("ramp", "doubling over the 90 days", lambda t: LEVEL * (1 + t / WINDOW_DAYS)),
    Pattern(
        "decline",
        "falling steadily, to 30% at the end of the window",
        lambda t: LEVEL * max(0.0, 1 - 0.7 * t / WINDOW_DAYS),
    ),
    Pattern("step-up", "tripled 30 days ago", lambda t: LEVEL * (3 if t >= 60 else 1)),
    Pattern("step-down", "a third since 30 days ago", lambda t: LEVEL * (1 if t >= 60 else 3)),
    Pattern("stop", "stopped 20 days ago", lambda t: LEVEL * (0 if t >= 70 else 1), stops=True),
    Pattern("start", "started 20 days ago", lambda t: LEVEL * (1 if t >= 70 else 0)),
    Pattern("outlier", "one 20× day a week ago", lambda t: LEVEL * (20 if t == 83 else 1)),
    Pattern(
        "noisy-growth",
        "growing by half, weekends at 30%",
        lambda t: LEVEL * (1 + 0.5 * t / WINDOW_DAYS),
        weekend=0.3,
        noise_free=False,
    ),
)


def daily_usage(pattern: Pattern, *, noise: float, seed: int) -> dict[date, int]:
    """The pattern's 90 days, each multiplied by log-normal noise with mean 1."""
    rng = random.Random(f"{pattern.name}-{seed}")  # noqa: S311 - synthetic data, not secrets
    usage = {}
    for t in range(WINDOW_DAYS):
        factor = math.exp(rng.gauss(0, noise) - noise * noise / 2) if noise else 1.0
        usage[WINDOW_START + timedelta(days=t)] = round(pattern.rate(t) * factor)
    return usage


def next_month(pattern: Pattern) -> float:
    """What the pattern really gives over an average month of 30.4375 days from the window's end:
    its level, at the weekly mix of 5 weekdays and 2 weekend days (a one-off outlier excluded)."""
    level = (lambda t: LEVEL) if pattern.name == "outlier" else pattern.level
    whole = int(HORIZON_DAYS)
    total = sum(level(WINDOW_DAYS + t) for t in range(whole))
    total += float(HORIZON_DAYS - whole) * level(WINDOW_DAYS + whole)
    return total * (5 + 2 * pattern.weekend) / 7


def this_method(usage: dict[date, int]) -> float:
    result = project({"tokens": usage}, window_start=WINDOW_START, window_end=WINDOW_END)
    return float(result.total.point)


def flat_mean(usage: dict[date, int]) -> float:
    return sum(usage.values()) / WINDOW_DAYS * float(HORIZON_DAYS)


def previous_method(usage: dict[date, int], *, window_start: date = WINDOW_START) -> float:
    """Method v1: Theil–Sen through the weekly rates since the first usage, evaluated at the
    horizon's centre and held within ±50% of the last four weeks (kept here to compare with)."""
    values = [Decimal(usage.get(window_start + timedelta(days=t), 0)) for t in range(WINDOW_DAYS)]
    first = next((t for t, v in enumerate(values) if v), None)
    if first is None:
        return 0.0
    values = values[first:]
    weeks = len(values) // 7
    if weeks == 0:
        return float(sum(values) / len(values) * HORIZON_DAYS)
    skip = len(values) - 7 * weeks
    rates = [sum(values[skip + 7 * k : skip + 7 * k + 7]) / 7 for k in range(weeks)]
    if weeks < 3:
        return float(sum(rates) / weeks * HORIZON_DAYS)
    intercept, slope = theil_sen(rates)
    rate = intercept + slope * (weeks - 1 + (Decimal("3.5") + HORIZON_DAYS / 2) / 7)
    recent = sum(rates[-4:]) / min(weeks, 4)
    rate = min(max(rate, recent * Decimal("0.5")), recent * Decimal("1.5"))
    return float(rate * HORIZON_DAYS)


METHODS = {"this": this_method, "previous": previous_method, "flat": flat_mean}


@dataclass(frozen=True)
class Row:
    pattern: str
    description: str
    noise: float
    errors: dict[str, float]  # method → mean absolute relative error over the seeds


def run() -> list[Row]:
    rows = []
    for pattern in PATTERNS:
        truth = next_month(pattern)
        scale = LEVEL * float(HORIZON_DAYS) if pattern.stops else truth
        for noise in NOISE_LEVELS:
            if noise == 0 and not pattern.noise_free:
                continue
            seeds = SEEDS if noise else (0,)
            errors = {name: 0.0 for name in METHODS}
            for seed in seeds:
                usage = daily_usage(pattern, noise=noise, seed=seed)
                for name, method in METHODS.items():
                    errors[name] += abs(method(usage) - truth) / scale / len(seeds)
            rows.append(Row(pattern.name, pattern.description, noise, errors))
    return rows


def limits_broken(rows: list[Row]) -> list[str]:
    """Every limit a row breaks, in words; empty when the method meets them all."""
    broken = []
    for row in rows:
        ours, flat = row.errors["this"], row.errors["flat"]
        limit = NOISE_FREE_LIMIT if row.noise == 0 else NOISY_LIMIT
        where = f"{row.pattern} (noise {row.noise:g})"
        if ours > limit:
            broken.append(f"{where}: error {ours:.1%} over the {limit:.0%} limit")
        if ours > flat + FLAT_MEAN_TOLERANCE:
            broken.append(f"{where}: {ours:.1%} is worse than the flat mean's {flat:.1%}")
        if row.pattern in MUST_BEAT_FLAT_MEAN and not ours < flat:
            broken.append(f"{where}: {ours:.1%} does not beat the flat mean's {flat:.1%}")
    return broken


def table(rows: list[Row]) -> str:
    lines = [
        f"Backtest of {METHOD_VERSION}: mean absolute error of the next 30.4375 days "
        f"({len(SEEDS)} seeds per noise level)",
        f"{'pattern':<14}{'noise':>6}{'this method':>13}{'previous':>10}{'flat mean':>11}",
    ]
    for row in rows:
        e = row.errors
        lines.append(
            f"{row.pattern:<14}{row.noise:>6g}{e['this']:>13.1%}{e['previous']:>10.1%}"
            f"{e['flat']:>11.1%}"
        )
    return "\n".join(lines)


def main() -> int:
    rows = run()
    print(table(rows))
    broken = limits_broken(rows)
    for line in broken:
        print(f"LIMIT BROKEN: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
