"""A real Celery worker in a process of its own, for the tests that need one: on a Redis database
of its own as the broker, with this suite's database, its output collected for their messages."""

import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Worker:
    process: subprocess.Popen
    broker: str
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def celery_worker(*args: str, broker_db: int, env: dict[str, str] | None = None):
    """``celery -A tokenoffset worker *args``, stopped (and its output read to the end) on exit."""
    db = settings.DATABASES["default"]
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{broker_db}"
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        **(env or {}),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "celery", "-A", "tokenoffset", "worker", *args,
         "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        encoding="utf-8", errors="replace",
    )  # fmt: skip
    worker = Worker(process, broker)
    reader = threading.Thread(target=lambda: worker.lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        yield worker
    finally:
        process.terminate()
        process.wait(timeout=60)
        reader.join(timeout=10)
