"""Replacing a key writes only the key's fields: a status or label changed during the seconds
of the vendor check survives the save."""

import json
import uuid
from pathlib import Path

import httpx
import pytest
import respx

from connectors import crypto
from connectors.models import EstimateSource, KeyEvent
from connectors.services import source_replace_key

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ANTHROPIC = "https://api.anthropic.com"
EMPTY_USAGE = {"data": [], "has_more": False, "next_page": None}


def admin_key(tail):
    return "sk-ant-admin01-" + "r" * 80 + tail


@pytest.fixture
def source(account, owner):
    public_id = uuid.uuid4()
    key = admin_key("OLD1")
    return EstimateSource.objects.create(
        account=account,
        public_id=public_id,
        vendor="anthropic",
        label="Acme org",
        key_ciphertext=crypto.encrypt(key, source_public_id=public_id),
        key_hint="OLD1",
        status="ready",
        created_by=owner,
    )


def vendor_check(meanwhile):
    """The vendor check for the new key; `meanwhile` runs while it is in flight."""
    org = json.loads((FIXTURES / "anthropic" / "organization.json").read_text())

    def me(request):
        meanwhile()
        return httpx.Response(200, json=org)

    mock = respx.mock(assert_all_mocked=True)
    mock.get(f"{ANTHROPIC}/v1/organizations/me").mock(side_effect=me)
    mock.get(f"{ANTHROPIC}/v1/organizations/usage_report/messages").respond(json=EMPTY_USAGE)
    return mock


def test_a_status_and_label_changed_during_the_vendor_check_are_kept(source, owner):
    def meanwhile():  # a sample is claimed and the source renamed, in other requests
        EstimateSource.objects.filter(pk=source.pk).update(status="sampling", label="Renamed")

    with vendor_check(meanwhile):
        source_replace_key(source=source, user=owner, raw_key=admin_key("NEW1"))
    source.refresh_from_db()
    assert (source.status, source.label) == ("sampling", "Renamed")
    assert source.key_hint == "NEW1"
    new = crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id)
    assert new == admin_key("NEW1")
    assert KeyEvent.objects.get(source=source, kind="replaced").source_label == "Renamed"


def test_a_sample_failing_during_the_vendor_check_is_cleared_by_the_new_key(source, owner):
    def meanwhile():
        EstimateSource.objects.filter(pk=source.pk).update(
            status="needs_attention", last_error="the key was revoked"
        )

    with vendor_check(meanwhile):
        source_replace_key(source=source, user=owner, raw_key=admin_key("NEW2"))
    source.refresh_from_db()
    assert (source.status, source.last_error) == ("pending", "")
