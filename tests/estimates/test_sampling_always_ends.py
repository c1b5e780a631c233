"""Every failure of a sample ends it at once as failed, with a message the owner can act on and
the previous rows and estimate untouched — never "running" until its lease runs out."""

import json
import logging
import os
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from celery.exceptions import SoftTimeLimitExceeded

from connectors import bounds, crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from estimates import sampling, storage
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from estimates.sampling import run as sampling_run
from estimates.tasks import sample_run_task

ANTHROPIC_USAGE = "/v1/organizations/usage_report/messages"
ANTHROPIC_COSTS = "/v1/organizations/cost_report"
OPENAI_USAGE = "/v1/organization/usage/completions"


def snapshot(source):
    return (
        list(DailyUsage.objects.filter(source=source).order_by("pk").values_list("pk", "output")),
        list(
            DailyCost.objects.filter(source=source).order_by("pk").values_list("pk", "amount_usd")
        ),
        list(Projection.objects.filter(source=source).values_list("pk", flat=True)),
    )


def run(source, trigger="weekly"):
    sample = sampling.sample_request(source=source, trigger=trigger)
    return sampling.sample_run(sample_id=sample.pk)


def assert_failed_promptly(source, sample, before, *words):
    sample.refresh_from_db()
    assert sample.status == "failed"
    assert sample.finished_at is not None and sample.lease_expires_at is None
    for word in words:
        assert word in sample.error
    assert "Traceback" not in sample.error
    assert snapshot(source) == before
    assert not Sample.objects.filter(source=source, status__in=["running", "queued"]).exists()


@pytest.fixture
def sampled(make_source):
    """A source with one good sample behind it."""

    def make(vendor="anthropic"):
        source = make_source("flat", vendor=vendor)
        assert run(source, trigger="first").status == "succeeded"
        return source

    return make


def anthropic_row(**overrides):
    row = {
        "model": "claude-sonnet-4-5-20250929",
        "service_tier": "standard",
        "context_window": "0-200k",
        "uncached_input_tokens": 10,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 5,
    }
    return {**row, **overrides}


def openai_row(**overrides):
    row = {
        "object": "organization.usage.completions.result",
        "input_tokens": 10,
        "input_cached_tokens": 0,
        "output_tokens": 5,
        "num_model_requests": 1,
        "model": "gpt-4.1-2025-04-14",
        "service_tier": "default",
        "batch": False,
    }
    return {**row, **overrides}


def page(buckets):
    return httpx.Response(
        200,
        content=json.dumps({"data": buckets, "has_more": False, "next_page": None}).encode(),
        headers={"Content-Type": "application/json"},
    )


def anthropic_report(row, day=None):
    """Every sub-window of the report answers one bucket (its first day, or `day`) with `row`."""

    def respond(request):
        start = request.url.params["starting_at"]
        if day is not None:
            start = f"{day}T00:00:00Z"
        return page([{"starting_at": start, "ending_at": start, "results": [row]}])

    return respond


def openai_report(row, start_time=None):
    def respond(request):
        start = start_time if start_time is not None else int(request.url.params["start_time"])
        return page([{"object": "bucket", "start_time": start, "end_time": 0, "results": [row]}])

    return respond


@pytest.fixture
def vendor(sandbox):
    """From its call on, one report answers `respond`; everything else reaches the sandbox."""
    with ExitStack() as stack:

        def route(path, respond):
            mock = stack.enter_context(respx.mock(assert_all_called=False))
            mock.get(url__startswith=f"{sandbox}{path}").mock(side_effect=respond)
            mock.route(url__startswith=sandbox).pass_through()

        yield route


# Vendor numbers out of range: one definition of "sane" for both vendors


