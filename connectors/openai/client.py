"""OpenAI Admin API client: completions usage and costs.

Plain functions over an injected httpx.Client (see connectors.http.build_client with base URL
https://api.openai.com) and the organisation Admin key. No ORM here.
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
    Params,
    Sleep,
    fetch_pages,
    fetch_whole_window,
    get_json,
    page_cap,
    split_window,
    utc_midnight,
)
from connectors.records import CostRecord, UsageRecord

__all__ = [
    "COSTS_MAX_DAYS",
    "USAGE_MAX_DAYS",
    "fetch_costs",
    "fetch_costs_all",
    "fetch_usage",
    "fetch_usage_all",
    "split_window",
    "validate_key",
]

# limit counts buckets: 1d usage allows at most 31 per page, costs 1..180 (defaults are 7).
USAGE_BUCKETS_PER_PAGE = 31
COSTS_BUCKETS_PER_PAGE = 180
USAGE_MAX_DAYS = 31
COSTS_MAX_DAYS = 180  # a 90-day window is one costs request

USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"

# The OpenAPI definition declares arrays without a wire style; repeated keys
# (group_by=a&group_by=b), as in OpenAI's cookbook, are accepted.
USAGE_GROUP_BY = ("model", "service_tier", "batch")
COSTS_GROUP_BY = ("line_item",)


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _window_params(start: date, end: date) -> list[tuple[str, str]]:
    # Unix seconds on UTC midnights: a non-aligned start_time yields a short first bucket.
    return [
        ("start_time", str(int(utc_midnight(start).timestamp()))),
        ("end_time", str(int(utc_midnight(end).timestamp()))),
    ]


def _get_json(client: httpx.Client, path: str, key: str, **kwargs: Any) -> Any:
    try:
        return get_json(client, path, headers=_headers(key), secret=key, **kwargs)
    except ConnectorError as error:
        scoped = _scope_error(error)
        if scoped is error:
            raise
        raise scoped from error


def _scope_error(error: ConnectorError) -> ConnectorError:
    # A real key lacking api.usage.read (project key, restricted admin key) is reported as 403,
    # sometimes as 401: either way it is "wrong kind of key", not "bad key".
    if error.kind == "unauthorized" and "missing scopes" in error.message.lower():
        return ConnectorError(error.message, kind="forbidden", status=error.status)
    return error


def _bucket_day(bucket: dict[str, Any]) -> date:
    value = bucket.get("start_time")
    if isinstance(value, bool) or not isinstance(value, int):
        raise r.malformed(f"bad bucket start_time: {value!r}")
    try:
        return datetime.fromtimestamp(value, UTC).date()
    except (OverflowError, OSError, ValueError) as exc:  # beyond the calendar
        raise r.malformed(f"bad bucket start_time: {value!r}") from exc


def _usage_row(day: date, row: dict[str, Any]) -> UsageRecord:
    # input_tokens INCLUDES cached and cache-write tokens: counting both double-counts.
    total_input = r.count(row, "input_tokens", required=True)
    cached = r.count(row, "input_cached_tokens")
    cache_write = r.count(row, "input_cache_write_tokens")  # newer payloads only
    uncached = total_input - cached - cache_write
    if uncached < 0:
        raise r.malformed(f"input_tokens {total_input} < cached {cached} + write {cache_write}")
    return UsageRecord(
        day=day,
        model=r.text(row.get("model")),
        service_tier=r.text(row.get("service_tier")),
        context_window=r.BLANK,
        batch=r.text(row.get("batch")),  # true/false -> "true"/"false", null -> BLANK
        uncached_input=uncached,
        cache_read=cached,
        cache_write=cache_write,
        cache_write_1h=0,
        output=r.count(row, "output_tokens", required=True),
        requests=r.count(row, "num_model_requests", required=True),
    )


def parse_usage_buckets(data: list[Any]) -> list[UsageRecord]:
    """Usage records from a completions usage page's `data` (empty buckets give none)."""
    return [
        _usage_row(_bucket_day(bucket), row)
        for bucket, results in r.buckets(data)
        for row in results
    ]


def _cost_row(day: date, row: dict[str, Any]) -> CostRecord:
    amount = row.get("amount")
    if not isinstance(amount, dict):
        raise r.malformed(f"bad cost amount: {amount!r}")
    # amount.value is in DOLLARS (major units), a JSON number per the OpenAPI definition; some
    # payloads carry a numeric string. Decimal(str(x)) keeps the printed digits exactly.
    return CostRecord(
        day=day,
        description=r.text(row.get("line_item")),
        dimensions=r.dimensions(row, {"object", "amount", "line_item"}),
        amount_usd=r.decimal(amount.get("value"), "amount.value"),
        # The org's billing currency, lower-case in the payload; blank if OpenAI omits it.
        currency=r.text(amount.get("currency")).upper(),
    )


def parse_cost_buckets(data: list[Any]) -> list[CostRecord]:
    """Cost records from a costs page's `data` (empty buckets give none)."""
    return [
        _cost_row(_bucket_day(bucket), row)
        for bucket, results in r.buckets(data)
        for row in results
    ]


def _pages(client: httpx.Client, key: str, path: str, params: Params, **kwargs: Any) -> list:
    try:
        return fetch_pages(client, path, params=params, headers=_headers(key), secret=key, **kwargs)
    except ConnectorError as error:
        scoped = _scope_error(error)
        if scoped is error:
            raise
        raise scoped from error


# Reference: https://developers.openai.com/api/docs/api-reference/usage
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
    """Fetch daily completions usage for [start, end), following cursor pages."""
    params = [
        *_window_params(start, end),
        ("bucket_width", "1d"),
        ("limit", str(USAGE_BUCKETS_PER_PAGE)),
        *(("group_by", g) for g in USAGE_GROUP_BY),
    ]
    return _pages(
        client,
        key,
        USAGE_PATH,
        params,
        parse_buckets=parse_usage_buckets,
        max_pages=page_cap(start, end, USAGE_BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


# Reference: https://developers.openai.com/api/docs/api-reference/usage
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
    """Fetch daily costs by line item for [start, end), following cursor pages."""
    # Costs has no model dimension: the model only appears inside the line_item text.
    params = [
        *_window_params(start, end),
        *(("group_by", g) for g in COSTS_GROUP_BY),
        ("limit", str(COSTS_BUCKETS_PER_PAGE)),
    ]
    return _pages(
        client,
        key,
        COSTS_PATH,
        params,
        parse_buckets=parse_cost_buckets,
        max_pages=page_cap(start, end, COSTS_BUCKETS_PER_PAGE),
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
    """Fetch costs for a whole window, one ≤180-day sub-window after another."""
    return fetch_whole_window(fetch_costs, client, key, start, end, COSTS_MAX_DAYS, **options)


def validate_key(client: httpx.Client, key: str, *, today: date | None = None) -> None:
    """Check a key without retries with a one-bucket usage probe for yesterday."""
    # 401 = wrong or revoked key; 403 (or 401 saying "Missing scopes: api.usage.read") = a real
    # key that is not an organisation Admin key. Never judge a key by its sk-admin- prefix.
    today = today or datetime.now(UTC).date()
    params = [
        *_window_params(today - timedelta(days=1), today),
        ("bucket_width", "1d"),
        ("limit", "1"),
    ]
    # Reference: https://developers.openai.com/api/docs/api-reference/usage
    body = _get_json(client, USAGE_PATH, key, params=params, max_attempts=1)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ConnectorError(f"Unexpected body from GET {USAGE_PATH}", kind="malformed")
