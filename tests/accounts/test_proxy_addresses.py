"""Behind a proxy: every per-client limit counts the real client, never the proxy."""

import pytest
import respx
from django.test import Client, RequestFactory
from django.urls import reverse

from conftest import PASSWORD
from connectors.models import EstimateSource
from connectors.services import VALIDATION_ATTEMPTS, VALIDATION_ATTEMPTS_PER_CLIENT
from tests.dashboard.test_sources import ADMIN_KEY, ANTHROPIC
from tests.factories import AccountFactory, account_owned_by, owner_of
from tokenoffset.accounts.client_address import client_address, client_bucket

PROXY = "10.0.0.2"
ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.5"


@pytest.fixture
def behind_one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def via_proxy(client_ip: str, spoofed: str = "") -> dict:
    """What our proxy sends on: it appends the address it saw to any header it received."""
    forwarded = f"{spoofed}, {client_ip}" if spoofed else client_ip
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def request_with(**meta):
    return RequestFactory().get("/", **meta)


def test_it_takes_the_right_most_untrusted_forwarded_entry(behind_one_proxy):
    request = request_with(**via_proxy(ATTACKER, spoofed="1.2.3.4, 5.6.7.8"))
    assert client_address(request) == ATTACKER


def test_it_counts_the_trusted_proxies_from_the_right(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    request = request_with(
        REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.66, 10.0.0.1"
    )
    assert client_address(request) == ATTACKER


def test_it_ignores_forwarded_for_without_trusted_proxies(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_address(request_with(**via_proxy(ATTACKER))) == PROXY


def test_it_falls_back_to_the_peer_address_when_the_header_is_missing_or_garbage(
    behind_one_proxy,
):
    assert client_address(request_with(REMOTE_ADDR=PROXY)) == PROXY
    assert client_address(request_with(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="nonsense")) == PROXY


def test_it_buckets_ipv6_clients_by_their_64_like_allauth(behind_one_proxy):
    request = request_with(**via_proxy("2001:db8:1:2:aaaa::1"))
    assert client_bucket(request) == "2001:db8:1:2::"


def test_it_hands_allauth_the_same_client_address(behind_one_proxy):
    from allauth.account.adapter import get_adapter

    request = request_with(**via_proxy(ATTACKER, spoofed="1.2.3.4"))
    assert get_adapter().get_client_ip(request) == client_address(request) == ATTACKER


def login(client, email, password, **meta):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **meta)


def test_it_does_not_let_one_attacker_behind_the_proxy_lock_out_another_user(
    behind_one_proxy, owner
):
    attacker = Client()
    for n in range(6):
        login(attacker, f"nobody{n}@example.org", "guess", **via_proxy(ATTACKER))
    victim = Client()
    response = login(victim, owner.email, PASSWORD, **via_proxy(VICTIM))
    assert response.status_code == 302
    assert victim.session["_auth_user_id"] == str(owner.pk)


def test_it_still_limits_an_attacker_who_spoofs_forwarded_entries(behind_one_proxy, owner):
    attacker = Client()
    for n in range(5):
        login(attacker, f"nobody{n}@example.org", "guess", **via_proxy(ATTACKER, f"10.9.9.{n}"))
    response = login(attacker, owner.email, PASSWORD, **via_proxy(ATTACKER, "10.9.9.99"))
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in attacker.session


def signup(client, email, **meta):
    data = {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("account_signup"), data, **meta)


def test_it_limits_sign_ups_per_client_not_for_the_whole_site(behind_one_proxy, settings, db):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    for n in range(2):
        assert signup(Client(), f"bulk{n}@example.org", **via_proxy(ATTACKER)).status_code == 302
    assert (
        signup(Client(), "bulk3@example.org", **via_proxy(ATTACKER, "1.1.1.1")).status_code == 429
    )
    assert signup(Client(), "real@example.org", **via_proxy(VICTIM)).status_code == 302


@pytest.fixture
def vendor():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


def rejecting(vendor):
    return vendor.get(f"{ANTHROPIC}/v1/organizations/me").respond(
        401, json={"type": "error", "error": {"type": "authentication_error", "message": "x"}}
    )


def add_key(client, **meta):
    data = {"vendor": "anthropic", "api_key": ADMIN_KEY}
    return client.post(reverse("sources:add"), data, **meta)


def fresh_owner_client(n: int) -> Client:
    user = owner_of(AccountFactory(name=f"Throwaway {n}"), email=f"throwaway{n}@example.org")
    client = Client()
    client.force_login(user)
    return client


def test_it_limits_key_checks_per_client_address_across_free_accounts(behind_one_proxy, vendor, db):
    route = rejecting(vendor)
    for n in range(VALIDATION_ATTEMPTS_PER_CLIENT):
        # A new free account every few tries, and a spoofed header every time.
        client = fresh_owner_client(n)
        add_key(client, **via_proxy(ATTACKER, f"10.8.8.{n}"))
    response = add_key(fresh_owner_client(99), **via_proxy(ATTACKER, "10.8.8.200"))
    assert "Too many key checks for your network" in response.content.decode()
    assert route.call_count == VALIDATION_ATTEMPTS_PER_CLIENT
    # Someone else behind the same proxy is not affected.
    response = add_key(fresh_owner_client(100), **via_proxy(VICTIM))
    assert "Too many key checks" not in response.content.decode()
    assert route.call_count == VALIDATION_ATTEMPTS_PER_CLIENT + 1


def test_it_limits_key_checks_per_user_across_their_accounts(
    behind_one_proxy, vendor, owner_client, owner
):
    route = rejecting(vendor)
    for n in range(VALIDATION_ATTEMPTS):
        account = account_owned_by(owner, name=f"Spare {n}")
        owner_client.post(reverse("accounts:switch", args=[account.public_id]))
        add_key(owner_client, **via_proxy(f"192.0.2.{n}"))
    spare = account_owned_by(owner, name="Spare last")
    owner_client.post(reverse("accounts:switch", args=[spare.public_id]))
    response = add_key(owner_client, **via_proxy("192.0.2.250"))
    assert "Too many key checks for your login" in response.content.decode()
    assert route.call_count == VALIDATION_ATTEMPTS
    assert not EstimateSource.objects.exists()
