"""Holding a sample: claim it with a conditional UPDATE, renew its lease, end it as failed.

A running sample renews its lease while it works; a lease that runs out means its worker died,
and the same sample redelivered may take it over and resume. Every write of a run goes through
``sample_held`` so that a stale worker, whose sample was taken over, writes nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from connectors.models import EstimateSource, SourceStatus
from estimates.models import Sample, SampleStatus
from tokenoffset.accounts.services import account_data_changed

MAX_ATTEMPTS = 5
WINDOW_DAYS = 90
# A sample's first moments write no progress: most finish within them (a few round trips), and
# the claim has already shown the source as sampling. A slower one shows its pages from then on.
PROGRESS_QUIET_SECONDS = 0.5


class Busy(Exception):
    """The sample (or another of its source) is running under a live lease: try again later."""

    def __init__(self, countdown: float):
        super().__init__(f"busy for {countdown:.0f} s")
        self.countdown = countdown


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.SAMPLE_LEASE_SECONDS)


def sample_claim(sample_id: int) -> Sample | None:
    """Take a queued sample, or a running one whose lease expired (a crashed worker's).

    None when there is nothing to do (finished, failed, gone, out of attempts); ``Busy`` when
    it is running under a live lease, so a redelivered message can come back after it.
    """
    now = timezone.now()
    end = now.date()  # the window: the 90 whole UTC days before the day the run starts
    claimable = Q(status=SampleStatus.QUEUED) | Q(
        status=SampleStatus.RUNNING, lease_expires_at__lt=now
    )
    try:
        with transaction.atomic():
            claimed = Sample.objects.filter(
                claimable, pk=sample_id, attempts__lt=MAX_ATTEMPTS
            ).update(
                status=SampleStatus.RUNNING,
                lease_expires_at=now + lease_duration(),
                attempts=F("attempts") + 1,
                started_at=now,
                window_start=end - timedelta(days=WINDOW_DAYS),
                window_end=end,
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
    account_data_changed(account_id=sample.account_id)
    return sample


def sample_held(sample: Sample) -> QuerySet[Sample]:
    """This sample's row as long as this run holds it (guards against a stale worker)."""
    return Sample.objects.filter(
        pk=sample.pk, status=SampleStatus.RUNNING, attempts=sample.attempts
    )


def sample_heartbeat(sample: Sample, progress: dict | None = None) -> None:
    """Renew the lease (at most every few seconds) and record progress when it changed."""
    now = timezone.now()
    changes = {}
    if progress is not None:
        changes["progress"] = progress
    renew_at = getattr(sample, "_renewed_at", sample.started_at)
    if now - renew_at > lease_duration() / 4:
        changes["lease_expires_at"] = now + lease_duration()
        sample._renewed_at = now
    if changes:
        updated = sample_held(sample).update(**changes)
        if updated and progress is not None:  # the page polling the progress sees it move
            account_data_changed(account_id=sample.account_id)


def sample_progress(sample: Sample, progress: dict | None) -> None:
    """A running fetch's heartbeat: its progress is recorded once it has run a moment (the
    latest snapshot held back until then is written at the first heartbeat after it)."""
    if progress is not None:
        sample._progress_pending = progress
    if (timezone.now() - sample.started_at).total_seconds() < PROGRESS_QUIET_SECONDS:
        sample_heartbeat(sample)
        return
    pending, sample._progress_pending = getattr(sample, "_progress_pending", None), None
    sample_heartbeat(sample, progress=pending)


def sample_fail(sample: Sample, message: str, *, source_status=SourceStatus.FAILED) -> None:
    """End a sample this run holds as failed with the owner's message; the source shows it too.

    ``source_status=None`` leaves the source as it is (a rejected key marks it elsewhere).
    """
    with transaction.atomic():
        updated = sample_held(sample).update(
            status=SampleStatus.FAILED,
            error=message,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if updated and source_status:
            EstimateSource.objects.filter(pk=sample.source_id).exclude(
                status=SourceStatus.NEEDS_ATTENTION
            ).update(status=source_status, last_error=message)
        if updated:
            account_data_changed(account_id=sample.account_id)
