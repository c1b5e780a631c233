"""From fetched records to stored rows and a projection.

The write replaces, never upserts: the source's rows for the window's dates are deleted and the
new ones bulk-inserted in one short atomic block, so a group that disappeared at the vendor
disappears here too, and a re-sample never double counts.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import connection

from connectors import registry
from connectors.models import EstimateSource
from connectors.records import CostRecord, UsageRecord

from .classify import model_class, model_maker
from .coefficients import coefficient_values, model_class_rules
from .coverage import spend_left_out
from .footprint import TOKEN_TYPES, Footprint, footprint, raw_price
from .models import CoefficientSet, DailyCost, DailyUsage, Projection, Sample
from .projection import forecast_series, project, trend_pct
from .rows import COST_FIELDS, USAGE_FIELDS, CostRow, Rows, UsageRow
from .sanity import energy_spend_ratio

BATCH_SIZE = 2000


def usage_rows(records: Iterable[UsageRecord]) -> list[UsageRow]:
    """One row per (day, model, tier, context window, batch); duplicates are summed."""
    return Rows(records).usage


def cost_rows(records: Iterable[CostRecord]) -> list[CostRow]:
    """One row per (day, description, dimensions, currency); lines that still collide are summed."""
    return Rows(records).costs


def rows_replace(source: EstimateSource, start: date, end: date, usage, costs) -> None:
    """Replace the source's rows for [start, end). Call inside ``transaction.atomic()``."""
    DailyUsage.objects.filter(source=source, date__gte=start, date__lt=end).delete()
    DailyCost.objects.filter(source=source, date__gte=start, date__lt=end).delete()
    _insert(DailyUsage, source, usage, USAGE_FIELDS)
    _insert(DailyCost, source, costs, COST_FIELDS)


def _insert(model, source: EstimateSource, rows: list, names: tuple[str, ...]) -> None:
    """Bulk insert; on PostgreSQL one COPY per table of plain tuples (a heavy sample is ~15,000
    rows: per-field conversions through model instances would cost more than the COPY)."""
    if connection.vendor != "postgresql":
        objects = (model(account_id=source.account_id, source=source, **_fields(r)) for r in rows)
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(n).column) for n in names)
    prefix = (source.account_id, source.pk)
    # The raw COPY bypasses Django's cursor wrapper: wrap_database_errors turns psycopg's
    # errors (a value too long for its column…) into django.db ones (DataError…) as usual.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {quote(model._meta.db_table)} (account_id, source_id, {columns}) FROM STDIN"  # noqa: S608 - names from our own model
        ) as copy,
    ):
        write = copy.write_row
        for row in rows:
            write((*prefix, *row.copy_values()))


def _fields(row) -> dict:
    return {name: getattr(row, name) for name in row.__slots__}


def _footprint_json(fp: Footprint) -> dict[str, str]:
    return {name: str(getattr(fp, name)) for name in Footprint.__dataclass_fields__}


# A coefficient set is read-only while a projection refers to it (the admin locks it): what this
# process read of a set it has seen referenced is kept, by id and version, for a minute, as one
# whose projections were all deleted since is unlocked and may be edited.
PARTS_MAX_AGE = 60.0  # seconds
_referenced_parts: dict[tuple[int, str], tuple[float, tuple]] = {}


def coefficient_parts(coefficient_set: CoefficientSet) -> tuple:
    """What ``projection_build`` reads of a coefficient set: its class rules and values."""
    kept = _referenced_parts.get((coefficient_set.pk, coefficient_set.version))
    if kept is not None and time.monotonic() < kept[0]:
        return kept[1]
    return model_class_rules(coefficient_set), coefficient_values(coefficient_set)


def coefficient_parts_referenced(coefficient_set: CoefficientSet, parts: tuple) -> None:
    """A committed projection now refers to ``coefficient_set``: keep ``parts`` read of it."""
    key = (coefficient_set.pk, coefficient_set.version)
    kept = _referenced_parts.get(key)
    if kept is None or kept[1] is not parts:  # kept from when they were read, not renewed
        _referenced_parts[key] = (time.monotonic() + PARTS_MAX_AGE, parts)


