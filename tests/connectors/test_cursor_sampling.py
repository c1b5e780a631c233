"""A Cursor team's 90-day sample through the real pipeline: sandbox vendor, real task code,
DailyUsage and DailyCost rows and a projection; pacing on a clock that skips its waits."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.cursor import pacing
from connectors.sandbox import cursor as sandbox_cursor
from estimates import sampling
from estimates.models import DailyCost, DailyUsage, Projection


@pytest.fixture
def skip_clock(monkeypatch):
    clock = pacing.SkipClock()
    monkeypatch.setattr(pacing, "CLOCK", clock)
    pacing.forget_all()
    return clock


def run(source, trigger="first"):
    sample = sampling.sample_request(source=source, trigger=trigger)
    return sampling.sample_run(sample_id=sample.pk)


def expected(start, end, now_ms):
    """Tokens per (day, model) and dollars per day, straight from the sandbox's events."""
    tokens, dollars = defaultdict(lambda: [0, 0, 0, 0]), defaultdict(Decimal)
    day = start
    while day < end:
        epoch_day = (day - datetime(1970, 1, 1, tzinfo=UTC).date()).days
        for e in sandbox_cursor.day_events("flat", 24, epoch_day, now_ms):
            dollars[day] += Decimal(str(e["chargedCents"])) / 100
            if "tokenUsage" in e:
                t, row = e["tokenUsage"], tokens[(day, e["model"])]
                row[0] += t["inputTokens"]
                row[1] += t["cacheReadTokens"]
                row[2] += t["cacheWriteTokens"]
                row[3] += t["outputTokens"]
        day += timedelta(days=1)
    return tokens, dollars


def test_a_cursor_sample_ends_in_daily_rows_and_a_projection(make_source, skip_clock):
    source = make_source(vendor="cursor", key=sandbox_cursor.make_key("flat"))
    sample = run(source)
    assert sample.status == "succeeded", sample.error
    assert sample.window_end - sample.window_start == timedelta(days=90)

    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    tokens, dollars = expected(sample.window_start, sample.window_end, now_ms)
    stored = {
        (r.date, r.model): [r.uncached_input, r.cache_read, r.cache_write, r.output]
        for r in DailyUsage.objects.filter(source=source)
    }
    assert stored == dict(tokens)
    assert len(stored) == 90 * len(sandbox_cursor.MODELS)
    costs = {r.date: r.amount_usd for r in DailyCost.objects.filter(source=source)}
    assert costs == dict(dollars)
    assert {r.currency for r in DailyCost.objects.filter(source=source)} == {"USD"}

    projection = Projection.objects.get(source=source)
    assert projection.monthly_tokens["output"] > 0
    assert projection.provider_spend_usd > 0
    source.refresh_from_db()
    assert source.status == "ready"
    # 90 one-day requests at 60 a minute: the pacer held some back for about a minute,
    # on a clock that skipped the wait instead of sleeping.
    assert skip_clock.skipped > 55


def test_a_resample_replaces_the_rows_identically(make_source, skip_clock):
    source = make_source(vendor="cursor", key=sandbox_cursor.make_key("flat"))
    run(source)
    first = sorted(DailyUsage.objects.filter(source=source).values_list("date", "model", "output"))
    run(source, trigger="weekly")
    again = sorted(DailyUsage.objects.filter(source=source).values_list("date", "model", "output"))
    assert again == first and Projection.objects.filter(source=source).count() == 2


@pytest.mark.parametrize("behaviour", ["revoked", "not-enterprise", "no-admin-scope"])
def test_a_key_refused_later_fails_the_sample_and_keeps_nothing_new(
    make_source, skip_clock, behaviour
):
    source = make_source(vendor="cursor", key=sandbox_cursor.make_key(behaviour))
    sample = run(source)
    assert sample.status == "failed"
    assert not DailyUsage.objects.filter(source=source).exists()
    source.refresh_from_db()
    assert source.status != "ready"
