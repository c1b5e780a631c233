"""The only place vendor keys are encrypted or decrypted.

AES-256-GCM with a random 96-bit nonce per write. The associated data binds each ciphertext to
its source's public id and the key id, so a ciphertext copied onto another row fails to decrypt.
``TOKENOFFSET_ENCRYPTION_KEYS="k2:<base64>,k1:<base64>"``: the first key encrypts, all decrypt.
Stored blob: ``<kid>.<nonce><ciphertext+tag>``.
"""

import base64
import binascii
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext does not belong to this row, or its key is gone."""


GENERATE_HINT = (
    "Generate a key with: python -c 'import base64, os; "
    "print(base64.b64encode(os.urandom(32)).decode())'"
)


@dataclass(frozen=True)
class KeyConfigProblem:
    """One thing wrong with TOKENOFFSET_ENCRYPTION_KEYS; never quotes key material."""

    code: str  # the system check id within ``connectors.``, e.g. "E001"
    message: str


def _entry_name(position: int, kid: str) -> str:
    # A long "key id" is likely a key pasted the wrong way round: name it by position only.
    if kid and len(kid) <= 32 and kid.isascii() and kid.isprintable():
        return f"entry {position} (key id {kid!r})"
    return f"entry {position}"


@sensitive_variables()  # error reports show none of this function's locals
def _read_keys(value: str) -> tuple[str, dict[str, bytes], list[KeyConfigProblem]]:
    """The primary key id, the keys, and what is wrong: ``kid:base64key,kid:base64key``."""
    keys: dict[str, bytes] = {}
    problems: list[KeyConfigProblem] = []
    seen: set[str] = set()
    entries = [part.strip() for part in value.split(",") if part.strip()]
    if not entries:
        problems.append(
            KeyConfigProblem("E006", "TOKENOFFSET_ENCRYPTION_KEYS is empty: give at least one key.")
        )
    for position, item in enumerate(entries, 1):
        kid, sep, encoded = (part.strip() for part in item.partition(":"))
        name = _entry_name(position, kid)
        if not sep:
            problems.append(
                KeyConfigProblem(
                    "E001",
                    f"TOKENOFFSET_ENCRYPTION_KEYS {name} has no key id: write each key as "
                    "'kid:base64key', separated by commas.",
                )
            )
            continue
        if not kid or "." in kid or not kid.isascii() or not kid.isprintable() or " " in kid:
            problems.append(
                KeyConfigProblem(
                    "E002",
                    f"TOKENOFFSET_ENCRYPTION_KEYS {name} needs a key id before the ':' "
                    "(letters, digits, '-' or '_'; no '.' or spaces).",
                )
            )
            continue
        if kid in seen:
            problems.append(
                KeyConfigProblem(
                    "E003",
                    f"TOKENOFFSET_ENCRYPTION_KEYS {name} repeats a key id used before; "
                    "each key needs its own id.",
                )
            )
            continue
        seen.add(kid)
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            problems.append(
                KeyConfigProblem("E004", f"TOKENOFFSET_ENCRYPTION_KEYS {name} is not valid base64.")
            )
            continue
        if len(key) != 32:
            problems.append(
                KeyConfigProblem(
                    "E005",
                    f"TOKENOFFSET_ENCRYPTION_KEYS {name} is {len(key)} bytes long; "
                    "AES-256 needs exactly 32 bytes.",
                )
            )
            continue
        keys[kid] = key
    return next(iter(keys), ""), keys, problems


def key_config_problems(value: str) -> list[KeyConfigProblem]:
    """What is wrong with a TOKENOFFSET_ENCRYPTION_KEYS value (the system check reports it)."""
    return _read_keys(value)[2]


@cache
@sensitive_variables()
def _parse_keys(value: str) -> tuple[str, dict[str, bytes]]:
    primary, keys, problems = _read_keys(value)
    if problems:
        raise ImproperlyConfigured(f"{problems[0].message} {GENERATE_HINT}")
    return primary, keys


def keys() -> tuple[str, dict[str, bytes]]:
    """The primary key id and every configured key."""
    return _parse_keys(settings.TOKENOFFSET_ENCRYPTION_KEYS)


def _aad(source_public_id, kid: str) -> bytes:
    return f"connectors.EstimateSource:{source_public_id}:api_key:{kid}".encode()


def encrypt(plaintext: str, *, source_public_id) -> bytes:
    """Encrypt a vendor key for the source with this public id, under the primary key."""
    kid, all_keys = keys()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(all_keys[kid]).encrypt(nonce, plaintext.encode(), _aad(source_public_id, kid))
    return kid.encode() + b"." + nonce + sealed


def key_id(blob: bytes) -> str:
    """The id of the key a blob was encrypted with."""
    return bytes(blob).split(b".", 1)[0].decode()


def decrypt(blob: bytes, *, source_public_id) -> str:
    """Decrypt a stored vendor key; fails if the blob belongs to another source."""
    blob = bytes(blob)
    kid_bytes, sep, rest = blob.partition(b".")
    kid = kid_bytes.decode(errors="replace")
    _, all_keys = keys()
    if not sep or kid not in all_keys or len(rest) <= NONCE_BYTES:
        raise DecryptionError(f"No usable encryption key {kid!r} for this source.")
    nonce, sealed = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
    try:
        return AESGCM(all_keys[kid]).decrypt(nonce, sealed, _aad(source_public_id, kid)).decode()
    except InvalidTag:
        raise DecryptionError("The stored key does not belong to this source.") from None
