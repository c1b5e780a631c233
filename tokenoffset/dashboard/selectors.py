"""Everything the dashboard shows, read in a constant number of queries whatever the history.

Composes the estimates selectors (the account's estimate), the connectors' sources with their
sample progress, one aggregate over the daily rows for the chart, and the billing offset in force.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.proof import removal_so_far
from billing.selectors import BandOffer, band_offers, offset_in_force
from connectors import registry
from connectors.models import EstimateSource, SourceStatus
from estimates.footprint import TOKEN_TYPES
from estimates.models import DailyUsage
from estimates.projection import HORIZON_DAYS
from estimates.schedule import next_weekly_sample
from estimates.selectors import AccountEstimate, account_estimate, sources_with_sampling
from tokenoffset.dashboard.coverage import account_left_out

IN_PROGRESS = (SourceStatus.PENDING, SourceStatus.SAMPLING)

TOKEN_TYPE_LABELS = {
    "uncached_input": "Input (uncached)",
    "cache_read": "Cache reads",
    "cache_write": "Cache writes",
    "output": "Output",
}
TOKEN_TYPE_HINTS = {
    "uncached_input": "Prompt tokens read fresh",
    "cache_read": "Context re-read from the prompt cache; cheap per token but often most of them",
    "cache_write": "Context written to the prompt cache",
    "output": "Generated tokens, reasoning included",
}


def _connector(source):
    try:
        return registry.for_source(source)
    except registry.UnknownSourceKind:
        return None


def spend_reported(source) -> bool:
    """False when the source's kind has no spend report: its spend is "not reported"."""
    connector = _connector(source)
    return connector is None or connector.has_spend


def source_notes(source) -> str:
    """What the source's kind cannot report (e.g. "no cache split reported"); may be empty."""
    connector = _connector(source)
    return connector.notes if connector is not None else ""


@dataclass(frozen=True)
class TokenLine:
    token_type: str
    label: str
    hint: str
    point: int
    low: int
    high: int


@dataclass(frozen=True)
class DayTotals:
    day: date
    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write + self.output


@dataclass(frozen=True)
class SourceRow:
    source: EstimateSource
    last_sampled_at: datetime | None  # finish of the latest successful sample
    pages_done: int
    pages_total: int | None  # None while a report's page count is unknown
    no_usage_since: date | None = None  # its latest projection found no usage for two weeks
    monthly_spend_usd: Decimal | None = None  # its projected provider spend, when reported

    @property
    def spend_reported(self) -> bool:
        return spend_reported(self.source)

    @property
    def in_progress(self) -> bool:
        # A queued re-sample of a ready source is in progress too.
        return self.source.status in IN_PROGRESS or bool(
            getattr(self.source, "active_sample", None)
        )


@dataclass(frozen=True)
class DashboardData:
    offset: object | None  # billing.models.Offset
    estimate: AccountEstimate | None
    token_lines: list[TokenLine]
    provider_spend_low_usd: Decimal
    provider_spend_high_usd: Decimal
    days: list[DayTotals]
    sources: list[SourceRow]
    bands: list[BandOffer]  # only while no offset is in force
    next_sample_at: datetime
    removal: object | None = None  # billing.proof.RemovalSoFar
    cache_key: str = ""  # set when cached: tokenoffset.dashboard.snapshot

    @property
    def spend_unreported(self) -> list[str]:
        """Labels of the sources in the estimate whose spend is not reported (left out of it)."""
        if self.estimate is None:
            return []
        return [p.source.label for p in self.estimate.projections if not spend_reported(p.source)]

    @property
    def spend_left_out(self) -> str:
        """A few words on the spend the footprint does not count ("about 7% of it (images,
        audio) is not in the footprint yet"); empty when nothing is left out."""
        if self.estimate is None:
            return ""
        share, types = account_left_out(self.estimate.projections)
        if share <= 0 or not types:
            return ""
        pct = "under 1%" if share < Decimal("0.005") else f"about {share * 100:.0f}%"
        return f"{pct} of it ({', '.join(types)}) is not in the footprint yet"

    @property
    def polling(self) -> bool:
        return any(row.in_progress for row in self.sources)

    @property
    def offset_differs(self) -> bool:
        """The estimate's price differs from what is billed by at least a cent."""
        if self.estimate is None or self.offset is None:
            return False
        estimate_cents = int((self.estimate.price_usd * 100).to_integral_value(ROUND_CEILING))
        return estimate_cents != self.offset.price_cents

    @property
    def chart_key(self) -> str:
        """Changes whenever the figures behind the chart may have (the chart's cache key)."""
        if self.cache_key:
            return self.cache_key
        if self.estimate is None:
            return ""
        return "-".join(str(p.pk) for p in self.estimate.projections)

    @property
    def projected_per_day(self) -> tuple[Decimal, Decimal, Decimal] | None:
        """The projection as tokens per day: (point, low, high)."""
        if self.estimate is None:
            return None
        e = self.estimate
        return tuple(
            Decimal(n) / HORIZON_DAYS
            for n in (e.monthly_tokens_total, e.monthly_tokens_low, e.monthly_tokens_high)
        )


