"""The fulfilment ledger: what paid invoices oblige us to buy, the orders that bought it, and who
each tonne (and cubic metre of water restoration) was bought for.

Obligations and allocations outlive a deleted account: the account reference is cleared, the
tonnes and the money stay, so the public totals never shrink.
"""

import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone


class ClimateProduct(models.Model):
    """The last known state of a Stripe Climate product (refreshed on pricing_updated)."""

    product_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True)
    delivery_year = models.PositiveIntegerField(null=True, blank=True)
    metric_tons_available = models.CharField(max_length=40, blank=True)  # a decimal string
    currency = models.CharField(max_length=3, default="usd")
    # current_prices_per_metric_ton[currency], minor units; total = subtotal + Frontier's fee.
    price_subtotal_cents = models.PositiveIntegerField(null=True, blank=True)
    price_fees_cents = models.PositiveIntegerField(null=True, blank=True)
    price_total_cents = models.PositiveIntegerField(null=True, blank=True)
    suppliers = models.JSONField(default=list, blank=True)  # [{id, name, removal_pathway, ...}]
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.product_id

    @property
    def price_total_usd(self) -> Decimal | None:
        return None if self.price_total_cents is None else Decimal(self.price_total_cents) / 100


class ObligationState(models.TextChoices):
    PENDING = "pending", "Paid, waiting for the monthly order"
    ALLOCATED = "allocated", "Allocated to an order"
    VOID = "void", "Void (refunded or disputed before the order)"
    NETTED = "netted", "Refunded or disputed after the order (netted out of the next)"


class OffsetObligation(models.Model):
    """One paid invoice: its money less Stripe's fee, split into removal and water."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "accounts.Account", models.SET_NULL, null=True, blank=True, related_name="obligations"
    )
    invoice_id = models.CharField(max_length=255, unique=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    charge_id = models.CharField(max_length=255, blank=True)
    period = models.CharField(max_length=7)  # YYYY-MM of the payment
    paid_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="usd")
    amount_paid_cents = models.PositiveIntegerField()
    fee_cents = models.PositiveIntegerField(null=True, blank=True)  # null: not known yet
    removal_cents = models.PositiveIntegerField(default=0)
    water_cents = models.PositiveIntegerField(default=0)
    water_share = models.DecimalField(max_digits=9, decimal_places=8, default=Decimal(0))
    kg_co2e = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    product_id = models.CharField(max_length=100)
    state = models.CharField(
        max_length=10, choices=ObligationState.choices, default=ObligationState.PENDING
    )
    void_reason = models.CharField(max_length=100, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paid_at", "id"]
        indexes = [models.Index(fields=["state", "product_id", "paid_at"], name="obligation_due")]

    def __str__(self):
        return f"{self.invoice_id} {self.state}"


class BatchStatus(models.TextChoices):
    PLANNED = "planned", "Planned (order not confirmed by Stripe yet)"
    AWAITING_FUNDS = "awaiting_funds", "Awaiting funds"
    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Confirmed"
    DELIVERED = "delivered", "Delivered"
    CANCELED = "canceled", "Cancelled"


class ClimateOrderBatch(models.Model):
    """One Stripe Climate order per (period, product). The row commits before the create call."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    period = models.CharField(max_length=7)
    product_id = models.CharField(max_length=100)
    product_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default="usd")
    metric_tons = models.DecimalField(max_digits=14, decimal_places=6)
    reordered_tons = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    removal_cents = models.PositiveIntegerField(default=0)  # the obligations' money it spends
    price_per_ton_cents = models.PositiveIntegerField()  # amount_total per tonne at planning
    subscribers = models.PositiveIntegerField(default=0)
    stripe_order_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, default=BatchStatus.PLANNED)
    amount_subtotal = models.PositiveIntegerField(null=True, blank=True)
    amount_fees = models.PositiveIntegerField(null=True, blank=True)
    amount_total = models.PositiveIntegerField(null=True, blank=True)
    expected_delivery_year = models.PositiveIntegerField(null=True, blank=True)
    suppliers = models.JSONField(default=list, blank=True)
    certificate_url = models.URLField(max_length=5000, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    delayed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    product_substituted_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=40, blank=True)
    # A cancellation we did not ask for: the next batch re-orders these tonnes and takes over
    # the allocations; both orders stay in the history.
    reorder_needed = models.BooleanField(default=False)
    reordered_in = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="reorders"
    )
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ordered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "product_id"], name="one_batch_per_period"),
            models.UniqueConstraint(
                fields=["stripe_order_id"],
                condition=~models.Q(stripe_order_id=""),
                name="unique_climate_order",
            ),
        ]

    def __str__(self):
        return f"{self.period} {self.product_id} {self.metric_tons} t ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"climate-{self.period}-{self.product_id}-{self.public_id}"


class Allocation(models.Model):
    """An obligation's tonnes in one order: exactly one per obligation, six decimals."""

    obligation = models.OneToOneField(OffsetObligation, models.PROTECT, related_name="allocation")
    batch = models.ForeignKey(ClimateOrderBatch, models.PROTECT, related_name="allocations")
    metric_tons = models.DecimalField(max_digits=14, decimal_places=6)
    share = models.DecimalField(max_digits=11, decimal_places=10)
    netted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.metric_tons} t of {self.batch_id}"


class DeliveryDetail(models.Model):
    """One supplier's delivery within a delivered order."""

    batch = models.ForeignKey(ClimateOrderBatch, models.CASCADE, related_name="deliveries")
    supplier_id = models.CharField(max_length=100)
    supplier_name = models.CharField(max_length=200, blank=True)
    removal_pathway = models.CharField(max_length=60, blank=True)
    metric_tons = models.DecimalField(max_digits=14, decimal_places=6)
    registry_url = models.URLField(max_length=2000, blank=True)
    country = models.CharField(max_length=60, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "supplier_name", "id"]

    def __str__(self):
        return f"{self.supplier_name} {self.metric_tons} t"


class CarryOver(models.Model):
    """Tonnes per product not yet ordered: rounding remainders (+), after-order refunds (−)."""

    product_id = models.CharField(max_length=100, unique=True)
    metric_tons = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.product_id}: {self.metric_tons} t"


class WaterPurchase(models.Model):
    """Water restoration bought by staff outside Stripe, allocated like an order."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.CharField(max_length=200)
    cubic_metres = models.DecimalField(max_digits=14, decimal_places=3)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    receipt_url = models.URLField(max_length=2000)
    purchased_at = models.DateTimeField(default=timezone.now)
    allocated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-purchased_at"]

    def __str__(self):
        return f"{self.partner} {self.cubic_metres} m³"


class WaterAllocation(models.Model):
    obligation = models.OneToOneField(
        OffsetObligation, models.PROTECT, related_name="water_allocation"
    )
    purchase = models.ForeignKey(WaterPurchase, models.PROTECT, related_name="allocations")
    cubic_metres = models.DecimalField(max_digits=14, decimal_places=6)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.cubic_metres} m³ of {self.purchase_id}"
