"""The Celery app. Settings come from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenoffset.settings")

app = Celery("tokenoffset")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The static beat schedule, in UTC. Entries arrive with the features that need them.
app.conf.beat_schedule = {}


@app.task(name="tokenoffset.worker_ping")
def worker_ping(token: str) -> None:
    """Record that a worker consumed this token: proves the broker round trip end to end."""
    from django.core.cache import cache

    cache.set(f"worker-ping:{token}", "pong", timeout=300)
