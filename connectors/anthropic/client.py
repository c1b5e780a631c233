"""Anthropic Admin API client: organisation check, messages usage report, cost report.

Plain functions over an injected httpx.Client (see connectors.http.build_client with base URL
https://api.anthropic.com) and the Admin API key. No ORM here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from connectors import records as r
from connectors.errors import ConnectorError
from connectors.http import (
    MAX_ATTEMPTS,
    OnPage,
    Sleep,
    fetch_pages,
    fetch_whole_window,
    get_json,
    page_cap,
    split_window,
    utc_midnight,
)
from connectors.records import CostRecord, Organization, UsageRecord

__all__ = [
    "COSTS_MAX_DAYS",
    "USAGE_MAX_DAYS",
    "fetch_costs",
    "fetch_costs_all",
    "fetch_usage",
    "fetch_usage_all",
    "get_organization",
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


def _bucket_day(bucket: dict[str, Any]) -> date:
    value = bucket.get("starting_at")
    try:
        when = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise r.malformed(f"bad bucket starting_at: {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC).date()
    except OverflowError as exc:  # year 9999 with a negative offset
        raise r.malformed(f"bad bucket starting_at: {value!r}") from exc


# Reference: https://platform.claude.com/docs/en/api/admin/organizations/me
def get_organization(
    client: httpx.Client, key: str, *, max_attempts: int = MAX_ATTEMPTS, sleep: Sleep | None = None
) -> Organization:
    """Return the organisation the key belongs to (GET /v1/organizations/me)."""
    body = get_json(
        client, ME_PATH, headers=_headers(key), secret=key, max_attempts=max_attempts, sleep=sleep
    )
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise r.malformed(f"Unexpected body from GET {ME_PATH}")
    return Organization(id=body["id"], name=r.text(body.get("name")))


def _usage_row(day: date, row: dict[str, Any]) -> UsageRecord:
    # No flat cache_creation_input_tokens in this report: writes are split by cache TTL.
    creation = row.get("cache_creation") or {}
    if not isinstance(creation, dict):
        raise r.malformed(f"bad cache_creation: {creation!r}")
    write_5m = r.count(creation, "ephemeral_5m_input_tokens")
    write_1h = r.count(creation, "ephemeral_1h_input_tokens")
    return UsageRecord(
        day=day,
        model=r.text(row.get("model")),
        service_tier=r.text(row.get("service_tier")),
        context_window=r.text(row.get("context_window")),
        batch=r.BLANK,
        uncached_input=r.count(row, "uncached_input_tokens", required=True),
        cache_read=r.count(row, "cache_read_input_tokens", required=True),
        cache_write=write_5m + write_1h,
        cache_write_1h=write_1h,
        output=r.count(row, "output_tokens", required=True),
        requests=None,
    )


def parse_usage_buckets(data: list[Any]) -> list[UsageRecord]:
    """Usage records from a usage report page's `data` (empty buckets give none)."""
    return [
        _usage_row(_bucket_day(bucket), row)
        for bucket, results in r.buckets(data)
        for row in results
    ]


def _cost_row(day: date, row: dict[str, Any]) -> CostRecord:
    # `amount` is a decimal string in CENTS, possibly with fractional cents: "123.45" = $1.2345.
    cents = r.decimal(row.get("amount"), "cost amount")
    return CostRecord(
        day=day,
        description=r.text(row.get("description")),
        dimensions=r.dimensions(row, {"amount", "currency", "description"}),
        amount_usd=cents.scaleb(-2),
        currency=r.text(row.get("currency")).upper() or "USD",  # documented as always USD
    )


def parse_cost_buckets(data: list[Any]) -> list[CostRecord]:
    """Cost records from a cost report page's `data` (empty buckets give none)."""
    return [
        _cost_row(_bucket_day(bucket), row)
        for bucket, results in r.buckets(data)
        for row in results
    ]


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
        parse_buckets=parse_usage_buckets,
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
        parse_buckets=parse_cost_buckets,
        max_pages=page_cap(start, end, BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


def fetch_usage_all(
    client: httpx.Client, key: str, start: date, end: date, **options: Any
) -> list[UsageRecord]:
    """Fetch usage for a whole window, one ≤31-day sub-window after another."""
    return fetch_whole_window(fetch_usage, client, key, start, end, USAGE_MAX_DAYS, **options)


def fetch_costs_all(
    client: httpx.Client, key: str, start: date, end: date, **options: Any
) -> list[CostRecord]:
    """Fetch costs for a whole window, one ≤31-day sub-window after another."""
    return fetch_whole_window(fetch_costs, client, key, start, end, COSTS_MAX_DAYS, **options)


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
    body = get_json(
        client, USAGE_PATH, params=params, headers=_headers(key), secret=key, max_attempts=1
    )
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ConnectorError(f"Unexpected body from GET {USAGE_PATH}", kind="malformed")
    return org
