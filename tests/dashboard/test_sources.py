"""Settings → Estimate sources: inline validation, storage, and who may do what."""

import json
import logging
from pathlib import Path

import httpx
import pytest
import respx
from django.core import mail
from django.urls import reverse

from connectors import crypto
from connectors.models import EstimateSource, KeyEvent
from connectors.services import VALIDATION_ATTEMPTS
from tests.factories import EstimateSourceFactory

FIXTURES = Path(__file__).resolve().parent.parent / "connectors" / "fixtures"
ANTHROPIC = "https://api.anthropic.com"
OPENAI = "https://api.openai.com"
ADMIN_KEY = "sk-ant-admin01-" + "k" * 80 + "WXYZ"
OPENAI_KEY = "sk-admin-" + "o" * 60 + "1234"
EMPTY_USAGE = {"data": [], "has_more": False, "next_page": None}


@pytest.fixture
def vendor():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


def anthropic_ok(mock):
    org = json.loads((FIXTURES / "anthropic" / "organization.json").read_text())
    mock.get(f"{ANTHROPIC}/v1/organizations/me").respond(200, json=org)
    mock.get(f"{ANTHROPIC}/v1/organizations/usage_report/messages").respond(200, json=EMPTY_USAGE)
    return org


def add(client, vendor_name, key):
    return client.post(reverse("sources:add"), {"vendor": vendor_name, "api_key": key})


def test_owner_adds_an_anthropic_key(owner_client, account, owner, vendor):
    org = anthropic_ok(vendor)
    response = add(owner_client, "anthropic", f"  {ADMIN_KEY}\n")
    assert response.status_code == 302
    source = EstimateSource.objects.get(account=account)
    assert source.label == org["name"]
    assert source.key_hint == "WXYZ"
    assert source.status == "pending"
    assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id) == ADMIN_KEY
    sent = vendor.calls.last.request
    assert sent.headers["x-api-key"] == ADMIN_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert KeyEvent.objects.get(source=source).kind == "added"
    assert mail.outbox[-1].to == [owner.email]
    assert "was added" in mail.outbox[-1].subject

    page = owner_client.get(reverse("sources:list")).content.decode()
    assert org["name"] in page and "••••WXYZ" in page
    assert ADMIN_KEY not in page


def test_owner_adds_an_openai_key(owner_client, account, vendor):
    route = vendor.get(f"{OPENAI}/v1/organization/usage/completions").respond(
        200, json={"object": "page", "data": [], "has_more": False, "next_page": None}
    )
    assert add(owner_client, "openai", OPENAI_KEY).status_code == 302
    source = EstimateSource.objects.get(account=account)
    assert source.label == "OpenAI ••••1234"
    assert route.calls.last.request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert route.calls.last.request.url.params["limit"] == "1"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Paste your admin key"),
        ("sk-ant-admin01-abc def-0123456789", "spaces or line breaks in the middle"),
        ("sk-ant-admin01-“quoted”-0123456789", "never appear in API keys"),
        ("sk-ant-admin01", "too short"),
        ("sk-ant-admin01-" + "x" * 500, "too long"),
        ("sk-admin-" + "x" * 40, "looks like an OpenAI key"),
    ],
)
def test_malformed_keys_are_refused_before_any_network_call(
    owner_client, account, vendor, key, message
):
    response = add(owner_client, "anthropic", key)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not vendor.calls
    assert not EstimateSource.objects.exists()


@pytest.mark.parametrize(
    ("status", "body", "headers", "message"),
    [
        (
            401,
            {
                "type": "error",
                "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            },
            {},
            "rejected this key (401)",
        ),
        (
            403,
            {"type": "error", "error": {"type": "permission_error", "message": "no"}},
            {},
            "lacks the permission",
        ),
        (
            429,
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            {"retry-after": "37"},
            "rate-limiting; try again in 37 s",
        ),
        (
            500,
            {"type": "error", "error": {"type": "api_error", "message": "oops"}},
            {},
            "had a problem (HTTP 500)",
        ),
        (
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            {},
            "had a problem (HTTP 529)",
        ),
    ],
)
def test_each_vendor_answer_gets_its_own_message_and_nothing_is_stored(
    owner_client, vendor, status, body, headers, message
):
    route = vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        status, json=body, headers=headers
    )
    response = add(owner_client, "anthropic", ADMIN_KEY)
    assert message in response.content.decode()
    assert ADMIN_KEY not in response.content.decode()
    assert route.call_count == 1  # no retry inside the web request
    assert not EstimateSource.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (httpx.ReadTimeout("slow"), "did not answer in time"),
        (httpx.ConnectError("down"), "could not reach Anthropic"),
    ],
)
def test_timeouts_and_unreachable_vendors(owner_client, vendor, error, message):
    vendor.get(f"{ANTHROPIC}/v1/organizations/me").mock(side_effect=error)
    response = add(owner_client, "anthropic", ADMIN_KEY)
    assert message in response.content.decode()
    assert not EstimateSource.objects.exists()


def test_a_standard_key_gets_the_admin_key_explanation(owner_client, vendor):
    vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": "x"}}
    )
    response = add(owner_client, "anthropic", "sk-ant-api03-" + "s" * 80)
    page = response.content.decode()
    assert "This looks like a standard API key; it cannot read org-wide usage" in page
    assert "Console → Settings → Admin Keys" in page


def test_openai_missing_scope_explains_admin_keys(owner_client, vendor):
    vendor.get(f"{OPENAI}/v1/organization/usage/completions").respond(
        401, text="Missing scopes: api.usage.read"
    )
    response = add(owner_client, "openai", "sk-proj-" + "p" * 60)
    page = response.content.decode()
    assert "standard API key" in page and "Settings → Organization → Admin keys" in page
    assert not EstimateSource.objects.exists()


