"""The sandbox's Google token endpoint and key files: it signs nothing, it only checks.

Each key file it hands out gets a fresh RSA key; the public half is kept (in memory, and in a
JSON file when the sandbox runs on its own) under the key id, to verify every JWT-bearer
assertion the way Google does: signature, issuer, audience, scope and a lifetime of ≤ 1 h.

Reference: https://developers.google.com/identity/protocols/oauth2/service-account
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from connectors.sandbox.google_catalogue import (
    SANDBOX_DOMAIN,
    TOKEN_PATH,
    TOKEN_PREFIX,
    email_for,
    parse_email,
)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPES = {
    "https://www.googleapis.com/auth/monitoring.read",
    "https://www.googleapis.com/auth/monitoring",
    "https://www.googleapis.com/auth/cloud-platform",
}
BAD_SIGNATURE = "Invalid JWT Signature."
BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
SKEW = 300


class KeyStore:
    """Public keys by key id, with the service account each belongs to."""

    def __init__(self, path: Path | None = None):
        self._lock = threading.Lock()
        self._path = path
        self._keys: dict[str, tuple[str, str]] = {}  # kid -> (client_email, public PEM)
        if path is not None and path.exists():
            self._keys = {k: tuple(v) for k, v in json.loads(path.read_text()).items()}

    def add(self, kid: str, email: str, public_pem: str) -> None:
        with self._lock:
            self._keys[kid] = (email, public_pem)
            if self._path is not None:
                self._path.write_text(json.dumps(self._keys))

    def get(self, kid: str) -> tuple[str, str] | None:
        with self._lock:
            return self._keys.get(kid)


def key_file(store: KeyStore, behaviour: str, project: str = "sandbox-demo") -> dict:
    """A service-account key file like Google's download, its key generated now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = secrets.token_hex(20)
    email = email_for(behaviour, secrets.token_hex(4))
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    store.add(kid, email, public.decode())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": kid,
        "private_key": private.decode(),
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "universe_domain": "googleapis.com",
    }


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _refused(description: str, error: str = "invalid_grant") -> tuple[int, dict]:
    return 400, {"error": error, "error_description": description}


def token(store: KeyStore, form: dict[str, list[str]], now: float | None = None):
    """POST /token: (status, body) as Google's token endpoint answers."""
    now = time.time() if now is None else now
    if form.get("grant_type") != [GRANT_TYPE]:
        return _refused("Invalid grant_type", "unsupported_grant_type")
    try:
        head, body, signature = form["assertion"][0].split(".")
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
    except (KeyError, IndexError, ValueError):
        return _refused("Invalid JWT: the assertion is not a JWT.")
    known = store.get(str(header.get("kid", "")))
    if header.get("alg") != "RS256" or known is None:
        return _refused(BAD_SIGNATURE)
    email, public_pem = known
    public = serialization.load_pem_public_key(public_pem.encode())
    try:
        public.verify(
            _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return _refused(BAD_SIGNATURE)
    if claims.get("iss") != email:
        return _refused("Invalid JWT: the issuer does not own this key.")
    if not str(claims.get("aud", "")).endswith(TOKEN_PATH):
        return _refused("Invalid JWT: the audience is not the token endpoint.")
    if not set(str(claims.get("scope", "")).split()) & SCOPES:
        return _refused("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        return _refused(BAD_TIMES)
    if exp - iat > 3600 or exp <= iat or abs(iat - now) > SKEW:
        return _refused(BAD_TIMES)
    parsed = parse_email(email)
    if parsed is None or parsed[0] == "revoked":
        return _refused(BAD_SIGNATURE)
    access = f"{TOKEN_PREFIX}{secrets.token_hex(8)}_{email.split('@')[0]}"
    return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}


def behaviour_of(authorization: str) -> tuple[str, str, dict[str, int]] | None:
    """The sandbox account behind a bearer token the sandbox issued, or None."""
    if not authorization.lower().startswith("bearer "):
        return None
    value = authorization[7:].strip()
    if not value.startswith(TOKEN_PREFIX):
        return None
    local = value[len(TOKEN_PREFIX) :].partition("_")[2]
    return parse_email(f"{local}@{SANDBOX_DOMAIN}")
