"""Obligations: every paid invoice, less Stripe's fee, split into removal and water money.

Money decides: an offset adopted at an older, lower price buys what its money buys. The split
follows the offset's own price breakdown; a custom amount and the floor's surplus go to removal.
Refunds and disputes void an obligation before its order, and are netted out of the next order
after it.
"""

import logging
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from estimates.coefficients import coefficient_values
from estimates.footprint import BandSpec, Footprint, band_usage, footprint, water_usd
from tokenoffset.accounts.services import account_data_changed, accounts_data_changed

from . import climate, stripe_client
from .models import (
    Allocation,
    CarryOver,
    ObligationState,
    Offset,
    OffsetKind,
    OffsetObligation,
    Subscription,
    WaterAllocation,
    WaterPurchase,
)

log = logging.getLogger(__name__)

SIX = Decimal("0.000001")
PAYMENT_LOOKUP_ERRORS = (stripe_client.PaymentsError, stripe_client.PaymentsNotConfigured)


def _offset_footprint(offset: Offset) -> Footprint | None:
    figures = offset.figures or {}
    if offset.kind == OffsetKind.ESTIMATE:
        return Footprint(
            it_kwh=Decimal(0),
            kwh=Decimal(figures.get("kwh") or 0),
            co2e_kg=Decimal(figures.get("co2e_kg") or 0),
            water_l=Decimal(figures.get("water_l") or 0),
        )
    if offset.kind == OffsetKind.BAND and offset.coefficient_set_id and "mix" in figures:
        spec = BandSpec(
            slug=offset.band_slug,
            name=offset.band_name,
            tokens_low=int(figures.get("tokens_low") or 0),
            tokens_high=figures.get("tokens_high"),
            volume=int(figures["volume"]),
            mix={k: Decimal(v) for k, v in figures["mix"].items()},
            model_class=figures["model_class"],
            vendor=figures["vendor"],
        )
        return footprint(band_usage(spec), coefficient_values(offset.coefficient_set))
    return None  # a custom amount: all of it funds removal


def water_share(offset: Offset | None) -> tuple[Decimal, Decimal | None]:
    """(the water part of the offset's price, its kg CO2e); 0 for custom amounts."""
    if offset is None or not offset.price_cents:
        return Decimal(0), None
    try:
        fp = _offset_footprint(offset)
        if fp is None:
            return Decimal(0), None
        values = coefficient_values(offset.coefficient_set) if offset.coefficient_set_id else None
    except (KeyError, TypeError, ValueError, ArithmeticError):
        log.warning("offset %s: no price breakdown; its money funds removal", offset.pk)
        return Decimal(0), None
    if values is None:
        return Decimal(0), fp.co2e_kg.quantize(SIX)
    share = water_usd(fp, values) / offset.price_usd
    return min(share, Decimal(1)).quantize(Decimal("0.00000001"), ROUND_DOWN), fp.co2e_kg.quantize(
        SIX
    )


def obligation_split(*, amount_paid_cents: int, fee_cents: int, share: Decimal) -> tuple[int, int]:
    """(removal, water) cents of the net amount; rounding favours removal."""
    net = max(amount_paid_cents - fee_cents, 0)
    water = int((Decimal(net) * share).to_integral_value(ROUND_DOWN))
    return net - water, water


def payment_lookup(*, invoice_id: str) -> dict | None:
    """The invoice's fee and refund state from Stripe, or None when Stripe cannot say now."""
    try:
        return climate.invoice_payment(invoice_id=invoice_id)
    except PAYMENT_LOOKUP_ERRORS as e:
        log.warning("invoice %s: payment fee not known yet (%s)", invoice_id, e)
        return None


def obligation_record(
    *, subscription: Subscription, invoice: dict, paid_at: datetime, payment: dict | None
) -> OffsetObligation | None:
    """The obligation of a paid invoice, once (by invoice id). Call inside the event's atomic."""
    amount = int(invoice.get("amount_paid") or 0)
    invoice_id = invoice.get("id") or ""
    if amount <= 0 or not invoice_id:
        return None
    stamp = (invoice.get("status_transitions") or {}).get("paid_at")
    paid_at = datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else paid_at
    offset = Offset.objects.filter(account_id=subscription.account_id).first()
    share, kg = water_share(offset)
    obligation, created = OffsetObligation.objects.get_or_create(
        invoice_id=invoice_id,
        defaults={
            "account_id": subscription.account_id,
            "period": f"{paid_at:%Y-%m}",
            "paid_at": paid_at,
            "currency": (invoice.get("currency") or "usd").lower(),
            "amount_paid_cents": amount,
            "water_share": share,
            "kg_co2e": kg,
            "product_id": settings.STRIPE_CLIMATE_PRODUCT_ID,
        },
    )
    if created and payment is not None:
        obligation_payment_apply(obligation=obligation, payment=payment)
    return obligation


