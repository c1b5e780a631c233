from decimal import Decimal

import pytest

from billing import selectors, services
from billing.models import Offset, OffsetChange
from tests.factories import EstimateSourceFactory, ProjectionFactory

from .helpers import activate_copy


def test_a_new_account_has_no_offset(account):
    assert selectors.offset_in_force(account=account) is None
    assert selectors.offset_json(account=account) is None


def test_the_band_picker_prices_bands_from_the_active_set_and_suggests_worker(db):
    offers = {o.band.slug: o for o in selectors.band_offers()}
    assert [o.price_usd for o in offers.values()] == [
        Decimal("1.99"),
        Decimal("1.99"),
        Decimal("2.95"),
        Decimal("32.74"),
    ]
    assert [s for s, o in offers.items() if o.suggested] == ["worker"]
    assert offers["casual"].range_words == "under 1 million tokens a month"
    assert offers["worker"].range_words == "1 million to 20 million tokens a month"
    assert offers["extreme"].range_words == "more than 500 million tokens a month"


def test_choosing_a_band_snapshots_it_and_records_the_change(account, owner):
    change = services.offset_choose_band(
        account=account, user=owner, band_slug="agentic", expected_price_cents=295
    )
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.band_slug, offset.price_cents) == ("band", "agentic", 295)
    assert offset.coefficient_set_version == "v2"
    assert offset.figures["volume"] == 150_000_000
    assert offset.chosen_by == owner
    assert (change.from_price_cents, change.to_price_cents, change.chosen_by) == (None, 295, owner)
    assert "Agentic" in change.reason
    assert selectors.offset_json(account=account) == {
        "kind": "band",
        "band": "agentic",
        "monthly_price_usd": "2.95",
        "adopted_at": offset.chosen_at.isoformat(),
    }


def test_a_band_at_a_price_the_owner_was_not_shown_is_refused(account, owner):
    with pytest.raises(services.PriceChanged):
        services.offset_choose_band(
            account=account, user=owner, band_slug="agentic", expected_price_cents=199
        )
    assert not Offset.objects.filter(account=account).exists()


@pytest.mark.parametrize("amount_cents", [198, 1_000_001, 0])
def test_a_custom_amount_outside_floor_and_ceiling_is_refused(account, owner, amount_cents):
    with pytest.raises(services.OffsetError):
        services.offset_set_custom(account=account, user=owner, amount_cents=amount_cents)
    assert not OffsetChange.objects.filter(account=account).exists()


def test_each_change_appends_from_and_to(account, owner):
    services.offset_choose_band(
        account=account, user=owner, band_slug="worker", expected_price_cents=199
    )
    services.offset_set_custom(account=account, user=owner, amount_cents=1_000_000)
    latest, first = OffsetChange.objects.filter(account=account)
    assert (first.from_price_cents, first.to_price_cents) == (None, 199)
    assert (latest.from_price_cents, latest.to_price_cents) == (199, 1_000_000)
    assert (latest.from_kind, latest.to_kind) == ("band", "custom")
    assert selectors.offset_json(account=account)["monthly_price_usd"] == "10000.00"


def test_choosing_what_is_already_in_force_changes_nothing(account, owner):
    services.offset_set_custom(account=account, user=owner, amount_cents=500)
    with pytest.raises(services.OffsetError):
        services.offset_set_custom(account=account, user=owner, amount_cents=500)
    assert OffsetChange.objects.filter(account=account).count() == 1


def test_adopting_the_estimate_snapshots_its_figures_and_links_the_projection(account, owner):
    projection = ProjectionFactory(source__account=account, co2e_kg=10, water_l=50)
    # 10 kg × $300/t + 50 L × $2/m³ = $3.00 + $0.10
    services.offset_adopt_estimate(account=account, user=owner, expected_price_cents=310)
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.price_cents, offset.projection) == ("estimate", 310, projection)
    assert offset.figures["co2e_kg"].startswith("10")
    assert offset.figures["monthly_tokens_total"] == 1500


def test_without_an_estimate_there_is_nothing_to_adopt(account, owner):
    with pytest.raises(services.OffsetError):
        services.offset_adopt_estimate(account=account, user=owner, expected_price_cents=199)


def test_removing_the_source_keeps_the_adopted_offset(account, owner):
    source = EstimateSourceFactory(account=account)
    ProjectionFactory(source=source, co2e_kg=10, water_l=50)
    services.offset_adopt_estimate(account=account, user=owner, expected_price_cents=310)
    source.delete()
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.price_cents, offset.projection) == ("estimate", 310, None)
    assert OffsetChange.objects.get(account=account).projection is None


def test_the_estimate_is_offered_only_when_it_differs_by_a_cent(account, owner):
    ProjectionFactory(source__account=account, co2e_kg=10, water_l=50)
    assert selectors.estimate_offer(account=account, offset=None).price_usd == Decimal("3.10")
    services.offset_set_custom(account=account, user=owner, amount_cents=310)
    offset = selectors.offset_in_force(account=account)
    assert selectors.estimate_offer(account=account, offset=offset) is None
    services.offset_set_custom(account=account, user=owner, amount_cents=309)
    offset = selectors.offset_in_force(account=account)
    assert selectors.estimate_offer(account=account, offset=offset) is not None


def test_a_new_coefficient_set_offers_the_repriced_band_but_the_snapshot_stays(account, owner):
    services.offset_choose_band(
        account=account, user=owner, band_slug="agentic", expected_price_cents=295
    )
    activate_copy(price_per_tonne="600", version="v2-test")
    offset = selectors.offset_in_force(account=account)
    assert offset.price_cents == 295
    repriced = selectors.band_repriced(offset=offset)
    assert repriced.band.slug == "agentic" and repriced.price_cents > 295
    services.offset_choose_band(
        account=account,
        user=owner,
        band_slug="agentic",
        expected_price_cents=repriced.price_cents,
    )
    offset = selectors.offset_in_force(account=account)
    assert offset.price_cents == repriced.price_cents
    assert offset.coefficient_set_version == "v2-test"
    assert selectors.band_repriced(offset=offset) is None


def test_the_coefficient_set_an_offset_refers_to_becomes_read_only(account, owner):
    services.offset_set_custom(account=account, user=owner, amount_cents=500)
    assert selectors.offset_in_force(account=account).coefficient_set.is_referenced
