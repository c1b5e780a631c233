"""The sampling pipeline end to end: sandbox vendor, real PostgreSQL, real task code."""

import os
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
import respx
import time_machine
from django.core import mail
from django.urls import reverse

from connectors.models import EstimateSource
from connectors.sandbox import reports, synthetic
from estimates import sampling, storage
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from estimates.sampling import run as sampling_run
from estimates.tasks import sample_run_task

HORIZON = Decimal("30.4375")


def run(source, trigger="first"):
    sample = sampling.sample_request(source=source, trigger=trigger)
    return sampling.sample_run(sample_id=sample.pk)


def rows_snapshot(source):
    usage = list(
        DailyUsage.objects.filter(source=source)
        .order_by("date", "model", "service_tier", "context_window", "batch")
        .values_list("date", "model", "uncached_input", "cache_read", "cache_write", "output")
    )
    costs = list(
        DailyCost.objects.filter(source=source)
        .order_by("date", "description", "dimensions_key")
        .values_list("date", "description", "dimensions_key", "amount_usd")
    )
    return usage, costs


def expected_flat_anthropic():
    """Daily totals × 30.4375 and the footprint, worked by hand from the published method."""
    today = datetime.now(UTC).date()
    rows = synthetic.daily_usage("anthropic", "flat", today - timedelta(days=1))
    e_out = {"claude-sonnet-4-5-20250929": 1000, "claude-haiku-4-5-20251001": 350}  # large, medium
    tokens = dict.fromkeys(("uncached_input", "cache_read", "cache_write", "output"), 0)
    it_wh = Decimal(0)
    for r in rows:
        write = (
            r["cache_creation"]["ephemeral_5m_input_tokens"]
            + r["cache_creation"]["ephemeral_1h_input_tokens"]
        )
        day = {
            "uncached_input": r["uncached_input_tokens"],
            "cache_read": r["cache_read_input_tokens"],
            "cache_write": write,
            "output": r["output_tokens"],
        }
        for k, v in day.items():
            tokens[k] += v
        weighted = (
            Decimal(day["output"])
            + Decimal("0.20") * day["uncached_input"]
            + Decimal("0.25") * day["cache_write"]
            + Decimal("0.02") * day["cache_read"]
        )
        it_wh += e_out[r["model"]] * weighted * HORIZON / 1_000_000
    kwh = it_wh * Decimal("1.14") / 1000
    co2e = kwh * Decimal("0.40") * Decimal("1.15")
    litres = it_wh / 1000 * Decimal("0.5") + kwh * Decimal("3.1")
    raw = co2e / 1000 * 300 + litres / 1000 * 2
    price = max(Decimal("1.99"), raw.quantize(Decimal("0.01"), rounding=ROUND_CEILING))
    monthly = {k: int((Decimal(v) * HORIZON).to_integral_value()) for k, v in tokens.items()}
    return monthly, kwh, co2e, litres, price


def test_flat_sample_end_to_end_matches_the_published_method(make_source, owner_client, owner):
    source = make_source("flat")
    sample = run(source)
    assert sample.status == "succeeded", sample.error
    assert sample.window_end == datetime.now(UTC).date()
    assert sample.window_end - sample.window_start == timedelta(days=90)
    assert DailyUsage.objects.filter(source=source).values("date").distinct().count() == 90
    assert DailyUsage.objects.filter(source=source).count() == 180  # 2 models × 90 days
    source.refresh_from_db()
    assert source.status == "ready"

    monthly, kwh, co2e, litres, price = expected_flat_anthropic()
    body = owner_client.get(reverse("api_estimate")).json()
    estimate = body["estimate"]
    assert {k: v for k, v in estimate["monthly_tokens"].items() if k != "total"} == monthly
    assert estimate["monthly_tokens"]["total"] == sum(monthly.values())
    assert estimate["energy_kwh"] == pytest.approx(float(kwh), rel=1e-12)
    assert estimate["co2e_kg"] == pytest.approx(float(co2e), rel=1e-12)
    assert estimate["water_l"] == pytest.approx(float(litres), rel=1e-12)
    assert estimate["monthly_price_usd"] == f"{price:.2f}"
    assert estimate["monthly_provider_spend_usd"] == f"{Decimal('28.85') * HORIZON:.2f}"
    assert estimate["preliminary"] is False and estimate["stale"] is False
    assert estimate["coefficient_set"] == "v2"
    assert body["sources"][0]["status"] == "ready"
    assert "first estimate is ready" in mail.outbox[-1].subject


