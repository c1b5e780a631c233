"""Another account's ids are a 404 on every account-scoped URL, never a 403."""

import uuid

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory
from tokenoffset.accounts.models import Invitation, Membership


@pytest.fixture
def foreign_ids(other_account, other_owner):
    bystander = MembershipFactory(account=other_account, user__email="erin@example.org")
    invitation = Invitation.objects.create(
        account=other_account, email="frank@example.org", token_hash="t" * 64
    )
    return {"membership": bystander, "invitation": invitation}


def test_other_account_ids_give_404(owner_client, foreign_ids, other_account):
    urls = [
        reverse("accounts:member_remove", args=[foreign_ids["membership"].public_id]),
        reverse("accounts:invitation_revoke", args=[foreign_ids["invitation"].public_id]),
        reverse("accounts:switch", args=[other_account.public_id]),
    ]
    for url in urls:
        assert owner_client.post(url).status_code == 404, url
    assert Membership.objects.filter(pk=foreign_ids["membership"].pk).exists()
    assert Invitation.objects.filter(pk=foreign_ids["invitation"].pk).exists()


def test_unknown_ids_give_404(owner_client):
    assert owner_client.post(reverse("accounts:switch", args=[uuid.uuid4()])).status_code == 404
