"""Stripe Climate and payment-reversal events, on the same signed, idempotent endpoint.

Order events re-fetch the order and apply its current state, so replays and events arriving
out of order change nothing twice: side effects (the delivery email, a re-order) happen only on
the transition, claimed by a conditional update.
Reference: https://docs.stripe.com/climate/orders/webhooks
"""

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tokenoffset.accounts.models import Membership, Role
from tokenoffset.accounts.services import accounts_data_changed

from . import climate
from .ledger import batch_accounts, obligation_reverse
from .models import (
    BatchStatus,
    ClimateOrderBatch,
    ClimateProduct,
    DeliveryDetail,
    OffsetObligation,
    StripeEvent,
)

log = logging.getLogger(__name__)

ORDER_EVENTS = {
    "climate.order.created",
    "climate.order.delayed",
    "climate.order.delivered",
    "climate.order.product_substituted",
    "climate.order.canceled",
}
PRODUCT_EVENTS = {"climate.product.created", "climate.product.pricing_updated"}
REVERSAL_EVENTS = {"charge.refunded", "charge.dispute.created"}
HANDLED = ORDER_EVENTS | PRODUCT_EVENTS | REVERSAL_EVENTS


def _when(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _supplier(s: dict) -> dict:
    return {
        "id": s.get("id", ""),
        "name": s.get("name", ""),
        "removal_pathway": s.get("removal_pathway", ""),
        "pathway": (s.get("removal_pathway") or "").replace("_", " "),
        "info_url": s.get("info_url", ""),
    }


def product_store(*, product: dict) -> ClimateProduct:
    """Keep a product as Stripe returned it (price in USD, suppliers)."""
    usd = (product.get("current_prices_per_metric_ton") or {}).get("usd") or {}
    stored, _ = ClimateProduct.objects.update_or_create(
        product_id=product["id"],
        defaults={
            "name": product.get("name") or "",
            "delivery_year": product.get("delivery_year"),
            "metric_tons_available": str(product.get("metric_tons_available") or ""),
            "price_subtotal_cents": usd.get("amount_subtotal"),
            "price_fees_cents": usd.get("amount_fees"),
            "price_total_cents": usd.get("amount_total"),
            "suppliers": [_supplier(s) for s in product.get("suppliers") or []],
            "refreshed_at": timezone.now(),
        },
    )
    return stored


def batch_order_apply(*, batch: ClimateOrderBatch, order: dict) -> set[str]:
    """Store the order's current state on its batch; returns the transitions it made."""
    transitions: set[str] = set()
    with transaction.atomic():
        b = ClimateOrderBatch.objects.select_for_update().get(pk=batch.pk)
        if b.stripe_order_id and b.stripe_order_id != order.get("id"):
            return transitions
        if not b.stripe_order_id:
            b.stripe_order_id, b.ordered_at = order["id"], timezone.now()
        b.status = order.get("status") or b.status
        for field in ("amount_subtotal", "amount_fees", "amount_total", "expected_delivery_year"):
            if order.get(field) is not None:
                setattr(b, field, order[field])
        b.certificate_url = order.get("certificate") or b.certificate_url
        for field in ("confirmed_at", "delayed_at", "product_substituted_at"):
            setattr(b, field, _when(order.get(field)) or getattr(b, field))
        product = order.get("product")
        if isinstance(product, dict):
            b.product_name = product.get("name") or product.get("id") or b.product_name
            b.suppliers = [_supplier(s) for s in product.get("suppliers") or []] or b.suppliers
        elif isinstance(product, str) and product != b.product_id:
            b.product_name = product  # substituted: the new product's id until it is expanded
        if not b.suppliers or not b.product_name:
            cached = ClimateProduct.objects.filter(product_id=b.product_id).first()
            if cached:
                b.suppliers = b.suppliers or cached.suppliers
                b.product_name = b.product_name or cached.name
        if b.canceled_at is None and order.get("status") == BatchStatus.CANCELED:
            b.canceled_at = _when(order.get("canceled_at")) or timezone.now()
            b.cancellation_reason = order.get("cancellation_reason") or ""
            # Not asked for by us (supplier failure, expiry): the refund covers it, re-order.
            b.reorder_needed = b.cancellation_reason != "requested"
            transitions.add("canceled")
        if b.delivered_at is None and order.get("status") == BatchStatus.DELIVERED:
            b.delivered_at = _when(order.get("delivered_at")) or timezone.now()
            _deliveries_store(b, order.get("delivery_details") or [])
            transitions.add("delivered")
        b.last_error = ""
        b.save()
        accounts_data_changed(account_ids=batch_accounts(b))
        if "delivered" in transitions:
            transaction.on_commit(lambda: delivery_email(batch=b))
    return transitions


def _deliveries_store(batch: ClimateOrderBatch, details: list[dict]) -> None:
    DeliveryDetail.objects.filter(batch=batch).delete()
    DeliveryDetail.objects.bulk_create(
        DeliveryDetail(
            batch=batch,
            supplier_id=(d.get("supplier") or {}).get("id", ""),
            supplier_name=(d.get("supplier") or {}).get("name", ""),
            removal_pathway=(d.get("supplier") or {}).get("removal_pathway", ""),
            metric_tons=Decimal(str(d.get("metric_tons") or 0)),
            registry_url=d.get("registry_url") or "",
            country=(d.get("location") or {}).get("country") or "",
            delivered_at=_when(d.get("delivered_at")),
        )
        for d in details
    )


def delivery_email(*, batch: ClimateOrderBatch) -> int:
    """Tell the owners of every account with tonnes in the order; returns emails sent."""
    rows = batch.allocations.filter(netted_at=None, obligation__account__isnull=False).values_list(
        "obligation__account_id", "obligation__account__name", "metric_tons"
    )
    per_account: dict[int, tuple[str, Decimal]] = {}
    for account_id, name, tons in rows:
        total = per_account.get(account_id, (name, Decimal(0)))[1] + tons
        per_account[account_id] = (name, total)
    sent = 0
    for account_id, (name, tons) in per_account.items():
        owners = list(
            Membership.objects.filter(account_id=account_id, role=Role.OWNER).values_list(
                "user__email", flat=True
            )
        )
        if not owners:
            continue
        body = render_to_string(
            "billing/email/removal_delivered.txt",
            {
                "account_name": name,
                "tons": tons,
                "batch": batch,
                "impact_url": settings.SITE_URL + reverse("public:impact"),
            },
        )
        send_mail("[Token Offset] Your carbon removal was delivered", body, None, owners)
        sent += 1
    return sent


def event_apply(*, record: StripeEvent, obj: dict, finish) -> str:
    """Apply one fulfilment event; ``finish`` claims the stored event once (see webhooks)."""
    if record.type in PRODUCT_EVENTS:
        if obj.get("id") != settings.STRIPE_CLIMATE_PRODUCT_ID:
            finish(record, "ignored: not our climate product")
            return "ignored"
        fetched = climate.product_retrieve(product_id=obj["id"])  # newest, whatever the order
        with transaction.atomic():
            if not finish(record, "climate product refreshed"):
                return "duplicate"
            product_store(product=fetched)
        return "processed"
    if record.type in ORDER_EVENTS:
        return _order_event(record, obj, finish)
    return _reversal_event(record, obj, finish)


def _order_event(record: StripeEvent, order: dict, finish) -> str:
    batch_id = (order.get("metadata") or {}).get("batch") or ""
    batch = ClimateOrderBatch.objects.filter(stripe_order_id=order.get("id") or "-").first()
    if batch is None and batch_id:
        # The created event can beat our own write of the order id (or a crash before it).
        batch = ClimateOrderBatch.objects.filter(public_id=_uuid(batch_id)).first()
    if batch is None:
        finish(record, "ignored: not one of our orders")
        return "ignored"
    fetched = climate.order_retrieve(order_id=order["id"])
    with transaction.atomic():
        if not finish(record, f"order {fetched.get('status')}"):
            return "duplicate"
        batch_order_apply(batch=batch, order=fetched)
    return "processed"


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _reversal_event(record: StripeEvent, obj: dict, finish) -> str:
    if record.type == "charge.refunded":
        charge_id, intent = obj.get("id") or "", obj.get("payment_intent") or ""
        reason = "refunded"
    else:
        charge_id, intent = obj.get("charge") or "", obj.get("payment_intent") or ""
        reason = "disputed"
    obligation = None
    if intent:
        obligation = OffsetObligation.objects.filter(payment_intent_id=intent).first()
    if obligation is None and charge_id:
        obligation = OffsetObligation.objects.filter(charge_id=charge_id).first()
    if obligation is None and isinstance(intent, str) and intent:
        invoice_id = climate.invoice_for_payment_intent(payment_intent_id=intent)
        obligation = OffsetObligation.objects.filter(invoice_id=invoice_id or "-").first()
    if obligation is None:
        # No obligation yet: invoice.paid will find the payment refunded or disputed.
        finish(record, "ignored: no obligation for this payment")
        return "ignored"
    with transaction.atomic():
        if not finish(record, f"obligation {reason}"):
            return "duplicate"
        outcome = obligation_reverse(obligation=obligation, reason=reason)
    log.info("obligation %s: %s", obligation.public_id, outcome)
    return "processed"
