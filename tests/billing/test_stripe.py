"""Checkout, subscription price changes and the portal, asserted on Stripe's mocked HTTP."""

from urllib.parse import parse_qs

import httpx

from billing.models import OffsetChange, Subscription
from billing.services import offset_choose_band, offset_set_custom


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_subscribe_creates_one_customer_and_a_checkout_session(
    stripe_api, owner_client, account, owner
):
    change = offset_set_custom(account=account, user=owner, amount_cents=1234)
    customers = stripe_api.post("/v1/customers").respond(
        200, json={"id": "cus_new", "object": "customer"}
    )
    sessions = stripe_api.post("/v1/checkout/sessions").respond(
        200,
        json={"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/1"},
    )

    response = owner_client.post("/billing/subscribe/")

    assert response.status_code == 302 and response.url == "https://checkout.stripe.com/c/1"
    assert form(customers.calls.last.request)["metadata[account_id]"] == str(account.public_id)
    sent = form(sessions.calls.last.request)
    assert sent["mode"] == "subscription"
    assert sent["customer"] == "cus_new"
    assert sent["line_items[0][price_data][unit_amount]"] == "1234"
    assert sent["line_items[0][price_data][currency]"] == "usd"
    assert sent["line_items[0][price_data][recurring][interval]"] == "month"
    assert sent["line_items[0][price_data][product]"] == "prod_test"
    assert sent["line_items[0][quantity]"] == "1"
    assert sent["metadata[account_id]"] == str(account.public_id)
    assert sent["metadata[offset_change_id]"] == str(change.public_id)
    assert sent["subscription_data[metadata][account_id]"] == str(account.public_id)
    assert sent["success_url"] == "https://tokenoffset.test/billing/subscribe/success/"
    assert sent["cancel_url"] == "https://tokenoffset.test/billing/subscribe/cancelled/"
    assert Subscription.objects.get(account=account).stripe_customer_id == "cus_new"

    # A second attempt reuses the customer.
    owner_client.post("/billing/subscribe/")
    assert customers.call_count == 1 and sessions.call_count == 2


def test_subscribe_needs_an_offset_first(stripe_api, owner_client, account):
    response = owner_client.post("/billing/subscribe/")
    assert response.status_code == 302 and response.url == "/billing/"
    assert not stripe_api.calls


def test_without_stripe_keys_subscribe_says_payments_are_not_configured(owner_client, account):
    response = owner_client.post("/billing/subscribe/", follow=True)
    assert "Payments are not configured" in response.content.decode()


def test_adoption_with_a_subscription_sends_exactly_one_price_update(
    stripe_api, account, owner, subscribed
):
    update = stripe_api.post("/v1/subscriptions/sub_1").respond(
        200, json={"id": "sub_1", "object": "subscription", "status": "active"}
    )

    change = offset_choose_band(
        account=account, user=owner, band_slug="agentic", expected_price_cents=295
    )

    assert update.call_count == 1
    assert len(stripe_api.calls) == 1
    request = update.calls.last.request
    sent = form(request)
    assert sent["items[0][id]"] == "si_1"
    assert sent["items[0][price_data][unit_amount]"] == "295"
    assert sent["items[0][price_data][recurring][interval]"] == "month"
    assert sent["proration_behavior"] == "none"
    assert request.headers["Idempotency-Key"] == f"offset-change-{change.public_id}"
    change.refresh_from_db()
    assert change.stripe_synced_at is not None
    assert change.effective_from is not None


def test_a_stripe_failure_keeps_the_choice_and_schedules_a_retry(
    stripe_api, account, owner, subscribed, django_capture_on_commit_callbacks, monkeypatch
):
    stripe_api.post("/v1/subscriptions/sub_1").respond(500, json={"error": {"message": "boom"}})
    queued = []
    monkeypatch.setattr(
        "billing.tasks.subscription_price_sync_task.delay", lambda pk: queued.append(pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        change = offset_set_custom(account=account, user=owner, amount_cents=700)
    change.refresh_from_db()
    assert change.stripe_error and change.stripe_synced_at is None
    assert queued == [change.pk]
    assert OffsetChange.objects.filter(account=account).count() == 1


def test_manage_opens_the_customer_portal(stripe_api, owner_client, subscribed):
    portal = stripe_api.post("/v1/billing_portal/sessions").respond(
        200,
        json={
            "id": "bps_1",
            "object": "billing_portal.session",
            "url": "https://billing.stripe.com/p/1",
        },
    )
    response = owner_client.post("/billing/manage/")
    assert response.status_code == 302 and response.url == "https://billing.stripe.com/p/1"
    assert form(portal.calls.last.request)["customer"] == "cus_1"


def test_the_product_is_created_once_when_absent(stripe_api, stripe_settings):
    from billing import stripe_client

    stripe_settings.STRIPE_PRODUCT_ID = ""
    missing = {"error": {"type": "invalid_request_error", "message": "No such product"}}
    retrieve = stripe_api.get("/v1/products/tokenoffset_monthly_offset").respond(404, json=missing)
    create = stripe_api.post("/v1/products").respond(
        200, json={"id": "tokenoffset_monthly_offset", "object": "product"}
    )
    assert stripe_client.product_id() == "tokenoffset_monthly_offset"
    assert stripe_client.product_id() == "tokenoffset_monthly_offset"
    assert retrieve.call_count == 1 and create.call_count == 1
    assert form(create.calls.last.request)["id"] == "tokenoffset_monthly_offset"
