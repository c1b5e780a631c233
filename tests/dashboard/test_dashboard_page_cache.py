"""The dashboard's rendered page is cached per viewer: never another viewer's, never stale, and the
per-request parts (CSRF token, flash messages) stay per request."""

import re
from decimal import Decimal

from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from estimates.admin import coefficient_set_activate, coefficient_set_clone
from estimates.coefficients import coefficient_set_active
from estimates.models import Coefficient
from tests.dashboard.test_dashboard import make_projection, make_source
from tests.factories import MembershipFactory
from tokenoffset.accounts.models import Membership, Role
from tokenoffset.accounts.services import account_data_changed
from tokenoffset.dashboard.page import _release, csrf_placeholder, recent


def get(client):
    """The response, its text with runs of whitespace collapsed, and whether it was rendered."""
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    return response, " ".join(response.content.decode().split()), response.context is not None


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))


def test_it_serves_the_second_request_from_the_cached_page(owner_client, account):
    make_projection(make_source(account, label="Alice Org"))
    _, first, rendered = get(owner_client)
    assert rendered
    _, second, rendered = get(owner_client)
    assert not rendered and "Alice Org" in second
    recent.clear()  # another process of the site: the shared cache serves it
    _, third, rendered = get(owner_client)
    assert not rendered and "Alice Org" in third


def test_renaming_the_account_shows_the_new_name_at_once(owner_client, account):
    get(owner_client)
    response = owner_client.post(reverse("accounts:rename"), {"name": "Alice Research"})
    assert response.status_code == 302
    owner_client.get(reverse("accounts:settings"))  # shows (consumes) "Account renamed."
    _, html, rendered = get(owner_client)
    assert rendered and "Alice Research" in html and "Alice Labs" not in html


def test_activating_a_coefficient_set_prices_the_bands_anew_at_once(owner_client, account):
    _, before, _ = get(owner_client)
    successor = coefficient_set_clone(source=coefficient_set_active())
    Coefficient.objects.filter(coefficient_set=successor, name="price_per_tonne_usd").update(
        value=Decimal("6000")
    )
    coefficient_set_activate(coefficient_set=successor)
    _, after, rendered = get(owner_client)
    assert rendered
    price = lambda html: re.search(r'data-band="extreme".*?band-price">([^<]+)<', html).group(1)  # noqa: E731
    assert price(after) != price(before)


def test_an_owner_and_a_member_of_one_account_never_see_each_others_page(account, owner, member):
    make_projection(make_source(account, label="Alice Org"))
    owner_client, member_client = Client(), Client()
    owner_client.force_login(owner)
    member_client.force_login(member)
    for _ in range(2):  # rendered, then from the cache
        _, owner_html, _ = get(owner_client)
        _, member_html, _ = get(member_client)
        assert "Signed in as alice@example.org" in owner_html
        assert "charlie@example.org" not in owner_html and "read-only" not in owner_html
        assert "Signed in as charlie@example.org" in member_html
        assert "alice@example.org" not in member_html and "read-only" in member_html
        assert "Manage sources" in owner_html and "Manage sources" not in member_html


def test_another_accounts_user_never_gets_this_accounts_page(owner_client, account, other_owner):
    make_projection(make_source(account, label="Alice Secret Org"))
    get(owner_client)
    get(owner_client)
    other = Client()
    other.force_login(other_owner)
    for _ in range(2):
        _, html, _ = get(other)
        assert "Alice Secret Org" not in html and "Alice Labs" not in html
        assert "Bob Studio" in html


def test_a_member_removed_from_the_account_no_longer_gets_its_cached_page(account, member):
    make_projection(make_source(account, label="Alice Org"))
    client = Client()
    client.force_login(member)
    get(client)
    _, html, rendered = get(client)
    assert not rendered and "Alice Org" in html
    Membership.objects.filter(account=account, user=member).delete()
    _, html, _ = get(client)
    assert "Alice Org" not in html and "Alice Labs" not in html


def test_the_account_switcher_lists_a_new_account_at_once(owner_client, owner, other_account):
    _, html, _ = get(owner_client)
    assert "Switch to Bob Studio" not in html
    MembershipFactory(account=other_account, user=owner, role=Role.MEMBER)
    _, html, rendered = get(owner_client)
    assert rendered and "Switch to Bob Studio" in html


def test_the_csrf_token_in_a_cached_page_is_this_requests_own_and_logs_out(account, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    get(client)
    response, html, rendered = get(client)
    assert not rendered
    assert csrf_placeholder() not in html
    (token,) = csrf_tokens(html)  # the switcher's logout form
    assert "csrftoken" not in response.cookies  # the browser's cookie holds: not sent again
    assert client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert SESSION_KEY not in client.session


def test_a_fresh_session_gets_a_working_token_from_the_cached_page(account, owner):
    warm = Client()
    warm.force_login(owner)
    get(warm)  # the page is now cached
    fresh = Client(enforce_csrf_checks=True)  # another browser: no CSRF cookie yet
    fresh.force_login(owner)
    response, html, rendered = get(fresh)
    assert not rendered and response.cookies["csrftoken"].value  # its cookie is set
    (token,) = csrf_tokens(html)
    assert fresh.post(reverse("account_logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert SESSION_KEY not in fresh.session


def test_a_pending_flash_message_is_shown_exactly_once_while_the_page_is_cached(owner_client):
    get(owner_client)
    get(owner_client)  # cached
    owner_client.post(reverse("accounts:rename"), {"name": ""})  # an error message, no change
    _, html, _ = get(owner_client)
    assert "The name was not changed" in html
    _, html, rendered = get(owner_client)
    assert not rendered and "The name was not changed" not in html


def test_a_page_with_a_message_is_never_cached(owner_client):
    owner_client.post(reverse("accounts:rename"), {"name": ""})
    cache.clear()
    recent.clear()
    _, html, _ = get(owner_client)
    assert "The name was not changed" in html
    _, html, rendered = get(owner_client)
    assert rendered and "The name was not changed" not in html


def test_a_release_that_changes_a_template_starts_with_fresh_pages(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "home.html"
    template.write_text("<p>before</p>")
    before = _release()
    template.write_text("<p>after, longer</p>")
    assert _release() != before


def test_a_rendered_page_renews_the_csrf_cookie_and_a_cached_serve_leaves_it(owner_client, account):
    get(owner_client)  # rendered: the browser now holds its CSRF cookie
    secret = owner_client.cookies["csrftoken"].value
    response, _, rendered = get(owner_client)
    assert not rendered and "csrftoken" not in response.cookies
    account_data_changed(account_id=account.pk)  # a sample landed: the page is rendered again
    response, _, rendered = get(owner_client)
    assert rendered and response.cookies["csrftoken"].value == secret  # the same, a new year
    assert response.cookies["csrftoken"]["max-age"]
