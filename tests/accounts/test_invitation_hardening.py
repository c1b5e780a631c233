"""Invitations: hashed tokens, seven days of validity, limited sending, a confirmed address."""

import hashlib
import importlib
import re
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from tests.factories import account_owned_by
from tokenoffset.accounts.models import Account, Invitation, Membership, Role
from tokenoffset.accounts.services import INVITATIONS_PER_DAY


def invite(client, email="dave@example.org"):
    return client.post(reverse("accounts:invitation_create"), {"email": email}, follow=True)


def sent_token() -> str:
    return re.search(r"/invitations/accept/([^/\s]+)/", mail.outbox[-1].body).group(1)


def confirmed(email: str):
    user = make_user(email)
    EmailAddress.objects.create(user=user, email=email, verified=True)
    return user


def test_it_stores_only_the_sha256_of_the_token(owner_client, account):
    invite(owner_client)
    token = sent_token()
    invitation = Invitation.objects.get(account=account)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert token not in str(Invitation.objects.values().get())


def test_it_refuses_an_invitation_older_than_seven_days(owner_client, client, account):
    invite(owner_client)
    token = sent_token()
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=7, seconds=1))
    dave = confirmed("dave@example.org")
    client.force_login(dave)
    url = reverse("accounts:invitation_accept", args=[token])
    assert "not valid any more" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "not valid any more" in response.content.decode()
    assert not Membership.objects.filter(account=account, user=dave).exists()


def test_it_accepts_an_invitation_six_days_old(owner_client, client, account):
    invite(owner_client)
    token = sent_token()
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=6))
    dave = confirmed("dave@example.org")
    client.force_login(dave)
    client.post(reverse("accounts:invitation_accept", args=[token]))
    assert Membership.objects.get(account=account, user=dave).role == Role.MEMBER


def test_it_lets_the_owner_invite_again_once_an_invitation_expired(owner_client, account):
    invite(owner_client)
    old_token = sent_token()
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert "expired" in owner_client.get(reverse("accounts:settings")).content.decode()
    response = invite(owner_client)
    assert "Invitation sent to dave@example.org" in response.content.decode()
    assert sent_token() != old_token
    assert Invitation.objects.get(account=account).is_expired is False


def test_it_accepts_only_a_confirmed_address(owner_client, client, account):
    invite(owner_client)
    token = sent_token()
    dave = make_user("dave@example.org")
    EmailAddress.objects.create(user=dave, email=dave.email, verified=False)
    client.force_login(dave)
    response = client.post(reverse("accounts:invitation_accept", args=[token]), follow=True)
    assert "Confirm your address dave@example.org first" in response.content.decode()
    assert not Membership.objects.filter(account=account, user=dave).exists()
    assert Invitation.objects.filter(account=account).exists()  # still there for later

    EmailAddress.objects.filter(user=dave).update(verified=True)
    client.post(reverse("accounts:invitation_accept", args=[token]))
    assert Membership.objects.filter(account=account, user=dave).exists()


def test_it_compares_the_confirmed_address_case_insensitively(owner_client, client, account):
    invite(owner_client, "Dave@Example.org")
    token = sent_token()
    dave = make_user("dave@example.org")
    EmailAddress.objects.create(user=dave, email="DAVE@example.ORG", verified=True)
    client.force_login(dave)
    client.post(reverse("accounts:invitation_accept", args=[token]))
    assert Membership.objects.filter(account=account, user=dave).exists()


def test_it_accepts_a_confirmed_second_address_of_the_user(owner_client, client, account):
    invite(owner_client, "dave@work.example")
    token = sent_token()
    dave = confirmed("dave@example.org")
    EmailAddress.objects.create(user=dave, email="dave@work.example", verified=True)
    client.force_login(dave)
    client.post(reverse("accounts:invitation_accept", args=[token]))
    assert Membership.objects.filter(account=account, user=dave).exists()


def test_it_limits_invitations_per_account(owner_client, account):
    for n in range(INVITATIONS_PER_DAY):
        invite(owner_client, f"person{n}@example.org")
    sent = len(mail.outbox)
    response = invite(owner_client, "one-more@example.org")
    assert "Too many invitations sent by this account today" in response.content.decode()
    assert len(mail.outbox) == sent == INVITATIONS_PER_DAY
    assert not Invitation.objects.filter(email="one-more@example.org").exists()


def test_it_limits_invitations_per_sender_across_their_free_accounts(owner_client, owner):
    for n in range(INVITATIONS_PER_DAY):
        if n % 5 == 0:  # a fresh account every five invitations
            spare = account_owned_by(owner, name=f"Spare {n}")
            owner_client.post(reverse("accounts:switch", args=[spare.public_id]))
        invite(owner_client, f"person{n}@example.org")
    spare = account_owned_by(owner, name="Spare last")
    owner_client.post(reverse("accounts:switch", args=[spare.public_id]))
    response = invite(owner_client, "one-more@example.org")
    assert "Too many invitations sent by you today" in response.content.decode()
    assert len(mail.outbox) == INVITATIONS_PER_DAY


def test_its_migration_hashes_the_tokens_already_sent(transactional_db):
    migration = importlib.import_module(
        "tokenoffset.accounts.migrations.0002_invitation_token_hash"
    )
    account = Account.objects.create(name="Legacy")
    # As 0001 stored it: the raw token in the column now called token_hash.
    Invitation.objects.create(account=account, email="old@example.org", token_hash="raw-token")

    from django.apps import apps

    migration.hash_tokens(apps, None)
    assert Invitation.objects.get().token_hash == hashlib.sha256(b"raw-token").hexdigest()
