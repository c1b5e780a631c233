"""Django's and allauth's authentication backends, loading the user's memberships with the user.

Every signed-in request needs the user and their memberships (the current account, the account
switcher): one query instead of two. Authentication itself is theirs, unchanged; so is the check
of each request's user (active, session hash verified by ``django.contrib.auth.get_user``).
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from .access import user_with_memberships


class _WithMemberships:
    def get_user(self, user_id):
        user = user_with_memberships(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithMemberships, DjangoModelBackend):
    pass


class AuthenticationBackend(_WithMemberships, AllauthBackend):
    pass


# Sessions signed in before these backends name the classes they extend: same users, same checks.
RENAMED = {
    "django.contrib.auth.backends.ModelBackend": f"{__name__}.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": f"{__name__}.AuthenticationBackend",
}


def session_backend_upgrade(request) -> None:
    """Point a session signed in with a backend these extend at its extension (before the
    request's user is read), so that it stays signed in."""
    renamed = RENAMED.get(request.session.get(BACKEND_SESSION_KEY))
    if renamed:
        request.session[BACKEND_SESSION_KEY] = renamed
