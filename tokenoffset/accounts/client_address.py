"""The client's address: the one function every per-client limit uses.

Behind ``ALLAUTH_TRUSTED_PROXY_COUNT`` proxies of our own, ``REMOTE_ADDR`` is the nearest proxy
and the client is the right-most ``X-Forwarded-For`` entry that no trusted proxy wrote: each
proxy appends the address it saw, so the entries a client sends itself sit further left and
change nothing. With no trusted proxy (the default) the header is ignored altogether.
django-allauth reads the same setting; our adapter hands it this function, so its login and
sign-up limits count the same clients as ours.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def _clean(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address of the client as our outermost trusted proxy saw it."""
    trusted = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted > 0 and forwarded.strip():
        entries = [e for e in forwarded.split(",") if e.strip()]
        # Fewer entries than proxies: every entry was written by a trusted proxy, and the
        # left-most is the nearest to the client.
        address = _clean(entries[max(len(entries) - trusted, 0)]) if entries else None
        if address:
            return address
    return _clean(request.META.get("REMOTE_ADDR", "")) or UNKNOWN


def client_bucket(request: HttpRequest) -> str:
    """The rate-limit key of the client: its address, or its IPv6 /64 like django-allauth."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        prefix = settings.ALLAUTH_RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{parsed}/{prefix}", strict=False).network_address)
    return address
