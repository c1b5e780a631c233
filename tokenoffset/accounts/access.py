"""The request's account: one helper resolves it, every tenant lookup goes through it."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership

SESSION_KEY = "current_account"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the current account kept in the session (or the user's own)."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("account")
    wanted = request.session.get(SESSION_KEY)
    if wanted:
        membership = memberships.filter(account__public_id=wanted).first()
        if membership:
            return membership
    # Fall back to an account the user owns (their own), then any other.
    # Owners first ("owner" sorts after "member"), then the oldest membership.
    membership = memberships.order_by("-role", "created_at").first()
    if membership:
        request.session[SESSION_KEY] = str(membership.account.public_id)
    return membership


def switch_account(request: HttpRequest, membership: Membership) -> None:
    request.session[SESSION_KEY] = str(membership.account.public_id)


def account_required(view):
    """Login required, and the request carries ``request.account`` and ``request.membership``."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership is None:
            # The user's last account was deleted or they were removed from it: rather than a
            # dead end, they get a fresh account of their own, as at sign-up.
            from .services import account_create_for_user

            account_create_for_user(user=request.user)
            request.membership = current_membership(request)
            request.account = request.membership.account
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view):
    """Like ``account_required``, but only owners may act; members are read-only."""

    @account_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_owner:
            raise PermissionDenied("Only the account's owners can change this.")
        return view(request, *args, **kwargs)

    return wrapper
