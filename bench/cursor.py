"""A Cursor team's 90-day sample: 2,000 usage events a day, 150 ms per request.

Cursor allows a team 60 usage-event requests a minute, so this sample is paced, not bound by
latency. The pacer's waits run on a clock that skips them (connectors.cursor.pacing.SkipClock)
so the benchmark is quick; the figure reported is what the sample takes against Cursor: real
elapsed time plus the skipped waits.
"""

import time

from django.conf import settings

from connectors.cursor import pacing
from connectors.sandbox.cursor import make_key
from estimates import sampling
from estimates.models import DailyCost, DailyUsage, SampleStatus

from .sampling import bench_source

EVENTS_PER_DAY = 2000


def cursor_sample(account, user, latency_ms: int = 150) -> dict:
    """Sample 90 days of a team with EVENTS_PER_DAY events a day; time it as Cursor would."""
    key = make_key("paging-heavy", params={"e": EVENTS_PER_DAY, "l": latency_ms})
    source = bench_source(account, user, "cursor", key, "bench cursor")
    source.save()
    clock, real_clock = pacing.SkipClock(), pacing.CLOCK
    pacing.CLOCK = clock
    pacing.forget_all()
    try:
        sample = sampling.sample_request(source=source, trigger="first")
        started = time.perf_counter()
        done = sampling.sample_run(sample_id=sample.pk)
        real = time.perf_counter() - started
    finally:
        pacing.CLOCK = real_clock
        pacing.forget_all()
    assert done.status == SampleStatus.SUCCEEDED, done.error
    wall = real + clock.skipped
    done.refresh_from_db(fields=["progress"])  # written by the run's heartbeats
    requests = done.progress.get("reports", {}).get("usage", {}).get("pages_done")
    return {
        "events_per_day": EVENTS_PER_DAY,
        "latency_ms": latency_ms,
        "requests": requests,
        "usage_rows": DailyUsage.objects.filter(source=source).count(),
        "cost_rows": DailyCost.objects.filter(source=source).count(),
        "wall_s": round(wall, 1),  # against Cursor, paced to 60 requests a minute
        "real_s": round(real, 1),  # this run, with the pacer's waits skipped
        "paced_wait_s": round(clock.skipped, 1),
        "wall_over_rtt": round(wall / (latency_ms / 1000), 1),
        "soft_time_limit_s": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    }


def table_line(c: dict) -> str:
    return (
        f"Cursor team, 90 days × {c['events_per_day']:,} events a day: {c['requests']} requests, "
        f"{c['usage_rows']} usage + {c['cost_rows']} cost rows; {c['wall_s']} s against Cursor "
        f"at 60 requests a minute and {c['latency_ms']} ms each (wall ÷ RTT = {c['wall_over_rtt']}"
        f"; task soft limit {c['soft_time_limit_s']} s; {c['real_s']} s here with the pacer's "
        f"{c['paced_wait_s']} s of waits skipped)"
    )
