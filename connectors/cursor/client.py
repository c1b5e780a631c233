"""Cursor Admin API client: the team's members (the key check) and its usage events.

Plain functions over an injected httpx.Client (see connectors.http.build_client with base URL
https://api.cursor.com) and a team's Admin API key. No ORM here.

Cursor's traps, each handled below: HTTP Basic auth with the key as the user name (not Bearer);
dates sent as epoch-millisecond JSON numbers (strings make the events endpoint fail with a 500);
`endDate` inclusive; timestamps come back as strings; at most 1000 events a page; a per-team
rate limit of 60 usage-event requests a minute shared by all of the team's clients; error
bodies {"error": "<title>", "message": "<detail>"} where only `message` tells a team without
Enterprise from a key without the admin scope (both 403).
"""

from __future__ import annotations

import base64
from datetime import date, timedelta

import httpx

from connectors import bounds
from connectors.cursor import pacing, schema
from connectors.errors import ConnectorError
from connectors.http import (
    BACKOFF_BASE,
    MAX_ATTEMPTS,
    MAX_WAIT,
    TOTAL_WAIT,
    get_json,
    post_json,
)
from connectors.paging import OnPage, utc_midnight
from connectors.records import CostRecord, UsageRecord

__all__ = [
    "EVENTS_MAX_DAYS",
    "EVENTS_PER_MINUTE",
    "PAGE_SIZE",
    "fetch_events",
    "forbidden_reason",
    "validate_key",
]

MEMBERS_PATH = "/teams/members"
EVENTS_PATH = "/teams/filtered-usage-events"
PAGE_SIZE = 1000  # the documented maximum (the default is 100)
# One request per UTC day (and its pages): the longest range is not documented (clients
# assume 30 days), a day is always accepted, and daily windows map one to one onto our rows.
EVENTS_MAX_DAYS = 1
EVENTS_PER_MINUTE = 60  # per team, for /teams/filtered-usage-events
# 1000 pages of 1000 events in one day is far beyond any team: a cursor that never ends.
MAX_PAGES_PER_DAY = 1000

NOT_ENTERPRISE = "not_enterprise"
NO_ADMIN_SCOPE = "no_admin_scope"


def _headers(key: str) -> dict[str, str]:
    # Basic auth, the key as user name and an empty password (`curl -u KEY:`).
    token = base64.b64encode(f"{key}:".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _epoch_ms(day: date) -> int:
    return int(utc_midnight(day).timestamp()) * 1000


def forbidden_reason(error: ConnectorError) -> str | None:
    """Why a 403 was refused, from the vendor's `message`: not Enterprise, or no admin scope."""
    if error.kind != "forbidden":
        return None
    text = error.message.lower()
    if "enterprise" in text:
        return NOT_ENTERPRISE
    if any(word in text for word in ("scope", "permission", "admin")):
        return NO_ADMIN_SCOPE
    return None


# Reference: https://cursor.com/docs/account/teams/admin-api (Get Team Members)
def validate_key(client: httpx.Client, key: str) -> int:
    """Check a key with one call, no retries; returns the number of (not removed) members."""
    body = get_json(
        client,
        MEMBERS_PATH,
        headers=_headers(key),
        secret=key,
        schema=schema.Members,
        max_attempts=1,
    )
    return schema.active_members(body)


def _post_page(
    client: httpx.Client, key: str, body: dict, *, pacer: pacing.Pacer
) -> schema.EventsPage:
    """One page within the team's pace, retried within the seam's budget (connectors.http)."""
    waited = 0.0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with pacer.slot():
            try:
                return post_json(
                    client,
                    EVENTS_PATH,
                    json=body,
                    headers=_headers(key),
                    secret=key,
                    schema=schema.EventsPage,
                    max_attempts=1,  # every attempt takes its own place in the pace
                )
            except ConnectorError as error:
                failure = error
        if not failure.transient or attempt >= MAX_ATTEMPTS:
            raise failure
        # Cursor documents no retry-after; honour one if sent, else back off 1 s, 2 s, …
        delay = failure.retry_after
        if delay is None:
            delay = BACKOFF_BASE * 2 ** (attempt - 1)
        if delay > MAX_WAIT or waited + delay > TOTAL_WAIT:
            failure.retry_after = delay  # longer than a worker may block: the caller retries
            raise failure
        if failure.kind == "rate_limited":
            pacer.hold(delay)  # the team's budget is spent: every thread waits, not just this one
        else:
            pacer.sleep(delay)
        waited += delay
    raise AssertionError("unreachable")  # pragma: no cover


# Reference: https://cursor.com/docs/account/teams/admin-api (Get Usage Events Data)
def fetch_events(
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    pacer: pacing.Pacer | None = None,
) -> list[UsageRecord | CostRecord]:
    """Usage events of [start, end), one UTC day at a time and every page of it, summed into
    token usage per day and model and the amount charged per day."""
    pacer = pacer or pacing.pacer_for(key, EVENTS_PER_MINUTE)
    totals = schema.DailyTotals()
    pages_done = 0
    day = start
    while day < end:
        # Both bounds inclusive, in milliseconds: the day's first and last millisecond.
        day_start, next_start = _epoch_ms(day), _epoch_ms(day + timedelta(days=1))
        for page_number in range(1, MAX_PAGES_PER_DAY + 1):
            body = {
                "startDate": day_start,
                "endDate": next_start - 1,
                "page": page_number,
                "pageSize": PAGE_SIZE,
            }
            page = _post_page(client, key, body, pacer=pacer)
            totals.add(page.usage_events)
            more = schema.has_next_page(page)
            pages_done += 1
            if on_page is not None:
                on_page(pages_done, more or day + timedelta(days=1) < end)
            if not more:
                break
        else:
            raise ConnectorError(
                f"POST {EVENTS_PATH} still had more pages for {day} after {MAX_PAGES_PER_DAY}; "
                "stopped",
                kind="page_cap",
            )
        day += timedelta(days=1)
    records = [*totals.usage_records(), *totals.cost_records()]
    for record in records:
        bounds.check_record(record, start, end)
    return records
