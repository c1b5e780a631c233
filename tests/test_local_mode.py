"""`make run`'s embedded defaults work end to end: SQLite, the filesystem broker, a real worker
(the sampling one, on threads)."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from django.db import transaction
from connectors.sandbox.catalogue import make_key
from connectors.services import source_create
from estimates.sampling import sample_request
from tokenoffset.accounts.models import User
from tokenoffset.accounts.services import account_create_for_user

user = User.objects.create_user("local@example.org", "a long local password")
account = account_create_for_user(user=user)
source = source_create(account=account, user=user, vendor="openai",
                       raw_key=make_key("openai", "flat"), is_sandbox=True)
with transaction.atomic():
    sample = sample_request(source=source, trigger="first")
print(sample.pk)
"""


def manage(env, *args, timeout=120):
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_sqlite_filesystem_broker_and_a_real_worker_sample_a_sandbox_source(
    tmp_path, vendor_sandbox
):
    db = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        "TOKENOFFSET_VAR_DIR": str(tmp_path / "var"),
        "VENDOR_SANDBOX_URL": vendor_sandbox,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    manage(env, "migrate", "--noinput")
    worker = subprocess.Popen(  # noqa: S603
        # The sampling worker as scripts/run.sh starts it: the sampling queue, on threads.
        [sys.executable, "-m", "celery", "-A", "tokenoffset", "worker", "--queues", "sampling",
         "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True)
    reader.start()
    try:
        # The worker declares the broker's exchange when it starts; a sender declaring it at the
        # same moment can read the file half-written (kombu's filesystem transport does not lock).
        deadline = time.monotonic() + 60
        while not any(" ready." in line for line in list(lines)) and time.monotonic() < deadline:
            assert worker.poll() is None, "".join(lines)[-3000:]
            time.sleep(0.2)
        sample_id = int(manage(env, "shell", "-c", SCRIPT).stdout.strip().splitlines()[-1])
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and status not in ("succeeded", "failed"):
            time.sleep(0.5)
            with sqlite3.connect(db) as conn:
                (status,) = conn.execute(
                    "SELECT status FROM estimates_sample WHERE id = ?", [sample_id]
                ).fetchone()
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM estimates_dailyusage").fetchone()[0]
            projections = conn.execute("SELECT COUNT(*) FROM estimates_projection").fetchone()[0]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        reader.join(timeout=10)
        output = "".join(lines)
    assert status == "succeeded", output[-3000:]
    assert rows == 360  # 2 completions models, 1 embeddings and 1 moderations model × 90 days
    assert projections == 1
