"""The only place vendor keys are encrypted or decrypted.

AES-256-GCM with a random 96-bit nonce per write. The associated data binds each ciphertext to
its source's public id and the key id, so a ciphertext copied onto another row fails to decrypt.
``TOKENOFFSET_ENCRYPTION_KEYS="k2:<base64>,k1:<base64>"``: the first key encrypts, all decrypt.
Stored blob: ``<kid>.<nonce><ciphertext+tag>``.
"""

import base64
import binascii
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext does not belong to this row, or its key is gone."""


@cache
def _parse_keys(value: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    primary = ""
    for item in filter(None, (part.strip() for part in value.split(","))):
        kid, sep, encoded = item.partition(":")
        if not sep or not kid or "." in kid:
            raise ImproperlyConfigured(
                "TOKENOFFSET_ENCRYPTION_KEYS must look like 'kid:base64key,kid:base64key'."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ImproperlyConfigured(f"Encryption key {kid!r} is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"Encryption key {kid!r} must be 32 bytes (AES-256).")
        keys[kid] = key
        primary = primary or kid
    if not keys:
        raise ImproperlyConfigured("TOKENOFFSET_ENCRYPTION_KEYS is empty.")
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