def test_openai_flat_counts_cached_tokens_once(make_source):
    source = make_source("flat", vendor="openai")
    assert run(source).status == "succeeded"
    projection = Projection.objects.get(source=source)
    # gpt-5 + gpt-4o-mini: uncached 2M + 6M, cache reads 1M + 4M a day; embeddings 3M and
    # moderations 0.2M a day are input too.
    assert projection.monthly_tokens["uncached_input"] == int(11_200_000 * HORIZON)
    assert projection.monthly_tokens["cache_read"] == int(5_000_000 * HORIZON)


def test_sampling_twice_leaves_identical_rows(make_source):
    source = make_source("flat")
    run(source)
    first = rows_snapshot(source)
    run(source, trigger="weekly")
    assert rows_snapshot(source) == first
    assert Projection.objects.filter(source=source).count() == 2
    assert Projection.objects.filter(source=source).first().trend_pct == 0.0


def test_a_group_removed_at_the_vendor_is_gone_after_the_next_sample(
    make_source, monkeypatch, request
):
    source = make_source("flat")
    run(source)
    assert DailyUsage.objects.filter(source=source, model="claude-haiku-4-5-20251001").exists()

    original = synthetic.daily_usage

    def without_haiku(*args, **kwargs):
        return [r for r in original(*args, **kwargs) if "haiku" not in r["model"]]

    monkeypatch.setattr(synthetic, "daily_usage", without_haiku)
    reports._day_rows.cache_clear()  # the sandbox caches generated days
    request.addfinalizer(reports._day_rows.cache_clear)
    second = run(source, trigger="weekly")
    assert second.status == "succeeded", second.error
    assert not DailyUsage.objects.filter(source=source, model__contains="haiku").exists()
    assert DailyUsage.objects.filter(source=source).count() == 90


def test_a_sample_rejected_part_way_changes_nothing(make_source):
    source = make_source("flat")
    assert run(source).status == "succeeded"
    before = rows_snapshot(source), list(Projection.objects.values_list("pk", flat=True))

    # The same source, now with a key the vendor rejects after a few report calls.
    from connectors import crypto
    from connectors.sandbox.catalogue import make_key

    key = make_key("anthropic", "late401", params={"n": 3})
    source.key_ciphertext = crypto.encrypt(key, source_public_id=source.public_id)
    source.save()
    sample = run(source, trigger="manual")
    assert sample.status == "failed"
    assert (rows_snapshot(source), list(Projection.objects.values_list("pk", flat=True))) == before
    source.refresh_from_db()
    assert source.status == "needs_attention"
    assert "needs a new key" in mail.outbox[-1].subject


def test_5xx_on_the_last_page_past_the_retries_changes_nothing(make_source, sandbox, monkeypatch):
    source = make_source("flat")
    assert run(source).status == "succeeded"
    before = rows_snapshot(source), list(Projection.objects.values_list("pk", flat=True))
    monkeypatch.setattr("connectors.http.time.sleep", lambda seconds: None)
    last_window = (datetime.now(UTC).date() - timedelta(days=28)).isoformat()

    with respx.mock(assert_all_called=True) as vendor:
        vendor.get(
            url__startswith=f"{sandbox}/v1/organizations/cost_report",
            params__contains={"starting_at": f"{last_window}T00:00:00Z"},
        ).respond(500, json={"type": "error", "error": {"type": "api_error", "message": "x"}})
        vendor.route(url__startswith=sandbox).pass_through()
        sample = sampling.sample_request(source=source, trigger="manual")
        with pytest.raises(sampling.RetryLater):
            sampling.sample_run(sample_id=sample.pk)
        for _ in range(sampling.MAX_ATTEMPTS - 1):
            try:
                result = sampling.sample_run(sample_id=sample.pk)
            except sampling.RetryLater:
                continue
    assert result.status == "failed"
    assert "API had errors" in result.error
    assert (rows_snapshot(source), list(Projection.objects.values_list("pk", flat=True))) == before
    source.refresh_from_db()
    assert source.status == "failed"


