from django.contrib import admin

from .models import Offset, OffsetChange, StripeEvent, Subscription


@admin.register(Offset)
class OffsetAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "band_slug", "price_cents", "chosen_at"]
    search_fields = ["account__name", "account__public_id"]
    # The amount billed changes only through an owner's choice in the app.
    readonly_fields = [f.name for f in Offset._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(OffsetChange)
class OffsetChangeAdmin(admin.ModelAdmin):
    list_display = ["account", "from_price_cents", "to_price_cents", "reason", "created_at"]
    search_fields = ["account__name", "public_id"]
    readonly_fields = [f.name for f in OffsetChange._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["account", "status", "unit_amount_cents", "current_period_end"]
    search_fields = ["account__name", "stripe_customer_id", "stripe_subscription_id"]
    readonly_fields = [f.name for f in Subscription._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_id", "type", "account", "received_at", "processed_at", "outcome"]
    list_filter = ["type"]
    search_fields = ["stripe_id"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]