def projection_build(
    *,
    sample: Sample,
    usage: list[UsageRow],
    costs: list[CostRow],
    coefficient_set: CoefficientSet,
    previous: Projection | None,
    parts: tuple | None = None,
) -> Projection:
    """Forecast next month per (vendor, model class, token type) and price its footprint.

    The vendor of a row is the model's maker, not the source's: a Cursor row for a Claude model
    takes Anthropic's overheads, Cursor's own models the unknown vendor's. With ``parts`` (from
    ``coefficient_parts``) it reads nothing from the database, so it may run on another thread.
    """
    source = sample.source
    rules, values = parts or coefficient_parts(coefficient_set)
    series: dict[tuple[str, str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    unclassified: set[str] = set()
    classes: dict[str, tuple[str, str]] = {}
    for row in usage:
        if row.model not in classes:
            maker = model_maker(row.model, source.vendor)
            klass, known = model_class(maker, row.model, rules)
            classes[row.model] = (maker, klass)
            if not known:
                unclassified.add(row.model)
        maker, klass = classes[row.model]
        for token_type in TOKEN_TYPES:
            count = getattr(row, token_type)
            if count:
                series[(maker, klass, token_type)][row.date] += count
    result = project(series, window_start=sample.window_start, window_end=sample.window_end)

    by_class: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    usage_point, usage_low, usage_high = (defaultdict(dict) for _ in range(3))
    monthly_tokens = dict.fromkeys(TOKEN_TYPES, 0)
    for (vendor, klass, token_type), forecast in result.forecasts.items():
        by_class[f"{vendor}|{klass}"][token_type] = {
            "point": int(forecast.point),
            "low": int(forecast.low),
            "high": int(forecast.high),
        }
        usage_point[(vendor, klass)][token_type] = forecast.point
        usage_low[(vendor, klass)][token_type] = forecast.low
        usage_high[(vendor, klass)][token_type] = forecast.high
        monthly_tokens[token_type] += forecast.point
    monthly_tokens = {k: int(Decimal(v).to_integral_value()) for k, v in monthly_tokens.items()}

    spend_daily: dict[date, Decimal] = defaultdict(Decimal)
    for row in costs:
        # Provider spend is shown in dollars: lines billed in another currency are left out.
        if row.currency in ("USD", ""):
            spend_daily[row.date] += row.amount_usd
    spend = forecast_series(
        spend_daily,
        window_start=sample.window_start,
        window_end=sample.window_end,
        first_usage=result.first_usage or min(spend_daily, default=None),
    )
    searches_daily: dict[date, int] = defaultdict(int)
    for row in usage:
        if row.web_search_requests:
            searches_daily[row.date] += row.web_search_requests
    searches = forecast_series(
        searches_daily,
        window_start=sample.window_start,
        window_end=sample.window_end,
        first_usage=result.first_usage,
    )
    fp, fp_low, fp_high = (footprint(dict(u), values) for u in (usage_point, usage_low, usage_high))
    total = sum(monthly_tokens.values())
    spend_usd = spend.point.quantize(Decimal("0.000001"))
    return Projection(
        account_id=source.account_id,
        source=source,
        sample=sample,
        coefficient_set=coefficient_set,
        method_version=result.method,
        window_start=sample.window_start,
        window_end=sample.window_end,
        first_usage=result.first_usage,
        last_usage=result.last_usage,
        active_days=result.active_days,
        preliminary=result.preliminary,
        monthly_tokens=monthly_tokens,
        monthly_tokens_by_class=dict(by_class),
        monthly_tokens_low=int(result.total.low),
        monthly_tokens_high=int(result.total.high),
        provider_spend_usd=spend_usd,
        provider_spend_low_usd=spend.low.quantize(Decimal("0.000001")),
        provider_spend_high_usd=spend.high.quantize(Decimal("0.000001")),
        it_kwh=fp.it_kwh,
        kwh=fp.kwh,
        co2e_kg=fp.co2e_kg,
        water_l=fp.water_l,
        footprint_low=_footprint_json(fp_low),
        footprint_high=_footprint_json(fp_high),
        price_contribution_usd=raw_price(fp, values).quantize(Decimal("0.00000001")),
        trend_pct=trend_pct(total, previous.monthly_tokens_total) if previous else None,
        unclassified_models=sorted(unclassified),
        monthly_web_search_requests=int(searches.point.to_integral_value()),
        energy_spend_ratio=energy_spend_ratio(fp.kwh, spend_usd),
        spend_left_out=_left_out(source, costs, usage),
    )


def _left_out(source: EstimateSource, costs, usage) -> dict:
    try:
        connector = registry.for_source(source)
    except registry.UnknownSourceKind:
        return {}
    return spend_left_out(connector.coverage, costs, usage)
