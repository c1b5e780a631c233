"""Asking for a sample: queue one, at most once per 5 minutes when an owner presses Re-sample."""

from contextlib import suppress
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connectors.models import EstimateSource, Kind
from estimates.models import Sample, SampleStatus, SampleTrigger
from tokenoffset.accounts.services import account_data_changed

MANUAL_INTERVAL = timedelta(minutes=5)
PUSHED_KINDS = (Kind.LOCAL_LOGS, Kind.LIVE)


class AlreadySampling(Exception):
    """A sample of this source is queued or running."""


class NotSampled(AlreadySampling):
    """A pushed source (local logs, live) is never fetched: it refreshes when its tool sends.

    A kind of AlreadySampling so that every caller already handling "no sample now" (the
    Re-sample button, the weekly fan-out, a replaced key) handles it too.
    """

    def __init__(self):
        super().__init__("This source is sent to us from a computer; send it again to refresh it.")


class TooSoon(Exception):
    def __init__(self, seconds: int):
        super().__init__(f"Re-sampling is possible once every 5 minutes; try again in {seconds} s.")
        self.seconds = seconds


def sample_enqueue(sample: Sample, countdown: float = 0) -> None:
    """Send the sample's task once the current transaction commits."""
    from estimates.tasks import sample_run_task  # tasks import this package; enqueue lazily

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
    if source.kind in PUSHED_KINDS:
        raise NotSampled()
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
        sample_enqueue(sample, countdown)
        account_data_changed(account_id=source.account_id)
    return sample


def key_replaced_since(sample: Sample, key_used: bytes) -> bool:
    """True when the source's stored key is no longer the one this sample started with."""
    current = EstimateSource.objects.filter(pk=sample.source_id).values_list(
        "key_ciphertext", flat=True
    )
    return bool(current) and bytes(current[0]) != key_used


def sample_request_if_key_replaced(*, sample: Sample, key_used: bytes) -> bool:
    """The owner pasted a new key while this sample ran on the old one: sample again with it.

    Whatever this sample's outcome, its data came from the old key. Not held back by the
    Re-sample limit (the running sample may itself have been a manual one).
    """
    if not key_replaced_since(sample, key_used):
        return False
    with suppress(AlreadySampling):  # one is on its way already, with the new key
        sample_request(
            source=sample.source,
            trigger=SampleTrigger.MANUAL,
            user=sample.requested_by,
            enforce_interval=False,
        )
    return True
