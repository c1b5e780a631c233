"""Staff views of the fulfilment ledger, water purchases, and the price guard on coefficient sets.

The guard lives here because billing may read estimates, never the reverse: billing re-registers
the coefficient-set admin with a subclass whose "Activate" first checks the set's carbon price
against the live Stripe Climate price, and shows that price beside each set. Activation itself
stays ``estimates.admin.coefficient_set_activate``; estimates imports nothing from billing.
"""

from django.contrib import admin, messages
from django.db import models

from estimates.admin import CoefficientSetAdmin
from estimates.models import CoefficientSet

from .climate_price import PriceBelowCost, coefficient_set_price_check, live_price_words
from .ledger import water_purchase_allocate
from .models import (
    Allocation,
    CarryOver,
    ClimateOrderBatch,
    ClimateProduct,
    OffsetObligation,
    WaterPurchase,
)


def _readonly(model):
    return [f.name for f in model._meta.fields]


admin.site.unregister(CoefficientSet)


@admin.register(CoefficientSet)
class PricedCoefficientSetAdmin(CoefficientSetAdmin):
    list_display = [*CoefficientSetAdmin.list_display, "stripe_climate_price"]
    readonly_fields = [*CoefficientSetAdmin.readonly_fields, "stripe_climate_price"]
    fields = [*CoefficientSetAdmin.fields, "stripe_climate_price"]

    @admin.display(description="Carbon price vs Stripe Climate (live)")
    def stripe_climate_price(self, obj):
        return live_price_words(coefficient_set=obj)

    @admin.action(description="Activate (new projections and band offers use it)")
    def activate(self, request, queryset):
        if queryset.count() == 1:
            try:
                coefficient_set_price_check(coefficient_set=queryset.get())
            except PriceBelowCost as e:
                self.message_user(request, str(e), messages.ERROR)
                return None
        return super().activate(request, queryset)


@admin.register(OffsetObligation)
class OffsetObligationAdmin(admin.ModelAdmin):
    list_display = ["invoice_id", "account", "period", "amount_paid_cents", "fee_cents",
                    "removal_cents", "water_cents", "state"]  # fmt: skip
    list_filter = ["state", "period", "product_id"]
    search_fields = ["invoice_id", "payment_intent_id", "public_id"]
    readonly_fields = _readonly(OffsetObligation)

    def has_add_permission(self, request):
        return False


class AllocationInline(admin.TabularInline):
    model = Allocation
    fields = ["obligation", "metric_tons", "share", "netted_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ClimateOrderBatch)
class ClimateOrderBatchAdmin(admin.ModelAdmin):
    list_display = ["period", "product_id", "metric_tons", "stripe_order_id", "status",
                    "expected_delivery_year", "reorder_needed", "last_error"]  # fmt: skip
    list_filter = ["status", "product_id"]
    readonly_fields = _readonly(ClimateOrderBatch)
    inlines = [AllocationInline]

    def has_add_permission(self, request):
        return False


@admin.register(ClimateProduct)
class ClimateProductAdmin(admin.ModelAdmin):
    list_display = ["product_id", "name", "delivery_year", "price_total_cents", "refreshed_at"]
    readonly_fields = _readonly(ClimateProduct)


@admin.register(CarryOver)
class CarryOverAdmin(admin.ModelAdmin):
    list_display = ["product_id", "metric_tons", "updated_at"]
    readonly_fields = _readonly(CarryOver)


@admin.register(WaterPurchase)
class WaterPurchaseAdmin(admin.ModelAdmin):
    """Staff record each water-restoration purchase; saving it allocates it pro rata."""

    list_display = ["purchased_at", "partner", "cubic_metres", "amount_cents", "allocated_at"]
    fields = ["partner", "cubic_metres", "amount_cents", "currency", "receipt_url",
              "purchased_at", "allocated_at"]  # fmt: skip
    readonly_fields = ["allocated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # An allocated purchase is history: the m³ are in users' allocations.
        if obj is not None and obj.allocated_at is not None:
            return self.fields
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        covered = water_purchase_allocate(purchase=obj)
        self.message_user(request, f"Allocated to {covered} paid offsets.")
