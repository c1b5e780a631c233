"""The dashboard's rendered page, cached per viewer until anything it shows changes.

The key holds everything the page depends on: the account and its data version (bumped by every
writer of what the page shows, coefficient set activations included), the UTC date, the viewer
(user, email, role), the account switcher's accounts and the release (templates and code); an
entry also ends like the figures' entry (``snapshot.valid_until``). All of these are read fresh on
every request (the session, the user, the memberships with their accounts), so an entry can be
kept in this process as well as in the shared cache: a hit in the process costs no round trip.

What is per request stays out of the page: the CSRF token is rendered as a placeholder and
substituted on every serve, and a page with flash messages to show is rendered afresh (consuming
them) and never cached.
"""

import hashlib
import logging
import os
from collections.abc import Callable
from datetime import datetime
from functools import cache as memoize

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tokenoffset.recent import Recent

from .csrf import csrf_token
from .snapshot import dashboard_snapshot, valid_until

logger = logging.getLogger(__name__)
TEMPLATE = "dashboard/home.html"
# Whatever renders the page: a release that changes any of these starts afresh.
_RELEASE_DIRS = ("templates", "static", "tokenoffset", "billing", "estimates", "connectors")


def _release() -> str:
    """Names, sizes and modification times of the files that render the page (no reading)."""
    digest = hashlib.sha256()
    for top in _RELEASE_DIRS:
        for folder, dirs, files in os.walk(settings.BASE_DIR / top):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "tests"))
            for name in sorted(files):
                if name.endswith((".html", ".py", ".css", ".js", ".svg", ".txt")):
                    stat = os.stat(os.path.join(folder, name))
                    digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


_release_once = memoize(_release)


def release() -> str:
    # In development templates change under a running server: look again on every page.
    return _release() if settings.DEBUG else _release_once()


def csrf_placeholder() -> str:
    """Stands for the CSRF token in a cached page; unguessable, so no content can contain it."""
    return _placeholder(settings.SECRET_KEY)


@memoize  # one HMAC per signing key, not one per page served
def _placeholder(secret: str) -> str:
    hmac = salted_hmac("tokenoffset.dashboard.page", "csrf placeholder", secret=secret)
    return "csrf" + hmac.hexdigest()[:32]


def other_memberships(request: HttpRequest) -> list:
    """The account switcher's other accounts, from the memberships the middleware loaded."""
    return [m for m in request.memberships if m.pk != request.membership.pk]


def page_key(request: HttpRequest, others: list, now: datetime) -> str:
    membership, user = request.membership, request.user
    account = membership.account
    viewer = [user.email, account.name, bool(settings.VENDOR_SANDBOX_URL)]
    viewer += [(m.account_id, m.account.public_id.hex, m.account.name, m.role) for m in others]
    viewer_hash = hashlib.sha256(repr(viewer).encode()).hexdigest()[:16]
    return (
        f"dashboard-page:{release()}:{account.pk}:{account.data_version}:{now.date().isoformat()}"
        f":{user.pk}:{membership.role}:{viewer_hash}"
    )


def _serve(request: HttpRequest, body: bytes, *, rendered: bool) -> HttpResponse:
    # A rendered page renews the CSRF cookie's year, as {% csrf_token %} does; a cached serve
    # only sets a missing one. Each viewer's page is rendered at least once a UTC day (the key
    # holds the date), so an active viewer's cookie never runs out.
    token = csrf_token(request, renew=rendered).encode()
    return HttpResponse(body.replace(csrf_placeholder().encode(), token))


recent = Recent(size=200)  # (end, body) by key; pages of ~70 kB: ~14 MB per process at most


def _cached(key: str, now: datetime) -> bytes | None:
    entry = recent.get(key)
    if entry is not None and now < entry[0]:
        return entry[1]
    try:
        entry = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreadable entry is a miss
        logger.warning("dashboard page entry %s unreadable; rendering", key, exc_info=True)
        return None
    if entry is None or now >= entry[0]:
        return None
    recent.put(key, entry)
    return entry[1]


def dashboard_page(request: HttpRequest, extra: Callable[..., dict]) -> HttpResponse:
    """The page for ``request.membership``'s account: cached, or rendered (and cached)."""
    now = timezone.now()
    others = other_memberships(request)
    pending_messages = len(get_messages(request)) > 0  # counts them without consuming them
    key = page_key(request, others, now)
    body = None if pending_messages else _cached(key, now)
    if body is not None:
        return _serve(request, body, rendered=False)

    data = dashboard_snapshot(account=request.account, now=now)
    context = {"d": data, "removal": data.removal, "other_memberships": others, **extra(data)}
    if pending_messages:
        return HttpResponse(render_to_string(TEMPLATE, context, request))
    context["csrf_token"] = csrf_placeholder()
    body = render_to_string(TEMPLATE, context, request).encode()
    until = valid_until(data, now)
    if until > now:
        cache.set(key, (until, body), int((until - now).total_seconds()) + 1)
        recent.put(key, (until, body))
    return _serve(request, body, rendered=True)
