"""Writes with side effects for accounts, memberships and invitations."""

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from . import viewers
from .emails import email_send
from .models import (
    INVITATION_VALID_FOR,
    Account,
    Invitation,
    Membership,
    Role,
    User,
    invitation_token_hash,
)
from .ratelimits import limit_exceeded

INVITATION_TOKEN_BYTES = 32
# Invitations email people outside the account, with a name the sender chose: limited per
# account, per sender and per client address (accounts and logins are free).
INVITATIONS_PER_DAY = 20  # per account, and per sender
INVITATIONS_PER_DAY_PER_CLIENT = 50
INVITATION_WINDOW_SECONDS = 24 * 60 * 60


def account_data_changed(*, account_id: int) -> None:
    """Bump the account's data version: what its dashboard shows may have changed.

    Inside the writer's transaction, as its last write: the new version becomes visible in the
    same commit as the rows it announces, and a crash between the commit and a callback cannot
    lose it (a lost bump would leave a stale dashboard). The row lock lasts until that commit.
    """
    Account.objects.filter(pk=account_id).update(data_version=F("data_version") + 1)
    viewers.accounts_changed([account_id])


def accounts_data_changed(*, account_ids) -> None:
    """``account_data_changed`` for several accounts at once (a batch of removal orders)."""
    ids = sorted({pk for pk in account_ids if pk is not None})
    if ids:
        Account.objects.filter(pk__in=ids).update(data_version=F("data_version") + 1)
        viewers.accounts_changed(ids)


def all_accounts_data_changed() -> None:
    """``account_data_changed`` for every account: what all dashboards show may have changed (a
    coefficient set activated: the bands offered and new projections are priced with it)."""
    Account.objects.update(data_version=F("data_version") + 1)
    viewers.all_accounts_changed()


class InvitationError(Exception):
    """An invitation cannot be created or accepted; the message is for the user."""


def account_create_for_user(*, user: User) -> Account:
    """Create the new user's own account with them as its owner."""
    name = user.email.split("@", 1)[0][:80] or "My account"
    with transaction.atomic():
        account = Account.objects.create(name=f"{name}'s account")
        Membership.objects.create(account=account, user=user, role=Role.OWNER)
    return account


def _invitation_rate_limit(*, account: Account, user: User, client: str) -> None:
    limits = [
        (f"invitations:{account.public_id}", INVITATIONS_PER_DAY, "this account"),
        (f"invitations:user:{user.pk}", INVITATIONS_PER_DAY, "you"),
    ]
    if client:
        limits.append(
            (f"invitations:client:{client}", INVITATIONS_PER_DAY_PER_CLIENT, "your network")
        )
    for cache_key, allowed, whom in limits:
        if limit_exceeded(cache_key, limit=allowed, window_seconds=INVITATION_WINDOW_SECONDS):
            raise InvitationError(
                f"Too many invitations sent by {whom} today ({allowed} a day). "
                "Nothing was sent; try again tomorrow."
            )


def invitation_create(
    *, account: Account, email: str, invited_by: User, client: str = ""
) -> Invitation:
    """Invite an email address to the account as a read-only member and email the link.

    ``client`` is the request's client address (``client_bucket``), for the per-client limit.
    """
    email = email.strip().lower()
    if Membership.objects.filter(account=account, user__email__iexact=email).exists():
        raise InvitationError(f"{email} is already a member of this account.")
    pending = Invitation.objects.filter(account=account, email=email).first()
    if pending is not None and not pending.is_expired:
        raise InvitationError(f"{email} has already been invited.")
    _invitation_rate_limit(account=account, user=invited_by, client=client)
    token = secrets.token_urlsafe(INVITATION_TOKEN_BYTES)
    try:
        with transaction.atomic():
            if pending is not None:
                pending.delete()  # expired: a new invitation replaces it
            invitation = Invitation.objects.create(
                account=account,
                email=email,
                token_hash=invitation_token_hash(token),
                invited_by=invited_by,
            )
    except IntegrityError:
        raise InvitationError(f"{email} has already been invited.") from None
    link = settings.SITE_URL + reverse("accounts:invitation_accept", args=[token])
    email_send(
        subject=f"{invited_by.email} invited you to {account.name}",
        body=(
            f"{invited_by.email} invited you to see the account “{account.name}” "
            "on Token Offset.\n\n"
            f"Accept the invitation: {link}\n\n"
            f"The link works for {INVITATION_VALID_FOR.days} days. If you don't have a Token "
            "Offset login yet, sign up with this email address first."
        ),
        recipients=[email],
    )
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token names, if it is still valid."""
    return (
        Invitation.objects.filter(
            token_hash=invitation_token_hash(token),
            created_at__gt=timezone.now() - INVITATION_VALID_FOR,
        )
        .select_related("account")
        .first()
    )


def invitation_accept(*, token: str, user: User) -> Membership:
    """Turn an invitation into a membership for a signed-in user who has confirmed the
    invited address (any of their addresses, compared case-insensitively)."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(token_hash=invitation_token_hash(token))
            .select_related("account")
        ).first()
        if invitation is None or invitation.is_expired:
            raise InvitationError(
                "This invitation link is not valid any more. Ask the account's owner for a new one."
            )
        addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
        if not addresses.exists() and invitation.email.lower() != user.email.lower():
            raise InvitationError(
                f"This invitation is for {invitation.email}. Sign in with that address to accept."
            )
        if not addresses.filter(verified=True).exists():
            raise InvitationError(
                f"Confirm your address {invitation.email} first: follow the link in the "
                "confirmation email, or send a new one under Email addresses. Then accept "
                "the invitation again."
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
