"""The worker (and its pool children, which decrypt keys) logs through the redaction filter."""

import os
import secrets
import time

import pytest

from connectors.redaction import redact_secrets
from tests.celery_worker import celery_worker
from tokenoffset.celery import app as celery_app


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_a_real_worker_logs_a_key_only_in_its_redacted_form(tmp_path):
    key = "sk-ant-admin01-" + "CANARY" + secrets.token_hex(24)  # a fake key
    marker = f"worker-logging-{secrets.token_hex(4)}"
    with celery_worker(
        "--include", "tests.worker_tasks", "--pool", "prefork", "--concurrency", "1",
        "--without-heartbeat",
        broker_db=8,
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "TOKENOFFSET_VAR_DIR": str(tmp_path / "var"),
            "PYTHONIOENCODING": "utf-8",
        },
    ) as worker:  # fmt: skip
        with celery_app.connection_for_write(worker.broker) as connection:
            celery_app.send_task("tests.log_a_key", args=[key, marker], connection=connection)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "raised unexpected" not in worker.output:
            time.sleep(0.2)
    output = worker.output
    assert "raised unexpected" in output, output[-4000:]
    assert key not in output, "the worker logged the key in clear"
    redacted = redact_secrets(key)
    assert redacted != key
    # Every route the key took is in the output, redacted.
    assert f"vendor answered for {redacted}" in output
    assert f"retrying with {redacted}" in output
    assert f"debug: {redacted}" in output
    assert f"{marker} could not use {redacted}" in output
