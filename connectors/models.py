import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Vendor(models.TextChoices):
    """Whose API the data comes from (for local logs and live, the tool's maker)."""

    ANTHROPIC = "anthropic", "Anthropic"
    OPENAI = "openai", "OpenAI"
    CURSOR = "cursor", "Cursor"
    GOOGLE = "google", "Google"


class Kind(models.TextChoices):
    """What the owner handed us; the same values as connectors.interface.SourceKind."""

    ADMIN_KEY = "admin_key", "Admin key"
    SERVICE_ACCOUNT = "service_account", "Service account"
    LOCAL_LOGS = "local_logs", "Local logs"
    LIVE = "live", "Live telemetry"


class SourceStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # connected, first sample queued
    SAMPLING = "sampling", "Sampling"
    READY = "ready", "Ready"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"  # the vendor rejected the key
    FAILED = "failed", "Failed"  # the last sample failed for another reason


class EstimateSource(models.Model):
    """A connected vendor organisation: the encrypted admin key and what we know of it.

    The key is write-only: only ``key_hint`` (its last four characters) is ever shown. The
    ciphertext is bound to ``public_id`` (see crypto.py), which is assigned before encrypting.
    """

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="sources")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ADMIN_KEY)
    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    label = models.CharField(max_length=100)
    key_ciphertext = models.BinaryField(editable=False)
    key_hint = models.CharField(max_length=4)
    status = models.CharField(
        max_length=20, choices=SourceStatus.choices, default=SourceStatus.PENDING
    )
    last_error = models.TextField(blank=True)
    is_sandbox = models.BooleanField(default=False)
    # Anthropic: the organisation the admin key belongs to (GET /v1/organizations/me), matched
    # against Claude Code telemetry's organization.id so live usage is not counted twice.
    organization_id = models.CharField(max_length=100, blank=True)
    attention_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.label} ({self.get_vendor_display()})"

    def __repr__(self):
        # Never include the ciphertext.
        return f"<EstimateSource {self.public_id} {self.vendor} {self.status}>"


class KeyEventKind(models.TextChoices):
    ADDED = "added", "Key added"
    REPLACED = "replaced", "Key replaced"
    REMOVED = "removed", "Source removed (key deleted)"
    REJECTED = "rejected", "Key rejected by the vendor"


class KeyEvent(models.Model):
    """Who did what to which key, and when. Outlives the source it talks about."""

    account = models.ForeignKey("accounts.Account", models.CASCADE, related_name="key_events")
    source = models.ForeignKey(
        EstimateSource, models.SET_NULL, null=True, blank=True, related_name="key_events"
    )
    source_public_id = models.UUIDField()
    source_label = models.CharField(max_length=100)
    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    key_hint = models.CharField(max_length=4)
    kind = models.CharField(max_length=20, choices=KeyEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.source_label}"


from connectors.live.models import LiveSeries, LiveSource  # noqa: E402, F401 - registered here
