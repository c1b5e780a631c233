"""The platform itself: health check, production settings, a real Celery round trip."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from tokenoffset.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def run_django_setup(**env_overrides):
    unset = ("SECRET_KEY", "DEBUG", "TOKENOFFSET_ENCRYPTION_KEYS")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tokenoffset.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_without_secret_key_fail_clearly():
    result = run_django_setup(
        DEBUG="false", ALLOWED_HOSTS="example.org", TOKENOFFSET_ENCRYPTION_KEYS="k1:AAAA"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_production_settings_without_encryption_keys_fail_clearly():
    result = run_django_setup(DEBUG="false", ALLOWED_HOSTS="example.org", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "TOKENOFFSET_ENCRYPTION_KEYS must be set" in result.stderr


def test_importing_the_settings_writes_no_file_and_makes_no_folder(tmp_path):
    var = tmp_path / "var"
    result = run_django_setup(
        DEBUG="true", TOKENOFFSET_VAR_DIR=str(var), CELERY_BROKER_URL="filesystem://"
    )
    assert result.returncode == 0, result.stderr
    assert not var.exists()


def test_the_development_key_is_made_by_a_command_once(tmp_path):
    var = tmp_path / "var"
    env = {**os.environ, "DEBUG": "true", "TOKENOFFSET_VAR_DIR": str(var)}
    env.pop("TOKENOFFSET_ENCRYPTION_KEYS")
    env["DJANGO_SETTINGS_MODULE"] = "tokenoffset.settings"

    def command():
        return subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "manage.py", "dev_encryption_key"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip

    command()
    key_file = var / "dev-encryption-keys"
    first = key_file.read_text()
    assert first.startswith("dev1:") and oct(key_file.stat().st_mode)[-3:] == "600"
    assert "left as it is" in command().stdout
    assert key_file.read_text() == first


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis that make test starts")
def test_celery_round_trip_through_the_real_redis_broker():
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for start_worker

    assert celery_app.conf.broker_url.startswith("redis://")
    token = uuid.uuid4().hex
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        celery_app.send_task("tokenoffset.worker_ping", args=[token])
        deadline = time.monotonic() + 20
        while cache.get(f"worker-ping:{token}") is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cache.get(f"worker-ping:{token}") == "pong"
