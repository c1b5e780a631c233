"""Canaries: a Google service account's private key, its key file and Google access tokens never
leave through a repr, a log line, an error report, a page, an email or the admin."""

import json
import logging

import pytest
import respx
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from connectors.errors import ConnectorError
from connectors.google import auth
from connectors.google.connector import validate
from connectors.google.credentials import credential_from_upload
from connectors.http import build_client
from connectors.models import EstimateSource
from connectors.redaction import RedactSecretsFilter, redact_secrets
from tests.connectors import google_fixtures as g

ACCESS = "ya29.c.CANARYb0AXv0zTMzY2NjQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2"


def key_material() -> str:
    """A line from the middle of the generated private key: present only if the key leaked."""
    return g.pem().splitlines()[5]


@pytest.fixture(autouse=True)
def fresh_tokens():
    auth.cache_clear()
    yield
    auth.cache_clear()


def leaked(text: str) -> list[str]:
    return [name for name, secret in (("private key", key_material()), ("token", "CANARYb0AX"))
            if secret in text]  # fmt: skip


def test_access_tokens_and_key_files_are_redacted_from_log_text():
    key_file = g.key_file()
    for text in (
        f"Authorization: Bearer {ACCESS}",
        f"got {json.dumps({'access_token': ACCESS, 'expires_in': 3599})}",
        g.pem(),
        key_file,  # the PEM JSON-escaped, as in an uploaded file
        repr(key_file),
    ):
        assert leaked(redact_secrets(text)) == []


def test_the_credential_and_what_a_check_returns_show_no_secret_in_repr(settings):
    credential = credential_from_upload(g.key_file())
    assert leaked(repr(credential) + str(credential)) == []
    assert g.KEY_ID[-4:] in repr(credential)
    with respx.mock(assert_all_mocked=True) as google, build_client(g.MONITORING) as http:
        google.post(g.TOKEN_URL).respond(200, json={**g.token_ok(), "access_token": ACCESS})
        google.get(f"{g.MONITORING}/v3/projects/acme-ml-prod/timeSeries").respond(
            404, json=g.no_metric(g.VERTEX)
        )
        validated = validate(http, credential.dumps())
    assert leaked(repr(validated)) == [] and validated.hint == g.KEY_ID[-4:]


def test_a_vendor_error_echoing_the_token_does_not_carry_it(settings):
    credential = credential_from_upload(g.key_file())
    echo = g.google_error(403, "PERMISSION_DENIED", f"token {ACCESS} may not read this")
    with respx.mock(assert_all_mocked=True) as google, build_client(g.MONITORING) as http:
        google.post(g.TOKEN_URL).respond(200, json={**g.token_ok(), "access_token": ACCESS})
        google.get(f"{g.MONITORING}/v3/projects/acme-ml-prod/timeSeries").respond(403, json=echo)
        with pytest.raises(ConnectorError) as caught:
            validate(http, credential.dumps())
    assert leaked(caught.value.message + repr(caught.value)) == []


def test_the_key_file_never_leaves_through_pages_mail_admin_or_logs(
    client, owner, account, caplog, admin_user
):
    caplog.set_level(logging.DEBUG)
    client.force_login(owner)
    echo = g.google_error(403, "PERMISSION_DENIED", f"denied for {ACCESS}")
    bodies = []
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as google:
        google.post(g.TOKEN_URL).respond(200, json={**g.token_ok(), "access_token": ACCESS})
        series = google.get(f"{g.MONITORING}/v3/projects/acme-ml-prod/timeSeries")
        series.respond(403, json=echo)
        bodies.append(client.post(reverse("sources:add_google"), {"key_json": g.key_file()}))
        series.respond(404, json=g.no_metric(g.VERTEX))
        upload = SimpleUploadedFile("key.json", g.key_file().encode(), "application/json")
        bodies.append(client.post(reverse("sources:add_google"), {"key_file": upload}))
        source = EstimateSource.objects.get(account=account)
        replace = reverse("sources:replace", args=[source.public_id])
        bodies += [
            client.get(reverse("sources:list")),
            client.get(replace),
            client.post(replace, {"key_json": g.key_file(), "project_ids": "Not_A_Project"}),
        ]
    client.force_login(admin_user)
    for url in ("/admin/connectors/", f"/admin/connectors/estimatesource/{source.pk}/change/"):
        bodies.append(client.get(url))
    client.force_login(owner)
    bodies.append(client.post(reverse("sources:remove", args=[source.public_id])))
    assert [leaked(b.content.decode()) for b in bodies] == [[]] * len(bodies)
    assert all(leaked(m.subject + m.body) == [] for m in mail.outbox)
    redactor = RedactSecretsFilter()
    for record in caplog.records:
        redactor.filter(record)
        assert leaked(record.getMessage() + (record.exc_text or "")) == []


def test_an_error_report_from_the_google_view_hides_the_key_file(settings, owner, monkeypatch):
    settings.ADMINS = [("Ops", "ops@example.org")]

    def failing_create(**kwargs):
        raise ValueError(f"could not use {kwargs['raw_key']} with {ACCESS}")

    from connectors import services

    monkeypatch.setattr(services, "source_create", failing_create)
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    response = client.post(reverse("sources:add_google"), {"key_json": g.key_file()})
    assert response.status_code == 500
    (report,) = mail.outbox
    assert leaked(report.subject + report.body) == []
    assert "ValueError" in report.body
