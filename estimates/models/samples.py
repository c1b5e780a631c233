"""Samples and what they store: daily usage and cost rows, and the projection made from them."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from connectors import bounds

from ..weekly_model import STOP_DAYS
from .coefficients import CoefficientSet


class SampleTrigger(models.TextChoices):
    FIRST = "first", "First connect"
    WEEKLY = "weekly", "Weekly"
    MANUAL = "manual", "Manual"
    UPLOAD = "upload", "Upload"  # daily totals pushed to us (local logs)


class SampleStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Sample(models.Model):
    """One pull of 90 days of usage and cost for one source."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="samples")
    source = models.ForeignKey("connectors.EstimateSource", models.CASCADE, related_name="samples")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    trigger = models.CharField(max_length=10, choices=SampleTrigger.choices)
    status = models.CharField(
        max_length=10, choices=SampleStatus.choices, default=SampleStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When a queued sample is due to run (spread, or a vendor's retry-after); the reaper
    # re-sends only samples well past it.
    not_before = models.DateTimeField(default=timezone.now)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)  # exclusive
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status="running"),
                name="one_running_sample_per_source",
            )
        ]
        indexes = [models.Index(fields=["source", "status", "-created_at"])]

    def __str__(self):
        return f"Sample {self.public_id} ({self.status})"


class DailyUsage(models.Model):
    """Token counts for one day and one group. Blank strings stand for "not reported"."""

    # No single-column indexes: (account, date) and the unique group (source first) cover those
    # lookups, and every index is paid for on each of a sample's thousands of inserted rows.
    account = models.ForeignKey(
        "accounts.Account", models.CASCADE, related_name="+", db_index=False
    )
    source = models.ForeignKey(
        "connectors.EstimateSource", models.CASCADE, related_name="daily_usage", db_index=False
    )
    date = models.DateField()
    model = models.CharField(max_length=bounds.MAX_MODEL_CHARS)
    service_tier = models.CharField(max_length=bounds.MAX_GROUP_CHARS)
    context_window = models.CharField(max_length=bounds.MAX_GROUP_CHARS)  # Anthropic
    batch = models.CharField(max_length=bounds.MAX_BATCH_CHARS)  # OpenAI
    uncached_input = models.BigIntegerField(default=0)
    cache_read = models.BigIntegerField(default=0)
    cache_write = models.BigIntegerField(default=0)
    cache_write_1h = models.BigIntegerField(default=0)  # part of cache_write
    output = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(null=True, blank=True)
    # Anthropic server-side web searches: a count of calls (their results are input tokens).
    web_search_requests = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "date", "model", "service_tier", "context_window", "batch"],
                name="unique_daily_usage_group",
            )
        ]
        indexes = [models.Index(fields=["account", "date"])]

    def __str__(self):
        return f"{self.date} {self.model}"


