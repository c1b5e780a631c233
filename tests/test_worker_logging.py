"""The worker (and its pool children, which decrypt keys) logs through the redaction filter."""

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from connectors.redaction import redact_secrets
from tokenoffset.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_a_real_worker_logs_a_key_only_in_its_redacted_form(tmp_path):
    key = "sk-ant-admin01-" + "CANARY" + secrets.token_hex(24)  # a fake key
    marker = f"worker-logging-{secrets.token_hex(4)}"
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/8"  # a queue of its own
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TOKENOFFSET_VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": broker,
        "PYTHONIOENCODING": "utf-8",
    }
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "celery", "-A", "tokenoffset", "worker", "--include",
         "tests.worker_tasks", "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        encoding="utf-8", errors="replace",
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True)
    reader.start()
    try:
        with celery_app.connection_for_write(broker) as connection:
            celery_app.send_task("tests.log_a_key", args=[key, marker], connection=connection)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            "raised unexpected" in line for line in lines
        ):
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert "raised unexpected" in output, output[-4000:]
    assert key not in output, "the worker logged the key in clear"
    redacted = redact_secrets(key)
    assert redacted != key
    # Every route the key took is in the output, redacted.
    assert f"vendor answered for {redacted}" in output
    assert f"retrying with {redacted}" in output
    assert f"debug: {redacted}" in output
    assert f"{marker} could not use {redacted}" in output
