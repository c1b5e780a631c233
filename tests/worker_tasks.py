"""Tasks only the tests that start a real worker load (`--include tests.worker_tasks`)."""

import logging

from celery import shared_task
from celery.utils.log import get_task_logger

logger = logging.getLogger("connectors.services")
task_logger = get_task_logger(__name__)


@shared_task(name="tests.log_a_key")
def log_a_key(key: str, marker: str) -> None:
    """Lets a key slip the ways a bug could: a module logger, the task logger, a print, an
    exception message (Celery logs the failure with its traceback)."""
    logger.warning("vendor answered for %s", key)
    task_logger.warning("retrying with %s", key)
    print(f"debug: {key}")  # noqa: T201 - Celery redirects stdout to its logger
    raise RuntimeError(f"{marker} could not use {key}")


@shared_task(name="tests.record_database_backend")
def record_database_backend(path: str) -> None:
    """Appends the PostgreSQL backend serving this task's database connection to a file."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with open(path, "a") as out:
        out.write(f"{pid}\n")
