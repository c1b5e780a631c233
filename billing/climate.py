"""Stripe Climate (orders of durable carbon removal) and payment fees, through the one
``StripeClient`` that ``stripe_client`` builds. Plain dicts in and out; no ORM here.

Reference: https://docs.stripe.com/api/climate/order
"""

from . import stripe_client
from .stripe_client import _call, _plain


def product_retrieve(*, product_id: str) -> dict:
    """The product with its ``current_prices_per_metric_ton`` and suppliers."""
    # Reference: https://docs.stripe.com/api/climate/product/retrieve
    return _plain(_call(stripe_client.client().v1.climate.products.retrieve, product_id))


def order_create(
    *, product_id: str, metric_tons: str, metadata: dict, public_name: str, idempotency_key: str
) -> dict:
    """Buy ``metric_tons`` (a decimal string) of the product, paid from the Stripe balance."""
    # Reference: https://docs.stripe.com/api/climate/order/create
    return _plain(
        _call(
            stripe_client.client().v1.climate.orders.create,
            params={
                "product": product_id,
                "metric_tons": metric_tons,
                "metadata": metadata,
                "beneficiary": {"public_name": public_name},
            },
            options={"idempotency_key": idempotency_key},
        )
    )


def order_retrieve(*, order_id: str) -> dict:
    """The order as Stripe has it now (its webhooks may arrive out of order)."""
    # Reference: https://docs.stripe.com/api/climate/order/retrieve
    return _plain(_call(stripe_client.client().v1.climate.orders.retrieve, order_id))


def order_find(*, batch_public_id: str, pages: int = 5) -> dict | None:
    """Our order for a batch (``metadata[batch]``), if one exists: newest first, a few pages.

    Idempotency keys last a day; this is how a batch resumed later still never buys twice.
    """
    c = stripe_client.client()
    params: dict = {"limit": 100}
    for _ in range(pages):
        # Reference: https://docs.stripe.com/api/climate/order/list
        page = _plain(_call(c.v1.climate.orders.list, params=params))
        orders = page.get("data") or []
        for order in orders:
            if (order.get("metadata") or {}).get("batch") == batch_public_id:
                return order
        if not page.get("has_more") or not orders:
            return None
        params["starting_after"] = orders[-1]["id"]
    return None


def invoice_payment(*, invoice_id: str) -> dict:
    """What an invoice's payment cost in Stripe fees, and whether it was refunded or disputed.

    Returns ``{"payment_intent", "charge", "fee", "refunded", "disputed"}`` (fee in minor units).
    """
    c = stripe_client.client()
    # Reference: https://docs.stripe.com/api/invoice-payment/list
    page = _plain(
        _call(c.v1.invoice_payments.list, params={"invoice": invoice_id, "status": "paid"})
    )
    result = {"payment_intent": "", "charge": "", "fee": 0, "refunded": False, "disputed": False}
    for row in page.get("data") or []:
        payment = row.get("payment") or {}
        intent = payment.get("payment_intent")
        if not isinstance(intent, str) or not intent:
            continue  # paid out of band: no Stripe fee
        # Reference: https://docs.stripe.com/api/payment_intents/retrieve
        fetched = _plain(
            _call(
                c.v1.payment_intents.retrieve,
                intent,
                params={"expand": ["latest_charge.balance_transaction"]},
            )
        )
        charge = fetched.get("latest_charge") or {}
        balance = charge.get("balance_transaction") or {}
        result["payment_intent"] = intent
        result["charge"] = charge.get("id") or ""
        result["fee"] += int(balance.get("fee") or 0)
        result["refunded"] |= bool(charge.get("amount_refunded"))
        result["disputed"] |= bool(charge.get("disputed"))
    return result


def invoice_for_payment_intent(*, payment_intent_id: str) -> str:
    """The invoice a PaymentIntent paid ("" when none)."""
    # Reference: https://docs.stripe.com/api/invoice-payment/list
    page = _plain(
        _call(
            stripe_client.client().v1.invoice_payments.list,
            params={"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}},
        )
    )
    for row in page.get("data") or []:
        if isinstance(row.get("invoice"), str):
            return row["invoice"]
    return ""
