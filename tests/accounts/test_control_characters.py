"""Names that end up in email subjects: a line break gets a message, never a lost email."""

import pytest
from django.core import mail
from django.urls import reverse

from connectors.services import source_mark_rejected

BAD_NAMES = [
    "Acme\nBcc: victim@example.org",
    "Acme\r\nX: y",
    "Tab\there",
    "Nul\x00",
    "Line\u2028sep",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_it_refuses_control_characters_in_the_account_name_with_a_message(
    owner_client, account, name
):
    response = owner_client.post(reverse("accounts:rename"), {"name": name}, follow=True)
    account.refresh_from_db()
    assert account.name == "Alice Labs"
    assert "control characters are not allowed" in response.content.decode()


def test_it_still_accepts_ordinary_names_with_accents_and_emoji(owner_client, account):
    owner_client.post(reverse("accounts:rename"), {"name": "Café Zoë 🌱 (R&D)"})
    account.refresh_from_db()
    assert account.name == "Café Zoë 🌱 (R&D)"


@pytest.mark.parametrize("label", BAD_NAMES)
def test_it_refuses_control_characters_in_a_source_label_with_a_message(
    owner_client, make_source, label
):
    source = make_source()
    url = reverse("sources:rename", args=[source.public_id])
    response = owner_client.post(url, {"label": label})
    source.refresh_from_db()
    assert response.status_code == 200
    assert source.label == "anthropic flat"
    assert "control characters are not allowed" in response.content.decode()


def test_it_sends_the_email_even_when_a_vendor_named_the_organisation_with_a_line_break(
    make_source, owner
):
    source = make_source()
    source.label = "Org\nBcc: someone@example.org"  # the vendor's organisation name
    source.save()
    source_mark_rejected(source=source, detail="revoked")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert mail.outbox[0].subject == "[Token Offset] Org Bcc: someone@example.org needs a new key"
