"""The CSRF token of a served dashboard: Django's format, a fresh uniform mask every time."""

from collections import Counter

from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from tokenoffset.dashboard.csrf import csrf_token

SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"


def request_with_cookie(secret=SECRET):
    request = RequestFactory().get("/")
    if secret is not None:
        request.META["CSRF_COOKIE"] = secret
    return request


def test_the_token_unmasks_to_the_cookies_secret_and_renews_the_cookie():
    request = request_with_cookie()
    token = csrf_token(request)
    assert len(token) == 2 * CSRF_SECRET_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == SECRET
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_a_token_without_renewal_leaves_the_cookie_as_it_is():
    request = request_with_cookie()
    assert _unmask_cipher_token(csrf_token(request, renew=False)) == SECRET
    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META


def test_every_token_has_its_own_mask():
    tokens = {csrf_token(request_with_cookie()) for _ in range(200)}
    assert len(tokens) == 200
    assert {_unmask_cipher_token(token) for token in tokens} == {SECRET}


def test_the_mask_is_uniform_over_the_allowed_characters():
    counts = Counter()
    for _ in range(2000):
        counts.update(csrf_token(request_with_cookie())[:CSRF_SECRET_LENGTH])
    expected = 2000 * CSRF_SECRET_LENGTH / len(CSRF_ALLOWED_CHARS)
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in CSRF_ALLOWED_CHARS)
    # 61 degrees of freedom: above 110 happens by chance less than once in 10,000. A modulo bias
    # (every byte taken % 62) puts it near 270.
    assert chi_square < 110


def test_without_a_cookie_django_makes_the_secret():
    request = request_with_cookie(None)
    token = csrf_token(request)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
