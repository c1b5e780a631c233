"""Error reports emailed to ADMIN_EMAILS show no key and no password, whatever failed where."""

import base64
import json
import logging
import secrets

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from tokenoffset.accounts import middleware
from tokenoffset.error_reports import SecretsExceptionReporterFilter

STARS = SecretsExceptionReporterFilter.cleansed_substitute


def fake_secrets() -> dict[str, str]:
    """Secrets of every shape we know, built at run time so the source holds none."""
    pem_body = base64.encodebytes(secrets.token_bytes(96)).decode()
    return {
        "anthropic": "sk-ant-admin01-" + "CANARY" + secrets.token_hex(24),
        "openai": "sk-" + "proj-" + "CANARY" + secrets.token_hex(24),
        "stripe": "sk_" + "live_" + "CANARY" + secrets.token_hex(12),
        "cursor": "crsr_" + secrets.token_hex(32),
        "private_key": "-----BEGIN " + f"PRIVATE KEY-----\n{pem_body}-----END PRIVATE KEY-----",
        "password": "correct-horse-" + secrets.token_hex(6),
        "redis_password": "redis-" + secrets.token_hex(8),
        "broker_password": "broker-" + secrets.token_hex(8),
        "cache_password": "cache-" + secrets.token_hex(8),
        "database_password": "db-" + secrets.token_hex(8),
        "email_password": "smtp-" + secrets.token_hex(8),
    }


@pytest.fixture
def html_reports():
    """The admin email handler, made to attach the HTML report too, so both are checked."""
    handler = next(
        h for h in logging.getLogger("django.request").handlers if isinstance(h, AdminEmailHandler)
    )
    include_html = handler.include_html
    handler.include_html = True
    yield
    handler.include_html = include_html


def test_a_request_failing_in_a_middleware_emails_a_report_without_keys_or_url_passwords(
    settings, owner, monkeypatch, html_reports
):
    s = fake_secrets()
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.REDIS_URL = f"redis://:{s['redis_password']}@cache.internal:6379/0"
    settings.CELERY_BROKER_URL = f"redis://default:{s['broker_password']}@broker.internal:6379/1"
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.dummy.DummyCache",
            "LOCATION": f"redis://default:{s['cache_password']}@cache.internal:6379/2",
        },
    }
    database_url = f"postgres://tokenoffset:{s['database_password']}@db.internal:5432/tokenoffset"

    def database_blip(request):
        raise OperationalError(f"connection to {database_url} failed: server closed the connection")

    monkeypatch.setattr(middleware, "current_membership", database_blip)
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    response = client.post(
        reverse("sources:add") + f"?next=/sources/&debug={s['cursor']}",
        {
            "vendor": "anthropic",
            "api_key": s["anthropic"],  # the view's sensitive_post_parameters never ran
            "label": s["openai"],  # a key pasted into the wrong field
            "notes": s["stripe"],
            "service_account": json.dumps({"private_key": s["private_key"]}),  # JSON-escaped
            "password": s["password"],
        },
        # A server that passes its environment in the WSGI environ (runserver does).
        DATABASE_URL=database_url,
        EMAIL_URL=f"smtp://mailer:{s['email_password']}@smtp.internal:587",
    )

    assert response.status_code == 500
    (report,) = mail.outbox
    assert report.to == ["ops@example.org"]
    (html, mimetype), *_ = report.alternatives
    assert mimetype == "text/html"
    text = report.subject + report.body
    assert "OperationalError" in text and "OperationalError" in html  # the report is complete
    for name, secret in s.items():
        for part in [secret, *secret.splitlines()]:
            assert part not in text, f"the {name} is in the text report"
            assert part not in html, f"the {name} is in the HTML report"
    # The fields and settings are still there, masked, so the report stays useful.
    assert f"api_key = '{STARS}'" in report.body
    assert f"notes = '{STARS}'" in report.body
    assert "vendor = 'anthropic'" in report.body
    assert "redis://:********@cache.internal:6379/0" in report.body
    assert "postgres://tokenoffset:********@db.internal:5432" in report.body
    assert "smtp://mailer:********@smtp.internal:587" in report.body


def test_an_error_report_masks_a_key_in_a_local_variable_and_in_the_exception_message(
    settings, owner, monkeypatch
):
    key = "sk-ant-admin01-" + "CANARY" + secrets.token_hex(24)
    settings.ADMINS = [("Ops", "ops@example.org")]

    def failing_membership(request):
        pasted = {"vendor": "anthropic", "value": key}  # a local under an innocent name
        raise ValueError(f"could not use {pasted['value']}")

    monkeypatch.setattr(middleware, "current_membership", failing_membership)
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    assert client.get("/").status_code == 500
    (report,) = mail.outbox
    assert key not in report.subject + report.body
    assert "ValueError" in report.body and "sk-ant…[redacted]" in report.body
