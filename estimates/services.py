"""Sampling: request, claim, run, and the weekly fan-out and reaper around it."""

import calendar
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors import services as connector_services
from connectors.crypto import DecryptionError
from connectors.errors import ConnectorError
from connectors.models import EstimateSource, SourceStatus
from connectors.redaction import redact_secrets
from tokenoffset.accounts.emails import email_owners

from . import storage
from .coefficients import coefficient_set_active
from .fetch import fetch_window
from .models import DailyCost, DailyUsage, Sample, SampleStatus, SampleTrigger, UnclassifiedModel

logger = logging.getLogger(__name__)

WINDOW_DAYS = 90
MAX_ATTEMPTS = 5
MANUAL_INTERVAL = timedelta(minutes=5)
LOST_MESSAGE_AFTER = timedelta(minutes=15)


class AlreadySampling(Exception):
    """A sample of this source is queued or running."""


class TooSoon(Exception):
    def __init__(self, seconds: int):
        super().__init__(f"Re-sampling is possible once every 5 minutes; try again in {seconds} s.")
        self.seconds = seconds


def _lease() -> timedelta:
    # A running sample renews its lease while it works; a lease that runs out means its worker
    # died, and the same sample redelivered may take it over and resume.
    return timedelta(seconds=settings.SAMPLE_LEASE_SECONDS)


class Busy(Exception):
    """The sample (or another of its source) is running under a live lease: try again later."""

    def __init__(self, countdown: float):
        super().__init__(f"busy for {countdown:.0f} s")
        self.countdown = countdown


class RetryLater(Exception):
    """A transient vendor failure beyond the client's retry budget: retry the task later."""

    def __init__(self, countdown: float, message: str):
        super().__init__(message)
        self.countdown = countdown


def _enqueue(sample: Sample, countdown: float = 0) -> None:
    from .tasks import sample_run_task  # tasks import services; enqueue lazily

    transaction.on_commit(
        lambda: sample_run_task.apply_async(args=[sample.pk], countdown=countdown or None)
    )


def sample_request(
    *,
    source: EstimateSource,
    trigger: str,
    user=None,
    countdown: float = 0,
    enforce_interval: bool = True,
) -> Sample:
    """Queue a sample of the source; manual samples at most once per 5 minutes.

    ``enforce_interval=False`` is for samples a new key calls for: the limit is about owners
    pressing Re-sample, not about using a key they just pasted.
    """
    with transaction.atomic():
        source = EstimateSource.objects.select_for_update().get(pk=source.pk)
        active = Sample.objects.filter(
            source=source, status__in=[SampleStatus.QUEUED, SampleStatus.RUNNING]
        )
        if active.exists():
            raise AlreadySampling("A sample of this source is already running.")
        if trigger == SampleTrigger.MANUAL and enforce_interval:
            last = (
                Sample.objects.filter(source=source, trigger=SampleTrigger.MANUAL)
                .order_by("-created_at")
                .first()
            )
            if last and timezone.now() - last.created_at < MANUAL_INTERVAL:
                wait = MANUAL_INTERVAL - (timezone.now() - last.created_at)
                raise TooSoon(int(wait.total_seconds()) + 1)
        sample = Sample.objects.create(
            account_id=source.account_id,
            source=source,
            trigger=trigger,
            requested_by=user,
            not_before=timezone.now() + timedelta(seconds=countdown),
        )
        _enqueue(sample, countdown)
    return sample


def sample_claim(sample_id: int) -> Sample | None:
    """Take a queued sample, or a running one whose lease expired (a crashed worker's).

    None when there is nothing to do (finished, failed, gone, out of attempts); ``Busy`` when
    it is running under a live lease, so a redelivered message can come back after it.
    """
    now = timezone.now()
    claimable = Q(status=SampleStatus.QUEUED) | Q(
        status=SampleStatus.RUNNING, lease_expires_at__lt=now
    )
    try:
        with transaction.atomic():
            claimed = Sample.objects.filter(
                claimable, pk=sample_id, attempts__lt=MAX_ATTEMPTS
            ).update(
                status=SampleStatus.RUNNING,
                lease_expires_at=now + _lease(),
                attempts=F("attempts") + 1,
                started_at=now,
            )
    except IntegrityError:  # another sample of the same source is running
        raise Busy(settings.SAMPLE_LEASE_SECONDS) from None
    if not claimed:
        running = Sample.objects.filter(
            pk=sample_id, status=SampleStatus.RUNNING, lease_expires_at__gte=now
        ).values_list("lease_expires_at", flat=True)
        if running:
            raise Busy((running[0] - now).total_seconds() + 1)
        return None
    sample = Sample.objects.select_related("source", "source__account").get(pk=sample_id)
    EstimateSource.objects.filter(pk=sample.source_id).exclude(
        status=SourceStatus.NEEDS_ATTENTION
    ).update(status=SourceStatus.SAMPLING)
    return sample


