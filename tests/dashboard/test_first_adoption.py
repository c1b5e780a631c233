"""From the first estimate to the first adoption: the dashboard and billing lead with the estimate,
the suggested band holds the estimated volume, and a band at the plan minimum says so."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.selectors import band_offers, band_suggested
from estimates.coefficients import (
    band_spec,
    bands_priced,
    coefficient_set_active,
    coefficient_values,
)
from estimates.footprint import band_footprint_cost, band_usage, footprint, raw_price
from tests.factories import ProjectionFactory


def estimate_of(account, monthly_tokens: int):
    split = {"uncached_input": monthly_tokens // 2, "cache_read": 0, "cache_write": 0}
    split["output"] = monthly_tokens - split["uncached_input"]
    return ProjectionFactory(source__account=account, monthly_tokens=split)


@pytest.mark.parametrize(
    ("monthly_tokens", "band"),
    [
        (None, "worker"),  # nothing known
        (0, "casual"),
        (999_999, "casual"),
        (1_000_000, "worker"),
        (19_999_999, "worker"),
        (20_000_000, "agentic"),
        (348_000_000, "agentic"),
        (499_999_999, "agentic"),
        (500_000_000, "extreme"),
        (80_000_000_000, "extreme"),
    ],
)
def test_the_suggested_band_is_the_one_whose_range_holds_the_estimate(db, monthly_tokens, band):
    bands = list(coefficient_set_active().bands.all())

    assert band_suggested(bands, monthly_tokens) == band
    offers = band_offers(monthly_tokens=monthly_tokens)
    assert [o.band.slug for o in offers if o.suggested] == [band]


def test_the_dashboard_leads_with_the_first_estimate_then_the_suggested_band(owner_client, account):
    estimate_of(account, 348_000_000)

    html = owner_client.get(reverse("dashboard:home")).content.decode()

    offset_card = html[
        html.index('id="offset-heading"') : html.index(
            "</section>", html.index('id="offset-heading"')
        )
    ]
    link = offset_card.index("Adopt your estimate — $")
    assert (
        f'href="{reverse("billing:estimate_confirm")}">' in offset_card[max(0, link - 200) : link]
    )
    assert link < offset_card.index('data-band="casual"')  # above the bands
    suggested = offset_card[offset_card.index("band-suggested") :]
    assert suggested.index('data-band="agentic"') < 40


def test_the_adopt_link_reads_the_estimates_price_exactly(owner_client, account):
    estimate_of(account, 348_000_000)
    from estimates.selectors import account_estimate

    price = account_estimate(account=account).price_usd

    html = owner_client.get(reverse("dashboard:home")).content.decode()

    assert f"Adopt your estimate — ${price:.2f} / month</a>" in html


def test_the_billing_page_leads_with_the_same_link(owner_client, account):
    estimate_of(account, 30_000_000)

    html = owner_client.get(reverse("billing:home")).content.decode()

    assert 'id="adopt-estimate"' in html and "Adopt your estimate — $" in html
    assert "<strong>Agentic</strong> holds your estimated" in html


def test_a_member_sees_the_estimate_but_no_adopt_link(member_client, account):
    estimate_of(account, 30_000_000)

    html = member_client.get(reverse("dashboard:home")).content.decode()

    assert "Adopt your estimate" not in html and "an owner can adopt it" in html


def test_without_an_estimate_the_dashboard_suggests_worker_and_offers_no_adoption(
    owner_client, account
):
    html = owner_client.get(reverse("dashboard:home")).content.decode()

    assert "Adopt your estimate" not in html
    suggested = html[html.index("band-suggested") :]
    assert suggested.index('data-band="worker"') < 40


def test_a_bands_footprint_cost_is_its_raw_price_rounded_up_to_the_cent(db):
    values = coefficient_values(coefficient_set_active())
    for priced in bands_priced(coefficient_set_active()):
        spec = band_spec(priced.band)
        raw = raw_price(footprint(band_usage(spec), values), values)
        assert priced.footprint_usd == band_footprint_cost(spec, values)
        assert priced.footprint_usd - raw < Decimal("0.01") and priced.footprint_usd >= raw
        assert priced.at_floor == (priced.footprint_usd < values.floor_usd)


@pytest.mark.parametrize("url_name", ["dashboard:home", "billing:home", "public:methodology"])
def test_bands_at_the_plan_minimum_say_what_their_footprint_costs(owner_client, url_name):
    html = owner_client.get(reverse(url_name)).content.decode()

    at_floor = [p for p in bands_priced(coefficient_set_active()) if p.at_floor]
    assert at_floor  # Casual and Worker under the published coefficients
    for priced in at_floor:
        assert (
            f"{priced.price_usd:.2f} / month — plan minimum; this band's footprint costs "
            f"${priced.footprint_usd:.2f}, the rest funds extra removal"
        ) in html.replace("<strong>", "").replace("</strong>", "")
    assert html.count("plan minimum; this band's footprint costs") == len(at_floor)


def test_a_refused_key_keeps_the_vendor_and_sandbox_choice_but_never_the_key(
    owner_client, settings, vendor_sandbox
):
    from connectors.sandbox.catalogue import make_key

    settings.VENDOR_SANDBOX_URL = vendor_sandbox
    key = make_key("openai", "revoked")
    response = owner_client.post(
        reverse("sources:add"), {"vendor": "openai", "api_key": key, "sandbox": "on"}
    )
    html = response.content.decode()
    assert 'role="alert"' in html
    assert re.search(r'<input[^>]*value="openai"[^>]*checked', html)
    assert re.search(r'<input[^>]*name="sandbox"[^>]*checked', html)
    assert key not in html
