"""Staff views of billing, plus the calibration page and the de-identified aggregate export.

Calibration compares what accounts chose (offsets, here) with what they sampled (projections,
in estimates); billing is the lowest layer that may read both.
"""

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from connectors.models import EstimateSource
from estimates.coefficients import NoActiveCoefficientSet, coefficient_set_active
from estimates.models import Projection, SampleStatus
from tokenoffset.accounts.spreadsheets import spreadsheet_cell

from .models import Offset, OffsetChange, OffsetKind, StripeEvent, Subscription, UsageAlert

# --- Calibration and aggregates (read-only, across accounts) -------------------------------

# Groups with fewer accounts than this are left out of the export (k-anonymity).
MIN_GROUP_ACCOUNTS = 5
AGGREGATE_COLUMNS = [
    "group", "value", "accounts", "monthly_tokens_total", "monthly_tokens_p25",
    "monthly_tokens_median", "monthly_tokens_p75", "kwh_total", "co2e_kg_total", "water_l_total",
]  # fmt: skip


def quartiles(values: list[int]) -> tuple[float, float, float] | None:
    """(p25, median, p75) of ``values``; None when empty."""
    if not values:
        return None
    if len(values) == 1:
        return (values[0],) * 3
    p25, median, p75 = statistics.quantiles(values, n=4, method="inclusive")
    return p25, median, p75


def quarter_start(moment: datetime) -> datetime:
    month = 3 * ((moment.month - 1) // 3) + 1
    return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_quarter_start(start: datetime) -> datetime:
    year, month = (start.year, start.month - 3) if start.month > 3 else (start.year - 1, 10)
    return start.replace(year=year, month=month)


def quarter_label(start: datetime) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


@dataclass
class Sampled:
    """One account's sampled month: the sum of its sources' latest projections."""

    tokens: int = 0
    kwh: Decimal = Decimal(0)
    co2e_kg: Decimal = Decimal(0)
    water_l: Decimal = Decimal(0)
    by_class: dict[str, int] = field(default_factory=dict)


def sampled_by_account(*, since=None, until=None) -> dict[int, Sampled]:
    """Per account, each real (not sandbox) source's latest successful projection made in
    [since, until), summed."""
    window = Q(source=OuterRef("pk"), sample__status=SampleStatus.SUCCEEDED)
    if since is not None:
        window &= Q(created_at__gte=since)
    if until is not None:
        window &= Q(created_at__lt=until)
    latest = Projection.objects.filter(window).order_by("-created_at").values("pk")[:1]
    ids = (
        EstimateSource.objects.filter(is_sandbox=False)
        .annotate(latest=Subquery(latest))
        .exclude(latest=None)
        .values("latest")
    )
    result: dict[int, Sampled] = defaultdict(Sampled)
    rows = Projection.objects.filter(pk__in=ids).values_list(
        "account_id", "monthly_tokens", "monthly_tokens_by_class", "kwh", "co2e_kg", "water_l"
    )
    for account_id, tokens, by_class, kwh, co2e_kg, water_l in rows:
        s = result[account_id]
        s.tokens += sum(int(v) for v in tokens.values())
        s.kwh, s.co2e_kg, s.water_l = s.kwh + kwh, s.co2e_kg + co2e_kg, s.water_l + water_l
        for key, types in by_class.items():
            points = sum(int(t.get("point", 0)) for t in types.values())
            s.by_class[key] = s.by_class.get(key, 0) + points
    return dict(result)


def _median(values) -> float | None:
    return statistics.median(values) if values else None


def calibration_report(*, now: datetime | None = None) -> dict:
    """Per band: accounts that chose it with a connected source, their sampled monthly tokens
    (quartiles) against the band's volume, and the median's change over the last quarter."""
    now = now or timezone.now()
    this_quarter = quarter_start(now)
    last_quarter = previous_quarter_start(this_quarter)
    band_of = dict(
        Offset.objects.filter(kind=OffsetKind.BAND).values_list("account_id", "band_slug")
    )
    connected = set(
        EstimateSource.objects.filter(is_sandbox=False, account_id__in=band_of)
        .values_list("account_id", flat=True)
        .distinct()
    )
    latest = sampled_by_account()
    current = sampled_by_account(since=this_quarter)
    previous = sampled_by_account(since=last_quarter, until=this_quarter)
    try:
        bands = list(coefficient_set_active().bands.all())
    except NoActiveCoefficientSet:
        bands = []
    rows = []
    for band in bands:
        accounts = [a for a in connected if band_of[a] == band.slug]
        spread = quartiles(sorted(latest[a].tokens for a in accounts if a in latest))
        now_median = _median([current[a].tokens for a in accounts if a in current])
        then_median = _median([previous[a].tokens for a in accounts if a in previous])
        change = None
        if now_median is not None and then_median:
            change = round((now_median - then_median) / then_median * 100, 1)
        rows.append(
            {
                "band": band,
                "accounts": len(accounts),
                "sampled": sum(1 for a in accounts if a in latest),
                "p25": spread and spread[0],
                "median": spread and spread[1],
                "p75": spread and spread[2],
                "median_vs_volume": spread and round(spread[1] / band.volume, 2),
                "median_this_quarter": now_median,
                "median_last_quarter": then_median,
                "qoq_pct": change,
            }
        )
    return {
        "rows": rows,
        "this_quarter": this_quarter,
        "last_quarter": last_quarter,
        "this_label": quarter_label(this_quarter),
        "last_label": quarter_label(last_quarter),
    }


def aggregate_rows() -> list[dict]:
    """De-identified aggregates: per band, offset kind and vendor × model class. No account,
    user, email, org name, key, source id or label; groups under 5 accounts are left out."""
    sampled = sampled_by_account()
    offsets = dict(Offset.objects.filter(account_id__in=sampled).values_list("account_id", "kind"))
    bands = dict(
        Offset.objects.filter(account_id__in=sampled, kind=OffsetKind.BAND).values_list(
            "account_id", "band_slug"
        )
    )
    groups: dict[tuple[str, str], list[Sampled]] = defaultdict(list)
    for account_id, s in sampled.items():
        groups[("all", "all")].append(s)
        groups[("offset_kind", offsets.get(account_id, "none"))].append(s)
        if account_id in bands:
            groups[("band", bands[account_id])].append(s)
        for key, tokens in s.by_class.items():
            groups[("vendor_model_class", key)].append(Sampled(tokens=tokens))
    rows = []
    for (group, value), members in sorted(groups.items()):
        if len(members) < MIN_GROUP_ACCOUNTS:
            continue
        spread = quartiles(sorted(m.tokens for m in members))
        per_class = group == "vendor_model_class"  # footprints are stored per source only

        def total(attr, per_class=per_class, members=members):
            return "" if per_class else f"{sum(getattr(m, attr) for m in members):.3f}"

        rows.append(
            {
                "group": group,
                "value": value,
                "accounts": len(members),
                "monthly_tokens_total": sum(m.tokens for m in members),
                "monthly_tokens_p25": round(spread[0]),
                "monthly_tokens_median": round(spread[1]),
                "monthly_tokens_p75": round(spread[2]),
                "kwh_total": total("kwh"),
                "co2e_kg_total": total("co2e_kg"),
                "water_l_total": total("water_l"),
            }
        )
    return rows


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
        writer = csv.writer(response)
        writer.writerow(AGGREGATE_COLUMNS)
        for row in aggregate_rows():
            writer.writerow([spreadsheet_cell(row[c]) for c in AGGREGATE_COLUMNS])
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