@pytest.mark.parametrize(
    ("vendor_name", "path", "respond"),
    [
        ("anthropic", ANTHROPIC_USAGE, anthropic_report(anthropic_row(output_tokens=1e30))),
        ("openai", OPENAI_USAGE, openai_report(openai_row(input_tokens=1e30))),
        ("anthropic", ANTHROPIC_USAGE, anthropic_report(anthropic_row(output_tokens=10**13))),
        ("openai", OPENAI_USAGE, openai_report(openai_row(num_model_requests=10**11))),
    ],
)
def test_an_absurd_token_count_fails_the_sample_as_out_of_range_and_keeps_the_data(
    sampled, vendor, vendor_name, path, respond
):
    source = sampled(vendor_name)
    before = snapshot(source)
    vendor(path, respond)
    sample = run(source)
    assert_failed_promptly(source, sample, before, "value out of range", "in one row")
    source.refresh_from_db()
    assert source.status == "failed" and "out of range" in source.last_error


def test_an_absurd_cost_fails_the_sample_as_out_of_range(sampled, vendor):
    source = sampled("anthropic")
    before = snapshot(source)
    vendor(ANTHROPIC_COSTS, anthropic_report({"amount": "1e32", "description": "x"}))
    sample = run(source)
    assert_failed_promptly(source, sample, before, "value out of range", "a cost of")


@pytest.mark.parametrize(
    ("vendor_name", "path", "respond"),
    [
        ("openai", OPENAI_USAGE, openai_report(openai_row(), start_time=10**20)),
        (
            "anthropic",
            ANTHROPIC_USAGE,
            lambda request: page(
                [{"starting_at": "9999-12-31T23:00:00-05:00", "results": [anthropic_row()]}]
            ),
        ),
    ],
)
def test_an_overflowing_timestamp_fails_the_sample_as_unreadable(
    sampled, vendor, vendor_name, path, respond
):
    source = sampled(vendor_name)
    before = snapshot(source)
    vendor(path, respond)
    sample = run(source)
    assert_failed_promptly(source, sample, before, "could not read")


@pytest.mark.parametrize("offset", [timedelta(days=-400), timedelta(days=3)])
def test_a_row_dated_outside_the_requested_window_is_never_stored(sampled, vendor, offset):
    source = sampled("anthropic")
    before = snapshot(source)
    day = datetime.now(UTC).date() + offset
    vendor(ANTHROPIC_USAGE, anthropic_report(anthropic_row(), day=day))
    sample = run(source)
    assert_failed_promptly(source, sample, before, "outside the requested days")
    assert not DailyUsage.objects.filter(date=day).exists()


@pytest.mark.parametrize(
    ("row", "what"),
    [
        (anthropic_row(model="m" * (bounds.MAX_MODEL_CHARS + 1)), "a model name of 201"),
        (anthropic_row(service_tier="t" * 51), "a service tier of 51"),
    ],
)
def test_a_value_longer_than_its_column_fails_the_sample_with_a_message(sampled, vendor, row, what):
    source = sampled("anthropic")
    before = snapshot(source)
    vendor(ANTHROPIC_USAGE, anthropic_report(row))
    sample = run(source)
    assert_failed_promptly(source, sample, before, "value out of range", what)


def test_the_bounds_are_the_widths_of_the_columns():
    assert DailyUsage._meta.get_field("model").max_length == bounds.MAX_MODEL_CHARS
    assert DailyCost._meta.get_field("description").max_length == bounds.MAX_DESCRIPTION_CHARS
    assert DailyCost._meta.get_field("dimensions_key").max_length == bounds.MAX_DIMENSIONS_CHARS


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite does not enforce column lengths; make test runs it on PostgreSQL",
)
def test_a_value_the_database_refuses_still_ends_the_sample_with_a_message(sampled, monkeypatch):
    # Past the bounds check (e.g. sums of many rows): the database's refusal is not a traceback.
    source = sampled("anthropic")
    before = snapshot(source)
    real = storage.rows_replace

    def too_long(source, start, end, usage, costs):
        usage[0].model = "m" * 500
        return real(source, start, end, usage, costs)

    monkeypatch.setattr(storage, "rows_replace", too_long)
    sample = run(source)
    assert_failed_promptly(source, sample, before, "too long or too large to store")


# Keys that cannot be decrypted