def progress_pages(progress: dict | None) -> tuple[int, int | None]:
    """Pages fetched and expected over all reports; the total is None while any is unknown."""
    reports = (progress or {}).get("reports") or {}
    done, total = 0, 0
    for report in reports.values():
        if not isinstance(report, dict):
            continue
        done += int(report.get("pages_done") or 0)
        if report.get("pages_total") is None:
            total = None
        elif total is not None:
            total += int(report["pages_total"])
    return done, (total if reports else None)


def sources_with_progress(*, account, estimate: AccountEstimate | None = None) -> list[SourceRow]:
    """The account's sources with their last successful sample and the running sample's progress."""
    projections = estimate.projections if estimate else []
    stopped = {p.source_id: p.last_usage for p in projections if p.stopped}
    spend = {p.source_id: p.provider_spend_usd for p in projections}
    rows = []
    for source in sources_with_sampling(account=account):
        active = source.active_sample
        done, total = progress_pages(active.progress if active else None)
        since = stopped.get(source.pk)
        row = SourceRow(source, source.last_sampled_at, done, total, since, spend.get(source.pk))
        rows.append(row)
    return rows


def daily_token_totals(*, account, source_ids, start: date, end: date) -> list[DayTotals]:
    """Tokens per day and type over [start, end), every day present: one aggregate query."""
    rows = (
        DailyUsage.objects.filter(
            account=account, source_id__in=source_ids, date__gte=start, date__lt=end
        )
        .values("date")
        .annotate(**{f"sum_{t}": Sum(t) for t in TOKEN_TYPES})
        .order_by("date")
    )
    by_day = {
        row["date"]: DayTotals(row["date"], **{t: int(row[f"sum_{t}"] or 0) for t in TOKEN_TYPES})
        for row in rows
    }
    return [
        by_day.get(day, DayTotals(day))
        for day in (start + timedelta(days=i) for i in range((end - start).days))
    ]


def token_lines(estimate: AccountEstimate) -> list[TokenLine]:
    """Monthly tokens per type with each type's range, summed over sources and model classes."""
    low = dict.fromkeys(TOKEN_TYPES, Decimal(0))
    high = dict.fromkeys(TOKEN_TYPES, Decimal(0))
    for projection in estimate.projections:
        seen: set[str] = set()
        for per_type in (projection.monthly_tokens_by_class or {}).values():
            for token_type, forecast in per_type.items():
                if token_type in low and isinstance(forecast, dict):
                    low[token_type] += Decimal(str(forecast.get("low", 0)))
                    high[token_type] += Decimal(str(forecast.get("high", 0)))
                    seen.add(token_type)
        for token_type in TOKEN_TYPES:
            if token_type not in seen:  # no breakdown stored: the point is all we know
                point = Decimal(int(projection.monthly_tokens.get(token_type, 0)))
                low[token_type] += point
                high[token_type] += point
    return [
        TokenLine(
            token_type=t,
            label=TOKEN_TYPE_LABELS[t],
            hint=TOKEN_TYPE_HINTS[t],
            point=estimate.monthly_tokens.get(t, 0),
            low=int(low[t]),
            high=int(high[t]),
        )
        for t in ("output", "uncached_input", "cache_write", "cache_read")
    ]


def dashboard_data(*, account, now: datetime | None = None, cache_key: str = "") -> DashboardData:
    """The dashboard's figures for one account."""
    now = now or timezone.now()
    offset = offset_in_force(account=account)
    estimate = account_estimate(account=account)
    days: list[DayTotals] = []
    lines: list[TokenLine] = []
    spend_low = spend_high = Decimal(0)
    if estimate is not None:
        lines = token_lines(estimate)
        spend_low = sum((p.provider_spend_low_usd for p in estimate.projections), Decimal(0))
        spend_high = sum((p.provider_spend_high_usd for p in estimate.projections), Decimal(0))
        days = daily_token_totals(
            account=account,
            source_ids=[p.source_id for p in estimate.projections],
            start=estimate.window_start,
            end=estimate.window_end,
        )
    return DashboardData(
        offset=offset,
        estimate=estimate,
        token_lines=lines,
        provider_spend_low_usd=spend_low,
        provider_spend_high_usd=spend_high,
        days=days,
        sources=sources_with_progress(account=account, estimate=estimate),
        bands=band_offers(monthly_tokens=estimate.monthly_tokens_total if estimate else None)
        if offset is None
        else [],
        next_sample_at=next_weekly_sample(now),
        removal=removal_so_far(account=account),
        cache_key=cache_key,
    )
