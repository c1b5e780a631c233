"""The seams of the sampling package: error kinds to owner messages, the periodic tasks through
the package, and modules small enough to read."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connectors.errors import ConnectorError, ErrorKind
from connectors.models import EstimateSource
from estimates import sampling
from estimates.models import DailyUsage, Sample
from estimates.sampling import failures
from estimates.sampling import run as sampling_run
from estimates.tasks import daily_rows_expire_task, samples_reap_task, samples_weekly_fanout_task

ROOT = Path(__file__).resolve().parents[2]


# Error kinds


def test_a_plain_string_kind_becomes_an_error_kind_equal_to_it():
    error = ConnectorError("x", kind="malformed")
    assert error.kind is ErrorKind.MALFORMED
    assert error.kind == "malformed" and f"{error.kind}" == "malformed"
    assert "kind='malformed'" in repr(error)


@pytest.mark.parametrize(
    ("kind", "permanent", "transient"),
    [
        ("unauthorized", True, False),
        ("forbidden", True, False),
        ("rate_limited", False, True),
        ("timeout", False, True),
        ("server", False, True),
        ("unreachable", False, True),
        ("malformed", False, False),
        ("out_of_range", False, False),
        ("bad_request", False, False),
        ("page_cap", False, False),
    ],
)
def test_each_error_kind_says_whether_to_retry_or_ask_for_a_new_key(kind, permanent, transient):
    error = ConnectorError("x", kind=kind)
    assert (error.permanent, error.transient) == (permanent, transient)


def test_every_error_kind_has_its_own_owner_message():
    assert set(failures.VENDOR_MESSAGES) == set(ErrorKind)
    for kind in ErrorKind:
        message = failures.vendor_error_message(ConnectorError("detail", kind=kind, status=401))
        assert message and "{" not in message, kind


def test_every_permanent_kind_tells_the_owner_what_happened_to_the_key():
    assert set(failures.REJECTED_KEY_DETAILS) == {k for k in ErrorKind if k.permanent}


def test_an_out_of_range_message_names_the_value_but_no_other_kind_repeats_the_vendor():
    detail = "a cost of 1e32 in one row"
    for kind in ErrorKind:
        message = failures.vendor_error_message(ConnectorError(detail, kind=kind, status=500))
        assert (detail in message) == (kind == ErrorKind.OUT_OF_RANGE), kind


@pytest.mark.parametrize("kind", [k for k in ErrorKind if not k.permanent])
def test_every_vendor_failure_ends_the_sample_with_the_message_of_its_kind(
    make_source, monkeypatch, kind
):
    source = make_source("flat")

    def failing(*args, **kwargs):
        raise ConnectorError("a cost of 1e32 in one row", kind=kind, status=500)

    monkeypatch.setattr(sampling_run, "fetch_window", failing)
    sample = sampling.sample_request(source=source, trigger="weekly")
    for _ in range(sampling.MAX_ATTEMPTS):  # transient kinds come back until attempts run out
        try:
            result = sampling.sample_run(sample_id=sample.pk)
        except sampling.RetryLater:
            continue
        break
    expected = failures.vendor_error_message(ConnectorError("a cost of 1e32 in one row", kind=kind))
    assert (result.status, result.error) == ("failed", expected)
    source.refresh_from_db()
    assert (source.status, source.last_error) == ("failed", expected)


@pytest.mark.parametrize("kind", [k for k in ErrorKind if k.permanent])
def test_a_rejected_key_ends_the_sample_and_asks_for_a_new_key(make_source, monkeypatch, kind):
    source = make_source("flat")

    def rejected(*args, **kwargs):
        raise ConnectorError("no", kind=kind, status=401)

    monkeypatch.setattr(sampling_run, "fetch_window", rejected)
    result = sampling.sample_run(
        sample_id=sampling.sample_request(source=source, trigger="weekly").pk
    )
    assert (result.status, result.error) == ("failed", "The vendor rejected the key (401).")
    source.refresh_from_db()
    assert source.status == "needs_attention"
    assert failures.REJECTED_KEY_DETAILS[kind] in source.last_error


# The periodic tasks, through the package


def test_the_reaper_task_ends_a_sample_whose_worker_was_lost(make_source):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="weekly")
    sampling.sample_claim(sample.pk)
    Sample.objects.filter(pk=sample.pk).update(
        lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    samples_reap_task()
    sample.refresh_from_db()
    assert (sample.status, sample.error) == ("failed", failures.LOST_WORKER_MESSAGE)
    assert sample.finished_at is not None and sample.lease_expires_at is None


def test_the_weekly_fanout_task_queues_one_sample_per_source_once(make_source, settings):
    settings.SAMPLE_SPREAD_MINUTES = 10
    first, second = make_source("flat"), make_source("flat", vendor="openai")
    EstimateSource.objects.filter(pk=second.pk).update(status="ready")
    samples_weekly_fanout_task()
    samples_weekly_fanout_task()  # a second run finds both queued and adds nothing
    queued = Sample.objects.filter(trigger="weekly", status="queued").order_by("source_id")
    assert [s.source_id for s in queued] == sorted([first.pk, second.pk])
    due = sorted(s.not_before for s in queued)
    assert due[1] - due[0] >= timedelta(minutes=4)  # spread over the 10 minutes


def test_the_retention_task_deletes_rows_older_than_13_months_through_the_package(make_source):
    source = make_source("flat")
    old, recent = date(2020, 1, 1), datetime.now(UTC).date() - timedelta(days=30)
    for day in (old, recent):
        DailyUsage.objects.create(
            account=source.account, source=source, date=day, model="m", service_tier="",
            context_window="", batch="", output=1,
        )  # fmt: skip
    daily_rows_expire_task()
    assert list(DailyUsage.objects.filter(source=source).values_list("date", flat=True)) == [recent]


# Size
