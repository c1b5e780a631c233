"""Proof of fulfilment: an account's removal so far, and the public ledger of every order.

The public page names no account: batches, tonnes, suppliers, statuses and links only.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import (
    Allocation,
    BatchStatus,
    ClimateOrderBatch,
    ClimateProduct,
    WaterAllocation,
    WaterPurchase,
)


@dataclass(frozen=True)
class RemovalSoFar:
    funded_tons: Decimal
    delivered_tons: Decimal
    water_m3: Decimal
    orders: list[dict]  # per order: period, order id, tonnes, status, expected year, links

    @property
    def any(self) -> bool:
        return bool(self.orders) or self.water_m3 > 0


def removal_so_far(*, account) -> RemovalSoFar:
    """The account's allocations: tonnes funded, delivered, and per order."""
    rows = (
        Allocation.objects.filter(obligation__account=account, netted_at=None)
        .values(
            "batch__public_id",
            "batch__period",
            "batch__stripe_order_id",
            "batch__status",
            "batch__expected_delivery_year",
            "batch__product_name",
            "batch__certificate_url",
        )
        .annotate(tons=Sum("metric_tons"))
        .order_by("-batch__period")
    )
    orders = [
        {
            "period": r["batch__period"],
            "order_id": r["batch__stripe_order_id"],
            "status": r["batch__status"],
            "expected_delivery_year": r["batch__expected_delivery_year"],
            "product": r["batch__product_name"],
            "certificate_url": r["batch__certificate_url"],
            "tons": r["tons"],
        }
        for r in rows
    ]
    funded = sum((o["tons"] for o in orders), Decimal(0))
    delivered = sum((o["tons"] for o in orders if o["status"] == BatchStatus.DELIVERED), Decimal(0))
    water = WaterAllocation.objects.filter(obligation__account=account).aggregate(
        m3=Sum("cubic_metres")
    )["m3"] or Decimal(0)
    return RemovalSoFar(funded, delivered, water, orders)


def removal_json(*, account) -> list[dict]:
    """The account's allocations for its data export."""
    return list(
        Allocation.objects.filter(obligation__account=account)
        .order_by("created_at", "id")
        .values(
            "metric_tons",
            "share",
            "netted_at",
            "created_at",
            invoice_id=F("obligation__invoice_id"),
            period=F("batch__period"),
            order_id=F("batch__stripe_order_id"),
            order_status=F("batch__status"),
            expected_delivery_year=F("batch__expected_delivery_year"),
            certificate_url=F("batch__certificate_url"),
        )
    )


def impact_ledger() -> dict:
    """Every order (newest first) with its deliveries, and the running totals."""
    batches = list(
        ClimateOrderBatch.objects.prefetch_related("deliveries").annotate(
            accounts=Count("allocations", filter=Q(allocations__netted_at=None))
        )
    )
    live = [b for b in batches if b.status != BatchStatus.CANCELED]
    funded = sum((b.metric_tons for b in live if b.stripe_order_id), Decimal(0))
    delivered = sum((b.metric_tons for b in live if b.delivered_at), Decimal(0))
    water = WaterPurchase.objects.aggregate(m3=Sum("cubic_metres"))["m3"] or Decimal(0)
    return {
        "batches": batches,
        "funded_tons": funded,
        "delivered_tons": delivered,
        "water_m3": water,
        "water_purchases": WaterPurchase.objects.all()[:50],
    }


def climate_product() -> ClimateProduct | None:
    """The configured Stripe Climate product as last refreshed (None before the first fetch)."""
    return ClimateProduct.objects.filter(product_id=settings.STRIPE_CLIMATE_PRODUCT_ID).first()


@require_GET
def impact(request):
    """Public: every order we placed, its status and its proof links; no account names."""
    return render(request, "public/impact.html", {**impact_ledger(), "product": climate_product()})
