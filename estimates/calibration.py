"""Sampled usage across accounts, for staff calibration: each account's month as its real
sources' latest successful projections add up, and the small statistics the reports use.

Read-only and cross-account on purpose (staff only); knows nothing of what accounts pay.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery

from connectors.models import EstimateSource

from .models import Projection, SampleStatus


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


def median_or_none(values) -> float | None:
    return statistics.median(values) if values else None


def accounts_with_real_source(*, among) -> set[int]:
    """Of the account ids ``among``, those with at least one real (not sandbox) source."""
    return set(
        EstimateSource.objects.filter(is_sandbox=False, account_id__in=among)
        .values_list("account_id", flat=True)
        .distinct()
    )
