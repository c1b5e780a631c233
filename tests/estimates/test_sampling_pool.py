"""Samples run on their own queue, on a threads-pool worker of a configured concurrency."""

import os
import time
from types import SimpleNamespace

import pytest
from django.conf import settings

from estimates import sampling
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from estimates.sampling import requests as sampling_requests
from estimates.tasks import sample_run_task
from tests.celery_worker import celery_worker
from tokenoffset.celery import _sampling_worker_concurrency
from tokenoffset.celery import app as celery_app

THREADS = 3
SOURCES = 7


def test_it_routes_samples_to_the_sampling_queue_and_every_other_task_to_the_default_one():
    route = celery_app.amqp.router.route
    assert route({}, "estimates.tasks.sample_run_task")["queue"].name == "sampling"
    for other in (
        "estimates.tasks.samples_weekly_fanout_task",
        "estimates.tasks.samples_reap_task",
        "billing.tasks.usage_alerts_weekly_fanout_task",
    ):
        assert route({}, other)["queue"].name == "celery"
    # A worker started without --queues consumes both (`make run`'s defaults, older commands).
    assert {q.name for q in celery_app.amqp.queues.values()} == {"celery", "sampling"}


@pytest.mark.parametrize(
    ("options", "pool", "expected"),
    [
        ({"queues": ["sampling"], "pool": "threads", "concurrency": None}, "prefork", 5),
        ({"queues": ["sampling"], "pool": None, "concurrency": None}, "threads", 5),
        ({"queues": ["sampling"], "pool": "threads", "concurrency": 2}, "prefork", None),
        ({"queues": ["sampling"], "pool": "prefork", "concurrency": None}, "prefork", None),
        ({"queues": ["celery"], "pool": "threads", "concurrency": None}, "prefork", None),
        ({"queues": None, "pool": "threads", "concurrency": None}, "prefork", None),
    ],
)
def test_it_gives_a_threads_worker_of_the_sampling_queue_the_configured_concurrency(
    settings, options, pool, expected
):
    settings.SAMPLING_CONCURRENCY = 5
    conf = SimpleNamespace(worker_pool=pool, worker_concurrency=None)
    _sampling_worker_concurrency(conf=conf, options=options)
    assert conf.worker_concurrency == expected


def most_at_once(samples: list[Sample]) -> int:
    """The most samples that were running at the same moment (from their stored times)."""
    events = sorted(
        [(s.started_at, 1) for s in samples] + [(s.finished_at, -1) for s in samples],
        key=lambda event: (event[0], event[1]),  # an end before a start at the same instant
    )
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("coefficient_set_restored")
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_a_threads_worker_samples_several_sources_at_once_each_once_with_its_own_rows(
    make_source, monkeypatch
):
    # Each source its own shape (usage and cost rows a day), so that rows landing on the wrong
    # source, or a sample stored twice, would show in the counts.
    shapes = {g: SOURCES + 1 - g for g in range(1, SOURCES + 1)}
    sources = {
        g: make_source("heavy", params={"g": g, "c": c, "l": 300}) for g, c in shapes.items()
    }
    # As docker-compose.yml's sampler starts it: the sampling queue alone, on threads.
    with celery_worker(
        "--queues", "sampling", "--pool", "threads",
        broker_db=9,
        env={
            "VENDOR_SANDBOX_URL": settings.VENDOR_SANDBOX_URL,
            "SAMPLING_CONCURRENCY": str(THREADS),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
    ) as worker:  # fmt: skip
        with celery_app.connection_for_write(worker.broker) as connection:
            # The real send (routing included), on this test's broker.
            monkeypatch.setattr(
                sampling_requests,
                "sample_enqueue",
                lambda sample, countdown=0: sample_run_task.apply_async(
                    args=[sample.pk], connection=connection
                ),
            )
            samples = [sampling.sample_request(source=s, trigger="first") for s in sources.values()]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            finished = Sample.objects.filter(
                pk__in=[s.pk for s in samples], status__in=["succeeded", "failed"]
            ).count()
            if finished == len(samples):
                break
            assert worker.process.poll() is None, worker.output[-4000:]
            time.sleep(0.3)
    output = worker.output
    stored = list(Sample.objects.filter(pk__in=[s.pk for s in samples]))
    assert [(s.status, s.attempts) for s in stored] == [("succeeded", 1)] * SOURCES, output[-4000:]
    for g, source in sources.items():
        assert Sample.objects.filter(source=source).count() == 1
        assert Projection.objects.filter(source=source).count() == 1
        assert DailyUsage.objects.filter(source=source).count() == 90 * g
        assert DailyCost.objects.filter(source=source).count() == 90 * shapes[g]
    assert f"concurrency: {THREADS} (thread)" in output
    # Several ran at once, never more than the configured threads.
    assert 2 <= most_at_once(stored) <= THREADS


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_a_worker_thread_keeps_its_database_connection_from_one_task_to_the_next(tmp_path):
    backends = tmp_path / "backends"
    with celery_worker(
        "--include", "tests.worker_tasks", "--pool", "threads", "--concurrency", "1",
        broker_db=10,
    ) as worker:  # fmt: skip
        with celery_app.connection_for_write(worker.broker) as connection:
            for _ in range(3):
                celery_app.send_task(
                    "tests.record_database_backend", args=[str(backends)], connection=connection
                )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.output.count(" succeeded in ") < 3:
            assert worker.process.poll() is None, worker.output[-4000:]
            time.sleep(0.2)
    pids = backends.read_text().split()
    assert len(pids) == 3, worker.output[-4000:]
    assert len(set(pids)) == 1  # one connection (CONN_MAX_AGE), not a new one per task


@pytest.mark.django_db
def test_an_eager_task_leaves_the_callers_transaction_and_connection_alone():
    from django.db import connection, transaction

    from estimates.tasks import samples_reap_task

    with transaction.atomic():
        before = connection.connection
        samples_reap_task.apply()
        assert connection.in_atomic_block
        assert connection.connection is before
