"""Cursor keys get the protection of every admin key: never in logs, error reports, a repr, the
admin or a page, whatever fails where. Canaries of both documented shapes."""

import logging
import secrets

import pytest
import respx
from django.core import mail
from django.test import Client
from django.urls import reverse

from connectors.cursor import client as cursor_client
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.interface import ValidatedKey
from connectors.models import EstimateSource
from connectors.redaction import RedactSecretsFilter, redact_secrets
from tokenoffset.accounts import middleware

CURSOR = "https://api.cursor.com"
MEMBERS = {"teamMembers": [{"id": "user_1", "name": "D", "email": "d@x.com", "role": "owner"}]}


def canaries() -> list[str]:
    """Built at run time, so the source holds no key-shaped string."""
    return ["crsr_" + secrets.token_urlsafe(48), "key_" + secrets.token_hex(32)]


@pytest.fixture(params=[0, 1], ids=["crsr_", "key_hex"])
def canary(request):
    return canaries()[request.param]


def test_redaction_masks_both_key_shapes(canary):
    text = f"failed with {canary} at the end"
    assert canary not in redact_secrets(text) and "…[redacted]" in redact_secrets(text)


def test_a_key_is_absent_from_reprs_and_errors(canary):
    assert canary not in repr(ValidatedKey(key=canary, label="Cursor · 1 member"))
    with respx.mock:
        echo = {"error": "Unauthorized", "message": f"Invalid API key {canary}"}
        respx.get(f"{CURSOR}/teams/members").respond(401, json=echo)
        with pytest.raises(ConnectorError) as caught, build_client(CURSOR) as http:
            cursor_client.validate_key(http, canary)
    assert canary not in str(caught.value) and canary not in repr(caught.value)


def test_the_key_never_leaves_through_logs_pages_mail_or_admin(
    client, owner, account, caplog, admin_user, canary
):
    caplog.set_level(logging.DEBUG)
    client.force_login(owner)
    bodies = []
    with respx.mock(assert_all_mocked=True) as vendor:
        route = vendor.get(f"{CURSOR}/teams/members")
        route.respond(500, json={"error": "Internal Server Error", "message": f"echo {canary}"})
        bodies.append(client.post(reverse("sources:add"), {"vendor": "cursor", "api_key": canary}))
        route.respond(200, json=MEMBERS)
        bodies.append(client.post(reverse("sources:add"), {"vendor": "cursor", "api_key": canary}))
        source = EstimateSource.objects.get(account=account)
        replace = reverse("sources:replace", args=[source.public_id])
        bodies += [
            client.get(reverse("sources:list")),
            client.get(replace),
            client.post(replace, {"api_key": canary}),
        ]
    client.force_login(admin_user)
    for url in ("/admin/connectors/", f"/admin/connectors/estimatesource/{source.pk}/change/"):
        bodies.append(client.get(url))
    client.force_login(owner)
    bodies.append(client.post(reverse("sources:remove", args=[source.public_id])))

    assert all(canary.encode() not in response.content for response in bodies)
    assert all(canary not in m.body + m.subject for m in mail.outbox)
    redactor = RedactSecretsFilter()
    for record in caplog.records:
        redactor.filter(record)
        assert canary not in record.getMessage()


def test_an_error_report_masks_a_cursor_key_in_a_local_and_the_message(
    settings, owner, monkeypatch, canary
):
    settings.ADMINS = [("Ops", "ops@example.org")]

    def failing_membership(request):
        pasted = {"vendor": "cursor", "value": canary}  # a local under an innocent name
        raise ValueError(f"could not use {pasted['value']}")

    monkeypatch.setattr(middleware, "current_membership", failing_membership)
    browser = Client(raise_request_exception=False)
    browser.force_login(owner)
    assert browser.get("/").status_code == 500
    (report,) = mail.outbox
    html = "".join(str(content) for content, _ in report.alternatives)
    assert canary not in report.subject + report.body + html
    assert "ValueError" in report.body
