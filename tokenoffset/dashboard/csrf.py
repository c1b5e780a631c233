"""The CSRF token of a served page, as Django's ``get_token`` makes it, at a tenth of the cost.

Django masks the secret with 32 characters drawn by 32 calls of ``secrets.choice``: a tenth of
serving a cached dashboard. Here the mask is drawn from one ``secrets.token_bytes`` (bytes below
248 map uniformly onto the 62 allowed characters, the others are dropped) and the cipher is a
table lookup; the token is the same (mask + cipher), so Django's middleware reads it unchanged.
"""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token

_SIZE = len(CSRF_ALLOWED_CHARS)
_UNIFORM_BELOW = 256 - 256 % _SIZE
_CIPHER = {
    (secret_char, mask_char): CSRF_ALLOWED_CHARS[(i + j) % _SIZE]
    for i, secret_char in enumerate(CSRF_ALLOWED_CHARS)
    for j, mask_char in enumerate(CSRF_ALLOWED_CHARS)
}


def _mask() -> str:
    chars = ""
    while len(chars) < CSRF_SECRET_LENGTH:
        draw = secrets.token_bytes(CSRF_SECRET_LENGTH + 8)
        chars += "".join(CSRF_ALLOWED_CHARS[b % _SIZE] for b in draw if b < _UNIFORM_BELOW)
    return chars[:CSRF_SECRET_LENGTH]


def csrf_token(request, *, renew: bool = True) -> str:
    """A fresh token for the request's CSRF secret; ``renew`` sends the cookie again (a new
    expiry), as ``get_token`` always does. A request without the cookie gets one either way."""
    secret = request.META.get("CSRF_COOKIE")  # the secret the CSRF middleware read
    if secret is None or len(secret) != CSRF_SECRET_LENGTH:
        return get_token(request)  # a new secret, made and stored Django's way
    if renew:
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _mask()
    return mask + "".join(map(_CIPHER.__getitem__, zip(secret, mask, strict=True)))
