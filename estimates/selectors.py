"""Tenant-scoped reads of estimates: the account's estimate is the sum of its sources' latest
successful projections, priced once on the total."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import JSONField, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from connectors.models import EstimateSource

from .classify import model_maker
from .coefficients import coefficient_values
from .footprint import Footprint, price
from .models import CoefficientSet, DailyUsage, Projection, Sample, SampleStatus

STALE_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class AccountEstimate:
    projections: list[Projection]
    coefficient_set: CoefficientSet
    sampled_at: datetime  # the oldest sample among the sources
    window_start: date
    window_end: date  # exclusive
    preliminary: bool
    stale: bool
    monthly_tokens: dict[str, int]
    monthly_tokens_low: int
    monthly_tokens_high: int
    provider_spend_usd: Decimal
    footprint: Footprint
    footprint_low: Footprint
    footprint_high: Footprint
    price_usd: Decimal
    price_low_usd: Decimal
    price_high_usd: Decimal
    trend_pct: float | None
    monthly_web_search_requests: int = 0  # a count of calls, never tokens

    @property
    def monthly_tokens_total(self) -> int:
        return sum(self.monthly_tokens.values())

    @property
    def no_usage_since(self) -> date | None:
        """The last day of usage, when every source has stopped (two whole weeks without any)."""
        if not all(p.stopped for p in self.projections):
            return None
        return max(p.last_usage for p in self.projections)


def _footprint(values: dict) -> Footprint:
    return Footprint(**{k: Decimal(str(values.get(k, 0))) for k in Footprint.__dataclass_fields__})


def projections_latest(*, account) -> list[Projection]:
    """Each of the account's sources' latest successful projection."""
    latest = (
        Projection.objects.filter(source=OuterRef("pk"), sample__status=SampleStatus.SUCCEEDED)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    ids = (
        EstimateSource.objects.filter(account=account)
        .annotate(latest_projection=Subquery(latest))
        .exclude(latest_projection=None)
        .values_list("latest_projection", flat=True)
    )
    return list(
        Projection.objects.filter(account=account, pk__in=list(ids))
        .select_related("sample", "coefficient_set", "source")
        .order_by("source__created_at")
    )


def account_estimate(*, account, projections=None) -> AccountEstimate | None:
    """The account's estimate, or None while no source has a successful sample."""
    projections = projections_latest(account=account) if projections is None else projections
    if not projections:
        return None
    newest = max(projections, key=lambda p: p.created_at)
    values = coefficient_values(newest.coefficient_set)

    def total(field) -> Footprint:
        result = Footprint(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
        for p in projections:
            result = result + (field(p) if not isinstance(field(p), dict) else _footprint(field(p)))
        return result

    point = total(lambda p: Footprint(p.it_kwh, p.kwh, p.co2e_kg, p.water_l))
    low, high = total(lambda p: p.footprint_low), total(lambda p: p.footprint_high)
    tokens: dict[str, int] = {}
    for p in projections:
        for token_type, count in p.monthly_tokens.items():
            tokens[token_type] = tokens.get(token_type, 0) + int(count)
    sampled_at = min(p.sample.finished_at for p in projections)
    trends = [(p.trend_pct, p.monthly_tokens_total) for p in projections if p.trend_pct is not None]
    trend = None
    if trends and len(trends) == len(projections):
        previous = sum(t / (1 + pct / 100) for pct, t in trends if pct > -100)
        current = sum(t for _, t in trends)
        trend = round((current - previous) / previous * 100, 1) if previous else None
    return AccountEstimate(
        projections=projections,
        coefficient_set=newest.coefficient_set,
        sampled_at=sampled_at,
        window_start=min(p.window_start for p in projections),
        window_end=max(p.window_end for p in projections),
        preliminary=any(p.preliminary for p in projections),
        stale=timezone.now() - sampled_at > STALE_AFTER,
        monthly_tokens=tokens,
        monthly_tokens_low=sum(p.monthly_tokens_low for p in projections),
        monthly_tokens_high=sum(p.monthly_tokens_high for p in projections),
        provider_spend_usd=sum((p.provider_spend_usd for p in projections), Decimal(0)),
        footprint=point,
        footprint_low=low,
        footprint_high=high,
        price_usd=price(point, values),
        price_low_usd=price(low, values),
        price_high_usd=price(high, values),
        trend_pct=trend,
        monthly_web_search_requests=sum(p.monthly_web_search_requests for p in projections),
    )


def sources_with_sampling(*, account) -> list[EstimateSource]:
    """The account's sources with ``last_sampled_at``, ``active_sample`` (or None) and
    ``latest_left_out`` (their latest projection's left-out spend, or None); 2 queries."""
    latest = (
        Projection.objects.filter(source=OuterRef("pk"), sample__status=SampleStatus.SUCCEEDED)
        .order_by("-created_at")
        .values("spend_left_out")[:1]
    )
    sources = list(
        EstimateSource.objects.filter(account=account)
        .defer("key_ciphertext")
        .annotate(
            last_sampled_at=Max(
                "samples__finished_at", filter=Q(samples__status=SampleStatus.SUCCEEDED)
            ),
            latest_left_out=Subquery(latest, output_field=JSONField()),
        )
        .order_by("created_at")
    )
    active = {
        s.source_id: s
        for s in Sample.objects.filter(
            account=account, status__in=[SampleStatus.QUEUED, SampleStatus.RUNNING]
        ).order_by("created_at")
    }
    for source in sources:
        source.active_sample = active.get(source.pk)
    return sources


USAGE_TOKEN_TYPES = ("uncached_input", "cache_read", "cache_write", "output")


def usage_daily(*, account, start: date, end: date, source=None) -> list[dict]:
    """The account's daily token counts per (date, source, model) for [start, end); one query.

    Rows of one model that differ only by service tier, context window or batch are summed.
    ``vendor`` is the model's maker (a Cursor row for a Claude model is Anthropic's).
    """
    rows = DailyUsage.objects.filter(account=account, date__gte=start, date__lt=end)
    if source is not None:
        rows = rows.filter(source=source)
    rows = (
        rows.values("date", "source__public_id", "source__vendor", "model")
        .annotate(**{t: Sum(t) for t in USAGE_TOKEN_TYPES}, searches=Sum("web_search_requests"))
        .order_by("date", "source__created_at", "source__public_id", "model")
    )
    return [
        {
            "date": row["date"].isoformat(),
            "source": str(row["source__public_id"]),
            "vendor": model_maker(row["model"], row["source__vendor"]),
            "model": row["model"],
            **{t: int(row[t] or 0) for t in USAGE_TOKEN_TYPES},
            "web_search_requests": int(row["searches"] or 0),  # a count, not tokens
        }
        for row in rows
    ]
