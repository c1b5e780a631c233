"""When the weekly re-sample runs: defined once, read by Celery beat and by the dashboard.

Every Sunday from 08:00 UTC (spread over ``SAMPLE_SPREAD_MINUTES`` by the fan-out).
"""

from datetime import UTC, datetime, time, timedelta

from celery.schedules import crontab

WEEKLY_SAMPLE_WEEKDAY = 6  # Python's numbering: Monday is 0, Sunday is 6
WEEKLY_SAMPLE_TIME = time(8, 0)  # UTC


def weekly_sample_crontab() -> crontab:
    """The beat schedule entry (Celery numbers weekdays from Sunday = 0)."""
    return crontab(
        minute=WEEKLY_SAMPLE_TIME.minute,
        hour=WEEKLY_SAMPLE_TIME.hour,
        day_of_week=(WEEKLY_SAMPLE_WEEKDAY + 1) % 7,
    )


def next_weekly_sample(now: datetime) -> datetime:
    """The next weekly sample time strictly after ``now``."""
    now = now.astimezone(UTC)
    days_ahead = (WEEKLY_SAMPLE_WEEKDAY - now.weekday()) % 7
    day = now.date() + timedelta(days=days_ahead)
    candidate = datetime.combine(day, WEEKLY_SAMPLE_TIME, tzinfo=UTC)
    return candidate if candidate > now else candidate + timedelta(days=7)
