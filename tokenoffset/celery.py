"""The Celery app. Settings come from Django settings under the ``CELERY_`` namespace."""

import os
from pathlib import Path

from celery import Celery
from celery.concurrency import get_implementation
from celery.schedules import crontab
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_init,
    task_postrun,
    task_prerun,
)
from kombu import Exchange, Queue

from connectors.redaction import install_redaction
from estimates.schedule import weekly_sample_crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenoffset.settings")

app = Celery("tokenoffset")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A sample spends its time waiting on a vendor's network: samples have a queue of their own, which
# a threads-pool worker consumes (`-Q sampling -P threads`, SAMPLING_CONCURRENCY threads); the
# other tasks stay on the default queue. A worker started without -Q consumes both.
DEFAULT_QUEUE, SAMPLING_QUEUE = "celery", "sampling"
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_queues = [
    Queue(q, Exchange(q), routing_key=q) for q in (DEFAULT_QUEUE, SAMPLING_QUEUE)
]
app.conf.task_routes = {"estimates.tasks.sample_run_task": {"queue": SAMPLING_QUEUE}}


# Django's persistent connections (CONN_MAX_AGE, CONN_HEALTH_CHECKS) hold in workers too: Celery's
# Django fixup would close every connection around every task (a new PostgreSQL backend, its
# caches cold, per sample). Each pool thread keeps its own, closed once obsolete or unusable.
app.conf.update(CELERY_DB_REUSE_MAX=2**62)  # the fixup's own closing: never


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    from django.db import close_old_connections

    if not getattr(task.request, "is_eager", False):  # an eager task runs in the caller's
        close_old_connections()  # transaction: not ours to close


@celeryd_init.connect
def _sampling_worker_concurrency(conf, options, **kwargs) -> None:
    """A threads-pool worker of the sampling queue alone runs settings.SAMPLING_CONCURRENCY
    threads, unless its command line gives --concurrency."""
    from django.conf import settings

    threads = get_implementation("threads")
    pool = get_implementation(options.get("pool") or conf.worker_pool)
    if (
        options.get("queues") == [SAMPLING_QUEUE]
        and pool is threads
        and not options.get("concurrency")
    ):
        conf.worker_concurrency = settings.SAMPLING_CONCURRENCY


@app.on_after_configure.connect
def _filesystem_broker_folders(sender, **kwargs):
    """The local filesystem broker needs its folders; kombu makes only the control one."""
    options = sender.conf.broker_transport_options or {}
    if str(sender.conf.broker_url or "").startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


# The static beat schedule, in UTC.
app.conf.beat_schedule = {
    # Every Sunday at 08:00 UTC: one sample per source, spread over SAMPLE_SPREAD_MINUTES.
    "samples-weekly": {
        "task": "estimates.tasks.samples_weekly_fanout_task",
        "schedule": weekly_sample_crontab(),
    },
    # Every 5 minutes: fail samples past their lease, re-send lost queued samples.
    # Every day at 03:30 UTC: daily rows older than 13 months are deleted (see /privacy).
    "daily-rows-expire": {
        "task": "estimates.tasks.daily_rows_expire_task",
        "schedule": crontab(minute=30, hour=3),
    },
    # Every day at 00:20 UTC: live sources re-projected over their days up to yesterday (never
    # per request), and telemetry series idle for a week forgotten.
    "live-reproject-daily": {
        "task": "estimates.tasks.live_reproject_daily_task",
        "schedule": crontab(minute=20, hour=0),
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
    # Every 5 minutes: Stripe calls that must happen (cancel, expire, delete a customer) and
    # failed, retried with back-off until Stripe confirms them.
    "stripe-cleanups-retry": {
        "task": "billing.tasks.stripe_cleanups_retry_task",
        "schedule": crontab(minute="*/5"),
    },
    # The 5th of each month at 06:00 UTC (last month's card payments have settled by then):
    # one Stripe Climate order for last month's paid removal money, allocated pro rata.
    "fulfilment-batch-monthly": {
        "task": "billing.tasks.fulfilment_batch_monthly_task",
        "schedule": crontab(minute=0, hour=6, day_of_month=5),
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
