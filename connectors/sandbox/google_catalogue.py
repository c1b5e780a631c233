"""The Google flavour of the sandbox: behaviours, and the service accounts that carry them.

A sandbox service account's email names its behaviour, like a sandbox admin key does::

    sandbox-<behaviour>[.<param>...]-<nonce>@token-offset-sandbox.iam.gserviceaccount.com

Its key file is made by the sandbox itself (GET /google/service-account.json?behaviour=flat),
with an RSA key generated there and then: the sandbox keeps only the public half to check the
signature of every token request. No private key is ever committed.
"""

from __future__ import annotations

import re

from django.conf import settings

SANDBOX_DOMAIN = "token-offset-sandbox.iam.gserviceaccount.com"
KEY_FILE_PATH = "/google/service-account.json"
TOKEN_PATH = "/token"  # noqa: S105 - the path of GOOGLE_OAUTH_TOKEN_URL, on the sandbox
TOKEN_PREFIX = "ya29.sandbox_"  # noqa: S105 - the shape of the tokens it issues

BEHAVIOURS: dict[str, str] = {
    "flat": "Constant daily tokens in every project: Vertex AI (two Gemini models, input and "
    "output) and the Gemini API (output, and input on the paid tier; the other tiers' input "
    'metrics answer 404 "Cannot find metric(s)").',
    "trend": "Steady linear growth: from zero 400 days ago to twice `flat` today.",
    "revoked": 'The token endpoint answers 400 `invalid_grant` "Invalid JWT Signature." (a '
    "deleted key).",
    "nopermission": "403 PERMISSION_DENIED on timeSeries.list (no roles/monitoring.viewer).",
    "disabled": "403 PERMISSION_DENIED with reason SERVICE_DISABLED (Monitoring API disabled).",
    "unknownproject": "404 NOT_FOUND on timeSeries.list: no such project.",
    "ratelimited": "429 RESOURCE_EXHAUSTED with `retry-after` on the first `n` timeSeries calls "
    "(default 2), then `flat`.",
    "paging": "`flat`, one time series per page (every answer but the last has a nextPageToken).",
}
PARAMS: dict[str, str] = {
    "l": "Latency added to every request, in milliseconds.",
    "n": "ratelimited: calls refused before normal service.",
    "r": "ratelimited: the `retry-after` value in seconds.",
}
DEFAULTS = {"ratelimited": {"n": 2, "r": 1}}
_EMAIL = re.compile(
    r"^sandbox-(?P<token>[a-z]+(?:\.[a-z]\d{1,9})*)-(?P<nonce>[a-z0-9_]{1,32})@"
    + re.escape(SANDBOX_DOMAIN)
    + "$"
)


def email_for(behaviour: str, nonce: str) -> str:
    return f"sandbox-{behaviour}-{nonce}@{SANDBOX_DOMAIN}"


def parse_email(email: str) -> tuple[str, str, dict[str, int]] | None:
    """(behaviour, nonce, params) of a sandbox service account, or None."""
    match = _EMAIL.match(email or "")
    if match is None:
        return None
    behaviour, *raw = match["token"].split(".")
    if behaviour not in BEHAVIOURS:
        return None
    params = {item[0]: int(item[1:]) for item in raw}
    if any(name not in PARAMS for name in params):
        return None
    return behaviour, match["nonce"], {**DEFAULTS.get(behaviour, {}), **params}


def google_sandbox_context() -> dict:
    """For the connect page in local mode: links to download a sandbox key file per behaviour."""
    base = settings.VENDOR_SANDBOX_URL
    if not base:
        return {}
    files = [
        (name, text, f"{base.rstrip('/')}{KEY_FILE_PATH}?behaviour={name}")
        for name, text in BEHAVIOURS.items()
    ]
    return {"sandbox_key_files": files}


def markdown_table() -> str:
    lines = ["| Behaviour (Google) | What the sandbox does |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in BEHAVIOURS.items()]
    return "\n".join(lines)
