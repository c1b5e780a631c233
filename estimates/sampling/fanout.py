"""The weekly fan-out: one sample per source, at the time estimates/schedule.py defines."""

from dataclasses import dataclass

from django.conf import settings

from connectors.models import EstimateSource, SourceStatus
from estimates.models import SampleTrigger

from .requests import PUSHED_KINDS, AlreadySampling, sample_request


@dataclass(frozen=True)
class FanoutResult:
    queued: int
    skipped: int


def samples_weekly_fanout(*, spread_minutes: float | None = None) -> FanoutResult:
    """One weekly sample per source not needing attention, spread over a few minutes."""
    spread = settings.SAMPLE_SPREAD_MINUTES if spread_minutes is None else spread_minutes
    sources = list(
        EstimateSource.objects.exclude(status=SourceStatus.NEEDS_ATTENTION)
        .exclude(kind__in=PUSHED_KINDS)  # sent to us, never fetched
        .order_by("pk")
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
