"""Delta and cumulative points into increments, with per-series state in the database.

Reference: https://opentelemetry.io/docs/specs/otel/metrics/data-model/#temporality
- DELTA: each point is the increase over (start, time]; a point not after the series' last
  time is a resend (a retry after a lost acknowledgement) and is skipped.
- CUMULATIVE: the running total since ``start``. Same start and a higher time: the increase is
  value − last; a new (later) start or a lower value is a reset (a restart): the increase is the
  value; a point not after the last one, or of an earlier start, is a resend.
Call ``increments_apply`` inside ``transaction.atomic()``: the series rows are locked, so two
exports of one series never both count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .models import LiveSeries
from .points import CUMULATIVE, Point

SERIES_IDLE_DAYS = 7


@dataclass
class State:
    start: int
    time: int
    value: float


def increment(point: Point, state: State | None) -> int | None:
    """The tokens this point adds, or None when it is a resend (nothing to add)."""
    if point.temporality == CUMULATIVE and state is not None:
        if point.start_unix_nano < state.start:
            return None  # an older process's point, after its successor's
        if point.start_unix_nano == state.start:
            if point.time_unix_nano <= state.time:
                return None
            if point.value >= state.value:
                return round(point.value - state.value)
        return round(point.value)  # a restart or a reset
    if state is not None and point.time_unix_nano <= state.time:
        return None
    return round(point.value)


def increments_apply(source, points: list[Point]) -> list[tuple[Point, int]]:
    """(point, increase) of every point that adds tokens; the series' state is saved."""
    keys = {p.series_key for p in points}
    stored = {
        s.series_key: s
        for s in LiveSeries.objects.select_for_update().filter(source=source, series_key__in=keys)
    }
    states = {k: State(s.start_unix_nano, s.time_unix_nano, s.value) for k, s in stored.items()}
    added = []
    for point in sorted(points, key=lambda p: p.time_unix_nano):
        amount = increment(point, states.get(point.series_key))
        if amount is None:
            continue
        states[point.series_key] = State(point.start_unix_nano, point.time_unix_nano, point.value)
        if amount:
            added.append((point, amount))
    now = timezone.now()
    changed = [
        LiveSeries(
            source=source,
            series_key=key,
            start_unix_nano=state.start,
            time_unix_nano=state.time,
            value=state.value,
            updated_at=now,
        )
        for key, state in states.items()
        if key not in stored
        or (stored[key].start_unix_nano, stored[key].time_unix_nano, stored[key].value)
        != (state.start, state.time, state.value)
    ]
    LiveSeries.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["source", "series_key"],
        update_fields=["start_unix_nano", "time_unix_nano", "value", "updated_at"],
    )
    return added


def series_expire() -> int:
    """Forget series idle for a week (a cumulative series seen again then starts afresh)."""
    cutoff = timezone.now() - timedelta(days=SERIES_IDLE_DAYS)
    deleted, _ = LiveSeries.objects.filter(updated_at__lt=cutoff).delete()
    return deleted
