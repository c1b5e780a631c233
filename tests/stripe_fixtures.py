"""Stripe in tests, defined once: settings, the mocked API, a live subscription, and signed
webhook payloads (the HMAC computed here, as Stripe computes it).

A pytest plugin (listed in the root conftest), so every test module gets the fixtures.
"""

import hashlib
import hmac
import itertools
import json
import time
from datetime import timedelta

import pytest
import respx
from django.utils import timezone

from billing import stripe_client
from tests.factories import SubscriptionFactory

WEBHOOK_SECRET = "whsec_test_secret"
STRIPE_API = "https://api.stripe.com"
_ids = itertools.count(1)


@pytest.fixture
def stripe_settings(settings):
    """Payments configured with test values; the product id cache starts empty."""
    settings.STRIPE_SECRET_KEY = "sk_test_not_a_real_key"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PRODUCT_ID = "prod_test"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.SITE_URL = "https://tokenoffset.test"
    stripe_client._product_id_cache.clear()
    return settings


@pytest.fixture
def stripe_api(stripe_settings):
    """Stripe's HTTP, mocked: any unmocked request fails the test."""
    with respx.mock(base_url=STRIPE_API, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def subscribed(account):
    """The account with a live subscription, as the webhooks would have left it."""
    return SubscriptionFactory(account=account, live=True)


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for ``payload``: HMAC-SHA256 of "{t}.{payload}"."""
    # Reference: https://docs.stripe.com/webhooks#verify-manually
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(type_: str, obj: dict, *, event_id: str | None = None, created: int | None = None):
    return {
        "id": event_id or f"evt_{next(_ids)}",
        "object": "event",
        "type": type_,
        "created": created or int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def post_event(client, evt: dict, *, secret: str = WEBHOOK_SECRET):
    payload = json.dumps(evt)
    return client.post(
        "/billing/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret=secret),
    )


def stripe_subscription(
    *,
    sub_id="sub_1",
    customer="cus_1",
    status="active",
    amount=199,
    item_id="si_1",
    period_end=None,
    cancel_at_period_end=False,
):
    period_end = period_end or int((timezone.now() + timedelta(days=20)).timestamp())
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "metadata": {},
        # Current API versions: the billing period lives on the item.
        "items": {
            "object": "list",
            "data": [
                {
                    "id": item_id,
                    "object": "subscription_item",
                    "current_period_start": period_end - 30 * 86400,
                    "current_period_end": period_end,
                    "price": {
                        "id": f"price_{amount}",
                        "object": "price",
                        "currency": "usd",
                        "unit_amount": amount,
                        "recurring": {"interval": "month"},
                    },
                    "quantity": 1,
                }
            ],
        },
    }


def checkout_session(
    *, session_id="cs_1", customer="cus_1", subscription="sub_1", **metadata
) -> dict:
    """A completed subscription Checkout Session; ``metadata`` as we send it (account_id, ...)."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "subscription",
        "customer": customer,
        "subscription": subscription,
        "metadata": metadata,
    }


def invoice(*, invoice_id="in_1", customer="cus_1", subscription="sub_1", amount_due=199):
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "amount_due": amount_due,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription, "metadata": {}},
        },
    }


def customer_closing_routes(stripe_api, *, status=200):
    """Stripe routes for closing customer cus_1: list its open checkouts, delete it."""
    sessions = stripe_api.get("/v1/checkout/sessions").respond(
        200, json={"object": "list", "data": [], "has_more": False, "url": "/v1/checkout/sessions"}
    )
    delete = stripe_api.delete("/v1/customers/cus_1").respond(
        status,
        json={"id": "cus_1", "object": "customer", "deleted": True}
        if status == 200
        else {"error": {"type": "api_error", "message": "Stripe is down"}},
    )
    return sessions, delete
