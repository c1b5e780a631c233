"""Ingest tokens: shown once, stored as a SHA-256 digest, looked up by digest.

The token has 256 random bits, so a fast hash is enough (no password hashing); the lookup is by
digest through a unique index, which is a constant-time comparison in effect: the raw token is
never compared with anything. The prefix lets secret scanners (and our log redaction) find it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

PREFIX = "tkol_"  # Token Offset live


@dataclass(frozen=True)
class NewToken:
    raw: str = field(repr=False)  # shown once, never stored
    digest: str
    hint: str


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_new() -> NewToken:
    raw = PREFIX + secrets.token_urlsafe(32)
    return NewToken(raw=raw, digest=token_digest(raw), hint=raw[-4:])


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX) or len(value) > 100:
        return None
    return value


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