def test_key_checks_are_rate_limited_per_account(owner_client, vendor):
    route = vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": "x"}}
    )
    for _ in range(VALIDATION_ATTEMPTS):
        add(owner_client, "anthropic", ADMIN_KEY)
    response = add(owner_client, "anthropic", ADMIN_KEY)
    assert "Too many key checks" in response.content.decode()
    assert route.call_count == VALIDATION_ATTEMPTS


def test_replace_rename_and_remove(owner_client, account, owner, vendor):
    anthropic_ok(vendor)
    add(owner_client, "anthropic", ADMIN_KEY)
    source = EstimateSource.objects.get(account=account)

    new_key = "sk-ant-admin01-" + "n" * 80 + "NEW1"
    owner_client.post(reverse("sources:replace", args=[source.public_id]), {"api_key": new_key})
    source.refresh_from_db()
    assert source.key_hint == "NEW1"
    assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id) == new_key

    owner_client.post(reverse("sources:rename", args=[source.public_id]), {"label": "Prod org"})
    source.refresh_from_db()
    assert source.label == "Prod org"

    owner_client.post(reverse("sources:remove", args=[source.public_id]))
    assert not EstimateSource.objects.exists()
    kinds = list(KeyEvent.objects.filter(account=account).values_list("kind", flat=True))
    assert sorted(kinds) == ["added", "removed", "replaced"]
    assert "was removed" in mail.outbox[-1].subject
    assert "Prod org" in owner_client.get(reverse("sources:list")).content.decode()  # history


def test_a_failed_replacement_keeps_the_old_key(owner_client, account, vendor):
    anthropic_ok(vendor)
    add(owner_client, "anthropic", ADMIN_KEY)
    source = EstimateSource.objects.get(account=account)
    vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": "x"}}
    )
    response = owner_client.post(
        reverse("sources:replace", args=[source.public_id]), {"api_key": ADMIN_KEY[:-4] + "BAD0"}
    )
    assert "rejected this key" in response.content.decode()
    source.refresh_from_db()
    assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id) == ADMIN_KEY


@pytest.fixture
def source(account, owner):
    return EstimateSourceFactory(account=account, label="Acme", key=ADMIN_KEY)


def test_members_see_but_cannot_act(member_client, source, vendor):
    page = member_client.get(reverse("sources:list")).content.decode()
    assert "Acme" in page
    assert "Replace key" not in page and "Connect a source" not in page
    for url, data in [
        (reverse("sources:add"), {"vendor": "anthropic", "api_key": ADMIN_KEY}),
        (reverse("sources:replace", args=[source.public_id]), {"api_key": ADMIN_KEY}),
        (reverse("sources:rename", args=[source.public_id]), {"label": "Mine"}),
        (reverse("sources:remove", args=[source.public_id]), {}),
    ]:
        assert member_client.post(url, data).status_code == 403, url
    source.refresh_from_db()
    assert source.label == "Acme"
    assert not vendor.calls


def test_other_accounts_source_ids_give_404(other_client, source):
    for name in ("replace", "rename", "remove"):
        url = reverse(f"sources:{name}", args=[source.public_id])
        assert other_client.get(url).status_code == 404
        assert other_client.post(url, {"label": "x", "api_key": ADMIN_KEY}).status_code == 404
    assert EstimateSource.objects.filter(pk=source.pk, label="Acme").exists()
    assert "Acme" not in other_client.get(reverse("sources:list")).content.decode()


def test_the_key_never_leaves_through_logs_pages_or_admin(
    client, owner, account, vendor, caplog, admin_user
):
    """A canary key through add, a failed validation, replace and remove."""
    canary = "sk-ant-admin01-CANARY" + "c" * 70 + "LAST"
    caplog.set_level(logging.DEBUG)
    client.force_login(owner)
    vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        500, json={"type": "error", "error": {"type": "api_error", "message": f"echo {canary}"}}
    )
    bodies = [add(client, "anthropic", canary).content]
    anthropic_ok(vendor)
    bodies.append(add(client, "anthropic", canary).content)
    source = EstimateSource.objects.get(account=account)
    bodies += [
        client.get(reverse("sources:list")).content,
        client.get(reverse("sources:replace", args=[source.public_id])).content,
        client.post(
            reverse("sources:replace", args=[source.public_id]), {"api_key": canary}
        ).content,
    ]
    client.force_login(admin_user)
    for url in (
        "/admin/",
        "/admin/connectors/",
        f"/admin/connectors/estimatesource/{source.pk}/change/",
    ):
        bodies.append(client.get(url).content)
    client.force_login(owner)
    bodies.append(client.post(reverse("sources:remove", args=[source.public_id])).content)

    assert all(b"CANARY" not in body for body in bodies)
    assert all("CANARY" not in m.body and "CANARY" not in m.subject for m in mail.outbox)
    # Rendered exactly as our handlers would render them, redaction filter included.
    from connectors.redaction import RedactSecretsFilter

    redactor = RedactSecretsFilter()
    for record in caplog.records:
        redactor.filter(record)
        assert "CANARY" not in record.getMessage()


def test_remove_asks_first_and_a_get_deletes_nothing(owner_client, source):
    response = owner_client.get(reverse("sources:remove", args=[source.public_id]))
    assert response.status_code == 200
    assert "Remove the source and its key" in response.content.decode()
    assert EstimateSource.objects.filter(pk=source.pk).exists()
