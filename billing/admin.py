"""Staff views of billing, plus the calibration page and the de-identified aggregate export
(computed in ``billing.calibration``)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from .calibration import aggregates_csv_write, calibration_report
from .models import Offset, OffsetChange, StripeEvent, Subscription, UsageAlert


@admin.register(Offset)
class OffsetAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "band_slug", "price_cents", "chosen_at"]
    search_fields = ["account__name", "account__public_id"]
    # The amount billed changes only through an owner's choice in the app.
    readonly_fields = [f.name for f in Offset._meta.fields]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view  # staff only: others go to the admin login
        return [
            path("calibration/", view(self.calibration_view), name="billing_calibration"),
            path("aggregates.csv", view(self.aggregates_view), name="billing_aggregates"),
            *super().get_urls(),
        ]

    def calibration_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Calibration: bands against sampled usage",
            "report": calibration_report(),
            "aggregates_url": reverse("admin:billing_aggregates"),
        }
        return TemplateResponse(request, "admin/billing/calibration.html", context)

    def aggregates_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"tokenoffset-aggregates-{timezone.now():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        aggregates_csv_write(response)
        return response


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


@admin.register(UsageAlert)
class UsageAlertAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "enabled",
        "last_sent_at",
        "last_billed_cents",
        "last_estimate_cents",
    ]
    list_filter = ["enabled"]
    readonly_fields = [f.name for f in UsageAlert._meta.fields]

    def has_add_permission(self, request):
        return False


from . import admin_fulfilment  # noqa: E402, F401  (the ledger's admin and the price guard)
