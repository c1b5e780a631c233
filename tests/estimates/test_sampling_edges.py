"""Edge cases of the pipeline: keys replaced mid-sample, waiting retries, retention, currency."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from connectors import crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from estimates import sampling, storage
from estimates.models import DailyCost, DailyUsage, Sample
from estimates.sampling import reaper, retention
from estimates.sampling import run as sampling_run


def test_a_key_replaced_while_a_sample_ran_on_the_old_one_is_not_blamed(make_source, monkeypatch):
    source = make_source("revoked")
    sample = sampling.sample_request(source=source, trigger="first")
    original = sampling_run.fetch_window

    def owner_replaces_the_key_meanwhile(*args, **kwargs):
        good = make_key("anthropic", "flat")
        EstimateSource.objects.filter(pk=source.pk).update(
            key_ciphertext=crypto.encrypt(good, source_public_id=source.public_id)
        )
        return original(*args, **kwargs)  # still with the old, revoked key

    monkeypatch.setattr(sampling_run, "fetch_window", owner_replaces_the_key_meanwhile)
    result = sampling.sample_run(sample_id=sample.pk)
    assert result.status == "failed" and "replaced during the sample" in result.error
    source.refresh_from_db()
    assert source.status != "needs_attention"
    follow_up = Sample.objects.get(source=source, status="queued")
    monkeypatch.setattr(sampling_run, "fetch_window", original)
    assert sampling.sample_run(sample_id=follow_up.pk).status == "succeeded"


def test_the_reaper_leaves_samples_waiting_out_a_retry_alone(make_source, monkeypatch):
    sent = []
    monkeypatch.setattr(
        reaper, "sample_enqueue", lambda sample, countdown=0: sent.append(sample.pk)
    )
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="first")
    sent.clear()
    # It waited out a 10-minute retry-after, long after it was created.
    now = datetime.now(UTC)
    Sample.objects.filter(pk=sample.pk).update(
        created_at=now - timedelta(hours=1), not_before=now + timedelta(minutes=10)
    )
    sampling.samples_reap()
    assert sent == []
    with time_machine.travel(now + timedelta(minutes=40), tick=False):
        sampling.samples_reap()  # now it is really lost: sent again, once
        sampling.samples_reap()
    assert sent == [sample.pk]


def test_a_failure_while_storing_fails_the_sample_at_once(make_source, monkeypatch):
    source = make_source("flat")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(storage, "rows_replace", broken)
    sample = sampling.sample_request(source=source, trigger="first")
    with pytest.raises(RuntimeError):
        sampling.sample_run(sample_id=sample.pk)
    sample.refresh_from_db()
    source.refresh_from_db()
    assert sample.status == "failed" and "unexpectedly" in sample.error
    assert source.status == "failed"


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        (date(2026, 11, 21), date(2025, 10, 21)),
        (date(2026, 3, 31), date(2025, 2, 28)),
        (date(2026, 1, 15), date(2024, 12, 15)),
    ],
)
def test_retention_cutoff_is_13_months_back(today, cutoff):
    assert retention.retention_cutoff(today) == cutoff


def test_daily_rows_older_than_13_months_are_deleted(make_source):
    source = make_source("flat")
    sampling.sample_run(sample_id=sampling.sample_request(source=source, trigger="first").pk)
    old = date(2020, 1, 1)
    DailyUsage.objects.create(
        account=source.account, source=source, date=old, model="m", service_tier="",
        context_window="", batch="", output=1,
    )  # fmt: skip
    DailyCost.objects.create(
        account=source.account, source=source, date=old, description="d", dimensions_key="{}",
        amount_usd=Decimal("1"),
    )  # fmt: skip
    assert sampling.daily_rows_expire() == 2
    assert not DailyUsage.objects.filter(date=old).exists()
    assert DailyUsage.objects.filter(source=source).count() == 180


def test_spend_in_another_currency_is_not_added_to_dollars(make_source):
    from connectors.records import CostRecord

    source = make_source("flat")
    day = date(2026, 11, 1)
    costs = storage.cost_rows(
        [
            CostRecord(day, "a", {}, Decimal("10"), "USD"),
            CostRecord(day, "b", {}, Decimal("1000"), "EUR"),
        ],
    )
    assert sum(c.amount_usd for c in costs if c.currency == "USD") == Decimal("10")
    sample = Sample(
        source=source, window_start=day - timedelta(days=6), window_end=day + timedelta(days=1)
    )
    from estimates.coefficients import coefficient_set_active

    projection = storage.projection_build(
        sample=sample,
        usage=[],
        costs=costs,
        coefficient_set=coefficient_set_active(),
        previous=None,
    )
    assert projection.provider_spend_usd < 1000
