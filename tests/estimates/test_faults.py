"""Fault injection through the sandbox: every vendor misbehaviour ends in a complete sample or a
clearly reported failure with the previous data intact — never partial, never stuck."""

import pytest

from connectors import crypto
from connectors.sandbox.catalogue import make_key
from estimates import sampling
from estimates.models import DailyCost, DailyUsage, Projection, Sample


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("connectors.http.time.sleep", slept.append)
    return slept


def snapshot(source):
    return (
        list(DailyUsage.objects.filter(source=source).order_by("pk").values_list("pk", "output")),
        list(
            DailyCost.objects.filter(source=source).order_by("pk").values_list("pk", "amount_usd")
        ),
        list(Projection.objects.filter(source=source).values_list("pk", flat=True)),
    )


def with_key(source, behaviour, **params):
    key = make_key(source.vendor, behaviour, params=params or None)
    source.key_ciphertext = crypto.encrypt(key, source_public_id=source.public_id)
    source.save()


def run_to_the_end(source, trigger="weekly"):
    """Run a sample as the worker would: transient failures come back until attempts run out."""
    sample = sampling.sample_request(source=source, trigger=trigger)
    for _ in range(sampling.MAX_ATTEMPTS + 1):
        try:
            result = sampling.sample_run(sample_id=sample.pk)
        except sampling.RetryLater:
            continue
        if result is not None:
            return result
    return Sample.objects.get(pk=sample.pk)


@pytest.fixture
def sampled(make_source):
    """A source with one good sample behind it."""

    def make(vendor="anthropic"):
        source = make_source("flat", vendor=vendor)
        assert run_to_the_end(source, trigger="first").status == "succeeded"
        return source

    return make


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_rate_limiting_is_waited_out_and_the_sample_completes(sampled, vendor, no_real_sleep):
    source = sampled(vendor)
    with_key(source, "ratelimited", n=2, r=3)
    sample = run_to_the_end(source)
    assert sample.status == "succeeded"
    assert 3.0 in no_real_sleep  # the vendor's retry-after was honoured
    source.refresh_from_db()
    assert source.status == "ready"


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_flaky_5xx_and_529_bursts_are_retried_to_a_complete_sample(sampled, vendor):
    source = sampled(vendor)
    with_key(source, "flaky", n=3)
    assert run_to_the_end(source).status == "succeeded"
    # Two models a day, plus OpenAI's embeddings and moderations models.
    assert DailyUsage.objects.filter(source=source).count() == (360 if vendor == "openai" else 180)


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_a_malformed_body_fails_clearly_and_keeps_the_previous_data(sampled, vendor):
    source = sampled(vendor)
    before = snapshot(source)
    with_key(source, "malformed")
    sample = run_to_the_end(source)
    assert sample.status == "failed"
    assert "could not read" in sample.error
    assert snapshot(source) == before
    source.refresh_from_db()
    assert source.status == "failed"


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_a_key_revoked_mid_sample_needs_attention_and_keeps_the_previous_data(sampled, vendor):
    source = sampled(vendor)
    before = snapshot(source)
    with_key(source, "late401", n=2)
    sample = run_to_the_end(source)
    assert sample.status == "failed"
    assert snapshot(source) == before
    source.refresh_from_db()
    assert source.status == "needs_attention"


def test_a_vendor_that_never_answers_times_out_and_fails_without_getting_stuck(sampled, settings):
    settings.VENDOR_READ_TIMEOUT_SECONDS = 0.3
    source = sampled("anthropic")
    before = snapshot(source)
    with_key(source, "hang", h=30)
    sample = run_to_the_end(source)
    assert sample.status == "failed"
    assert "did not answer in time" in sample.error
    assert snapshot(source) == before
    source.refresh_from_db()
    assert source.status == "failed"
    assert not Sample.objects.filter(source=source, status__in=["running", "queued"]).exists()
