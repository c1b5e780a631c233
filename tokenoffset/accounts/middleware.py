from django.contrib import auth
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.utils.functional import SimpleLazyObject

from . import viewers
from .access import current_membership
from .backends import session_backend_upgrade


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the request's user read where rows kept in this process may serve it: the
    checks are Django's own (backend, active user, session hash), on rows that still hold."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))


def _user(request):
    if not hasattr(request, "_cached_user"):  # the attribute Django's own lazy user uses
        with viewers.stamps_read_with(request.session):
            request._cached_user = auth.get_user(request)
    return request._cached_user


class CurrentAccountMiddleware:
    """Puts ``request.membership`` and ``request.account`` on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_backend_upgrade(request)
        request.membership = current_membership(request)
        request.account = request.membership.account if request.membership else None
        return self.get_response(request)
