"""Running a sample: fetch with no transaction open, then one short atomic write.

The write replaces the source's daily rows for the window and adds a projection; on any failure
the stored rows and the previous projection stay exactly as they were.
"""

import functools
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors import services as connector_services
from connectors.errors import ConnectorError
from connectors.models import EstimateSource, SourceStatus
from estimates import storage
from estimates.classify import model_maker
from estimates.coefficients import coefficient_set_active
from estimates.fetch import Fetched, fetch_window
from estimates.models import Sample, SampleStatus, UnclassifiedModel
from tokenoffset.accounts.services import account_data_changed

from .claim import sample_claim, sample_held, sample_progress
from .failures import sample_end_on_exception, sample_end_on_vendor_error
from .notifications import first_estimate_email
from .requests import sample_request_if_key_replaced

OVERLAP_FROM_ROWS = 2000  # rows to store above which the projection is built beside the COPY


def sample_run(*, sample_id: int) -> Sample | None:
    """Claim the sample, fetch its 90-day window, then store rows and a projection atomically."""
    sample = sample_claim(sample_id)
    if sample is None:
        return None
    source = sample.source
    start, end = sample.window_start, sample.window_end  # set by the claim
    key_used = bytes(source.key_ciphertext)
    try:
        key = connector_services.source_api_key(source)
        fetched = fetch_window(
            source, key, start, end, on_progress=lambda p: sample_progress(sample, p)
        )
    except ConnectorError as e:
        return sample_end_on_vendor_error(sample, e, key_used=key_used)
    except Exception as e:  # noqa: BLE001 - every failure must end the sample
        return sample_end_on_exception(sample, e, key_used=key_used)
    try:
        stored = sample_store(sample=sample, fetched=fetched)
    except Exception as e:  # noqa: BLE001
        return sample_end_on_exception(sample, e, key_used=key_used)
    if stored is not None:
        sample_request_if_key_replaced(sample=stored, key_used=key_used)
    return stored


def sample_store(*, sample: Sample, fetched: Fetched) -> Sample | None:
    """Replace the window's rows, add the projection, succeed; None if the lease was lost."""
    source = sample.source
    usage, costs = fetched.rows.usage, fetched.rows.costs  # aggregated as the reports arrived
    coefficient_set = coefficient_set_active()
    previous = source.projections.filter(sample__status=SampleStatus.SUCCEEDED).first()
    parts = storage.coefficient_parts(coefficient_set)
    first_success = previous is None
    finished_at = timezone.now()
    # A heavy sample's projection (pure computation) is built on a second thread while
    # PostgreSQL takes its rows, so the two costs overlap; a small one is built right here.
    build = functools.partial(
        storage.projection_build,
        sample=sample,
        usage=usage,
        costs=costs,
        coefficient_set=coefficient_set,
        previous=previous,
        parts=parts,
    )
    with ThreadPoolExecutor(1, thread_name_prefix="projection") as pool:
        building = pool.submit(build) if len(usage) + len(costs) > OVERLAP_FROM_ROWS else None
        try:
            with transaction.atomic():
                # First, so it takes the sample's row lock as it checks the lease is still ours.
                if not sample_held(sample).update(
                    status=SampleStatus.SUCCEEDED, finished_at=finished_at, lease_expires_at=None
                ):
                    raise _LeaseLost  # taken over by another run: write nothing
                storage.rows_replace(source, sample.window_start, sample.window_end, usage, costs)
                projection = building.result() if building else build()
                projection.save()
                _source_ready_record(source, projection)
        except _LeaseLost:
            return None
    storage.coefficient_parts_referenced(coefficient_set, parts)
    if first_success:
        first_estimate_email(source=source)
    sample.status, sample.finished_at, sample.lease_expires_at = (
        SampleStatus.SUCCEEDED,
        finished_at,
        None,
    )
    return sample


class _LeaseLost(Exception):
    pass


def _source_ready_record(source, projection) -> None:
    EstimateSource.objects.filter(pk=source.pk).update(
        status=SourceStatus.READY, last_error="", attention_notified_at=None
    )
    _unclassified_record(source.vendor, projection.unclassified_models)
    account_data_changed(account_id=source.account_id)


def _unclassified_record(source_vendor: str, models: list[str]) -> None:
    """Count each unclassified model under its maker, the vendor a staff rule for it names."""
    now = timezone.now()
    for model in models:
        vendor = model_maker(model, source_vendor)
        UnclassifiedModel.objects.get_or_create(vendor=vendor, model=model)
        UnclassifiedModel.objects.filter(vendor=vendor, model=model).update(
            last_seen_at=now, times_seen=F("times_seen") + 1
        )
