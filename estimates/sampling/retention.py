"""Retention of what samples store: daily rows are kept 13 months (the published retention)."""

import calendar
from datetime import date

from django.utils import timezone

from estimates.models import DailyCost, DailyUsage

RETENTION_MONTHS = 13


def retention_cutoff(today: date) -> date:
    """The same day 13 months back (clamped to the month's end): older daily rows go."""
    months = today.year * 12 + today.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(today.day, last_day))


def daily_rows_expire(*, today: date | None = None) -> int:
    """Delete daily usage and cost rows older than 13 months (the published retention)."""
    cutoff = retention_cutoff(today or timezone.now().date())
    deleted, _ = DailyUsage.objects.filter(date__lt=cutoff).delete()
    deleted_costs, _ = DailyCost.objects.filter(date__lt=cutoff).delete()
    return deleted + deleted_costs