def obligation_payment_apply(*, obligation: OffsetObligation, payment: dict) -> None:
    """Store the fee (and so the split); a payment already refunded or disputed voids it."""
    removal, water = obligation_split(
        amount_paid_cents=obligation.amount_paid_cents,
        fee_cents=payment["fee"],
        share=obligation.water_share,
    )
    OffsetObligation.objects.filter(pk=obligation.pk, fee_cents=None).update(
        fee_cents=payment["fee"],
        removal_cents=removal,
        water_cents=water,
        payment_intent_id=payment["payment_intent"],
        charge_id=payment["charge"],
    )
    obligation.refresh_from_db()
    if payment["refunded"] or payment["disputed"]:
        obligation_reverse(
            obligation=obligation, reason="refunded" if payment["refunded"] else "disputed"
        )


def obligations_resolve(*, product_id: str) -> int:
    """Fetch the fees still unknown (Stripe was unreachable when the invoice was paid)."""
    resolved = 0
    for obligation in OffsetObligation.objects.filter(
        product_id=product_id, state=ObligationState.PENDING, fee_cents=None
    ):
        payment = payment_lookup(invoice_id=obligation.invoice_id)
        if payment is not None:
            with transaction.atomic():
                obligation_payment_apply(obligation=obligation, payment=payment)
            resolved += 1
    return resolved


def batch_accounts(batch) -> list[int]:
    """The accounts whose allocations a removal order holds (their removal so far changes)."""
    return list(
        Allocation.objects.filter(batch=batch).values_list("obligation__account_id", flat=True)
    )


def obligation_reverse(*, obligation: OffsetObligation, reason: str) -> str:
    """A refund or dispute: void before the order; after it, net its tonnes out of the next.

    Returns what happened; a second call changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = OffsetObligation.objects.select_for_update().get(pk=obligation.pk)
        if locked.state == ObligationState.PENDING:
            locked.state, locked.void_reason, locked.voided_at = "void", reason, now
            locked.save(update_fields=["state", "void_reason", "voided_at"])
            return "voided"
        if locked.state != ObligationState.ALLOCATED:
            return "already reversed"
        allocation = Allocation.objects.select_for_update().get(obligation=locked)
        carry, _ = CarryOver.objects.select_for_update().get_or_create(
            product_id=allocation.batch.product_id
        )
        carry.metric_tons -= allocation.metric_tons
        carry.save(update_fields=["metric_tons", "updated_at"])
        allocation.netted_at = now
        allocation.save(update_fields=["netted_at"])
        locked.state, locked.void_reason, locked.voided_at = "netted", reason, now
        locked.save(update_fields=["state", "void_reason", "voided_at"])
        account_data_changed(account_id=locked.account_id)
        return "netted"


def water_purchase_allocate(*, purchase: WaterPurchase) -> int:
    """Allocate a recorded water purchase pro rata over the water money not yet covered."""
    with transaction.atomic():
        locked = WaterPurchase.objects.select_for_update().get(pk=purchase.pk)
        if locked.allocated_at is not None:
            return 0
        due = list(
            OffsetObligation.objects.select_for_update(of=("self",))
            .filter(
                state__in=[ObligationState.PENDING, ObligationState.ALLOCATED],
                water_cents__gt=0,
                water_allocation=None,
                paid_at__lte=locked.purchased_at,
                currency=locked.currency,
            )
            .order_by("paid_at", "id")
        )
        total = sum(o.water_cents for o in due)
        if not total:
            return 0
        shares = pro_rata(locked.cubic_metres, [o.water_cents for o in due])
        WaterAllocation.objects.bulk_create(
            WaterAllocation(obligation=o, purchase=locked, cubic_metres=m)
            for o, m in zip(due, shares, strict=True)
        )
        locked.allocated_at = timezone.now()
        locked.save(update_fields=["allocated_at"])
        accounts_data_changed(account_ids=[o.account_id for o in due])
        return len(due)


def pro_rata(total: Decimal, weights: list[int]) -> list[Decimal]:
    """``total`` split by ``weights`` to six decimals, never more than ``total`` in all; the
    rounding residue goes to the largest holder."""
    weight = sum(weights)
    if not weight:
        return [Decimal(0)] * len(weights)
    parts = [(total * w / weight).quantize(SIX, ROUND_DOWN) for w in weights]
    residue = total.quantize(SIX, ROUND_DOWN) - sum(parts)
    if residue > 0:
        largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
        parts[largest] += residue
    return parts
