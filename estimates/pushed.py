"""Daily rows pushed to us (local logs now, live telemetry later): store them and re-project.

A pushed source has no fetch: each send replaces the source's rows for the days it covers, in one
short atomic block, and records a succeeded Sample (trigger ``upload``) carrying a new Projection,
so the dashboard, the account's total and billing see it like any sampled source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from connectors.local_logs.schema import SURFACE_NAMES, Upload, UploadRow, UploadSource
from connectors.models import EstimateSource, Kind, SourceStatus
from connectors.records import BLANK, UsageRecord
from tokenoffset.accounts.models import Account
from tokenoffset.accounts.services import account_data_changed

from . import live, storage
from .coefficients import coefficient_set_active
from .models import DailyUsage, Projection, PushedSource, Sample, SampleStatus, SampleTrigger
from .sampling.claim import WINDOW_DAYS
from .sampling.run import _unclassified_record


@dataclass(frozen=True)
class Stored:
    """What one tool's part of an upload did."""

    pushed: PushedSource
    projection: Projection
    rows: int
    created: bool


def pushed_rows_replace(
    *,
    source: EstimateSource,
    first_day: date,
    last_day: date,
    latest_day: date,
    records: list[UsageRecord],
    user,
    progress: dict,
    excluded_from_total: bool = False,
) -> Projection:
    """Replace the source's rows for first_day…last_day and project a window ending at latest_day.

    Call inside ``transaction.atomic()``. Rows outside first_day…last_day stay; the projection
    reads every stored row of its 90-day window. When the source's usage is already counted
    elsewhere (``excluded_from_total``), its rows are kept but the projection counts none.
    """
    usage = storage.usage_rows(records)
    storage.rows_replace(source, first_day, last_day + timedelta(days=1), usage, [])
    return pushed_project(
        source=source,
        latest_day=latest_day,
        user=user,
        progress=progress,
        excluded_from_total=excluded_from_total,
    )


def pushed_project(
    *,
    source: EstimateSource,
    latest_day: date,
    user=None,
    progress: dict,
    excluded_from_total: bool = False,
    usage: list[DailyUsage] | None = None,
) -> Projection:
    """A succeeded Sample (trigger upload) and its projection over the 90 days to latest_day.

    Call inside ``transaction.atomic()``. ``usage``: the rows to project (default: the source's
    rows in the window). A local-logs source whose tool also streams live counts nothing here:
    its days before the stream are projected with the live source (live.live_reproject).
    """
    window_end = latest_day + timedelta(days=1)
    window_start = window_end - timedelta(days=WINDOW_DAYS)
    now = timezone.now()
    sample = Sample.objects.create(
        account_id=source.account_id,
        source=source,
        trigger=SampleTrigger.UPLOAD,
        status=SampleStatus.SUCCEEDED,
        window_start=window_start,
        window_end=window_end,
        progress=progress,
        requested_by=user,
        started_at=now,
        finished_at=now,
    )
    if excluded_from_total or live.local_logs_cutoff(source):
        in_window = []
    elif usage is not None:
        in_window = [row for row in usage if window_start <= row.date < window_end]
    else:
        in_window = list(
            DailyUsage.objects.filter(
                source=source, date__gte=window_start, date__lt=window_end
            ).order_by("date")
        )
    previous = (
        source.projections.filter(sample__status=SampleStatus.SUCCEEDED)
        .exclude(sample=sample)
        .first()
    )
    projection = storage.projection_build(
        sample=sample,
        usage=in_window,
        costs=[],
        coefficient_set=coefficient_set_active(),
        previous=previous,
    )
    projection.save()
    EstimateSource.objects.filter(pk=source.pk).update(status=SourceStatus.READY, last_error="")
    _unclassified_record(source.vendor, projection.unclassified_models)
    account_data_changed(account_id=source.account_id)
    return projection


def local_upload_store(*, account: Account, user, upload: Upload) -> list[Stored]:
    """Store each tool of a validated upload as the sender's source for that tool and computer."""
    stored = []
    with transaction.atomic():
        # One upload at a time per account: the (sender, tool, computer) lookup-or-create below
        # must not race another tab's send.
        list(Account.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        for part in upload.sources:
            stored.append(_store_tool(account=account, user=user, upload=upload, part=part))
    return stored


def _store_tool(*, account: Account, user, upload: Upload, part: UploadSource) -> Stored:
    pushed = (
        PushedSource.objects.select_related("source")
        .filter(account=account, sent_by=user, surface=part.surface, computer=upload.computer)
        .first()
    )
    created = pushed is None
    if created:
        source = EstimateSource.objects.create(
            account=account,
            kind=Kind.LOCAL_LOGS,
            vendor=part.vendor,
            label=f"{SURFACE_NAMES[part.surface]} on {upload.computer}"[:100],
            key_ciphertext=b"",
            key_hint="",
            status=SourceStatus.READY,
            created_by=user,
        )
        pushed = PushedSource(account=account, source=source, sent_by=user, surface=part.surface)
        pushed.computer = upload.computer
    rows = upload.rows_of(part.surface)
    quality = {
        name: sum(getattr(row, name) for row in rows)
        for name in ("partial_output_requests", "fork_parent_missing", "errored_rows")
    }
    excluded = part.billing == "api_key" and _admin_key_connected(account, part.vendor)
    pushed.billing = part.billing
    pushed.parser_version = upload.parser_version
    pushed.first_day, pushed.last_day = part.first_day, part.last_day
    pushed.latest_day = max(filter(None, (pushed.latest_day, part.last_day)))
    pushed.files_scanned = part.files_scanned
    pushed.warnings = list(part.warnings)
    pushed.quality = quality
    pushed.excluded_from_total = excluded
    pushed.last_sent_at = timezone.now()
    pushed.save()
    projection = pushed_rows_replace(
        source=pushed.source,
        first_day=part.first_day,
        last_day=part.last_day,
        latest_day=pushed.latest_day,
        records=[_record(row) for row in rows],
        user=user,
        progress={
            "upload": {
                "surface": part.surface,
                "billing": part.billing,
                "first_day": part.first_day.isoformat(),
                "last_day": part.last_day.isoformat(),
                "rows": len(rows),
                "parser_version": upload.parser_version,
                "excluded_from_total": excluded,
            }
        },
        excluded_from_total=excluded,
    )
    return Stored(pushed=pushed, projection=projection, rows=len(rows), created=created)


def _admin_key_connected(account: Account, vendor: str) -> bool:
    """An admin-key source of the tool's maker already reports API-key traffic (methodology)."""
    return EstimateSource.objects.filter(
        account=account, kind=Kind.ADMIN_KEY, vendor=vendor
    ).exists()


def _record(row: UploadRow) -> UsageRecord:
    split = (row.cache_write_5m or 0) + (row.cache_write_1h or 0)
    return UsageRecord(
        day=row.day,
        model=row.model,
        # Claude Code's fast mode is priced apart: kept as the row's tier, never in the model id.
        service_tier=row.speed or BLANK,
        context_window=BLANK,
        batch=BLANK,
        uncached_input=row.input_uncached,
        cache_read=row.cache_read,
        cache_write=split + row.cache_write_unsplit,
        cache_write_1h=row.cache_write_1h or 0,
        output=row.output,
        requests=row.requests,
    )
