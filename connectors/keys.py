"""Checking a pasted key: its shape first (no network), then one live validation."""

import httpx
from django.conf import settings

from . import registry
from .errors import ConnectorError
from .http import build_client
from .interface import SourceKind, ValidatedKey

MIN_KEY_LENGTH = 20
MAX_KEY_LENGTH = 400
# One short live check inside a web request: no retries, no sleeps.
VALIDATION_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

__all__ = ["KeyRejected", "ValidatedKey", "key_shape_check", "key_validate", "vendor_base_url"]


class KeyRejected(Exception):
    """The key can't be used; the message says why and what to do, for the person pasting it."""

    def __init__(self, message: str, *, retry_after: float | None = None, vendor_said=None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.vendor_said = vendor_said  # the ConnectorError kind, when the vendor answered


def key_shape_check(vendor: str, raw: str) -> str:
    """Strip what was pasted around the key and refuse what can't be a key, before any call."""
    connector = registry.get(vendor)
    if connector.kind == SourceKind.SERVICE_ACCOUNT:
        # A service-account credential is no pasted key: its own connector reads and checks it.
        problem = connector.key_shape_problem(raw or "")
        if problem:
            raise KeyRejected(problem)
        return raw
    key = (raw or "").strip()
    if not key:
        raise KeyRejected("Paste your admin key.")
    if any(ch.isspace() for ch in key):
        raise KeyRejected(
            "The key has spaces or line breaks in the middle. Copy it again as one piece."
        )
    if not key.isascii() or not key.isprintable():
        raise KeyRejected(
            "The key contains characters that never appear in API keys (curly quotes, "
            "ellipses or invisible characters). Copy it again straight from the console."
        )
    if len(key) < MIN_KEY_LENGTH:
        raise KeyRejected("That is too short to be an API key. Copy the whole key.")
    if len(key) > MAX_KEY_LENGTH:
        raise KeyRejected("That is far too long to be an API key. Paste only the key.")
    problem = connector.key_shape_problem(key)
    if problem:
        raise KeyRejected(problem)
    return key


def _rejection(vendor: str, key: str, error: ConnectorError) -> KeyRejected:
    connector = registry.get(vendor)
    name, create_key = connector.name, connector.create_key_help
    if specific := connector.explain_rejection(error):
        return KeyRejected(specific, retry_after=error.retry_after, vendor_said=error.kind)
    if error.kind in ("unauthorized", "forbidden") and connector.looks_like_standard_key(key):
        return KeyRejected(
            f"This looks like a standard API key; it cannot read org-wide usage — {create_key}.",
            vendor_said=error.kind,
        )
    messages = {
        "unauthorized": f"{name} rejected this key (401): it is wrong, revoked or expired. "
        "Check you copied the whole admin key.",
        "forbidden": f"{name} accepted the key but refused to show usage (403): it lacks the "
        f"permission to read usage reports. {create_key.capitalize()}.",
        "rate_limited": f"{name} is rate-limiting; try again in "
        f"{int(error.retry_after or 60)} s. Nothing was stored.",
        "timeout": f"{name} did not answer in time. Try again in a minute; nothing was stored.",
        "server": f"{name} had a problem (HTTP {error.status or '5xx'}). "
        "Try again in a few minutes; nothing was stored.",
        "unreachable": f"We could not reach {name}. Try again in a few minutes; "
        "nothing was stored.",
    }
    message = messages.get(
        error.kind,
        f"{name} gave an answer we could not use ({error.kind}). Try again later; "
        "nothing was stored.",
    )
    return KeyRejected(message, retry_after=error.retry_after, vendor_said=error.kind)


def vendor_base_url(vendor: str, *, is_sandbox: bool) -> str:
    """Real sources always use the configured vendor URLs; only sandbox sources the sandbox."""
    if is_sandbox:
        if not settings.VENDOR_SANDBOX_URL:
            raise KeyRejected("The demo sandbox is only available in local development.")
        return settings.VENDOR_SANDBOX_URL
    return getattr(settings, registry.get(vendor).base_url_setting)


def key_validate(vendor: str, key: str, *, is_sandbox: bool = False) -> ValidatedKey:
    """One live check against the vendor, no retry. Returns the label to show for the source."""
    connector = registry.get(vendor)
    if connector.validate is None:
        raise KeyRejected(f"{connector.name} sources take no key.")
    with build_client(
        vendor_base_url(vendor, is_sandbox=is_sandbox), timeout=VALIDATION_TIMEOUT
    ) as client:
        try:
            validated = connector.validate(client, key)
        except ConnectorError as e:
            raise _rejection(vendor, key, e) from None
    label = validated.label
    if is_sandbox:
        label = f"{label} (sandbox)"
    return ValidatedKey(
        key=key,
        label=label[:100],
        hint=validated.hint or key[-4:],
        organization_id=validated.organization_id,
    )