def test_crash_after_fetch_then_the_same_sample_resumes(make_source, monkeypatch, settings):
    source = make_source("flat")
    original = storage.rows_replace

    def crash(*args, **kwargs):
        raise RuntimeError("worker died between fetch and commit")

    monkeypatch.setattr(storage, "rows_replace", crash)
    sample = sampling.sample_request(source=source, trigger="first")
    with pytest.raises(RuntimeError):
        sampling.sample_run(sample_id=sample.pk)
    assert not DailyUsage.objects.filter(source=source).exists()

    # Simulate a hard crash instead: the sample is left running with its lease.
    Sample.objects.filter(pk=sample.pk).update(
        status="running",
        error="",
        finished_at=None,
        lease_expires_at=datetime.now(UTC) + timedelta(seconds=settings.SAMPLE_LEASE_SECONDS),
    )
    monkeypatch.setattr(storage, "rows_replace", original)
    with pytest.raises(sampling.Busy):
        sampling.sample_run(sample_id=sample.pk)  # the lease is still live
    later = datetime.now(UTC) + timedelta(seconds=settings.SAMPLE_LEASE_SECONDS + 5)
    with time_machine.travel(later, tick=False):
        resumed = sampling.sample_run(sample_id=sample.pk)
    assert resumed.status == "succeeded"
    assert resumed.attempts == 2
    assert DailyUsage.objects.filter(source=source).count() == 180
    assert Projection.objects.filter(source=source).count() == 1


def test_claims_leases_and_the_reaper(make_source, settings):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="first")
    assert sampling.sample_claim(sample.pk) is not None
    with pytest.raises(sampling.Busy):
        sampling.sample_claim(sample.pk)
    later = datetime.now(UTC) + timedelta(seconds=settings.SAMPLE_LEASE_SECONDS + 5)
    with time_machine.travel(later, tick=False):
        assert sampling.sample_claim(sample.pk).attempts == 2  # expired lease re-taken
    much_later = later + timedelta(seconds=settings.SAMPLE_LEASE_SECONDS + 5)
    with time_machine.travel(much_later, tick=False):
        assert sampling.samples_reap() == 1
    sample.refresh_from_db()
    assert sample.status == "failed"
    assert sampling.sample_claim(sample.pk) is None


def test_manual_resample_is_limited_but_the_first_sample_does_not_count(make_source, owner_client):
    source = make_source("flat")
    run(source)  # first connect
    url = reverse("sources:sample", args=[source.public_id])
    response = owner_client.post(url, follow=True)
    assert f"Sampling {source.label} now" in response.content.decode()
    response = owner_client.post(url, follow=True)
    assert "already running" in response.content.decode()
    Sample.objects.filter(source=source, status="queued").update(status="succeeded")
    response = owner_client.post(url, follow=True)
    assert "once every 5 minutes" in response.content.decode()
    assert Sample.objects.filter(source=source, trigger="manual").count() == 1


def test_other_accounts_cannot_sample_my_source(make_source, other_client):
    source = make_source("flat")
    assert other_client.post(reverse("sources:sample", args=[source.public_id])).status_code == 404
    assert not Sample.objects.exists()


def test_members_cannot_sample(make_source, member_client):
    source = make_source("flat")
    assert member_client.post(reverse("sources:sample", args=[source.public_id])).status_code == 403
    assert not Sample.objects.exists()


