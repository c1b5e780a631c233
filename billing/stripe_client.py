"""The only module that imports ``stripe``: one ``StripeClient`` built from settings.

HTTP goes through stripe's own ``HTTPXClient`` (sync methods enabled), so tests mock Stripe's
HTTP with respx. Functions take and return plain values and dicts; no ORM here.
"""

import json
from dataclasses import dataclass

import stripe
from django.conf import settings

# Custom product ids are allowed, so "create once when absent" needs no stored state.
# Reference: https://docs.stripe.com/api/products/create#create_product-id
DEFAULT_PRODUCT_ID = "tokenoffset_monthly_offset"
_product_id_cache: dict[str, str] = {}
# Refuse signatures older than this (replayed captures); the SDK's own default is 300 s.
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentsNotConfigured(Exception):
    """STRIPE_SECRET_KEY is empty: everything but payment works."""


class PaymentsError(Exception):
    """Stripe refused the request or could not be reached (``http_status`` None: no answer)."""

    def __init__(self, message: str = "", *, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class BadSignature(Exception):
    """A webhook body whose Stripe-Signature does not verify."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: int | None = None  # Unix time; Stripe's default is 24 hours after creation


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not is_configured():
        raise PaymentsNotConfigured("Payments are not configured (STRIPE_SECRET_KEY is empty).")
    base = {"api": settings.STRIPE_API_BASE_URL} if settings.STRIPE_API_BASE_URL else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=stripe.HTTPXClient(timeout=20, allow_sync_methods=True),
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        base_addresses=base,
    )


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as e:
        message = getattr(e, "user_message", None) or str(e) or type(e).__name__
        raise PaymentsError(message[:300], http_status=getattr(e, "http_status", None)) from e


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def product_id() -> str:
    """STRIPE_PRODUCT_ID, or our fixed-id product, created the first time it is missing."""
    if settings.STRIPE_PRODUCT_ID:
        return settings.STRIPE_PRODUCT_ID
    if DEFAULT_PRODUCT_ID in _product_id_cache:
        return _product_id_cache[DEFAULT_PRODUCT_ID]
    c = client()
    try:
        # Reference: https://docs.stripe.com/api/products/retrieve
        c.v1.products.retrieve(DEFAULT_PRODUCT_ID)
    except stripe.InvalidRequestError as e:
        if e.http_status != 404:
            raise PaymentsError(str(e)[:300]) from e
        # Reference: https://docs.stripe.com/api/products/create
        _call(
            c.v1.products.create,
            params={"id": DEFAULT_PRODUCT_ID, "name": "Token Offset monthly offset"},
            options={"idempotency_key": f"product-{DEFAULT_PRODUCT_ID}"},
        )
    except stripe.StripeError as e:
        raise PaymentsError(str(e)[:300]) from e
    _product_id_cache[DEFAULT_PRODUCT_ID] = DEFAULT_PRODUCT_ID
    return DEFAULT_PRODUCT_ID


def _price_data(amount_cents: int) -> dict:
    return {
        "currency": "usd",
        "product": product_id(),
        "unit_amount": amount_cents,
        "recurring": {"interval": "month"},
    }


def customer_create(*, account_public_id: str, name: str, email: str) -> str:
    """A Stripe customer for one account; returns its id."""
    # Reference: https://docs.stripe.com/api/customers/create
    customer = _call(
        client().v1.customers.create,
        params={"name": name, "email": email, "metadata": {"account_id": account_public_id}},
        options={"idempotency_key": f"customer-{account_public_id}"},
    )
    return customer.id


def checkout_session_create(
    *,
    customer_id: str,
    amount_cents: int,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> CheckoutSession:
    """A Checkout Session in subscription mode for one monthly inline price."""
    # Reference: https://docs.stripe.com/api/checkout/sessions/create
    session = _call(
        client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": metadata["account_id"],
            "line_items": [{"price_data": _price_data(amount_cents), "quantity": 1}],
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options={"idempotency_key": idempotency_key},
    )
    return CheckoutSession(
        id=session.id, url=session.url, expires_at=getattr(session, "expires_at", None)
    )


def checkout_sessions_open(*, customer_id: str) -> list[str]:
    """The ids of the customer's Checkout Sessions that can still be completed."""
    # Reference: https://docs.stripe.com/api/checkout/sessions/list
    page = _call(
        client().v1.checkout.sessions.list,
        params={"customer": customer_id, "status": "open", "limit": 100},
    )
    try:
        return [session.id for session in page.auto_paging_iter()]
    except stripe.StripeError as e:
        raise PaymentsError(str(e)[:300], http_status=getattr(e, "http_status", None)) from e


def checkout_session_expire(*, session_id: str) -> None:
    """Expire an open Checkout Session: nobody can complete it any more."""
    # Reference: https://docs.stripe.com/api/checkout/sessions/expire
    _call(
        client().v1.checkout.sessions.expire,
        session_id,
        options={"idempotency_key": f"expire-{session_id}"},
    )


def customer_delete(*, customer_id: str) -> None:
    """Delete the customer; Stripe cancels its subscriptions at once."""
    # Reference: https://docs.stripe.com/api/customers/delete
    _call(client().v1.customers.delete, customer_id)


def subscription_retrieve(*, subscription_id: str) -> dict:
    """The subscription as Stripe has it now (webhooks may arrive out of order)."""
    # Reference: https://docs.stripe.com/api/subscriptions/retrieve
    return _plain(_call(client().v1.subscriptions.retrieve, subscription_id))


def subscription_price_set(
    *,
    subscription_id: str,
    item_id: str,
    amount_cents: int,
    metadata: dict[str, str],
    idempotency_key: str,
) -> dict:
    """Give the item a new monthly price from the next period: no proration."""
    # Reference: https://docs.stripe.com/billing/subscriptions/change-price
    subscription = _call(
        client().v1.subscriptions.update,
        subscription_id,
        params={
            "items": [{"id": item_id, "price_data": _price_data(amount_cents)}],
            "proration_behavior": "none",
            "metadata": metadata,
        },
        options={"idempotency_key": idempotency_key},
    )
    return _plain(subscription)


def subscription_cancel(*, subscription_id: str, idempotency_key: str) -> dict:
    """Cancel the subscription now (not at period end): no further invoices, no proration."""
    # Reference: https://docs.stripe.com/api/subscriptions/cancel
    subscription = _call(
        client().v1.subscriptions.cancel,
        subscription_id,
        params={"invoice_now": False, "prorate": False},
        options={"idempotency_key": idempotency_key},
    )
    return _plain(subscription)


def portal_session_create(*, customer_id: str, return_url: str) -> str:
    """A Customer Portal session URL: card, invoices, cancellation."""
    # Reference: https://docs.stripe.com/api/customer_portal/sessions/create
    session = _call(
        client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
    )
    return session.url


def event_verify(*, payload: bytes, signature: str) -> dict:
    """The event from a webhook body, once its signature verifies on the raw bytes."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BadSignature("STRIPE_WEBHOOK_SECRET is not set.")
    # Reference: https://docs.stripe.com/webhooks#verify-events
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as e:
        raise BadSignature(str(e)[:200]) from e
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadSignature("Not a Stripe event.")
    return event
