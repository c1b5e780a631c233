"""Cursor paging over the HTTP seam, and the whole-UTC-day windows that reports are asked for.

Both vendors' reports share one envelope (`data` buckets, `has_more`, `next_page`); each page is
decoded straight into the report's declared bucket schema, turned into records and checked
against connectors.bounds before the next page is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar

import httpx
import msgspec

from connectors import bounds
from connectors.errors import ConnectorError
from connectors.http import MAX_ATTEMPTS, Params, Sleep, get_json

# Progress callback: on_page(pages_done_in_this_call, has_more). Called in the fetching thread
# right after each page has been fetched and parsed; has_more=False on the last page. To record
# progress per report (and per sub-window when fetching from a thread pool), bind the report in
# a closure or functools.partial. An exception raised by the callback aborts the fetch.
OnPage = Callable[[int, bool], None]
B = TypeVar("B")
T = TypeVar("T")


class Page(msgspec.Struct, Generic[B]):
    """One page of a report: its buckets and the cursor to the next page."""

    data: list[B]
    has_more: bool
    next_page: str | None = None


def fetch_pages(
    client: httpx.Client,
    path: str,
    *,
    params: Params,
    headers: dict[str, str],
    secret: str,
    bucket: type[B],
    to_records: Callable[[list[B]], Iterable[T]],
    max_pages: int,
    window: tuple[date, date] | None = None,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[T]:
    """Follow `has_more`/`next_page` cursors (sent back as `page`), decoding each page's buckets.

    With a [start, end) window, every record is checked against connectors.bounds: a row dated
    outside the window or a value out of range makes the report malformed (``out_of_range``).
    """
    records: list[T] = []
    cursor: str | None = None
    for pages_done in range(1, max_pages + 1):
        # Every other parameter is resent unchanged; only `page` is added.
        page_params = list(params) if cursor is None else [*params, ("page", cursor)]
        page = get_json(
            client,
            path,
            params=page_params,
            headers=headers,
            secret=secret,
            schema=Page[bucket],  # type: ignore[valid-type]
            max_attempts=max_attempts,
            sleep=sleep,
        )
        parsed = list(to_records(page.data))
        if window is not None:
            for record in parsed:
                bounds.check_record(record, *window)
        records.extend(parsed)
        cursor = page.next_page
        # Both vendors' docs: stop on has_more=false *or* an empty cursor.
        has_more = page.has_more and bool(cursor)
        if on_page is not None:
            on_page(pages_done, has_more)
        if not has_more:
            return records
    raise ConnectorError(
        f"GET {path} still had more pages after {max_pages}; stopped", kind="page_cap"
    )


def check_window(start: date, end: date) -> int:
    """Check a [start, end) window of whole UTC days and return its length in days."""
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("windows are whole UTC days: pass dates, not datetimes")
    if end <= start:
        raise ValueError(f"empty window: {start} .. {end}")
    return (end - start).days


def page_cap(start: date, end: date, buckets_per_page: int) -> int:
    """Pages a daily window should take, plus one for a trailing empty page."""
    return math.ceil(check_window(start, end) / buckets_per_page) + 1


def split_window(start: date, end: date, max_days: int = 31) -> list[tuple[date, date]]:
    """Split [start, end) into consecutive sub-windows of at most max_days (end exclusive)."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    windows = []
    while start < end:
        stop = min(start + timedelta(days=max_days), end)
        windows.append((start, stop))
        start = stop
    return windows


def utc_midnight(day: date) -> datetime:
    """00:00 UTC at the start of day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
