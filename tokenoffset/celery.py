"""The Celery app. Settings come from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger, after_setup_task_logger

from connectors.redaction import install_redaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenoffset.settings")

app = Celery("tokenoffset")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The static beat schedule, in UTC.
app.conf.beat_schedule = {
    # Every Sunday at 08:00 UTC: one sample per source, spread over SAMPLE_SPREAD_MINUTES.
    "samples-weekly": {
        "task": "estimates.tasks.samples_weekly_fanout_task",
        "schedule": crontab(minute=0, hour=8, day_of_week="sun"),
    },
    # Every 5 minutes: fail samples past their lease, re-send lost queued samples.
    # Every day at 03:30 UTC: daily rows older than 13 months are deleted (see /privacy).
    "daily-rows-expire": {
        "task": "estimates.tasks.daily_rows_expire_task",
        "schedule": crontab(minute=30, hour=3),
    },
    "samples-reap": {
        "task": "estimates.tasks.samples_reap_task",
        "schedule": crontab(minute="*/5"),
    },
    # Every Sunday at 10:00 UTC, after the weekly samples: email owners whose estimate moved
    # more than 10% from what they pay ("adopt?"). At most one per account per week.
    "usage-alerts-weekly": {
        "task": "billing.tasks.usage_alerts_weekly_fanout_task",
        "schedule": crontab(minute=0, hour=10, day_of_week="sun"),
    },
}


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """Celery replaces the logging set up from settings.LOGGING with its own handlers, in the
    worker and again in each pool child (the processes that decrypt keys): put the secret
    redaction filter back on them."""
    install_redaction(logger)


@app.task(name="tokenoffset.worker_ping")
def worker_ping(token: str) -> None:
    """Record that a worker consumed this token: proves the broker round trip end to end."""
    from django.core.cache import cache

    cache.set(f"worker-ping:{token}", "pong", timeout=300)
