"""The dashboard's figures, cached per account until something behind them changes.

The key is (account, its data version, the active coefficient set, the UTC date): every writer of
what the dashboard shows bumps the version (``accounts.services.account_data_changed``), and the
date covers the labels that move with time. An entry also ends when a label would change within
the day: the weekly sample's time passes, or the estimate turns stale.
"""

import hashlib
import logging
from dataclasses import fields
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from estimates.models import CoefficientSet
from estimates.selectors import STALE_AFTER

from .selectors import DashboardData, SourceRow, dashboard_data

logger = logging.getLogger(__name__)


def _shape() -> str:
    """Changes with the cached classes' fields: a release that changes them starts afresh."""
    names = [f.name for cls in (DashboardData, SourceRow) for f in fields(cls)]
    return hashlib.sha256(" ".join(names).encode()).hexdigest()[:8]


PREFIX = f"dashboard:{_shape()}"


def snapshot_key(*, account, now: datetime) -> str:
    """The account's current cache key: reads the active coefficient set's id (one query)."""
    active = CoefficientSet.objects.filter(is_active=True).values_list("pk", flat=True).first()
    return f"{PREFIX}:{account.pk}:{account.data_version}:{active}:{now.date().isoformat()}"


def valid_until(data: DashboardData, now: datetime) -> datetime:
    ends = [datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)]
    ends.append(data.next_sample_at)
    if data.estimate is not None and not data.estimate.stale:
        ends.append(data.estimate.sampled_at + STALE_AFTER)
    return min(ends)


def dashboard_snapshot(*, account, now: datetime | None = None) -> DashboardData:
    """``dashboard_data`` from the cache, or built and cached (``data.cache_key`` set)."""
    now = now or timezone.now()
    key = snapshot_key(account=account, now=now)
    try:
        entry = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreadable entry (another release's) is a miss
        logger.warning("dashboard cache entry %s unreadable; rebuilding", key, exc_info=True)
        entry = None
    if entry is not None and now < entry[0]:
        return entry[1]
    data = dashboard_data(account=account, now=now, cache_key=key)
    until = valid_until(data, now)
    if until > now:
        cache.set(key, (until, data), int((until - now).total_seconds()) + 1)
    return data