def test_the_task_wrapper_retries_transient_failures(make_source, monkeypatch):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="first")
    retries = []

    def fake_retry(countdown):
        retries.append(countdown)
        return RuntimeError("retry scheduled")

    def always_rate_limited(**kwargs):
        raise sampling.RetryLater(42, "rate limited")

    monkeypatch.setattr(sampling, "sample_run", always_rate_limited)
    monkeypatch.setattr(sample_run_task, "retry", fake_retry)
    with pytest.raises(RuntimeError, match="retry scheduled"):
        sample_run_task.run(sample.pk)
    assert retries == [42]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="counts PostgreSQL's COPY statements; make test runs it",
)
def test_write_of_a_heavy_sample_is_a_handful_of_bulk_statements(
    make_source, django_assert_max_num_queries
):
    source = make_source("heavy", params={"g": 60, "c": 100})
    sample = sampling.sample_request(source=source, trigger="first")
    claimed = sampling.sample_claim(sample.pk)
    end = claimed.started_at.date()
    start = end - timedelta(days=90)
    claimed.window_start, claimed.window_end = start, end
    from connectors.services import source_api_key
    from estimates.fetch import fetch_window

    fetched = fetch_window(source, source_api_key(source), start, end)
    assert len(fetched.usage) >= 90 * 60 and len(fetched.costs) >= 90 * 100
    with django_assert_max_num_queries(40):
        sampling_run.sample_store(sample=claimed, fetched=fetched)
    assert DailyUsage.objects.filter(source=source).count() >= 90 * 60


def test_sources_needing_attention_are_skipped_by_the_weekly_fanout(make_source):
    ready, broken = make_source("flat"), make_source("revoked")
    EstimateSource.objects.filter(pk=broken.pk).update(status="needs_attention")
    result = sampling.samples_weekly_fanout(spread_minutes=0)
    assert (result.queued, result.skipped) == (1, 0)
    assert list(Sample.objects.values_list("source_id", "trigger")) == [(ready.pk, "weekly")]


def test_the_beat_schedule_runs_the_fanout_next_sunday_at_0800_utc():
    from tokenoffset.celery import app

    entry = app.conf.beat_schedule["samples-weekly"]
    assert entry["task"] == "estimates.tasks.samples_weekly_fanout_task"
    schedule = entry["schedule"]
    for now, expected in [
        (datetime(2026, 11, 21, 20, 0, tzinfo=UTC), datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 8, 0, 1, tzinfo=UTC), datetime(2026, 11, 29, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 7, 59, tzinfo=UTC), datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
    ]:
        schedule.nowfun = lambda now=now: now
        remaining = schedule.remaining_estimate(now - timedelta(seconds=1))
        assert now + remaining == expected, now
    assert date(2026, 11, 22).weekday() == 6  # a Sunday


def test_a_canary_key_never_leaves_through_a_sample(make_source, caplog, monkeypatch):
    import logging

    from connectors.redaction import RedactSecretsFilter
    from connectors.sandbox.catalogue import make_key

    caplog.set_level(logging.DEBUG)
    key = make_key("anthropic", "flat", nonce="CANARY42")
    source = make_source(key=key)
    sent = []
    monkeypatch.setattr(sample_run_task, "apply_async", lambda *a, **kw: sent.append((a, kw)))
    sample = sampling.sample_request(source=source, trigger="first")
    sampling.sample_run(sample_id=sample.pk)
    bad = make_key("anthropic", "revoked", nonce="CANARY43")
    from connectors import crypto

    source.key_ciphertext = crypto.encrypt(bad, source_public_id=source.public_id)
    source.save()
    sampling.sample_run(sample_id=sampling.sample_request(source=source, trigger="manual").pk)
    assert "CANARY" not in repr(sent)
    for record in caplog.records:
        RedactSecretsFilter().filter(record)
        assert "CANARY" not in record.getMessage()
    assert all("CANARY" not in m.body for m in mail.outbox)
    sample.refresh_from_db()
    assert "CANARY" not in sample.error + repr(sample.progress)
