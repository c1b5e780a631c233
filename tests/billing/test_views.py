from billing.models import Offset, OffsetChange
from billing.services import offset_choose_band, offset_set_custom
from tests.factories import ProjectionFactory, SubscriptionFactory

from .helpers import activate_copy


def test_the_billing_page_shows_the_band_picker_and_no_offset_yet(owner_client):
    response = owner_client.get("/billing/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No offset yet" in body and "suggested" in body
    for name, price in [("Casual", "$1.99"), ("Agentic", "$2.95"), ("Extreme", "$32.74")]:
        assert name in body and price in body
    assert "1 million to 20 million tokens a month" in body
    assert "Payments are not configured" in body


def test_choosing_a_band_goes_through_a_confirmation(owner_client, account, owner):
    offset_set_custom(account=account, user=owner, amount_cents=1000)
    response = owner_client.get("/billing/band/confirm/?band=agentic")
    body = response.content.decode()
    assert response.status_code == 200
    assert "$10.00 / month" in body and "$2.95 / month" in body
    assert "now — it becomes your monthly price when you subscribe" in body
    assert Offset.objects.get(account=account).price_cents == 1000  # nothing yet

    response = owner_client.post(
        "/billing/band/", {"band": "agentic", "expected_price_cents": "295"}
    )
    assert response.status_code == 302
    offset = Offset.objects.get(account=account)
    assert (offset.kind, offset.band_slug, offset.price_cents) == ("band", "agentic", 295)


def test_a_stale_confirmation_is_sent_back_to_confirm_again(owner_client, account):
    response = owner_client.post("/billing/band/", {"band": "agentic", "expected_price_cents": "1"})
    assert response.status_code == 302
    assert response.url == "/billing/band/confirm/?band=agentic"
    assert not Offset.objects.filter(account=account).exists()


def test_a_custom_amount_is_confirmed_then_set(owner_client, account):
    response = owner_client.get("/billing/custom/confirm/?amount_usd=12.34")
    assert response.status_code == 200 and "$12.34 / month" in response.content.decode()
    owner_client.post("/billing/custom/", {"amount_usd": "12.34"})
    assert Offset.objects.get(account=account).price_cents == 1234


def test_a_custom_amount_below_the_floor_is_explained(owner_client, account):
    response = owner_client.get("/billing/custom/confirm/?amount_usd=1.50")
    assert response.status_code == 400
    assert "Choose an amount from $1.99" in response.content.decode()
    response = owner_client.get("/billing/custom/confirm/?amount_usd=1.234")
    assert response.status_code == 400
    assert not Offset.objects.filter(account=account).exists()


def test_adopt_the_estimate_is_offered_and_confirmed(owner_client, account, owner):
    offset_choose_band(account=account, user=owner, band_slug="worker", expected_price_cents=199)
    ProjectionFactory(source__account=account, co2e_kg=10, water_l=50)
    assert "Adopt the estimate" in owner_client.get("/billing/").content.decode()
    body = owner_client.get("/billing/estimate/confirm/").content.decode()
    assert "$1.99 / month" in body and "$3.10 / month" in body
    owner_client.post("/billing/estimate/", {"expected_price_cents": "310"})
    assert Offset.objects.get(account=account).kind == "estimate"
    assert "Adopt the estimate" not in owner_client.get("/billing/").content.decode()


def test_a_repriced_band_is_offered(owner_client, account, owner):
    offset_choose_band(account=account, user=owner, band_slug="agentic", expected_price_cents=295)
    activate_copy(price_per_tonne="600", version="v2-test")
    body = owner_client.get("/billing/").content.decode()
    assert "Your band now prices at $5.76" in body
    assert "/billing/band/confirm/?band=agentic" in body
    assert Offset.objects.get(account=account).price_cents == 295


def test_a_member_sees_billing_but_cannot_change_anything(member_client, account, owner):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    response = member_client.get("/billing/")
    assert response.status_code == 200
    assert "/billing/band/confirm/" not in response.content.decode()
    attempts = [
        ("get", "/billing/band/confirm/?band=worker", {}),
        ("post", "/billing/band/", {"band": "worker", "expected_price_cents": "199"}),
        ("get", "/billing/custom/confirm/?amount_usd=9", {}),
        ("post", "/billing/custom/", {"amount_usd": "9.00"}),
        ("get", "/billing/estimate/confirm/", {}),
        ("post", "/billing/estimate/", {"expected_price_cents": "199"}),
        ("post", "/billing/subscribe/", {}),
        ("post", "/billing/manage/", {}),
    ]
    for method, url, data in attempts:
        assert getattr(member_client, method)(url, data).status_code == 403, url
    assert Offset.objects.get(account=account).price_cents == 500
    assert OffsetChange.objects.filter(account=account).count() == 1


def test_another_accounts_change_is_404(other_client, account, owner):
    change = offset_set_custom(account=account, user=owner, amount_cents=500)
    assert other_client.get(f"/billing/changes/{change.public_id}/").status_code == 404


def test_the_change_detail_shows_the_snapshot(owner_client, account, owner):
    change = offset_set_custom(account=account, user=owner, amount_cents=500)
    response = owner_client.get(f"/billing/changes/{change.public_id}/")
    assert response.status_code == 200 and "$5.00 / month" in response.content.decode()


def test_a_cancelled_subscription_keeps_the_offset_but_says_nothing_is_paid(
    owner_client, account, owner
):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    SubscriptionFactory(account=account, stripe_subscription_id="sub_1", status="canceled")
    body = owner_client.get("/billing/").content.decode()
    assert "nothing is being paid" in body and "$5.00" in body


def test_a_past_due_account_sees_the_banner_everywhere(owner_client, account):
    SubscriptionFactory(
        account=account, stripe_subscription_id="sub_1", status="active", past_due_invoice_id="in_1"
    )
    assert "Your last payment failed" in owner_client.get("/").content.decode()
    assert "Your last payment failed" in owner_client.get("/billing/").content.decode()


def test_without_a_past_due_payment_there_is_no_banner(owner_client):
    assert "Your last payment failed" not in owner_client.get("/billing/").content.decode()
