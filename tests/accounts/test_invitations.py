import re

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import MembershipFactory
from tokenoffset.accounts.models import Account, Invitation, Membership, Role


def accept_link():
    return re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)


def test_owner_invites_and_invitee_accepts(client, owner, account, other_owner):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:invitation_create"), {"email": other_owner.email}, follow=True
    )
    assert f"Invitation sent to {other_owner.email}" in response.content.decode()
    assert mail.outbox[-1].to == [other_owner.email]
    link = accept_link()

    EmailAddress.objects.create(user=other_owner, email=other_owner.email, verified=True)
    client.force_login(other_owner)
    assert account.name in client.get(link).content.decode()
    response = client.post(link, follow=True)
    assert f"You joined {account.name}" in response.content.decode()
    membership = Membership.objects.get(account=account, user=other_owner)
    assert membership.role == Role.MEMBER
    assert not Invitation.objects.filter(account=account).exists()
    # The accepted invitation switched the session to the new account.
    assert response.context["current_account"] == account


def test_invitation_for_someone_else_cannot_be_accepted(client, owner, account, other_owner):
    client.force_login(owner)
    client.post(reverse("accounts:invitation_create"), {"email": "dave@example.org"})
    link = accept_link()
    client.force_login(other_owner)
    response = client.post(link, follow=True)
    assert "This invitation is for dave@example.org" in response.content.decode()
    assert not Membership.objects.filter(account=account, user=other_owner).exists()


def test_inviting_twice_or_inviting_a_member_is_refused(owner_client, member):
    url = reverse("accounts:invitation_create")
    owner_client.post(url, {"email": "dave@example.org"})
    response = owner_client.post(url, {"email": "dave@example.org"}, follow=True)
    assert "already been invited" in response.content.decode()
    response = owner_client.post(url, {"email": member.email}, follow=True)
    assert "already a member" in response.content.decode()
    response = owner_client.post(url, {"email": "nope"}, follow=True)
    assert "valid email" in response.content.decode()


def test_member_sees_the_account_read_only(member_client, account, owner):
    response = member_client.get(reverse("accounts:settings"))
    page = response.content.decode()
    assert "read-only access" in page
    assert "Send invitation" not in page
    assert "Remove" not in page
    response = member_client.post(reverse("accounts:invitation_create"), {"email": "x@example.org"})
    assert response.status_code == 403
    response = member_client.post(reverse("accounts:rename"), {"name": "Hijacked"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Alice Labs"


def test_owner_revokes_an_invitation(owner_client, account):
    owner_client.post(reverse("accounts:invitation_create"), {"email": "dave@example.org"})
    invitation = Invitation.objects.get(account=account)
    link = accept_link()
    owner_client.post(reverse("accounts:invitation_revoke", args=[invitation.public_id]))
    assert not Invitation.objects.exists()
    response = owner_client.get(link)
    assert "not valid any more" in response.content.decode()


def test_removed_member_loses_access(client, owner, member, account):
    membership = Membership.objects.get(user=member)
    client.force_login(owner)
    client.post(reverse("accounts:member_remove", args=[membership.public_id]))
    assert not Membership.objects.filter(user=member, account=account).exists()

    client.force_login(member)
    response = client.get(reverse("accounts:settings"))
    # With no account left they get a fresh one of their own, never the old one.
    assert response.status_code == 200
    assert response.context["current_account"] != account
    assert account.name not in response.content.decode()
    assert client.get(reverse("api_estimate")).json()["account"]["id"] != str(account.public_id)


def test_owner_cannot_be_removed(owner_client, owner):
    membership = Membership.objects.get(user=owner)
    response = owner_client.post(
        reverse("accounts:member_remove", args=[membership.public_id]), follow=True
    )
    assert "Owners cannot be removed" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_switching_accounts_changes_what_every_page_shows(client, owner, account, other_owner):
    other_account = Account.objects.get(memberships__user=other_owner)
    MembershipFactory(account=other_account, user=owner, role=Role.MEMBER)
    client.force_login(owner)

    for name in ("dashboard:home", "accounts:settings"):
        page = client.get(reverse(name)).content.decode()
        assert "Alice Labs" in page

    client.post(reverse("accounts:switch", args=[other_account.public_id]))
    for name in ("dashboard:home", "accounts:settings"):
        response = client.get(reverse(name))
        assert response.context["current_account"] == other_account
        assert response.context["is_owner"] is False
    assert other_owner.email in client.get(reverse("accounts:settings")).content.decode()
