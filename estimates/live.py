"""Live telemetry into daily rows: additive increments on arrival, a projection at most daily.

A request only turns its points into increments (connectors.live.series) and adds them to the
source's daily rows in one short transaction, with one ``INSERT … ON CONFLICT DO UPDATE SET
x = x + excluded.x`` per row: several sessions export in the same second, so there is no
read-modify-write. The projection is rebuilt on the first data and then once a day by
``live_reproject_all`` (beat), never per request.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Min, Sum
from django.utils import timezone

from connectors.live.models import LiveBilling, LiveSource
from connectors.live.points import Extracted, Point
from connectors.live.series import increments_apply
from connectors.models import EstimateSource, Kind
from tokenoffset.accounts.services import account_data_changed

from .models import DailyUsage, Projection, PushedSource

COLUMNS = ("uncached_input", "cache_read", "cache_write", "output")


def live_ingest(*, live: LiveSource, extracted: Extracted) -> int:
    """Add the request's token points to the source's daily rows; the tokens added."""
    source = live.source
    now = timezone.now()
    with transaction.atomic():
        added = increments_apply(source, extracted.points)
        live_rows_add(source=source, added=added)
        updates = {}
        new_orgs = extracted.organization_ids - set(live.organization_ids)
        if new_orgs:
            # Org ids are few and rarely new: lock the row only when one appears.
            locked = LiveSource.objects.select_for_update().get(pk=live.pk)
            updates["organization_ids"] = sorted(set(locked.organization_ids) | new_orgs)
        if extracted.no_account and not live.no_account_seen:
            updates["no_account_seen"] = True
        first = bool(added) and live.first_data_at is None
        if first:
            updates["first_data_at"] = now
        if added and (live.last_data_at is None or now - live.last_data_at > timedelta(minutes=1)):
            updates["last_data_at"] = now
        if updates:
            LiveSource.objects.filter(pk=live.pk).update(**updates)
        if first:
            _enqueue_reproject(source.pk)
    if added:  # after the commit: concurrent exports of the account do not wait on each other
        account_data_changed(account_id=source.account_id)
    return sum(amount for _, amount in added)


def _enqueue_reproject(source_pk: int) -> None:
    from estimates.tasks import live_reproject_task  # tasks import this module; enqueue lazily

    transaction.on_commit(lambda: live_reproject_task.delay(source_pk))


def live_rows_add(*, source: EstimateSource, added: list[tuple[Point, int]]) -> int:
    """Add increments to (day, model, tier) rows, atomically per row; the rows touched."""
    totals: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for point, amount in added:
        totals[(point.day, point.model, point.service_tier)][point.column] += amount
    if not totals:
        return 0
    table = connection.ops.quote_name(DailyUsage._meta.db_table)
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    sql = (
        f"INSERT INTO {table} (account_id, source_id, date, model, service_tier, "  # noqa: S608
        "context_window, batch, uncached_input, cache_read, cache_write, cache_write_1h, output, "
        "web_search_requests) VALUES (%s, %s, %s, %s, %s, '', '', %s, %s, %s, 0, %s, 0) "
        "ON CONFLICT (source_id, date, model, service_tier, context_window, batch) "
        f"DO UPDATE SET {sums}"
    )
    rows = [
        (source.account_id, source.pk, day, model, tier, *(counts[c] for c in COLUMNS))
        for (day, model, tier), counts in sorted(totals.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def live_excluded(live: LiveSource) -> bool:
    """Whether the stream is already counted by a connected admin key (methodology)."""
    admin = EstimateSource.objects.filter(
        account_id=live.source.account_id, kind=Kind.ADMIN_KEY, vendor=live.source.vendor
    )
    org_ids = set(admin.exclude(organization_id="").values_list("organization_id", flat=True))
    if org_ids & set(live.organization_ids):
        return True
    return live.billing == LiveBilling.API_KEY and admin.exists()


def live_reproject(*, source: EstimateSource, latest_day: date | None = None) -> Projection:
    """The live source's projection over its days up to latest_day (default: yesterday)."""
    from .pushed import pushed_project

    live = LiveSource.objects.get(source=source)
    if latest_day is None:
        # Complete days only, unless today is all there is (a preliminary figure at once).
        yesterday = timezone.now().date() - timedelta(days=1)
        complete = DailyUsage.objects.filter(source=source, date__lte=yesterday).exists()
        latest_day = yesterday if complete else yesterday + timedelta(days=1)
    excluded = live_excluded(live)
    with transaction.atomic():
        projection = pushed_project(
            source=source,
            latest_day=latest_day,
            progress={"live": {"latest_day": latest_day.isoformat(), "excluded": excluded}},
            excluded_from_total=excluded,
            usage=_usage_with_logs_before(live),
        )
        LiveSource.objects.filter(pk=live.pk).update(
            excluded_from_total=excluded, projected_at=timezone.now()
        )
        # Local logs of the same tool now count only the days before the stream began.
        for pushed in PushedSource.objects.filter(
            account_id=source.account_id, surface=live.tool, latest_day__isnull=False
        ).select_related("source"):
            pushed_project(
                source=pushed.source,
                latest_day=pushed.latest_day,
                progress={"upload": {"reprojected_for_live": True}},
                excluded_from_total=pushed.excluded_from_total,
            )
    return projection


def _usage_with_logs_before(live: LiveSource) -> list[DailyUsage]:
    """The live rows, preceded by the local-logs rows of the same tool from the days before the
    stream began (for the account's first live source of the tool only, so none counts twice);
    on days with both, the live rows."""
    source = live.source
    rows = list(DailyUsage.objects.filter(source=source).order_by("date"))
    tool_rows = DailyUsage.objects.filter(
        account_id=source.account_id, source__kind=Kind.LIVE, source__live__tool=live.tool
    )
    first = tool_rows.order_by("date", "source_id").values_list("source_id", "date").first()
    if first is None or first[0] != source.pk:
        return rows
    counted_logs = PushedSource.objects.filter(
        account_id=source.account_id, surface=live.tool, excluded_from_total=False
    ).values_list("source_id", flat=True)
    before = DailyUsage.objects.filter(source_id__in=list(counted_logs), date__lt=first[1])
    return sorted([*before, *rows], key=lambda row: row.date)


def live_reproject_all() -> int:
    """Daily: re-project every live source that has data; the number re-projected."""
    done = 0
    for live in LiveSource.objects.filter(first_data_at__isnull=False).select_related("source"):
        live_reproject(source=live.source)
        done += 1
    return done


def local_logs_cutoff(source: EstimateSource) -> date | None:
    """For a local-logs source: the first day of a live stream of the same tool, if any."""
    if source.kind != Kind.LOCAL_LOGS:
        return None
    surface = PushedSource.objects.filter(source=source).values_list("surface", flat=True).first()
    return DailyUsage.objects.filter(
        account_id=source.account_id, source__kind=Kind.LIVE, source__live__tool=surface
    ).aggregate(first=Min("date"))["first"]


def live_today(*, account) -> int:
    """Today's live tokens so far (UTC), over the account's live sources."""
    totals = DailyUsage.objects.filter(
        account=account, source__kind=Kind.LIVE, date=timezone.now().date()
    ).aggregate(**{c: Sum(c) for c in COLUMNS})
    return sum(v or 0 for v in totals.values())
