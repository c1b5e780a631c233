"""The offset in force, its history, the account's Stripe subscription and received events.

The amount billed lives in ``Offset.price_cents`` and moves only through ``billing.services``
when an owner explicitly adopts a new number. Nothing here points back from ``estimates``.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class OffsetKind(models.TextChoices):
    BAND = "band", "Band"
    CUSTOM = "custom", "Custom amount"
    ESTIMATE = "estimate", "Adopted estimate"


class Offset(models.Model):
    """The account's offset in force: a snapshot of what an owner chose, never recomputed."""

    account = models.OneToOneField("accounts.Account", models.CASCADE, related_name="offset")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=OffsetKind.choices)
    price_cents = models.PositiveIntegerField()
    band_slug = models.CharField(max_length=20, blank=True)
    band_name = models.CharField(max_length=40, blank=True)
    # What was adopted, as shown at the time: tokens, kWh, kg CO2e, litres, band volume and mix.
    figures = models.JSONField(default=dict, blank=True)
    coefficient_set = models.ForeignKey(
        "estimates.CoefficientSet", models.PROTECT, null=True, blank=True, related_name="offsets"
    )
    coefficient_set_version = models.CharField(max_length=20, blank=True)
    # Removing a source or a sample never touches the offset: the link just goes away.
    projection = models.ForeignKey(
        "estimates.Projection", models.SET_NULL, null=True, blank=True, related_name="offsets"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.get_kind_display()} ${self.price_usd} for {self.account_id}"

    @property
    def price_usd(self):
        return Decimal(self.price_cents) / 100


class OffsetChange(models.Model):
    """One entry of the offset's history: from → to, who, when and why."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="offset_changes")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    from_kind = models.CharField(max_length=10, choices=OffsetKind.choices, blank=True)
    from_price_cents = models.PositiveIntegerField(null=True, blank=True)
    from_band_slug = models.CharField(max_length=20, blank=True)
    to_kind = models.CharField(max_length=10, choices=OffsetKind.choices)
    to_price_cents = models.PositiveIntegerField()
    to_band_slug = models.CharField(max_length=20, blank=True)
    to_band_name = models.CharField(max_length=40, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    coefficient_set = models.ForeignKey(
        "estimates.CoefficientSet",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="offset_changes",
    )
    coefficient_set_version = models.CharField(max_length=20, blank=True)
    projection = models.ForeignKey(
        "estimates.Projection",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="offset_changes",
    )
    reason = models.CharField(max_length=200)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # With a subscription the new amount applies from the next billing period.
    effective_from = models.DateTimeField(null=True, blank=True)
    # When Stripe's subscription item got the new price (null: no subscription, or not yet).
    stripe_synced_at = models.DateTimeField(null=True, blank=True)
    stripe_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.from_price_cents} → {self.to_price_cents} ({self.reason})"

    @property
    def from_price_usd(self):
        return None if self.from_price_cents is None else Decimal(self.from_price_cents) / 100

    @property
    def to_price_usd(self):
        return Decimal(self.to_price_cents) / 100


class SubscriptionStatus(models.TextChoices):
    """Stripe's statuses, plus ``none`` before checkout. Unknown future values are kept as-is."""

    NONE = "none", "Not subscribed"
    INCOMPLETE = "incomplete", "Waiting for the first payment"
    INCOMPLETE_EXPIRED = "incomplete_expired", "First payment not completed"
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Cancelled"
    PAUSED = "paused", "Paused"


# Statuses in which Stripe will charge the subscription item's price again.
LIVE_STATUSES = {"active", "trialing", "past_due", "unpaid", "incomplete"}


class Subscription(models.Model):
    """The account's Stripe customer and (at most one) subscription, as last synced."""

    account = models.OneToOneField(
        "accounts.Account", models.CASCADE, related_name="billing_subscription"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    stripe_item_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=30, default=SubscriptionStatus.NONE)
    unit_amount_cents = models.PositiveIntegerField(null=True, blank=True)  # as Stripe has it
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_invoice_id = models.CharField(max_length=255, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    last_paid_invoice_id = models.CharField(max_length=255, blank=True)
    last_paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~models.Q(stripe_subscription_id=""),
                name="unique_stripe_subscription",
            )
        ]

    def __str__(self):
        return f"{self.stripe_customer_id} {self.status}"

    @property
    def unit_amount_usd(self):
        return None if self.unit_amount_cents is None else Decimal(self.unit_amount_cents) / 100

    @property
    def is_live(self) -> bool:
        return bool(self.stripe_subscription_id) and self.status in LIVE_STATUSES

    @property
    def is_past_due(self) -> bool:
        return bool(self.past_due_invoice_id) or self.status in ("past_due", "unpaid")

    @property
    def status_label(self) -> str:
        try:
            return SubscriptionStatus(self.status).label
        except ValueError:
            return self.status.replace("_", " ")


class StripeEvent(models.Model):
    """Every webhook event, stored once by its id before it is processed."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    account = models.ForeignKey(
        "accounts.Account", models.SET_NULL, null=True, blank=True, related_name="stripe_events"
    )
    created = models.DateTimeField()  # Stripe's creation time of the event
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.stripe_id} {self.type}"


class StripeCheckout(models.Model):
    """A Checkout Session created for the account: expired with it if still open."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="stripe_checkouts")
    stripe_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.stripe_id


class CleanupAction(models.TextChoices):
    CLOSE_CUSTOMER = "close_customer", "Expire open checkouts, then delete the customer"
    CANCEL_SUBSCRIPTION = "cancel_subscription", "Cancel the subscription now"


class StripeCleanup(models.Model):
    """A Stripe call that must happen, retried until Stripe confirms it (an outbox).

    It outlives the account it was for, so it holds Stripe ids only: no name, no email.
    """

    action = models.CharField(max_length=30, choices=CleanupAction.choices)
    stripe_id = models.CharField(max_length=255)  # the customer or the subscription
    checkout_session_ids = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=100)
    # The webhook event that asked for it: a Stripe retry of that event tries again at once.
    event = models.ForeignKey(
        StripeEvent, models.SET_NULL, null=True, blank=True, related_name="cleanups"
    )
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "stripe_id"], name="unique_stripe_cleanup")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(done_at=None),
                name="stripe_cleanup_due",
            )
        ]

    def __str__(self):
        return f"{self.action} {self.stripe_id} ({'done' if self.done_at else 'pending'})"


class UsageAlert(models.Model):
    """The weekly "your usage moved" email: whether owners want it, and when it last went out."""

    account = models.OneToOneField("accounts.Account", models.CASCADE, related_name="usage_alert")
    enabled = models.BooleanField(default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_billed_cents = models.PositiveIntegerField(null=True, blank=True)
    last_estimate_cents = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Usage alert for {self.account_id} ({'on' if self.enabled else 'off'})"


# The fulfilment ledger's models live in their own module.
from .ledger_models import (  # noqa: E402, F401
    Allocation,
    BatchStatus,
    CarryOver,
    ClimateOrderBatch,
    ClimateProduct,
    DeliveryDetail,
    ObligationState,
    OffsetObligation,
    WaterAllocation,
    WaterPurchase,
)
