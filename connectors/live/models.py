"""A live source's ingest token and what it knows of its stream; per-series temporality state.

Imported by connectors.models so Django registers these with the connectors app.
"""

from django.db import models
from django.utils import timezone


class Tool(models.TextChoices):
    CLAUDE_CODE = "claude_code", "Claude Code"
    CODEX = "codex", "Codex"


class LiveBilling(models.TextChoices):
    """How the tool is billed: decides double counting with an admin-key source (methodology)."""

    SUBSCRIPTION = "subscription", "A Claude or ChatGPT subscription (or a cloud provider)"
    API_KEY = "api_key", "An API key of an organisation connected here"
    UNKNOWN = "unknown", "I don't know"


class LiveSource(models.Model):
    """The live half of an EstimateSource of kind ``live``.

    Only the token's SHA-256 digest and last four characters are stored; ``organization_ids``
    holds the Claude organisation ids seen in the telemetry (no personal data), which decide
    whether the usage is already counted by a connected admin key.
    """

    source = models.OneToOneField("connectors.EstimateSource", models.CASCADE, related_name="live")
    tool = models.CharField(max_length=20, choices=Tool.choices)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=4)
    billing = models.CharField(
        max_length=20, choices=LiveBilling.choices, default=LiveBilling.UNKNOWN
    )
    organization_ids = models.JSONField(default=list, blank=True)
    no_account_seen = models.BooleanField(default=False)  # points with no Claude account
    first_data_at = models.DateTimeField(null=True, blank=True)  # "live since"
    last_data_at = models.DateTimeField(null=True, blank=True)
    excluded_from_total = models.BooleanField(default=False)
    projected_at = models.DateTimeField(null=True, blank=True)
    token_rotated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.get_tool_display()} live"

    def __repr__(self):
        # Never the digest.
        return f"<LiveSource {self.tool} hint=…{self.token_hint}>"


class LiveSeries(models.Model):
    """The last point of one exported series, to turn cumulative totals into increments and to
    skip resent points. ``series_key`` is a salted digest of the series' attributes (which may
    include session ids), never the attributes themselves; idle series expire after 7 days."""

    source = models.ForeignKey("connectors.EstimateSource", models.CASCADE, related_name="+")
    series_key = models.CharField(max_length=64)
    start_unix_nano = models.BigIntegerField()
    time_unix_nano = models.BigIntegerField()
    value = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "series_key"], name="unique_live_series")
        ]

    def __str__(self):
        return self.series_key[:8]

    def __repr__(self):
        return f"<LiveSeries {self.series_key[:8]}>"
