"""What a pushed source (local logs; later live telemetry) is, beyond its EstimateSource row."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Billing(models.TextChoices):
    """How the tool is paid for, as the person who sends says (methodology: double counting)."""

    SUBSCRIPTION = "subscription", "Subscription"
    API_KEY = "api_key", "API key"
    UNKNOWN = "unknown", "Not sure"


class PushedSource(models.Model):
    """One tool on one computer of one person: who sends, what, how it is billed, what came last.

    The identity (sender, surface, computer) picks the source a re-send replaces rows of, so a
    colleague's computer, or another tool, never erases these rows. The raw upload is not kept.
    """

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="+")
    source = models.OneToOneField(
        "connectors.EstimateSource", models.CASCADE, related_name="pushed"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    surface = models.CharField(max_length=20)  # claude_code, codex
    computer = models.CharField(max_length=60)
    billing = models.CharField(max_length=20, choices=Billing.choices, default=Billing.UNKNOWN)
    parser_version = models.CharField(max_length=40, blank=True)
    first_day = models.DateField(null=True, blank=True)  # of the last upload
    last_day = models.DateField(null=True, blank=True)
    latest_day = models.DateField(null=True, blank=True)  # the newest last_day ever sent
    files_scanned = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    # Sums of the last upload's quality counters: partial_output_requests, fork_parent_missing…
    quality = models.JSONField(default=dict, blank=True)
    excluded_from_total = models.BooleanField(default=False)
    last_sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sent_by", "surface", "computer"],
                name="one_pushed_source_per_sender_tool_computer",
            )
        ]

    def __str__(self):
        return f"{self.surface} on {self.computer}"

    @property
    def days_covered(self) -> int:
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1
