"""Writes with side effects for accounts, memberships and invitations."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from .emails import email_send
from .models import Account, Invitation, Membership, Role, User

INVITATION_TOKEN_BYTES = 32


class InvitationError(Exception):
    """An invitation cannot be created or accepted; the message is for the user."""


def account_create_for_user(*, user: User) -> Account:
    """Create the new user's own account with them as its owner."""
    name = user.email.split("@", 1)[0][:80] or "My account"
    with transaction.atomic():
        account = Account.objects.create(name=f"{name}'s account")
        Membership.objects.create(account=account, user=user, role=Role.OWNER)
    return account


def invitation_create(*, account: Account, email: str, invited_by: User) -> Invitation:
    """Invite an email address to the account as a read-only member and email the link."""
    email = email.strip().lower()
    if Membership.objects.filter(account=account, user__email__iexact=email).exists():
        raise InvitationError(f"{email} is already a member of this account.")
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                account=account,
                email=email,
                token=secrets.token_urlsafe(INVITATION_TOKEN_BYTES),
                invited_by=invited_by,
            )
    except IntegrityError:
        raise InvitationError(f"{email} has already been invited.") from None
    link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation.token])
    email_send(
        subject=f"{invited_by.email} invited you to {account.name}",
        body=(
            f"{invited_by.email} invited you to see the account “{account.name}” "
            "on Token Offset.\n\n"
            f"Accept the invitation: {link}\n\n"
            "If you don't have a Token Offset login yet, sign up with this email address first."
        ),
        recipients=[email],
    )
    return invitation


def invitation_accept(*, token: str, user: User) -> Membership:
    """Turn an invitation into a membership for the signed-in user."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token=token).select_related("account")
        ).first()
        if invitation is None:
            raise InvitationError("This invitation link is not valid any more.")
        if invitation.email.lower() != user.email.lower():
            raise InvitationError(
                f"This invitation is for {invitation.email}. Sign in with that address to accept."
            )
        membership, _ = Membership.objects.get_or_create(
            account=invitation.account, user=user, defaults={"role": Role.MEMBER}
        )
        invitation.delete()
    return membership


def membership_remove(*, membership: Membership) -> None:
    """Remove a member; owners cannot be removed this way."""
    if membership.is_owner:
        raise InvitationError("Owners cannot be removed.")
    membership.delete()
