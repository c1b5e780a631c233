"""A worker's pool child killed mid-sample: the message is requeued and the sample completes."""

import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings

from estimates import sampling
from estimates.models import DailyUsage, Sample
from estimates.tasks import sample_run_task
from tests.celery_worker import celery_worker
from tokenoffset.celery import app as celery_app


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("coefficient_set_restored")
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_killing_the_pool_child_requeues_and_the_sample_resumes(make_source):
    source = make_source("slow", params={"l": 5000})  # 5 s per vendor request: time to kill it
    with celery_worker(
        "--pool", "prefork", "--concurrency", "1",
        broker_db=7,
        env={
            "VENDOR_SANDBOX_URL": settings.VENDOR_SANDBOX_URL,
            "SAMPLE_LEASE_SECONDS": "4",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
    ) as worker:  # fmt: skip
        sample = sampling.sample_request(source=source, trigger="first")
        with celery_app.connection_for_write(worker.broker) as connection:
            sample_run_task.apply_async(args=[sample.pk], connection=connection)

        def running_with_progress():
            sample.refresh_from_db()
            return sample.status == "running" and sample.progress.get("reports")

        wait_for(running_with_progress, 60, "the sample to start")
        (child,) = wait_for(lambda: children_of(worker.process.pid), 10, "the pool child")
        os.kill(child, signal.SIGKILL)

        def finished():
            sample.refresh_from_db()
            return sample.status in ("succeeded", "failed")

        wait_for(finished, 90, "the sample to finish after the crash")
    output = worker.output
    assert sample.status == "succeeded", output[-4000:]
    assert sample.attempts == 2  # the killed run, then the resumed one
    assert DailyUsage.objects.filter(source=source).count() == 180
    assert Sample.objects.filter(source=source).count() == 1
