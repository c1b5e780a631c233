"""Estimate sources → Live from Claude Code / Codex: the token shown once, rotate, the canary."""

import html
import json
import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connectors.live.models import LiveSource
from connectors.live.services import live_source_create
from connectors.models import EstimateSource, KeyEvent
from connectors.redaction import RedactSecretsFilter
from estimates.tasks import live_reproject_task
from tests.connectors.live_fakes import metrics_json, point, send_metrics
from tokenoffset.dashboard import otlp as otlp_views

TOKEN = re.compile(r"tkol_[A-Za-z0-9_\-]{40,}")


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: None)


def create(client, tool="claude_code", billing="subscription"):
    response = client.post(reverse("sources:live_add"), {"tool": tool, "billing": billing})
    assert response.status_code == 200
    return response, TOKEN.search(response.content.decode()).group(0)


def test_the_connect_page_links_to_live_tracking(owner_client):
    body = owner_client.get(reverse("sources:add")).content.decode()
    assert reverse("sources:live") in body and "Live from Claude Code / Codex" in body


def test_an_owner_creates_a_claude_code_source_and_sees_its_settings_once(
    owner_client, account, settings
):
    settings.SITE_URL = "https://offset.example"
    response, token = create(owner_client)
    body = html.unescape(response.content.decode())
    assert response["Cache-Control"] == "no-store"
    for line in (
        'export CLAUDE_CODE_ENABLE_TELEMETRY="1"',
        'export OTEL_METRICS_EXPORTER="otlp"',
        'export OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf"',
        'export OTEL_EXPORTER_OTLP_ENDPOINT="https://offset.example/otlp"',
        f'export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {token}"',
    ):
        assert line in body
    managed = re.search(r'<pre id="claude-managed" class="snippet">(.*?)</pre>', body, re.S)
    env = json.loads(managed.group(1))["env"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://offset.example/otlp"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == f"Authorization=Bearer {token}"
    assert 'data-copy="claude-env"' in body and "js/copy" in body
    source = EstimateSource.objects.get(account=account, kind="live")
    assert source.vendor == "anthropic" and source.key_hint == token[-4:]
    # Afterwards: the hint only, on every page.
    for url in (reverse("sources:live"), reverse("sources:list"), "/"):
        later = owner_client.get(url).content.decode()
        assert token not in later
    assert f"tkol_…{token[-4:]}" in owner_client.get(reverse("sources:live")).content.decode()


def test_a_codex_source_gets_the_full_logs_url(owner_client, account, settings):
    settings.SITE_URL = "https://offset.example"
    response, token = create(owner_client, tool="codex")
    body = html.unescape(response.content.decode())
    assert (
        'exporter = { otlp-http = { endpoint = "https://offset.example/otlp/v1/logs", '
        'protocol = "binary", headers = { "Authorization" = "Bearer ' + token + '" } } }'
    ) in body
    assert "chmod 600" in body
    assert EstimateSource.objects.get(account=account, kind="live").vendor == "openai"


def test_rotating_shows_a_new_token_and_the_old_one_stops(owner_client, account):
    _, old = create(owner_client)
    source = EstimateSource.objects.get(account=account, kind="live")
    response = owner_client.post(reverse("sources:live_rotate", args=[source.public_id]))
    new = TOKEN.search(response.content.decode()).group(0)
    assert new != old
    data = metrics_json([point(5, type="output", at=timezone.now() - timedelta(minutes=1))])
    anonymous = Client()
    assert send_metrics(anonymous, data, token=old).status_code == 401
    assert send_metrics(anonymous, data, token=new).status_code == 200
    assert KeyEvent.objects.filter(source=source, kind="replaced").exists()


def test_members_cannot_create_or_rotate(member_client, account, owner):
    source, _ = live_source_create(account=account, user=owner, tool="codex", billing="unknown")
    assert member_client.post(reverse("sources:live_add"), {"tool": "codex"}).status_code == 403
    url = reverse("sources:live_rotate", args=[source.public_id])
    assert member_client.post(url).status_code == 403
    assert member_client.get(reverse("sources:live")).status_code == 200


def test_another_account_gets_404(other_client, account, owner):
    source, _ = live_source_create(account=account, user=owner, tool="codex", billing="unknown")
    for name in ("sources:live_rotate", "sources:live_billing"):
        url = reverse(name, args=[source.public_id])
        assert other_client.post(url, {"billing": "api_key"}).status_code == 404
    assert LiveSource.objects.get(source=source).billing == "unknown"


def test_the_billing_answer_can_be_changed(owner_client, account, owner):
    source, _ = live_source_create(account=account, user=owner, tool="codex", billing="unknown")
    url = reverse("sources:live_billing", args=[source.public_id])
    assert owner_client.post(url, {"billing": "api_key"}).status_code == 302
    assert LiveSource.objects.get(source=source).billing == "api_key"


def test_the_page_says_live_since_and_todays_tokens(owner_client, account, owner):
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="unknown"
    )
    now = timezone.now()
    data = metrics_json([point(1234, type="output", at=now), point(66, type="input", at=now)])
    send_metrics(Client(), data, token=token.raw)
    body = owner_client.get(reverse("sources:live")).content.decode()
    assert f"live since {now:%-d %b %Y}" in body
    assert '<strong id="live-today">1300</strong>' in body


def test_the_ingest_token_never_reaches_reprs_logs_the_admin_or_error_reports(
    account, owner, settings, monkeypatch, admin_client, caplog
):
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="unknown"
    )
    live = LiveSource.objects.get(source=source)
    assert token.raw not in repr(token) + repr(live) + repr(source) + str(live)
    assert live.token_digest not in repr(live)
    # A log line that quotes it is redacted.
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "got %s", (token.raw,), None)
    RedactSecretsFilter().filter(record)
    assert token.raw not in record.getMessage()
    # The admin shows the source, never the token or its digest.
    for url in (
        reverse("admin:connectors_estimatesource_changelist"),
        reverse("admin:connectors_estimatesource_change", args=[source.pk]),
    ):
        body = admin_client.get(url).content.decode()
        assert token.raw not in body and live.token_digest not in body
    # An ingest that fails: the 500 email masks the Authorization header and the token.
    settings.ADMINS = [("Ops", "ops@example.org")]

    def boom(*, live, extracted):
        raise RuntimeError(f"could not store for {token.raw}")

    monkeypatch.setattr(otlp_views, "live_ingest", boom)
    client = Client(raise_request_exception=False)
    data = metrics_json([point(5, type="output", at=timezone.now())])
    assert send_metrics(client, data, token=token.raw).status_code == 500
    (report,) = mail.outbox
    text = report.subject + report.body + "".join(a[0] for a in report.alternatives)
    assert "RuntimeError" in text
    assert token.raw not in text
    assert token.raw not in caplog.text