class DailyCost(models.Model):
    """One cost line for one day, in dollars, with every dimension the vendor returned."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="+")
    # The unique cost line (source first) serves as the source's index.
    source = models.ForeignKey(
        "connectors.EstimateSource", models.CASCADE, related_name="daily_costs", db_index=False
    )
    date = models.DateField()
    description = models.CharField(max_length=bounds.MAX_DESCRIPTION_CHARS)
    dimensions = models.JSONField(default=dict, blank=True)
    # canonical form of dimensions
    dimensions_key = models.CharField(max_length=bounds.MAX_DIMENSIONS_CHARS)
    amount_usd = models.DecimalField(max_digits=20, decimal_places=8)
    currency = models.CharField(max_length=bounds.MAX_CURRENCY_CHARS, default="USD")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "date", "description", "dimensions_key", "currency"],
                name="unique_daily_cost_line",
            )
        ]

    def __str__(self):
        return f"{self.date} {self.description} {self.amount_usd}"


class Projection(models.Model):
    """A source's projected next month, from one successful sample, with one coefficient set."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="projections")
    source = models.ForeignKey(
        "connectors.EstimateSource", models.CASCADE, related_name="projections"
    )
    sample = models.OneToOneField(Sample, models.CASCADE, related_name="projection")
    coefficient_set = models.ForeignKey(CoefficientSet, models.PROTECT, related_name="projections")
    method_version = models.CharField(max_length=40)
    window_start = models.DateField()
    window_end = models.DateField()  # exclusive
    first_usage = models.DateField(null=True, blank=True)
    last_usage = models.DateField(null=True, blank=True)  # the last day with any tokens
    active_days = models.PositiveIntegerField(default=0)
    preliminary = models.BooleanField(default=False)
    # {"uncached_input": n, "cache_read": n, "cache_write": n, "output": n}
    monthly_tokens = models.JSONField(default=dict)
    # {"<vendor>|<model_class>": {"<token_type>": {"point": n, "low": n, "high": n}}}
    monthly_tokens_by_class = models.JSONField(default=dict)
    monthly_tokens_low = models.BigIntegerField(default=0)
    monthly_tokens_high = models.BigIntegerField(default=0)
    provider_spend_usd = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    provider_spend_low_usd = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    provider_spend_high_usd = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    it_kwh = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    kwh = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    co2e_kg = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    water_l = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    # The same footprint for the low and high ends of the range: {"it_kwh": "…", …}
    footprint_low = models.JSONField(default=dict)
    footprint_high = models.JSONField(default=dict)
    # Unrounded: the account's price is rounded once, on the total of all its sources.
    price_contribution_usd = models.DecimalField(max_digits=20, decimal_places=8, default=0)
    trend_pct = models.FloatField(null=True, blank=True)
    unclassified_models = models.JSONField(default=list, blank=True)
    # Anthropic web searches next month (a count, never tokens).
    monthly_web_search_requests = models.BigIntegerField(default=0)
    # The staff sanity check: kWh over the kWh the projected spend buys as GPU time (see
    # estimates.sanity); null without spend, so never flagged.
    energy_spend_ratio = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    # What the window's spend paid for that the footprint leaves out, from the cost lines:
    # {"share": "0.07", "by_type": {"images": "0.05", …}, "tiers_without_spend_share": "0.1"}
    spend_left_out = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Projection for {self.source_id} ({self.created_at:%Y-%m-%d})"

    @property
    def monthly_tokens_total(self) -> int:
        return sum(int(v) for v in self.monthly_tokens.values())

    @property
    def stopped(self) -> bool:
        """No usage at all in the window's last two whole weeks: projected at zero."""
        return self.last_usage is not None and (self.window_end - self.last_usage).days > STOP_DAYS


# Flagged above this ratio of energy to the GPU energy the spend buys (see estimates.sanity).
SANITY_FLAG_ABOVE = Decimal("0.30")


class FlaggedProjectionManager(models.Manager):
    """Each source's latest successful projection, when it is flagged."""

    def get_queryset(self):
        latest = (
            Projection.objects.filter(
                source=OuterRef("source"), sample__status=SampleStatus.SUCCEEDED
            )
            .order_by("-created_at")
            .values("pk")[:1]
        )
        return (
            super()
            .get_queryset()
            .filter(pk=Subquery(latest), energy_spend_ratio__gt=SANITY_FLAG_ABOVE)
        )


class FlaggedProjection(Projection):
    """Staff's list of sources whose energy exceeds what their spend could buy in GPU time."""

    objects = FlaggedProjectionManager()

    class Meta:
        proxy = True
        verbose_name = "sanity flag"
        verbose_name_plural = "sanity flags"


class UnclassifiedModel(models.Model):
    """A model id seen in samples that no rule classified (it was counted as ``large``)."""

    vendor = models.CharField(max_length=20)
    model = models.CharField(max_length=200)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=0)
    sources_seen = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "model"], name="unique_unclassified_model")
        ]

    def __str__(self):
        return f"{self.vendor}: {self.model}"
