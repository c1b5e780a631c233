"""The sandbox's Cursor Admin API: team members and usage events, with Cursor's shapes and rules.

Key shape (both documented prefixes)::

    key_sandbox-<behaviour>[.<param>...]-<nonce>
    crsr_sandbox-<behaviour>[.<param>...]-<nonce>

e.g. ``key_sandbox-paging-heavy.e2000.l150-a1b2c3``. A param is one lowercase letter and a
non-negative integer. Requests are checked as Cursor documents them: HTTP Basic auth with the
key as user name, dates as epoch-millisecond numbers (a string date gets the 500 Cursor was
observed to send), at most 30 days a request, at most 1000 events a page.

Reference: https://cursor.com/docs/account/teams/admin-api
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping

CURSOR = "cursor"
PATH_PREFIX = "/teams/"
PREFIXES = ("key_sandbox-", "crsr_sandbox-")
DAY_MS = 86_400_000
MAX_RANGE_MS = 30 * DAY_MS
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
HISTORY_DAYS = 400  # the sandbox team's first usage, in days before today

BEHAVIOURS: dict[str, str] = {
    "flat": "Constant daily usage: `e` events a day (default 24) over claude-4.5-sonnet, gpt-5, "
    "composer-1 and auto; every sixth event is not token-based (no tokenUsage).",
    "trend": "Steady linear growth: from zero 400 days ago to twice `flat` today.",
    "revoked": '401 {"error": "Unauthorized", "message": "Invalid API key"} on every call.',
    "not-enterprise": "403 with message `Enterprise access required` on every call.",
    "no-admin-scope": "403 with a message naming the missing admin:* scope on every call.",
    "ratelimited": "429 on the first `n` calls (default 2), with `retry-after: r` when `r` is "
    "given (Cursor documents none), then `flat`.",
    "paging-heavy": "`flat` with `e` events a day (default 2000): several 1000-event pages per "
    "day (the benchmark's team).",
}
PARAMS: dict[str, str] = {
    "e": "Events per day (flat, trend, ratelimited, paging-heavy).",
    "l": "Latency added to every request, in milliseconds.",
    "n": "ratelimited: calls answered 429 before normal service.",
    "r": "ratelimited: the retry-after value in seconds (no header unless given).",
}
DEFAULTS: dict[str, dict[str, int]] = {
    "*": {"e": 24, "l": 0},
    "paging-heavy": {"e": 2000},
    "ratelimited": {"n": 2},
}
MODELS = ("claude-4.5-sonnet", "gpt-5", "composer-1", "auto")
MEMBERS = (
    ("Dana", "dana@example.com", "owner", False),
    ("Lee", "lee@example.com", "member", False),
    ("Kim", "kim@example.com", "member", False),
    ("Sam", "sam@example.com", "member", True),
)
NOT_ENTERPRISE = "Enterprise access required"
NO_ADMIN_SCOPE = "API key is missing the required scope: admin:*"
HOSTING_TYPES = {"CLOUD", "SELF_HOSTED", "SELF_HOSTED_POOL", "SELF_HOSTED_MACHINE"}

_PARAM_RE = re.compile(r"^([a-z])(\d{1,9})$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")

Answer = tuple[int, object, dict[str, str], float]  # status, body, headers, delay (seconds)


def make_key(behaviour: str, nonce: str | None = None, params: Mapping[str, int] | None = None):
    """A sandbox Cursor key (``key_sandbox-…``)."""
    token = behaviour + "".join(f".{k}{int(v)}" for k, v in (params or {}).items())
    key = f"{PREFIXES[0]}{token}-{nonce if nonce is not None else secrets.token_hex(4)}"
    if parse_key(key) is None:
        raise ValueError(f"not a valid sandbox key: behaviour={token!r}")
    return key


def parse_key(key: str) -> tuple[str, str, dict[str, int]] | None:
    """``(behaviour, nonce, params)`` of a sandbox Cursor key, or None."""
    prefix = next((p for p in PREFIXES if key.startswith(p)), None)
    if prefix is None:
        return None
    token, _, nonce = key[len(prefix) :].rpartition("-")
    if not token or not _NONCE_RE.match(nonce):
        return None
    behaviour, *raw = token.split(".")
    if behaviour not in BEHAVIOURS:
        return None
    params: dict[str, int] = {}
    for item in raw:
        match = _PARAM_RE.match(item)
        if match is None or match[1] not in PARAMS or match[1] in params:
            return None
        params[match[1]] = int(match[2])
    return behaviour, nonce, params


def effective_params(behaviour: str, params: Mapping[str, int]) -> dict[str, int]:
    return {**DEFAULTS["*"], **DEFAULTS.get(behaviour, {}), **params}


def _error(status: int, title: str, message: str, headers=None) -> Answer:
    return status, {"error": title, "message": message}, headers or {}, 0.0


def _basic_user(authorization: str) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, _ = decoded.partition(":")
    return user if colon else None


def respond(
    method: str,
    path: str,
    authorization: str,
    body: bytes,
    count_call: Callable[[str], int],
    now_ms: int | None = None,
) -> Answer:
    """The whole answer to one request under /teams/."""
    key = _basic_user(authorization)
    parsed = parse_key(key) if key else None
    if parsed is None:
        return _error(401, "Unauthorized", "Invalid API key")
    behaviour, _, explicit = parsed
    params = effective_params(behaviour, explicit)
    answer = _answer(method, path, behaviour, params, body, count_call(key), now_ms)
    return (*answer[:3], params["l"] / 1000)


def _answer(method, path, behaviour, params, body, call, now_ms) -> Answer:
    if behaviour == "revoked":
        return _error(401, "Unauthorized", "Invalid API key")
    if behaviour == "not-enterprise":
        return _error(403, "Forbidden", NOT_ENTERPRISE)
    if behaviour == "no-admin-scope":
        return _error(403, "Forbidden", NO_ADMIN_SCOPE)
    if behaviour == "ratelimited" and call <= params["n"]:
        headers = {"retry-after": str(params["r"])} if "r" in params else {}
        message = "Rate limit exceeded. Please try again later."
        return _error(429, "Too Many Requests", message, headers)
    if path == "/teams/members" and method == "GET":
        return 200, {"teamMembers": _members()}, {}, 0.0
    if path == "/teams/filtered-usage-events" and method == "POST":
        return _events(behaviour, params, body, now_ms)
    return _error(404, "Not Found", "Resource not found")


def _members() -> list[dict]:
    return [
        {
            "id": "user_" + hashlib.blake2b(email.encode(), digest_size=12).hexdigest(),
            "name": name,
            "email": email,
            "role": role,
            "isRemoved": removed,
        }
        for name, email, role, removed in MEMBERS
    ]


def _events(behaviour: str, params: dict[str, int], raw: bytes, now_ms: int | None) -> Answer:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _error(400, "Bad Request", "Request body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "Bad Request", "Request body must be a JSON object")
    start, end = body.get("startDate", now_ms - 7 * DAY_MS), body.get("endDate", now_ms)
    if not all(type(v) is int for v in (start, end)):
        # Observed from the real API: string dates are a server error, not a 400.
        return _error(500, "Internal Server Error", "An unexpected error occurred")
    page, size = body.get("page", 1), body.get("pageSize", DEFAULT_PAGE_SIZE)
    if type(page) is not int or type(size) is not int or page < 1 or not 1 <= size <= 1000:
        return _error(400, "Bad Request", "page must be >= 1 and pageSize between 1 and 1000")
    if end < start:
        return _error(400, "Bad Request", "endDate must not be before startDate")
    if end - start >= MAX_RANGE_MS:
        return _error(400, "Bad Request", "Date range cannot exceed 30 days")
    hosting = body.get("hostingType")
    if hosting is not None and hosting not in HOSTING_TYPES:
        return _error(400, "Bad Request", f"Invalid hostingType: {str(hosting)[:40]}")
    events = [
        e
        for day in range(start // DAY_MS, end // DAY_MS + 1)
        for e in day_events(behaviour, params["e"], day, now_ms)
        if start <= int(e["timestamp"]) <= end
    ]
    events.sort(key=lambda e: int(e["timestamp"]), reverse=True)  # newest first
    pages = max(1, -(-len(events) // size))
    return (
        200,
        {
            "totalUsageEventsCount": len(events),
            "pagination": {
                "numPages": pages,
                "currentPage": page,
                "pageSize": size,
                "hasNextPage": page < pages,
                "hasPreviousPage": page > 1,
            },
            "usageEvents": events[(page - 1) * size : page * size],
            "period": {"startDate": start, "endDate": end},
        },
        {},
        0.0,
    )


def events_per_day(behaviour: str, per_day: int, day: int, today: int) -> int:
    """How many events the sandbox team made on `day` (days since the epoch)."""
    age = today - day
    if age < 0 or age >= HISTORY_DAYS:
        return 0
    if behaviour == "trend":
        return round(2 * per_day * (HISTORY_DAYS - age) / HISTORY_DAYS)
    return per_day


def _h(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def day_events(behaviour: str, per_day: int, day: int, now_ms: int) -> list[dict]:
    """The day's events, the same on every call (a function of the day, never of the nonce)."""
    count = events_per_day(behaviour, per_day, day, now_ms // DAY_MS)
    step = DAY_MS // max(count, 1)
    out = []
    for i in range(count):
        when = day * DAY_MS + i * step + _h(day, i) % step
        if when > now_ms:  # no event from the future
            break
        out.append(event(i, when, _h(day, i, "tokens")))
    return out


def event(i: int, when: int, seed: int) -> dict:
    """One usage event as documented; every sixth is not token-based."""
    model = MODELS[i % len(MODELS)]
    base = {
        "timestamp": str(when),
        "userEmail": MEMBERS[i % 3][1],
        "model": model,
        "kind": "Usage-based" if i % 2 else "Included in Business",
        "maxMode": i % 7 == 0,
        "requestsCosts": 1 + i % 2,
        "isChargeable": bool(i % 2),
        "isHeadless": i % 5 == 0,
        "conversationId": f"{seed:016x}",
    }
    if i % 6 == 5:
        return {**base, "isTokenBasedCall": False, "chargedCents": 4 if i % 2 else 0}
    tokens = {
        "inputTokens": 1000 + seed % 3000,
        "outputTokens": 300 + seed % 900,
        "cacheWriteTokens": 0 if i % 3 else 2000 + seed % 8000,
        "cacheReadTokens": 20_000 + seed % 60_000,
    }
    micro = (tokens["inputTokens"] * 3 + tokens["outputTokens"] * 15) // 10  # millionths of a cent
    total = micro * 1000 / 1_000_000  # cents with up to 6 decimals
    fee = 0.25 if model.startswith(("claude", "gpt")) else 0
    charged = round(total + fee, 6) if i % 2 else 0
    body = {**base, "isTokenBasedCall": True, "tokenUsage": {**tokens, "totalCents": total}}
    body["chargedCents"] = charged
    if fee:
        body["cursorTokenFee"] = fee
    return body


def markdown_table() -> str:
    """The Cursor behaviours and params as Markdown tables, for the README."""
    lines = ["| Behaviour (Cursor) | What the sandbox does |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in BEHAVIOURS.items()]
    lines += ["", "| Param | Meaning |", "|---|---|"]
    lines += [f"| `{name}<int>` | {text} |" for name, text in PARAMS.items()]
    return "\n".join(lines)
