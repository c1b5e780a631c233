"""Connecting a Cursor team through the real connect page: validation, inline errors, storage."""

import base64

import pytest
import respx
from django.core import mail
from django.urls import reverse

from connectors import crypto
from connectors.models import EstimateSource, KeyEvent
from tests.factories import EstimateSourceFactory

CURSOR = "https://api.cursor.com"
KEY = "crsr_" + "Zq81" * 16  # 64 characters after the prefix, the current documented shape
MEMBERS = {
    "teamMembers": [
        {"id": "user_1", "name": "Dana", "email": "d@example.com", "role": "owner"},
        {"id": "user_2", "name": "Lee", "email": "l@example.com", "role": "member"},
        {
            "id": "user_3",
            "name": "Ex",
            "email": "x@example.com",
            "role": "member",
            "isRemoved": True,
        },
    ]
}


@pytest.fixture
def vendor():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


def add(client, key=KEY):
    return client.post(reverse("sources:add"), {"vendor": "cursor", "api_key": key})


def refused(client, vendor, status, body):
    route = vendor.get(f"{CURSOR}/teams/members").respond(status, json=body)
    page = add(client).content.decode()
    assert route.call_count == 1  # one call, no retry inside the web request
    assert KEY not in page
    assert not EstimateSource.objects.exists() and not KeyEvent.objects.exists()
    assert not mail.outbox
    return page


def test_the_connect_page_offers_cursor_and_says_what_its_key_can_do(owner_client):
    page = owner_client.get(reverse("sources:add")).content.decode()
    assert 'value="cursor"' in page
    assert "Admin API Keys" in page and "Enterprise teams only" in page
    assert "<code>crsr_</code>" in page


def test_owner_connects_a_cursor_team(owner_client, account, owner, vendor):
    route = vendor.get(f"{CURSOR}/teams/members").respond(200, json=MEMBERS)
    response = add(owner_client, f"  {KEY}\n")
    assert response.status_code == 302
    source = EstimateSource.objects.get(account=account)
    assert (source.vendor, source.kind, source.label) == (
        "cursor",
        "admin_key",
        "Cursor · 2 members",
    )
    assert source.status == "pending" and source.key_hint == KEY[-4:]
    assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id) == KEY
    sent = route.calls.last.request.headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert KeyEvent.objects.get(source=source).kind == "added"
    assert mail.outbox[-1].to == [owner.email]


def test_a_team_without_enterprise_gets_its_own_message(owner_client, vendor):
    body = {"error": "Forbidden", "message": "Enterprise access required"}
    page = refused(owner_client, vendor, 403, body)
    assert "only open to Enterprise teams" in page
    assert "admin scope" not in page


def test_a_key_without_admin_scope_gets_its_own_message(owner_client, vendor):
    body = {"error": "Forbidden", "message": "API key is missing the required scope: admin:*"}
    page = refused(owner_client, vendor, 403, body)
    assert "lacks the admin scope" in page and "Admin API Keys" in page
    assert "only open to Enterprise" not in page


def test_a_revoked_key_gets_its_own_message(owner_client, vendor):
    page = refused(
        owner_client, vendor, 401, {"error": "Unauthorized", "message": "Invalid API key"}
    )
    assert "revoked" in page and "(401)" in page


def test_a_rate_limited_check_says_when_to_try_again(owner_client, vendor):
    body = {"error": "Too Many Requests", "message": "Rate limit exceeded."}
    page = refused(owner_client, vendor, 429, body)
    assert "Cursor is rate-limiting" in page


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sk-ant-admin01-" + "a" * 60, "This is an Anthropic key"),
        ("sk-admin-" + "a" * 60, "This looks like an OpenAI key"),
        ("cur_" + "a" * 60, "start with key_ or crsr_"),
    ],
)
def test_another_vendors_key_is_refused_before_any_call(owner_client, vendor, key, message):
    page = add(owner_client, key).content.decode()
    assert message in page
    assert not vendor.calls and not EstimateSource.objects.exists()


def test_another_account_cannot_see_or_touch_a_cursor_source(account, other_client):
    source = EstimateSourceFactory(
        account=account, vendor="cursor", label="Cursor · 2 members", key=KEY
    )
    assert "Cursor · 2 members" not in other_client.get(reverse("sources:list")).content.decode()
    url = reverse("sources:replace", args=[source.public_id])
    assert other_client.get(url).status_code == 404
    assert other_client.post(url, {"api_key": KEY}).status_code == 404
