"""The front page a visitor sees at /: what we do, the bands with prices, the sources, a sample."""

import re

from django.urls import reverse
from django.utils.html import escape

from connectors import registry
from estimates.coefficients import bands_priced, coefficient_set_active


def front(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_visitor_reads_what_we_do_in_two_sentences(client, db):
    html = front(client)
    lede = re.search(r'<p class="front-lede">(.*?)</p>', html, re.S).group(1)
    assert len(re.findall(r"[.!?](\s|$)", lede.strip())) == 2
    assert "footprint" in lede and "carbon removal" in lede


def test_the_four_bands_are_listed_with_their_prices(client, db):
    html = front(client)
    for priced in bands_priced(coefficient_set_active()):
        block = re.search(rf'data-band="{priced.band.slug}".*?</li>', html, re.S).group(0)
        assert f"${priced.price_usd:.2f}</strong> / month" in block


def test_every_registered_source_is_named_with_what_it_sees(client, db):
    html = front(client)
    for connector in registry.CONNECTORS.values():
        assert f'data-connector="{connector.id}"' in html
        assert escape(connector.sees) in html


def test_a_sample_of_the_dashboard_shows_a_bands_footprint(client, db):
    html = front(client)
    example = re.search(r'id="example".*?</section>', html, re.S).group(0)
    assert "Example" in example and "kWh" in example and "CO₂e" in example and " L<" in example


def test_it_links_the_public_pages_and_sign_up_and_log_in(client, db):
    html = front(client)
    for name in ("public:methodology", "public:sources", "public:privacy"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("account_signup")}"' in html
    assert f'href="{reverse("account_login")}"' in html


def test_it_loads_nothing_from_another_site(client, db):
    html = front(client)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_it_is_a_handful_of_queries(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        front(client)


def test_a_signed_in_user_gets_the_dashboard_at_the_same_address(owner_client):
    html = owner_client.get("/").content.decode()
    assert 'id="example"' not in html and 'id="offset-heading"' in html
