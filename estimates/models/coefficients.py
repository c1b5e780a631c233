"""Coefficients: data, versioned, immutable once something refers to them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from estimates.footprint import MODEL_CLASSES, TOKEN_TYPES

MODEL_CLASS_CHOICES = [(c, c) for c in MODEL_CLASSES]
TOKEN_TYPE_CHOICES = [(t, t) for t in TOKEN_TYPES]


class CoefficientSet(models.Model):
    """One version of every coefficient, band and model-class rule the footprint uses."""

    version = models.CharField(max_length=20, unique=True)
    is_active = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_coefficient_set"
            )
        ]

    def __str__(self):
        return f"{self.version}{' (active)' if self.is_active else ''}"

    @property
    def is_referenced(self) -> bool:
        """True once any projection or offset refers to this set: it is then read-only.

        Looks at every model pointing here, so estimates needs no import of billing.
        """
        for relation in self._meta.related_objects:
            if relation.related_model in (Coefficient, Band, ModelClassRule):
                continue
            if relation.related_model._default_manager.filter(
                **{relation.field.name: self}
            ).exists():
                return True
        return False


class CoefficientGroup(models.TextChoices):
    CLASS_ENERGY = "class_energy", "Energy per 1M output tokens (Wh), by model class"
    TOKEN_WEIGHT = "token_weight", "Token-type weight relative to an output token"
    VENDOR = "vendor", "Per-vendor overheads and intensities"
    PRICE = "price", "Price"


class Coefficient(models.Model):
    """One number of a coefficient set, with the range and sources we publish beside it."""

    coefficient_set = models.ForeignKey(CoefficientSet, models.CASCADE, related_name="coefficients")
    group = models.CharField(max_length=20, choices=CoefficientGroup.choices)
    vendor = models.CharField(max_length=20, blank=True)  # only for the vendor group
    name = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=20, decimal_places=6)
    low = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    high = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    confidence = models.CharField(max_length=20, blank=True)
    sources = models.TextField(blank=True)

    class Meta:
        ordering = ["group", "vendor", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["coefficient_set", "group", "vendor", "name"], name="unique_coefficient"
            )
        ]

    def __str__(self):
        return f"{self.group}:{self.vendor + ':' if self.vendor else ''}{self.name}={self.value}"


class Band(models.Model):
    """A representative monthly volume with an assumed mix, class and vendor; priced like usage."""

    coefficient_set = models.ForeignKey(CoefficientSet, models.CASCADE, related_name="bands")
    slug = models.SlugField(max_length=20)
    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)
    tokens_low = models.BigIntegerField()
    tokens_high = models.BigIntegerField(null=True, blank=True)  # null: no upper bound
    volume = models.BigIntegerField(help_text="Representative tokens per month")
    mix_output = models.DecimalField(max_digits=7, decimal_places=5)
    mix_uncached_input = models.DecimalField(max_digits=7, decimal_places=5)
    mix_cache_write = models.DecimalField(max_digits=7, decimal_places=5)
    mix_cache_read = models.DecimalField(max_digits=7, decimal_places=5)
    model_class = models.CharField(max_length=20, choices=MODEL_CLASS_CHOICES)
    vendor = models.CharField(max_length=20, default="unknown")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["coefficient_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["coefficient_set", "slug"], name="unique_band_per_set")
        ]

    def __str__(self):
        return f"{self.name} ({self.coefficient_set.version})"


class ModelClassRule(models.Model):
    """Ordered, vendor-scoped: ``re.fullmatch`` on the normalised model id; first match wins."""

    coefficient_set = models.ForeignKey(
        CoefficientSet, models.CASCADE, related_name="model_class_rules"
    )
    vendor = models.CharField(max_length=20)
    position = models.PositiveIntegerField()
    pattern = models.CharField(max_length=200)
    model_class = models.CharField(max_length=20, choices=MODEL_CLASS_CHOICES)

    class Meta:
        ordering = ["coefficient_set", "vendor", "position"]

    def __str__(self):
        return f"{self.vendor}: {self.pattern} → {self.model_class}"
