"""The public calculator and POST /api/v1/footprint: the methodology's worked check, every
refusal, no session needed, a per-client limit, and a page that may talk to Anthropic only."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from estimates.coefficients import coefficient_set_active
from tests.dashboard.test_api import assert_same_shape, load

URL = "/api/v1/footprint"
WORKED = load("footprint_request")


def post(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def test_it_reproduces_the_methodologys_worked_check(client, db):
    response = post(client, WORKED)

    assert response.status_code == 200
    body = response.json()
    expected = load("footprint_quote")
    assert_same_shape(body, expected)
    assert body.pop("coefficient_set") == coefficient_set_active().version
    expected.pop("coefficient_set")
    assert body == expected  # 100M frontier Anthropic tokens → $2.88


def test_it_needs_no_session_and_no_csrf_token(db):
    response = post(Client(enforce_csrf_checks=True), WORKED)
    assert response.status_code == 200 and "sessionid" not in response.cookies


def test_the_vendor_defaults_to_the_models_maker_and_can_be_given(client, db):
    tokens = {"output": 1_000_000}
    assert post(client, {"model": "gpt-5", "tokens": tokens}).json()["vendor"] == "openai"
    body = post(client, {"model": "gpt-5", "vendor": "google", "tokens": tokens}).json()
    assert body["vendor"] == "google" and body["model_class"] == "large"


def test_an_unknown_model_counts_as_large_and_says_so(client, db):
    body = post(client, {"model": "my-own-model", "tokens": {"output": 1000}}).json()
    assert (body["model_class"], body["classified"], body["vendor"]) == ("large", False, "unknown")


def test_the_price_is_before_the_plan_minimum(client, db):
    body = post(client, {"model": "claude-opus-4-6", "tokens": {"output": 1000}}).json()
    assert body["price_usd"] == "0.01"  # rounded up to the cent, no $1.99 floor


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ([1, 2], "Send {"),
        ({"model": "gpt-5"}, "Send {"),
        ({"model": 5, "tokens": {}}, "model and vendor must be strings"),
        ({"model": "", "tokens": {}}, "model id of 1 to 200"),
        ({"model": "x" * 201, "tokens": {}}, "model id of 1 to 200"),
        ({"model": "gpt\n5", "tokens": {}}, "printable"),
        ({"model": "gpt-5", "tokens": {"prompt": 5}}, "Unknown token type 'prompt'"),
        ({"model": "gpt-5", "tokens": {"output": -1}}, "output must be a whole number"),
        ({"model": "gpt-5", "tokens": {"output": 1.5}}, "output must be a whole number"),
        ({"model": "gpt-5", "tokens": {"output": True}}, "output must be a whole number"),
        ({"model": "gpt-5", "tokens": {"output": "100"}}, "output must be a whole number"),
        ({"model": "gpt-5", "tokens": {"output": 10**16}}, "output must be a whole number"),
        ({"model": "gpt-5", "vendor": "cursor", "tokens": {}}, "Unknown vendor 'cursor'"),
    ],
)
def test_bad_input_gets_a_400_with_a_message(client, db, body, message):
    response = post(client, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert_same_shape(response.json(), load("footprint_error"))


def test_a_get_is_405_and_a_huge_body_413(client, db):
    assert client.get(URL).status_code == 405
    assert post(client, "{" + " " * 5000 + "}").status_code == 413


def test_it_is_rate_limited_per_client(client, db, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    alice = {"HTTP_X_FORWARDED_FOR": "203.0.113.7", "REMOTE_ADDR": "10.0.0.1"}
    bob = {"HTTP_X_FORWARDED_FOR": "198.51.100.9", "REMOTE_ADDR": "10.0.0.1"}
    for _ in range(60):
        assert post(client, WORKED, **alice).status_code == 200
    limited = post(client, WORKED, **alice)
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert post(client, WORKED, **bob).status_code == 200


def test_the_page_computes_without_javascript(client, db):
    response = client.post(
        reverse("public:calculator"),
        {"model": "claude-opus-4-6", "output": "5,000,000", "uncached_input": "10000000",
         "cache_write": "0", "cache_read": "85000000"},
    )  # fmt: skip
    html = response.content.decode()
    assert '<span data-field="price_usd">$2.88</span>' in html
    assert 'value="5,000,000"' in html  # what was typed stays


def test_the_page_explains_a_bad_count(client, db):
    response = client.post(reverse("public:calculator"), {"model": "gpt-5", "output": "1.5"})
    assert "is not a whole number of tokens" in response.content.decode()


def test_only_the_calculator_may_connect_to_anthropic(client, db):
    page = client.get(reverse("public:calculator"))
    assert "connect-src 'self' https://api.anthropic.com" in page["Content-Security-Policy"]
    for other in ("/", reverse("public:methodology")):
        assert "api.anthropic.com" not in client.get(other)["Content-Security-Policy"]


def test_the_key_field_is_outside_the_form_and_has_no_name(client, db):
    html = client.get(reverse("public:calculator")).content.decode()
    form = html[html.index('<form method="post"') : html.index("</form>")]
    assert "anthropic-key" not in form
    assert 'id="anthropic-key" type="password"' in html
    key_input = html[html.index('id="anthropic-key"') - 10 : html.index('id="anthropic-key"') + 80]
    assert "name=" not in key_input