def _still_ours(sample: Sample):
    """Rows of this sample as long as this run holds it (guards against a stale worker)."""
    return Sample.objects.filter(
        pk=sample.pk, status=SampleStatus.RUNNING, attempts=sample.attempts
    )


def _fail(sample: Sample, message: str, *, source_status=SourceStatus.FAILED) -> None:
    with transaction.atomic():
        updated = _still_ours(sample).update(
            status=SampleStatus.FAILED,
            error=message,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if updated and source_status:
            EstimateSource.objects.filter(pk=sample.source_id).exclude(
                status=SourceStatus.NEEDS_ATTENTION
            ).update(status=source_status, last_error=message)


USER_MESSAGES = {
    "rate_limited": "The vendor kept rate-limiting us; we'll try again at the next sample.",
    "timeout": "The vendor did not answer in time; we'll try again at the next sample.",
    "server": "The vendor's API had errors; we'll try again at the next sample.",
    "unreachable": "We could not reach the vendor; we'll try again at the next sample.",
    "malformed": "The vendor sent a report we could not read. We have been told and will look.",
    "bad_request": "The vendor refused our report request. We have been told and will look.",
    "page_cap": "The vendor's report did not end where expected. We have been told.",
    "out_of_range": "The vendor's report had a value out of range ({detail}). Your previous "
    "estimate is unchanged; we have been told and will look.",
}

# Failures that are not the vendor's answer, by exception type (first match wins).
FAILURE_MESSAGES: list[tuple[type[BaseException], str]] = [
    (
        SoftTimeLimitExceeded,
        "The sample took longer than the time limit and was stopped. Your previous estimate "
        "is unchanged; we'll try again at the next sample.",
    ),
    (
        DecryptionError,
        "Your stored key could not be decrypted — replace it under Estimate sources. Your "
        "previous estimate is unchanged.",
    ),
    (
        ImproperlyConfigured,
        "Stored keys cannot be read because of a configuration problem on our side. Your "
        "previous estimate is unchanged; we have been told and will look.",
    ),
    (
        DataError,
        "The vendor's report had a value too long or too large to store. Your previous "
        "estimate is unchanged; we have been told and will look.",
    ),
    (
        ArithmeticError,  # OverflowError, decimal.InvalidOperation
        "The vendor's report had a number out of range for our calculations. Your previous "
        "estimate is unchanged; we have been told and will look.",
    ),
]
UNEXPECTED_MESSAGE = "The sample failed unexpectedly. We have been told and will look."


def _user_message(error: ConnectorError) -> str:
    message = USER_MESSAGES.get(error.kind, "The sample failed.")
    return message.format(detail=error.message[:200]) if "{detail}" in message else message


def sample_run(*, sample_id: int) -> Sample | None:
    """Fetch (no transaction open), then replace rows and add a projection in one atomic block.

    On any failure the stored rows and the previous projection stay exactly as they were.
    """
    sample = sample_claim(sample_id)
    if sample is None:
        return None
    source = sample.source
    end = sample.started_at.date()
    start = end - timedelta(days=WINDOW_DAYS)
    Sample.objects.filter(pk=sample.pk).update(window_start=start, window_end=end)
    sample.window_start, sample.window_end = start, end
    key_used = bytes(source.key_ciphertext)
    try:
        key = connector_services.source_api_key(source)
        fetched = fetch_window(
            source, key, start, end, on_progress=lambda p: _heartbeat(sample, progress=p)
        )
    except ConnectorError as e:
        return _handle_vendor_error(sample, e, key_used=key_used)
    except Exception as e:  # noqa: BLE001 - every failure must end the sample, see _handle_failure
        return _handle_failure(sample, e, key_used=key_used)
    try:
        stored = _store(sample, fetched)
    except Exception as e:  # noqa: BLE001
        return _handle_failure(sample, e, key_used=key_used)
    if stored is not None:
        _resample_if_key_replaced(stored, key_used)
    return stored


def _handle_failure(sample: Sample, error: Exception, *, key_used: bytes) -> Sample:
    """End the sample as failed at once with a message the owner can act on; keep the data.

    Known failures return the failed sample; anything else is re-raised after failing the
    sample, so the worker records it too. Operators get the traceback in the (redacted) log.
    """
    message = next((m for kind, m in FAILURE_MESSAGES if isinstance(error, kind)), None)
    logger.error(
        "sample %s failed: %s",
        sample.public_id,
        redact_secrets(f"{type(error).__name__}: {error}"),
        exc_info=not isinstance(error, SoftTimeLimitExceeded | DecryptionError),
    )
    _fail(sample, message or UNEXPECTED_MESSAGE)
    _resample_if_key_replaced(sample, key_used)
    if message is None:
        raise error
    sample.refresh_from_db()
    return sample


def _heartbeat(sample: Sample, progress: dict | None = None) -> None:
    """Renew the lease (at most every few seconds) and record progress when it changed."""
    now = timezone.now()
    changes = {}
    if progress is not None:
        changes["progress"] = progress
    renew_at = getattr(sample, "_renewed_at", sample.started_at)
    if now - renew_at > _lease() / 4:
        changes["lease_expires_at"] = now + _lease()
        sample._renewed_at = now
    if changes:
        _still_ours(sample).update(**changes)


def _key_replaced_since(sample: Sample, key_used: bytes) -> bool:
    current = EstimateSource.objects.filter(pk=sample.source_id).values_list(
        "key_ciphertext", flat=True
    )
    return bool(current) and bytes(current[0]) != key_used


def _resample_if_key_replaced(sample: Sample, key_used: bytes) -> bool:
    """The owner pasted a new key while this sample ran on the old one: sample again with it.

    Whatever this sample's outcome, its data came from the old key. Not held back by the
    Re-sample limit (the running sample may itself have been a manual one).
    """
    if not _key_replaced_since(sample, key_used):
        return False
    with suppress(AlreadySampling):  # one is on its way already, with the new key
        sample_request(
            source=sample.source,
            trigger=SampleTrigger.MANUAL,
            user=sample.requested_by,
            enforce_interval=False,
        )
    return True


def _handle_vendor_error(sample: Sample, error: ConnectorError, *, key_used: bytes) -> Sample:
    logger.warning("sample %s: vendor error %s", sample.public_id, error.kind)
    if error.permanent and _key_replaced_since(sample, key_used):
        # Don't blame the new key for the old one's rejection.
        _fail(sample, "The key was replaced during the sample; sampling again with the new one.")
        _resample_if_key_replaced(sample, key_used)
    elif error.permanent:
        _fail(sample, f"The vendor rejected the key ({error.status}).", source_status=None)
        detail = (
            "the key was revoked, expired or lost its admin permission"
            if error.kind == "unauthorized"
            else "the key may no longer read usage reports"
        )
        connector_services.source_mark_rejected(source=sample.source, detail=detail)
    elif error.transient and sample.attempts < MAX_ATTEMPTS:
        # Give the sample back to the queue; the task retries after the vendor's wait.
        countdown = min(error.retry_after or 30 * sample.attempts, 600)
        _still_ours(sample).update(
            status=SampleStatus.QUEUED,
            lease_expires_at=None,
            not_before=timezone.now() + timedelta(seconds=countdown),
        )
        raise RetryLater(countdown, error.message)
    else:
        _fail(sample, _user_message(error))
        _resample_if_key_replaced(sample, key_used)
    sample.refresh_from_db()
    return sample


def _store(sample: Sample, fetched) -> Sample:
    source = sample.source
    usage = storage.usage_rows(source, fetched.usage)
    costs = storage.cost_rows(source, fetched.costs)
    coefficient_set = coefficient_set_active()
    previous = source.projections.filter(sample__status=SampleStatus.SUCCEEDED).first()
    projection = storage.projection_build(
        sample=sample, usage=usage, costs=costs, coefficient_set=coefficient_set, previous=previous
    )
    first_success = previous is None
    with transaction.atomic():
        if not _still_ours(sample).select_for_update().exists():
            return None  # the lease was lost to another run: write nothing
        storage.rows_replace(source, sample.window_start, sample.window_end, usage, costs)
        projection.save()
        _still_ours(sample).update(
            status=SampleStatus.SUCCEEDED, finished_at=timezone.now(), lease_expires_at=None
        )
        EstimateSource.objects.filter(pk=source.pk).update(
            status=SourceStatus.READY, last_error="", attention_notified_at=None
        )
        _unclassified_record(source.vendor, projection.unclassified_models)
    if first_success:
        _first_estimate_email(source, projection)
    sample.refresh_from_db()
    return sample


def _unclassified_record(vendor: str, models: list[str]) -> None:
    now = timezone.now()
    for model in models:
        UnclassifiedModel.objects.get_or_create(vendor=vendor, model=model)
        UnclassifiedModel.objects.filter(vendor=vendor, model=model).update(
            last_seen_at=now, times_seen=F("times_seen") + 1
        )


def _first_estimate_email(source: EstimateSource, projection) -> None:
    email_owners(
        account=source.account,
        subject="Your first estimate is ready",
        body=f"We sampled 90 days of “{source.label}”. Your estimate is on the dashboard: "
        f"{settings.SITE_URL}/\n\nNothing changes in what you pay until you adopt it.",
    )


@dataclass(frozen=True)
class FanoutResult:
    queued: int
    skipped: int


def samples_weekly_fanout(*, spread_minutes: float | None = None) -> FanoutResult:
    """One weekly sample per source not needing attention, spread over a few minutes."""
    spread = settings.SAMPLE_SPREAD_MINUTES if spread_minutes is None else spread_minutes
    sources = list(
        EstimateSource.objects.exclude(status=SourceStatus.NEEDS_ATTENTION).order_by("pk")
    )
    queued = skipped = 0
    for index, source in enumerate(sources):
        countdown = spread * 60 * index / max(len(sources), 1)
        try:
            sample_request(source=source, trigger=SampleTrigger.WEEKLY, countdown=countdown)
            queued += 1
        except AlreadySampling:
            skipped += 1
    return FanoutResult(queued=queued, skipped=skipped)


def samples_reap() -> int:
    """Fail samples whose lease expired (their worker died for good); re-send lost messages."""
    now = timezone.now()
    expired = list(Sample.objects.filter(status=SampleStatus.RUNNING, lease_expires_at__lt=now))
    for sample in expired:
        _fail(
            sample,
            "The sample stopped without finishing (the worker running it was lost). Your "
            "previous estimate is unchanged; the next weekly sample will try again, or press "
            "Re-sample.",
        )
    # A queued sample is only lost once it is well past the time it was due to run (a sample
    # waiting out a vendor's retry-after or a weekly spread is not lost).
    lost = Sample.objects.filter(
        status=SampleStatus.QUEUED, not_before__lt=now - LOST_MESSAGE_AFTER
    )
    for sample in lost.exclude(attempts__gte=MAX_ATTEMPTS):
        Sample.objects.filter(pk=sample.pk).update(not_before=now)
        _enqueue(sample)
    return len(expired)


RETENTION_MONTHS = 13


def retention_cutoff(today) -> date:
    """The same day 13 months back (clamped to the month's end): older daily rows go."""
    months = today.year * 12 + today.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(today.day, last_day))


def daily_rows_expire(*, today: date | None = None) -> int:
    """Delete daily usage and cost rows older than 13 months (the published retention)."""
    cutoff = retention_cutoff(today or timezone.now().date())
    deleted, _ = DailyUsage.objects.filter(date__lt=cutoff).delete()
    deleted_costs, _ = DailyCost.objects.filter(date__lt=cutoff).delete()
    return deleted + deleted_costs
