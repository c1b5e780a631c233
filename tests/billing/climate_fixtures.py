"""Stripe Climate and payment shapes as Stripe documents them, and routes for them."""

import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs

from billing import ledger
from billing.models import OffsetObligation
from tests.stripe_fixtures import event, invoice, post_event

PRODUCT_ID = "climsku_frontier_offtake_portfolio_2027"
SUPPLIER = {
    "id": "climsup_charm_industrial",
    "object": "climate.supplier",
    "name": "Charm Industrial",
    "info_url": "https://frontierclimate.com/portfolio/charm-industrial",
    "removal_pathway": "biomass_carbon_removal_and_storage",
    "locations": [{"city": "San Francisco", "country": "US", "region": "CA"}],
    "livemode": False,
}


def product(*, total=56650, subtotal=55000, fees=1650) -> dict:
    # Reference: https://docs.stripe.com/api/climate/product/object
    return {
        "id": PRODUCT_ID,
        "object": "climate.product",
        "name": "Frontier's 2027 offtake portfolio",
        "delivery_year": 2027,
        "metric_tons_available": "18000",
        "current_prices_per_metric_ton": {
            "usd": {"amount_fees": fees, "amount_subtotal": subtotal, "amount_total": total}
        },
        "suppliers": [SUPPLIER],
        "created": 1700000000,
        "livemode": False,
    }


def order(*, order_id="climorder_1", metric_tons="0.01", status="confirmed", batch="", **extra):
    # Reference: https://docs.stripe.com/api/climate/order/object
    return {
        "id": order_id,
        "object": "climate.order",
        "product": PRODUCT_ID,
        "metric_tons": metric_tons,
        "amount_subtotal": 550,
        "amount_fees": 17,
        "amount_total": 567,
        "currency": "usd",
        "status": status,
        "expected_delivery_year": 2027,
        "beneficiary": {"public_name": "Token Offset customers"},
        "cancellation_reason": None,
        "certificate": None,
        "confirmed_at": 1700000100,
        "created": 1700000000,
        "delayed_at": None,
        "delivered_at": None,
        "canceled_at": None,
        "product_substituted_at": None,
        "delivery_details": [],
        "metadata": {"batch": batch, "period": "2026-11"},
        "livemode": False,
        **extra,
    }


def delivered(order_obj: dict) -> dict:
    return {
        **order_obj,
        "status": "delivered",
        "delivered_at": 1800000000,
        "certificate": "https://stripe.com/climate/certificates/climorder_1.pdf",
        "delivery_details": [
            {
                "delivered_at": 1800000000,
                "metric_tons": order_obj["metric_tons"],
                "registry_url": "https://registry.example/retirement/1",
                "location": {"country": "US", "city": "San Francisco"},
                "supplier": SUPPLIER,
            }
        ],
    }


def listing(url: str, data: list) -> dict:
    return {"object": "list", "url": url, "has_more": False, "data": data}


def payment_routes(stripe_api, *, invoice_id="in_1", intent="pi_1", fee=36, refunded=0):
    """The invoice's payment and its fee (balance transaction), as invoice_payment_lookup reads."""
    stripe_api.get("/v1/invoice_payments", params={"invoice": invoice_id}).respond(
        200,
        json=listing(
            "/v1/invoice_payments",
            [
                {
                    "id": f"inpay_{invoice_id}",
                    "object": "invoice_payment",
                    "invoice": invoice_id,
                    "status": "paid",
                    "amount_paid": 199,
                    "payment": {"type": "payment_intent", "payment_intent": intent},
                }
            ],
        ),
    )
    stripe_api.get(f"/v1/payment_intents/{intent}").respond(
        200,
        json={
            "id": intent,
            "object": "payment_intent",
            "latest_charge": {
                "id": f"ch_{intent}",
                "object": "charge",
                "amount_refunded": refunded,
                "disputed": False,
                "balance_transaction": {"id": "txn_1", "object": "balance_transaction", "fee": fee},
            },
        },
    )


def pay(client, stripe_api, *, invoice_id="in_1", amount=199, fee=36, paid_at=None, **kw):
    """A paid subscription invoice through the webhook; returns its obligation."""
    payment_routes(stripe_api, invoice_id=invoice_id, intent=f"pi_{invoice_id}", fee=fee)
    obj = {**invoice(invoice_id=invoice_id, **kw), "amount_paid": amount, "currency": "usd"}
    if paid_at is not None:
        obj["status_transitions"] = {"paid_at": int(paid_at.timestamp())}
    response = post_event(client, event("invoice.paid", obj))
    assert response.status_code == 200, response.content
    return OffsetObligation.objects.get(invoice_id=invoice_id)


def form(request) -> dict:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def obligation_direct(*, account, invoice_id, removal_cents, paid_at: datetime, water=0):
    """An obligation as invoice.paid would store it (for the ledger property)."""
    return OffsetObligation.objects.create(
        account=account,
        invoice_id=invoice_id,
        payment_intent_id=f"pi_{invoice_id}",
        period=f"{paid_at:%Y-%m}",
        paid_at=paid_at,
        amount_paid_cents=removal_cents + water,
        fee_cents=0,
        removal_cents=removal_cents,
        water_cents=water,
        product_id=PRODUCT_ID,
    )


__all__ = ["Decimal", "json", "ledger"]
