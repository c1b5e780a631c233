"""Anthropic Admin API client: organisation check, messages usage report, cost report.

Plain functions over an injected httpx.Client (see connectors.http.build_client with base URL
https://api.anthropic.com) and the Admin API key. No ORM here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from connectors.anthropic import schema
from connectors.http import MAX_ATTEMPTS, Sleep, get_json
from connectors.paging import OnPage, fetch_pages, page_cap, split_window, utc_midnight
from connectors.records import CostRecord, Organization, UsageRecord
from connectors.schema import convert, text

__all__ = [
    "COSTS_MAX_DAYS",
    "USAGE_MAX_DAYS",
    "fetch_costs",
    "fetch_usage",
    "get_organization",
    "parse_cost_buckets",
    "parse_usage_buckets",
    "split_window",
    "validate_key",
]

API_VERSION = "2023-06-01"
# limit counts daily buckets; 31 is the maximum for 1d on both reports (the default is only 7),
# so a sub-window of at most 31 days is exactly one request.
BUCKETS_PER_PAGE = 31
USAGE_MAX_DAYS = 31
COSTS_MAX_DAYS = 31

ME_PATH = "/v1/organizations/me"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COSTS_PATH = "/v1/organizations/cost_report"

# Array parameters go on the wire with a [] suffix, repeated.
USAGE_GROUP_BY = ("model", "service_tier", "context_window")
COSTS_GROUP_BY = ("description",)


def _headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": API_VERSION}


def _rfc3339(day: date) -> str:
    return utc_midnight(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_params(start: date, end: date) -> list[tuple[str, str]]:
    # Both bounds on UTC midnights: ending_at is exclusive and must sit on a bucket boundary.
    return [("starting_at", _rfc3339(start)), ("ending_at", _rfc3339(end))]


# Reference: https://platform.claude.com/docs/en/api/admin/organizations/me
def get_organization(
    client: httpx.Client, key: str, *, max_attempts: int = MAX_ATTEMPTS, sleep: Sleep | None = None
) -> Organization:
    """Return the organisation the key belongs to (GET /v1/organizations/me)."""
    body = get_json(
        client,
        ME_PATH,
        headers=_headers(key),
        secret=key,
        schema=schema.Organization,
        max_attempts=max_attempts,
        sleep=sleep,
    )
    return Organization(id=body.id, name=text(body.name))


def parse_usage_buckets(data: list[Any]) -> list[UsageRecord]:
    """Usage records from a usage report page's already-decoded `data`."""
    return schema.usage_records(convert(data, list[schema.UsageBucket]))


def parse_cost_buckets(data: list[Any]) -> list[CostRecord]:
    """Cost records from a cost report page's already-decoded `data`."""
    return schema.cost_records(convert(data, list[schema.CostBucket]))


# Reference: https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
def fetch_usage(
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[UsageRecord]:
    """Fetch daily token usage for [start, end), following cursor pages (≤31 days: 1 request)."""
    params = [
        *_window_params(start, end),
        ("bucket_width", "1d"),
        ("limit", str(BUCKETS_PER_PAGE)),
        *(("group_by[]", g) for g in USAGE_GROUP_BY),
    ]
    return fetch_pages(
        client,
        USAGE_PATH,
        params=params,
        headers=_headers(key),
        secret=key,
        bucket=schema.UsageBucket,
        to_records=schema.usage_records,
        max_pages=page_cap(start, end, BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


# Reference: https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
def fetch_costs(
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[CostRecord]:
    """Fetch daily costs (USD) by description for [start, end), following cursor pages."""
    # Daily only (no bucket_width choice); group_by[] accepts only workspace_id and description.
    # Priority Tier spend never appears in this report.
    params = [
        *_window_params(start, end),
        ("limit", str(BUCKETS_PER_PAGE)),
        *(("group_by[]", g) for g in COSTS_GROUP_BY),
    ]
    return fetch_pages(
        client,
        COSTS_PATH,
        params=params,
        headers=_headers(key),
        secret=key,
        bucket=schema.CostBucket,
        to_records=schema.cost_records,
        max_pages=page_cap(start, end, BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


def validate_key(client: httpx.Client, key: str, *, today: date | None = None) -> Organization:
    """Check a key without retries: /me, then a one-bucket usage probe for yesterday."""
    # /me alone does not prove the key can read reports, hence the probe (as in the official
    # cookbook's connection test). 401 means a bad key, 403 a key that is not admin-capable.
    org = get_organization(client, key, max_attempts=1)
    today = today or datetime.now(UTC).date()
    params = [
        *_window_params(today - timedelta(days=1), today),
        ("bucket_width", "1d"),
        ("limit", "1"),
    ]
    # Reference: https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
    get_json(
        client,
        USAGE_PATH,
        params=params,
        headers=_headers(key),
        secret=key,
        schema=schema.Probe,
        max_attempts=1,
    )
    return org
