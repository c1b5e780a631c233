"""Checking a pasted key: its shape first (no network), then one live validation."""

from dataclasses import dataclass, field

import httpx
from django.conf import settings

from .anthropic import client as anthropic_client
from .errors import ConnectorError
from .http import build_client
from .models import Vendor
from .openai import client as openai_client

MIN_KEY_LENGTH = 20
MAX_KEY_LENGTH = 400
# One short live check inside a web request: no retries, no sleeps.
VALIDATION_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

ADMIN_PREFIXES = {Vendor.ANTHROPIC: "sk-ant-admin", Vendor.OPENAI: "sk-admin-"}
CREATE_ADMIN_KEY = {
    Vendor.ANTHROPIC: "create an Admin key in Console → Settings → Admin Keys",
    Vendor.OPENAI: (
        "create an Admin key in Settings → Organization → Admin keys "
        "(organization owners only; a restricted key with only api.usage.read is enough)"
    ),
}


class KeyRejected(Exception):
    """The key can't be used; the message says why and what to do, for the person pasting it."""

    def __init__(self, message: str, *, retry_after: float | None = None, vendor_said=None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.vendor_said = vendor_said  # the ConnectorError kind, when the vendor answered


@dataclass(frozen=True)
class ValidatedKey:
    key: str = field(repr=False)  # never in a repr, a log line or an error report's locals
    label: str


def looks_like_standard_key(vendor: str, key: str) -> bool:
    if vendor == Vendor.ANTHROPIC:
        return key.startswith("sk-ant-") and not key.startswith("sk-ant-admin")
    return key.startswith("sk-") and not key.startswith("sk-admin-")


def key_shape_check(vendor: str, raw: str) -> str:
    """Strip what was pasted around the key and refuse what can't be a key, before any call."""
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
    other = Vendor.OPENAI if vendor == Vendor.ANTHROPIC else Vendor.ANTHROPIC
    if vendor == Vendor.OPENAI and key.startswith("sk-ant-"):
        raise KeyRejected("This is an Anthropic key. Choose Anthropic as the vendor.")
    if vendor == Vendor.ANTHROPIC and key.startswith("sk-") and not key.startswith("sk-ant-"):
        raise KeyRejected(f"This looks like an {other.label} key. Choose {other.label}.")
    return key


def _rejection(vendor: str, key: str, error: ConnectorError) -> KeyRejected:
    name = Vendor(vendor).label
    standard = looks_like_standard_key(vendor, key)
    if error.kind in ("unauthorized", "forbidden") and standard:
        return KeyRejected(
            "This looks like a standard API key; it cannot read org-wide usage — "
            f"{CREATE_ADMIN_KEY[vendor]}.",
            vendor_said=error.kind,
        )
    messages = {
        "unauthorized": f"{name} rejected this key (401): it is wrong, revoked or expired. "
        "Check you copied the whole admin key.",
        "forbidden": f"{name} accepted the key but refused to show usage (403): it lacks the "
        f"permission to read usage reports. {CREATE_ADMIN_KEY[vendor].capitalize()}.",
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
    if vendor == Vendor.ANTHROPIC:
        return settings.ANTHROPIC_API_BASE_URL
    return settings.OPENAI_API_BASE_URL


def key_validate(vendor: str, key: str, *, is_sandbox: bool = False) -> ValidatedKey:
    """One live check against the vendor, no retry. Returns the label to show for the source."""
    with build_client(
        vendor_base_url(vendor, is_sandbox=is_sandbox), timeout=VALIDATION_TIMEOUT
    ) as client:
        try:
            if vendor == Vendor.ANTHROPIC:
                org = anthropic_client.validate_key(client, key)
                label = org.name or "Anthropic organisation"
            else:
                openai_client.validate_key(client, key)
                label = f"OpenAI ••••{key[-4:]}"
        except ConnectorError as e:
            raise _rejection(vendor, key, e) from None
    if is_sandbox:
        label = f"{label} (sandbox)"
    return ValidatedKey(key=key, label=label[:100])
