"""The account export names each source's kind beside its vendor, and holds none of the new
credentials: a Cursor admin key, a Google service account's private key or its JSON."""

import io
import json
import zipfile

import pytest

from tests.factories import EstimateSourceFactory

CURSOR_KEY = "crsr_" + "C4nAry" * 10 + "wxyz"
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanary"
    "PrivateKeyMaterial\n-----END PRIVATE KEY-----\n"
)
SERVICE_ACCOUNT = json.dumps(
    {
        "client_email": "usage-reader@acme-ml-prod.iam.gserviceaccount.com",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": PRIVATE_KEY,
        "project_ids": ["acme-ml-prod"],
    }
)


@pytest.fixture
def new_sources(account):
    cursor = EstimateSourceFactory(account=account, vendor="cursor", label="Cursor", key=CURSOR_KEY)
    google = EstimateSourceFactory(
        account=account,
        vendor="google",
        kind="service_account",
        label="Gemini prod",
        key=SERVICE_ACCOUNT,
    )
    return cursor, google


def export(client, account, kind):
    return client.get(f"/account/{account.public_id}/export.{kind}").content


def test_the_export_names_each_sources_kind(owner_client, account, new_sources):
    sources = json.loads(export(owner_client, account, "json"))["sources"]
    assert [(s["kind"], s["vendor"]) for s in sources] == [
        ("admin_key", "cursor"),
        ("service_account", "google"),
    ]
    with zipfile.ZipFile(io.BytesIO(export(owner_client, account, "zip"))) as archive:
        name = next(n for n in archive.namelist() if "sources" in n)
        header = archive.read(name).decode().splitlines()[0]
    assert "kind" in header.split(",")


def test_no_new_credential_is_in_the_export(owner_client, account, new_sources):
    body = export(owner_client, account, "json").decode()
    with zipfile.ZipFile(io.BytesIO(export(owner_client, account, "zip"))) as archive:
        csv_text = "".join(archive.read(n).decode() for n in archive.namelist())
    for text in (body, csv_text):
        assert "C4nAry" not in text
        assert "CanaryPrivateKeyMaterial" not in text and "PRIVATE KEY" not in text
        assert "usage-reader@" not in text and "private_key" not in text


def test_no_new_credential_is_in_the_admin(admin_client, new_sources):
    for source in new_sources:
        for url in (
            "/admin/connectors/estimatesource/",
            f"/admin/connectors/estimatesource/{source.pk}/change/",
        ):
            body = admin_client.get(url).content.decode()
            assert source.label in body
            assert "C4nAry" not in body and "CanaryPrivateKeyMaterial" not in body
            assert "usage-reader@" not in body