def test_an_undecryptable_key_fails_the_sample_at_once_asking_for_a_new_key(sampled):
    source = sampled("anthropic")
    before = snapshot(source)
    # A ciphertext that belongs to another row (or to an encryption key since removed).
    EstimateSource.objects.filter(pk=source.pk).update(
        key_ciphertext=crypto.encrypt(make_key("anthropic", "flat"), source_public_id=uuid.uuid4())
    )
    source.refresh_from_db()
    sample = run(source)
    assert_failed_promptly(source, sample, before, "could not be decrypted", "replace it")
    source.refresh_from_db()
    assert source.status == "failed" and "could not be decrypted" in source.last_error


def test_broken_encryption_key_settings_fail_the_sample_with_a_message(sampled, settings):
    source = sampled("anthropic")
    before = snapshot(source)
    settings.TOKENOFFSET_ENCRYPTION_KEYS = "k1:not-base64!"
    sample = run(source)
    assert_failed_promptly(source, sample, before, "configuration problem on our side")


# The task's soft time limit


def test_the_soft_time_limit_while_fetching_ends_the_sample_promptly(sampled, monkeypatch):
    source = sampled("anthropic")
    before = snapshot(source)

    def slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(sampling_run, "fetch_window", slow)
    sample = sampling.sample_request(source=source, trigger="weekly")
    sample_run_task(sample.pk)  # the task wrapper returns: the sample is over, not retried
    assert_failed_promptly(source, sample, before, "took longer than the time limit")


def test_the_soft_time_limit_while_storing_rolls_back_and_ends_the_sample(sampled, monkeypatch):
    source = sampled("anthropic")
    before = snapshot(source)
    real = storage.rows_replace

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)  # the old rows are gone inside the transaction…
        raise SoftTimeLimitExceeded()  # …when the limit strikes

    monkeypatch.setattr(storage, "rows_replace", interrupted)
    sample = run(source)
    assert_failed_promptly(source, sample, before, "took longer than the time limit")


# Anything else: logged for operators (redacted), a plain message for the owner


def test_an_unexpected_error_while_fetching_ends_the_sample_and_is_logged_redacted(
    sampled, monkeypatch, caplog
):
    source = sampled("anthropic")
    before = snapshot(source)
    secret = "sk-ant-admin01-" + "s" * 40

    def broken(*args, **kwargs):
        raise RuntimeError(f"bug while holding {secret}")

    monkeypatch.setattr(sampling_run, "fetch_window", broken)
    sample = sampling.sample_request(source=source, trigger="weekly")
    with caplog.at_level(logging.ERROR, logger="estimates.sampling"), pytest.raises(RuntimeError):
        sampling.sample_run(sample_id=sample.pk)
    assert_failed_promptly(source, sample, before, "failed unexpectedly")
    assert "bug while holding" not in sample.error
    logged = [r for r in caplog.records if r.name.startswith("estimates.sampling")]
    assert logged and "bug while holding" in logged[0].getMessage()
    assert secret not in logged[0].getMessage()


def test_a_lapsed_lease_is_reported_as_a_lost_worker_not_a_time_limit(make_source):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="first")
    sampling.sample_claim(sample.pk)
    Sample.objects.filter(pk=sample.pk).update(
        lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert sampling.samples_reap() == 1
    sample.refresh_from_db()
    assert sample.status == "failed"
    assert "time limit" not in sample.error and "worker" in sample.error


# A 200 MB report


def test_a_report_larger_than_the_cap_fails_the_sample_as_unreadable(sampled, vendor, settings):
    settings.VENDOR_MAX_RESPONSE_BYTES = 256 * 1024
    source = sampled("openai")
    before = snapshot(source)
    pulled = []

    class Endless(httpx.SyncByteStream):
        def __iter__(self):
            yield b'{"data": ["'
            for _ in range(200 * 16):  # 200 MB in 64 kB chunks, made only if pulled
                pulled.append(1)
                yield b"x" * 65536

    vendor(OPENAI_USAGE, lambda request: httpx.Response(200, stream=Endless()))
    sample = run(source)
    assert_failed_promptly(source, sample, before, "could not read")
    assert len(pulled) < 50  # a few chunks per sub-window, never the whole body
