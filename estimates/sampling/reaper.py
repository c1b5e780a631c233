"""The reaper: ends samples whose worker died and re-sends queued samples whose message was lost."""

from datetime import timedelta

from django.utils import timezone

from estimates.models import Sample, SampleStatus

from .claim import MAX_ATTEMPTS, sample_fail
from .failures import LOST_WORKER_MESSAGE
from .requests import sample_enqueue

# A queued sample is only lost once it is well past the time it was due to run (a sample
# waiting out a vendor's retry-after or a weekly spread is not lost).
LOST_MESSAGE_AFTER = timedelta(minutes=15)


def samples_reap() -> int:
    """Fail samples whose lease expired (their worker died for good); re-send lost messages."""
    now = timezone.now()
    expired = list(Sample.objects.filter(status=SampleStatus.RUNNING, lease_expires_at__lt=now))
    for sample in expired:
        sample_fail(sample, LOST_WORKER_MESSAGE)
    lost = Sample.objects.filter(
        status=SampleStatus.QUEUED, not_before__lt=now - LOST_MESSAGE_AFTER
    )
    for sample in lost.exclude(attempts__gte=MAX_ATTEMPTS):
        Sample.objects.filter(pk=sample.pk).update(not_before=now)
        sample_enqueue(sample)
    return len(expired)
