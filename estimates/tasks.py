from celery import shared_task

from . import live, sampling


@shared_task(bind=True, max_retries=sampling.MAX_ATTEMPTS, acks_late=True)
def sample_run_task(self, sample_id: int) -> None:
    """Run one sample; transient vendor failures come back later."""
    try:
        sampling.sample_run(sample_id=sample_id)
    except (sampling.RetryLater, sampling.Busy) as e:
        raise self.retry(countdown=e.countdown) from None


@shared_task
def samples_weekly_fanout_task() -> None:
    """Sunday 08:00 UTC: queue a sample of every source that is not waiting for a new key."""
    sampling.samples_weekly_fanout()


@shared_task
def samples_reap_task() -> None:
    """Fail samples past their lease; re-send queued samples whose message was lost."""
    sampling.samples_reap()


@shared_task
def daily_rows_expire_task() -> None:
    """Daily: delete usage and cost rows older than the published 13-month retention."""
    sampling.daily_rows_expire()


@shared_task
def live_reproject_task(source_id: int) -> None:
    """A live source's first data arrived: its first (preliminary) projection."""
    from connectors.models import EstimateSource

    source = EstimateSource.objects.filter(pk=source_id, kind="live").first()
    if source is not None:
        live.live_reproject(source=source)


@shared_task
def live_reproject_daily_task() -> None:
    """Daily: every live source's projection over its complete days; idle series forgotten."""
    from connectors.live.series import series_expire

    live.live_reproject_all()
    series_expire()
