"""Test helpers: signed webhook payloads, Stripe-shaped objects, projections, coefficient sets."""

import hashlib
import hmac
import itertools
import json
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from connectors.models import EstimateSource
from estimates.coefficients import coefficient_set_active
from estimates.models import (
    Band,
    Coefficient,
    CoefficientSet,
    ModelClassRule,
    Projection,
    Sample,
    SampleStatus,
)

WEBHOOK_SECRET = "whsec_test_secret"
STRIPE_API = "https://api.stripe.com"
_ids = itertools.count(1)


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


def make_source(account, *, label="Acme org") -> EstimateSource:
    return EstimateSource.objects.create(
        account=account,
        vendor="anthropic",
        label=label,
        key_ciphertext=b"not-a-real-ciphertext",
        key_hint="abcd",
    )


def make_projection(
    source: EstimateSource,
    *,
    co2e_kg: Decimal | str = "10",
    water_l: Decimal | str = "50",
    trigger: str = "first",
    at=None,
) -> Projection:
    """A successful sample and its projection, as the sampling pipeline would store them."""
    at = at or timezone.now()
    sample = Sample.objects.create(
        account=source.account,
        source=source,
        trigger=trigger,
        status=SampleStatus.SUCCEEDED,
        started_at=at,
        finished_at=at,
        window_start=(at - timedelta(days=90)).date(),
        window_end=at.date(),
        created_at=at,
    )
    co2e, water = Decimal(co2e_kg), Decimal(water_l)
    return Projection.objects.create(
        account=source.account,
        source=source,
        sample=sample,
        coefficient_set=coefficient_set_active(),
        method_version="test",
        window_start=sample.window_start,
        window_end=sample.window_end,
        monthly_tokens={"uncached_input": 1000, "cache_read": 0, "cache_write": 0, "output": 500},
        monthly_tokens_low=1000,
        monthly_tokens_high=2000,
        it_kwh=co2e,
        kwh=co2e,
        co2e_kg=co2e,
        water_l=water,
        created_at=at,
    )


def activate_copy(*, price_per_tonne: str, version: str) -> CoefficientSet:
    """A new coefficient set: the active one with another $/tonne, activated."""
    active = coefficient_set_active()
    new = CoefficientSet.objects.create(version=version)
    Coefficient.objects.bulk_create(
        Coefficient(
            coefficient_set=new,
            group=c.group,
            vendor=c.vendor,
            name=c.name,
            value=Decimal(price_per_tonne) if c.name == "price_per_tonne_usd" else c.value,
            low=c.low,
            high=c.high,
            confidence=c.confidence,
            sources=c.sources,
        )
        for c in active.coefficients.all()
    )
    bands = list(active.bands.all())
    for band in bands:
        band.pk, band.coefficient_set = None, new
    Band.objects.bulk_create(bands)
    rules = list(active.model_class_rules.all())
    for rule in rules:
        rule.pk, rule.coefficient_set = None, new
    ModelClassRule.objects.bulk_create(rules)
    CoefficientSet.objects.filter(is_active=True).update(is_active=False)
    CoefficientSet.objects.filter(pk=new.pk).update(is_active=True, activated_at=timezone.now())
    new.refresh_from_db()
    return new


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
