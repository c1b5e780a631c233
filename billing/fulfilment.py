"""The monthly batch: last month's paid removal money, per product, becomes one Stripe Climate
order, and its tonnes are allocated pro rata to the obligations that paid for them.

Never buys twice: the batch row (unique on period and product) commits, with its allocations,
before the create call; the call carries an idempotency key; a re-run that finds the row with an
order does nothing, and one that finds it without an order first looks for an order carrying the
batch's id (idempotency keys last only a day) before it calls create again with the same key.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from estimates.coefficients import (
    NoActiveCoefficientSet,
    coefficient_set_active,
    coefficient_values,
)
from tokenoffset.accounts.services import accounts_data_changed

from . import climate, stripe_client
from .fulfilment_events import batch_order_apply, product_store
from .ledger import SIX, batch_accounts, obligations_resolve, pro_rata
from .models import (
    Allocation,
    CarryOver,
    ClimateOrderBatch,
    ClimateProduct,
    ObligationState,
    OffsetObligation,
)

log = logging.getLogger(__name__)

# Stripe's examples order "0.01" t; finer precision is not documented, so round down to it.
METRIC_TONS_STEP = Decimal("0.01")


@dataclass(frozen=True)
class BatchReport:
    period: str
    product_id: str
    outcome: str
    metric_tons: Decimal = Decimal(0)
    reordered_tons: Decimal = Decimal(0)
    obligations: int = 0
    removal_cents: int = 0
    price_per_ton_cents: int | None = None
    carry_out: Decimal | None = None
    order_id: str = ""

    def __str__(self):
        price = f"${self.price_per_ton_cents / 100:,.2f}/t" if self.price_per_ton_cents else "?"
        return (
            f"{self.period} {self.product_id}: {self.outcome}; {self.metric_tons} t "
            f"({self.reordered_tons} t re-ordered) for {self.obligations} payments, "
            f"${self.removal_cents / 100:,.2f} of removal money at {price}"
            + (f", carry {self.carry_out} t" if self.carry_out is not None else "")
            + (f", order {self.order_id}" if self.order_id else "")
        )


def previous_period(now: datetime | None = None) -> str:
    now = now or timezone.now()
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def period_end(period: str) -> datetime:
    """The first instant after the period (UTC)."""
    year, month = (int(part) for part in period.split("-"))
    year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return datetime(year, month, 1, tzinfo=UTC)


def product_refresh(*, product_id: str | None = None) -> ClimateProduct:
    """Fetch the product's live price and suppliers from Stripe and keep them."""
    product_id = product_id or settings.STRIPE_CLIMATE_PRODUCT_ID
    return product_store(product=climate.product_retrieve(product_id=product_id))


def reference_price_cents(product_id: str) -> int | None:
    """The last known price, else the active coefficient set's (price = cost)."""
    cached = ClimateProduct.objects.filter(product_id=product_id).first()
    if cached and cached.price_total_cents:
        return cached.price_total_cents
    try:
        per_tonne = coefficient_values(coefficient_set_active()).price_per_tonne_usd
    except (NoActiveCoefficientSet, KeyError):
        return None
    return int(per_tonne * 100)


def batch_run(*, period: str, product_id: str | None = None) -> BatchReport:
    """Order the period's removal. Without STRIPE_SECRET_KEY, report what it would buy."""
    product_id = product_id or settings.STRIPE_CLIMATE_PRODUCT_ID
    existing = ClimateOrderBatch.objects.filter(period=period, product_id=product_id).first()
    if existing is not None:
        return _order_place(existing, resumed=True)
    live = stripe_client.is_configured()
    if live:
        price = product_refresh(product_id=product_id).price_total_cents
        obligations_resolve(product_id=product_id)
    else:
        price = reference_price_cents(product_id)
    if not price:
        return BatchReport(period, product_id, "no price for the product: nothing ordered")
    batch, report = _plan(period=period, product_id=product_id, price=price, write=live)
    if batch is None:
        return report
    return _order_place(batch, resumed=False)


