"""A service account's access token: a signed JWT-bearer assertion exchanged over the HTTP seam.

We only *sign* (RS256 with `cryptography`) and POST the assertion to GOOGLE_OAUTH_TOKEN_URL with
connectors.http, like every other vendor call; no credentials object ever refreshes itself (it
would post to the key file's `token_uri` with another HTTP stack).

Tokens are reused until REFRESH_MARGIN before they expire, from a small in-process cache keyed
by a fingerprint of the credential and the token URL: a sample's concurrent calls, and the next
samples within the hour, share one token exchange. The cache lives in memory only.

References: RFC 7523; https://developers.google.com/identity/protocols/oauth2/service-account
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable

import httpx
import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from connectors.errors import ConnectorError
from connectors.google.credentials import GoogleCredential
from connectors.http import MAX_ATTEMPTS, Sleep, post_json

SCOPE = "https://www.googleapis.com/auth/monitoring.read"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3600  # seconds: the most Google accepts between iat and exp
REFRESH_MARGIN = 225  # 3 min 45 s, as google-auth: a token this close to expiry is renewed
CACHE_SIZE = 256

Clock = Callable[[], float]


class TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int | str = TOKEN_LIFETIME  # google-auth accepts a string too
    token_type: str = "Bearer"  # noqa: S105 - the scheme, not a secret


_cache: dict[str, tuple[str, float]] = {}  # fingerprint -> (token, expires at, epoch seconds)
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(credential: GoogleCredential, audience: str, now: float) -> str:
    """The signed JWT (header kid = private_key_id; iss, scope, aud, iat, exp = iat + 1 h)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": credential.private_key_id}
    issued = int(now)
    claims = {
        "iss": credential.client_email,
        "scope": SCOPE,
        "aud": audience,
        "iat": issued,
        "exp": issued + TOKEN_LIFETIME,
    }
    compact = json.dumps
    signing_input = ".".join(
        _b64(compact(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = credential.signer.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def token_url(client: httpx.Client) -> str:
    """GOOGLE_OAUTH_TOKEN_URL; for a sandbox source, the same path on the sandbox."""
    configured = settings.GOOGLE_OAUTH_TOKEN_URL
    sandbox = settings.VENDOR_SANDBOX_URL
    if sandbox and str(client.base_url).rstrip("/") == sandbox.rstrip("/"):
        return str(client.base_url.join(httpx.URL(configured).path))
    return configured


def _fingerprint(credential: GoogleCredential, url: str) -> str:
    material = "\0".join(
        (url, credential.client_email, credential.private_key_id, credential.private_key)
    )
    return hashlib.sha256(material.encode()).hexdigest()


def forget(credential: GoogleCredential, client: httpx.Client) -> None:
    """Drop the cached token (Google answered 401 with it)."""
    with _guard:
        _cache.pop(_fingerprint(credential, token_url(client)), None)


def _lifetime(value: int | str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        raise ConnectorError("The token endpoint sent a bad expires_in", kind="malformed") from None
    return max(0, min(seconds, TOKEN_LIFETIME))


def _exchange(client, url, credential, now, max_attempts, sleep) -> TokenResponse:
    signed = assertion(credential, url, now)
    try:
        return post_json(
            client,
            url,
            form={"grant_type": GRANT_TYPE, "assertion": signed},
            headers={},
            secret=signed,
            schema=TokenResponse,
            max_attempts=max_attempts,
            sleep=sleep,
        )
    except ConnectorError as error:
        if error.status == 400 and "invalid_grant" in error.message:
            # A deleted or rotated key, a deleted account, or a clock far off: the credential
            # is refused, which is the owner's to fix (a permanent error).
            raise ConnectorError(
                f"Google refused the service account's key ({error.message})",
                kind="unauthorized",
                status=400,
            ) from None
        raise


def access_token(
    client: httpx.Client,
    credential: GoogleCredential,
    *,
    clock: Clock = time.time,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> str:
    """A bearer token for the Monitoring API, reused until it nears expiry."""
    url = token_url(client)
    fingerprint = _fingerprint(credential, url)
    with _guard:
        lock = _locks.setdefault(fingerprint, threading.Lock())
    with lock:  # concurrent calls of one sample wait for one exchange
        cached = _cache.get(fingerprint)
        now = clock()
        if cached is not None and cached[1] - REFRESH_MARGIN > now:
            return cached[0]
        answer = _exchange(client, url, credential, now, max_attempts, sleep)
        with _guard:
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
                _locks.clear()
            _cache[fingerprint] = (answer.access_token, now + _lifetime(answer.expires_in))
        return answer.access_token


def cache_clear() -> None:
    with _guard:
        _cache.clear()
        _locks.clear()
