"""The dashboard's figures, cached per account until something behind them changes.

The key is (account, its data version, the active coefficient set, the UTC date): every writer of
what the dashboard shows bumps the version (``accounts.services.account_data_changed``), and the
date covers the labels that move with time. An entry also ends when a label would change within
the day: the weekly sample's time passes, or the estimate turns stale.
"""

from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from estimates.models import CoefficientSet
from estimates.selectors import STALE_AFTER

from .selectors import DashboardData, dashboard_data

PREFIX = "dashboard:v1"


def snapshot_key(*, account, now: datetime) -> str:
    """The account's current cache key: reads the active coefficient set's id (one query)."""
    active = CoefficientSet.objects.filter(is_active=True).values_list("pk", flat=True).first()
    return f"{PREFIX}:{account.pk}:{account.data_version}:{active}:{now.date().isoformat()}"


def _seconds_valid(data: DashboardData, now: datetime) -> int:
    ends = [datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)]
    ends.append(data.next_sample_at)
    if data.estimate is not None and not data.estimate.stale:
        ends.append(data.estimate.sampled_at + STALE_AFTER)
    return max(0, int((min(ends) - now).total_seconds()))


def dashboard_snapshot(*, account, now: datetime | None = None) -> DashboardData:
    """``dashboard_data`` from the cache, or built and cached (``data.cache_key`` set)."""
    now = now or timezone.now()
    key = snapshot_key(account=account, now=now)
    data = cache.get(key)
    if data is None:
        data = dashboard_data(account=account, now=now, cache_key=key)
        if seconds := _seconds_valid(data, now):
            cache.set(key, data, seconds)
    return data
