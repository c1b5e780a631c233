"""Objects that hold a key never show it when printed, logged or listed in an error report."""

import secrets

from billing import stripe_client
from connectors.http import build_client
from connectors.keys import ValidatedKey, key_validate
from connectors.sandbox.catalogue import make_key


def test_a_validated_key_shows_its_label_but_never_the_key():
    key = "sk-ant-admin01-" + "CANARY" + secrets.token_hex(24)  # a fake key
    validated = ValidatedKey(key=key, label="Alice Labs")
    for text in (repr(validated), str(validated), f"{validated}", repr([validated])):
        assert key not in text
        assert "Alice Labs" in text
    assert validated.key == key  # still there for the one call that needs it


def test_the_validated_key_a_live_check_returns_does_not_show_the_key(settings, sandbox):
    key = make_key("openai", "flat", nonce=f"CANARY{secrets.token_hex(8)}")
    validated = key_validate("openai", key, is_sandbox=True)
    assert validated.key == key
    assert key not in repr(validated) and key not in str(validated)


def test_the_stripe_client_and_a_vendor_http_client_do_not_show_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_" + "test_" + "CANARY" + secrets.token_hex(12)
    client = stripe_client.client()
    shown = [repr(client), str(client), repr(client.v1), repr(vars(client).get("_requestor"))]
    assert not [text for text in shown if settings.STRIPE_SECRET_KEY in text]
    with build_client("https://api.anthropic.com") as http:
        assert "x-api-key" not in repr(http.headers).lower()
        assert "authorization" not in repr(http.headers).lower()
