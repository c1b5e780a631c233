from celery import shared_task

from . import sampling


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
