"""Staff: coefficient sets and their versions, activation, and unclassified models.

A set that a projection or an offset refers to is read-only: staff clone it into the next
version, edit that, then activate it. Activating moves no price anyone pays: offsets keep the
price they snapshotted when an owner chose them.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from tokenoffset.accounts.services import all_accounts_data_changed

from . import sanity
from .coefficients import bands_priced
from .models import (
    Band,
    Coefficient,
    CoefficientSet,
    FlaggedProjection,
    ModelClassRule,
    UnclassifiedModel,
)

VERSION_NUMBER = re.compile(r"v(\d+)")


class CoefficientSetInvalid(Exception):
    """The set cannot be activated as it is; the message says why."""


def coefficient_set_next_version() -> str:
    """ "v<N+1>" for the highest "v<N>" among the existing sets."""
    versions = CoefficientSet.objects.values_list("version", flat=True)
    numbers = [int(m.group(1)) for v in versions if (m := VERSION_NUMBER.fullmatch(v))]
    return f"v{max(numbers, default=0) + 1}"


def coefficient_set_clone(*, source: CoefficientSet) -> CoefficientSet:
    """An inactive, editable successor with a copy of every coefficient, band and rule."""
    with transaction.atomic():
        clone = CoefficientSet.objects.create(
            version=coefficient_set_next_version(), notes=f"Cloned from {source.version}."
        )
        for related in (source.coefficients, source.bands, source.model_class_rules):
            rows = list(related.all())
            for row in rows:
                row.pk, row.coefficient_set = None, clone
            related.model.objects.bulk_create(rows)
    return clone


def coefficient_set_activate(*, coefficient_set: CoefficientSet) -> None:
    """Make this the one set new projections and band offers use; adopted prices stay."""
    try:
        priced = bands_priced(coefficient_set)
    except (KeyError, TypeError, ArithmeticError) as e:
        raise CoefficientSetInvalid(
            f"{coefficient_set.version} is missing a coefficient ({e}); it was not activated."
        ) from None
    if not priced:
        raise CoefficientSetInvalid(f"{coefficient_set.version} has no bands; not activated.")
    with transaction.atomic():
        # Deactivate first: the partial unique index allows one active set at any moment.
        CoefficientSet.objects.filter(is_active=True).exclude(pk=coefficient_set.pk).update(
            is_active=False
        )
        CoefficientSet.objects.filter(pk=coefficient_set.pk, is_active=False).update(
            is_active=True, activated_at=timezone.now()
        )
        all_accounts_data_changed()  # the bands every dashboard offers are priced anew


def _locked(obj) -> bool:
    """Whether ``obj`` (a set) is referenced; computed once per object (admin asks often)."""
    if obj is None:
        return False
    if not hasattr(obj, "_locked"):
        obj._locked = obj.is_referenced
    return obj._locked


class SetPartInline(admin.TabularInline):
    extra = 0
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}

    def has_add_permission(self, request, obj=None):
        return not _locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _locked(obj) and super().has_delete_permission(request, obj)


class CoefficientInline(SetPartInline):
    model = Coefficient
    fields = ["group", "vendor", "name", "value", "low", "high", "confidence", "sources"]


class BandInline(SetPartInline):
    model = Band
    fields = [
        "position", "slug", "name", "tokens_low", "tokens_high", "volume", "mix_output",
        "mix_uncached_input", "mix_cache_write", "mix_cache_read", "model_class", "vendor",
        "description",
    ]  # fmt: skip


class ModelClassRuleInline(SetPartInline):
    model = ModelClassRule
    fields = ["vendor", "position", "pattern", "model_class"]


@admin.register(CoefficientSet)
class CoefficientSetAdmin(admin.ModelAdmin):
    list_display = ["version", "is_active", "referenced", "activated_at", "created_at"]
    fields = ["version", "notes", "is_active", "activated_at", "created_at"]
    readonly_fields = ["is_active", "activated_at", "created_at"]
    inlines = [CoefficientInline, BandInline, ModelClassRuleInline]
    actions = ["clone_next_version", "activate"]
    change_form_template = "admin/estimates/coefficientset/change_form.html"

    @admin.display(boolean=True, description="Referenced (read-only)")
    def referenced(self, obj):
        return _locked(obj)

    def get_actions(self, request):
        # Bulk delete would bypass the per-set checks below.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request, obj=None):
        return not _locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_active or _locked(obj)):
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Clone as next version", permissions=["add"])
    def clone_next_version(self, request, queryset):
        clones = [coefficient_set_clone(source=s) for s in queryset.order_by("created_at")]
        for clone in clones:
            self.message_user(request, f"Created {clone.version}: edit it, then activate it.")
        if len(clones) == 1:
            url = reverse("admin:estimates_coefficientset_change", args=[clones[0].pk])
            return HttpResponseRedirect(url)
        return None

    @admin.action(description="Activate (new projections and band offers use it)")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one set to activate.", messages.ERROR)
            return
        coefficient_set = queryset.get()
        try:
            coefficient_set_activate(coefficient_set=coefficient_set)
        except CoefficientSetInvalid as e:
            self.message_user(request, str(e), messages.ERROR)
            return
        self.message_user(
            request,
            f"{coefficient_set.version} is active. Prices owners already chose are unchanged; "
            "they are offered the new price and adopt it only if they want to.",
        )


@admin.register(UnclassifiedModel)
class UnclassifiedModelAdmin(admin.ModelAdmin):
    """Model ids no rule classified (counted as "large"): curate rules in the next version."""

    list_display = [
        "model",
        "vendor",
        "times_seen",
        "sources_seen",
        "first_seen_at",
        "last_seen_at",
    ]
    list_filter = ["vendor"]
    search_fields = ["model", "vendor"]
    ordering = ["-times_seen", "model"]
    readonly_fields = [f.name for f in UnclassifiedModel._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FlaggedProjection)
class FlaggedProjectionAdmin(admin.ModelAdmin):
    """Sources whose latest energy estimate exceeds 30% of what their spend buys in GPU time
    (about $2 per H100-hour at ~1.2 kW): review their model classes and token counts."""

    list_display = [
        "source_label", "vendor", "account", "energy_kwh", "provider_spend",
        "spend_buys_kwh", "ratio", "monthly_tokens_shown", "created_at",
    ]  # fmt: skip
    list_display_links = None
    search_fields = ["source__label", "account__name"]

    def get_queryset(self, request):
        # The model's manager keeps each source's latest projection, when flagged.
        return super().get_queryset(request).select_related("source", "account")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Source", ordering="source__label")
    def source_label(self, obj):
        return obj.source.label

    @admin.display(description="Vendor", ordering="source__vendor")
    def vendor(self, obj):
        return obj.source.vendor

    @admin.display(description="Energy (kWh/month)", ordering="kwh")
    def energy_kwh(self, obj):
        return f"{obj.kwh:,.2f}"

    @admin.display(description="Provider spend ($/month)", ordering="provider_spend_usd")
    def provider_spend(self, obj):
        return f"{obj.provider_spend_usd:,.2f}"

    @admin.display(description="GPU energy the spend buys (kWh)")
    def spend_buys_kwh(self, obj):
        return f"{sanity.spend_energy_kwh(obj.provider_spend_usd):,.2f}"

    @admin.display(description="Energy ÷ GPU energy", ordering="energy_spend_ratio")
    def ratio(self, obj):
        return f"{obj.energy_spend_ratio:.0%}"

    @admin.display(description="Tokens/month")
    def monthly_tokens_shown(self, obj):
        return f"{obj.monthly_tokens_total:,}"