def _plan(*, period: str, product_id: str, price: int, write: bool):
    """The batch row and its allocations, in one transaction; (None, report) if none."""
    with transaction.atomic():
        carry, _ = CarryOver.objects.select_for_update().get_or_create(product_id=product_id)
        raced = ClimateOrderBatch.objects.filter(period=period, product_id=product_id).first()
        if raced is not None:
            return None, _report(raced, "already planned by another run")
        due = list(
            OffsetObligation.objects.select_for_update()
            .filter(
                state=ObligationState.PENDING,
                product_id=product_id,
                paid_at__lt=period_end(period),
                fee_cents__isnull=False,
            )
            .order_by("paid_at", "id")
        )
        reorders = list(
            ClimateOrderBatch.objects.select_for_update().filter(
                product_id=product_id, reorder_needed=True, reordered_in=None
            )
        )
        removal = sum(o.removal_cents for o in due)
        want = (Decimal(removal) / price).quantize(SIX, ROUND_DOWN) + carry.metric_tons
        new_tons = Decimal(0)
        if due and want > 0:
            new_tons = want.quantize(METRIC_TONS_STEP, ROUND_DOWN)
        reordered = sum((b.metric_tons for b in reorders), Decimal(0))
        total = new_tons + reordered
        carry_out = want - new_tons if new_tons else carry.metric_tons
        counted = due if new_tons else []
        facts = dict(
            metric_tons=total,
            reordered_tons=reordered,
            obligations=len(counted),
            removal_cents=sum(o.removal_cents for o in counted),
            price_per_ton_cents=price,
            carry_out=carry_out,
        )
        if total <= 0:
            return None, BatchReport(period, product_id, "nothing to order", **facts)
        if not write:
            return None, BatchReport(
                period, product_id, "would order (payments not configured)", **facts
            )
        batch = ClimateOrderBatch.objects.create(
            period=period,
            product_id=product_id,
            currency="usd",
            metric_tons=total,
            reordered_tons=reordered,
            removal_cents=facts["removal_cents"],
            price_per_ton_cents=price,
            subscribers=len({o.account_id for o in counted if o.account_id}),
        )
        if counted:
            weights = [o.removal_cents for o in counted]
            parts = pro_rata(new_tons, weights)
            weight = sum(weights) or 1
            Allocation.objects.bulk_create(
                Allocation(
                    obligation=o,
                    batch=batch,
                    metric_tons=tons,
                    share=(Decimal(o.removal_cents) / weight).quantize(Decimal("1e-10")),
                )
                for o, tons in zip(counted, parts, strict=True)
            )
            OffsetObligation.objects.filter(pk__in=[o.pk for o in counted]).update(
                state=ObligationState.ALLOCATED
            )
            carry.metric_tons = carry_out
            carry.save(update_fields=["metric_tons", "updated_at"])
        if reorders:
            # The cancelled orders' allocations move to the order that replaces them.
            Allocation.objects.filter(batch__in=reorders).update(batch=batch)
            ClimateOrderBatch.objects.filter(pk__in=[b.pk for b in reorders]).update(
                reordered_in=batch
            )
        accounts_data_changed(account_ids=batch_accounts(batch))
        return batch, None


def _report(batch: ClimateOrderBatch, outcome: str) -> BatchReport:
    return BatchReport(
        batch.period,
        batch.product_id,
        outcome,
        metric_tons=batch.metric_tons,
        reordered_tons=batch.reordered_tons,
        obligations=batch.allocations.count(),
        removal_cents=batch.removal_cents,
        price_per_ton_cents=batch.price_per_ton_cents,
        order_id=batch.stripe_order_id,
    )


def _order_place(batch: ClimateOrderBatch, *, resumed: bool) -> BatchReport:
    """Make sure the batch has its order: find it (a resumed batch), else create it."""
    if batch.stripe_order_id:
        return _report(batch, "already ordered")
    if not stripe_client.is_configured():
        return _report(batch, "planned; payments not configured, so not ordered")
    try:
        order = climate.order_find(batch_public_id=str(batch.public_id)) if resumed else None
        if order is None:
            month = datetime.strptime(batch.period, "%Y-%m")  # noqa: DTZ007 (a label only)
            order = climate.order_create(
                product_id=batch.product_id,
                metric_tons=f"{batch.metric_tons.quantize(METRIC_TONS_STEP)}",
                metadata={
                    "period": batch.period,
                    "batch": str(batch.public_id),
                    "subscribers": str(batch.subscribers),
                },
                public_name=f"Token Offset customers, {month:%b %Y}",
                idempotency_key=batch.idempotency_key,
            )
    except stripe_client.PaymentsError as e:
        ClimateOrderBatch.objects.filter(pk=batch.pk).update(last_error=str(e)[:300])
        log.error("climate order for batch %s failed: %s", batch.public_id, e)
        raise
    batch_order_apply(batch=batch, order=order)
    batch.refresh_from_db()
    return _report(batch, "ordered")
