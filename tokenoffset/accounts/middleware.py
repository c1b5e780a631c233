from .access import current_membership
from .backends import session_backend_upgrade


class CurrentAccountMiddleware:
    """Puts ``request.membership`` and ``request.account`` on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_backend_upgrade(request)
        request.membership = current_membership(request)
        request.account = request.membership.account if request.membership else None
        return self.get_response(request)
