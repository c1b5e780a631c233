"""The catalogue of sandbox keys: one place for the sandbox server, the tests and the README.

Key shape::

    sk-ant-admin01-sandbox-<behaviour>[.<param>...]-<nonce>     Anthropic admin key
    sk-admin-sandbox-<behaviour>[.<param>...]-<nonce>           OpenAI admin key
    sk-ant-api03-sandbox-standard[.<param>...]-<nonce>          Anthropic standard (non-admin) key
    sk-proj-sandbox-standard[.<param>...]-<nonce>               OpenAI project (non-admin) key

A param is one lowercase letter followed by a non-negative integer, e.g.
``sk-ant-admin01-sandbox-heavy.g60.c100.l150-a1b2c3``. The nonce (letters, digits, ``_``) only
scopes the stateful behaviours (call counters); the synthetic usage depends on the behaviour and
its data params, never on the nonce.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

ANTHROPIC = "anthropic"
OPENAI = "openai"
VENDORS = (ANTHROPIC, OPENAI)

ADMIN_PREFIX = {ANTHROPIC: "sk-ant-admin01-sandbox-", OPENAI: "sk-admin-sandbox-"}
STANDARD_PREFIX = {ANTHROPIC: "sk-ant-api03-sandbox-", OPENAI: "sk-proj-sandbox-"}

BEHAVIOURS: dict[str, str] = {
    "flat": "Constant daily usage: two models, every token type, constant daily costs.",
    "trend": "Steady linear growth: from zero 400 days ago to twice `flat` today.",
    "newco": "`flat` usage, but the first usage is 20 days ago; older buckets are empty.",
    "weekly": "`flat` on weekdays, a tenth of it on Saturdays and Sundays (UTC).",
    "spike": "`flat` usage with one 20x day, 7 days ago.",
    "standard": "A non-admin key (standard key prefix): 403 on the reports; "
    "Anthropic /v1/organizations/me still answers 200.",
    "revoked": "401 on every call, in the vendor's error format.",
    "ratelimited": "429 with `retry-after` on the first `n` calls (default 2), then `flat`.",
    "flaky": "Odd-numbered calls among the first 2n fail (default n=3: calls 1, 3, 5) with "
    "500/529 (Anthropic) or 500/503/502 (OpenAI), then `flat`.",
    "late401": "`flat` on the first page; 401 on every continuation page (a request with "
    "`page`) and, with `n`, on every report call after the n-th.",
    "malformed": "200 with a truncated, unparseable JSON body on the reports.",
    "slow": "`flat` with a fixed delay per request (page): 1500 ms unless `l` is given.",
    "hang": "Never answers within a sane timeout: holds each request `h` seconds (default 300).",
    "heavy": "Benchmark volume: `g` usage rows and `c` cost rows per day at the finest "
    "grouping (defaults 60 and 100).",
}

# name -> (description, behaviours that read it). Call counters count every call made with the
# key, on any endpoint.
PARAMS: dict[str, tuple[str, str]] = {
    "l": ("Latency added to every request, in milliseconds.", "every behaviour"),
    "g": ("Usage rows per day at the finest grouping.", "heavy"),
    "c": ("Cost rows per day at the finest grouping.", "heavy"),
    "n": (
        "ratelimited/flaky: calls that fail before normal service; late401: report calls "
        "that succeed before every later one gets 401.",
        "ratelimited, flaky, late401",
    ),
    "r": ("The `retry-after` value in seconds.", "ratelimited"),
    "h": ("How long a request is held, in seconds.", "hang"),
    "s": ("Status for the missing-permission error: 403 (default) or 401.", "standard"),
    "o": ("OpenAI only: `o1` sends the error object form instead of the bare string.", "standard"),
}

DEFAULTS: dict[str, dict[str, int]] = {
    "*": {"l": 0},
    "slow": {"l": 1500},
    "heavy": {"g": 60, "c": 100},
    "ratelimited": {"n": 2, "r": 1},
    "flaky": {"n": 3},
    "hang": {"h": 300},
    "standard": {"s": 403, "o": 0},
}

# Behaviours whose data is `flat`: they differ only in how the server answers.
FLAT_DATA = frozenset(
    {"flat", "standard", "revoked", "ratelimited", "flaky", "late401", "malformed", "slow", "hang"}
)

_PARAM_RE = re.compile(r"^([a-z])(\d{1,9})$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def make_key(
    vendor: str,
    behaviour: str,
    nonce: str | None = None,
    params: Mapping[str, int] | None = None,
) -> str:
    """Build a sandbox key; ``behaviour`` may already carry params (``"heavy.g60.l150"``)."""
    if vendor not in VENDORS:
        raise ValueError(f"unknown vendor {vendor!r}")
    token = behaviour + "".join(f".{name}{int(value)}" for name, value in (params or {}).items())
    nonce = nonce if nonce is not None else secrets.token_hex(4)
    prefixes = STANDARD_PREFIX if token.split(".")[0] == "standard" else ADMIN_PREFIX
    key = f"{prefixes[vendor]}{token}-{nonce}"
    if parse_key(key) is None:
        raise ValueError(f"not a valid sandbox key: behaviour={token!r} nonce={nonce!r}")
    return key


def parse_key(key: str) -> tuple[str, str, str, dict[str, int]] | None:
    """Return ``(vendor, behaviour, nonce, explicit params)``, or None for a non-sandbox key."""
    for vendor in VENDORS:
        for prefixes, standard in ((ADMIN_PREFIX, False), (STANDARD_PREFIX, True)):
            if key.startswith(prefixes[vendor]):
                parsed = _parse_rest(key[len(prefixes[vendor]) :])
                if parsed is None or (parsed[0] == "standard") != standard:
                    return None
                behaviour, nonce, params = parsed
                return vendor, behaviour, nonce, params
    return None


def _parse_rest(rest: str) -> tuple[str, str, dict[str, int]] | None:
    token, _, nonce = rest.rpartition("-")
    if not token or "-" in token or not _NONCE_RE.match(nonce):
        return None
    behaviour, *raw_params = token.split(".")
    if behaviour not in BEHAVIOURS:
        return None
    params: dict[str, int] = {}
    for raw in raw_params:
        match = _PARAM_RE.match(raw)
        if match is None or match[1] not in PARAMS or match[1] in params:
            return None
        params[match[1]] = int(match[2])
    return behaviour, nonce, params


def effective_params(behaviour: str, params: Mapping[str, int] | None = None) -> dict[str, int]:
    """The params a behaviour runs with: its defaults overlaid with the key's explicit params."""
    return {**DEFAULTS["*"], **DEFAULTS.get(behaviour, {}), **(params or {})}


def markdown_table() -> str:
    """The behaviours and params as Markdown tables, for the README."""
    lines = ["| Behaviour | What the sandbox does |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in BEHAVIOURS.items()]
    lines += ["", "| Param | Meaning | Read by |", "|---|---|---|"]
    lines += [f"| `{name}<int>` | {text} | {who} |" for name, (text, who) in PARAMS.items()]
    return "\n".join(lines)
