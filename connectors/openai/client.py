"""OpenAI Admin API client: completions, embeddings and moderations usage, and costs.

Plain functions over an injected httpx.Client (see connectors.http.build_client with base URL
https://api.openai.com) and the organisation Admin key. No ORM here.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from connectors.errors import ConnectorError
from connectors.http import MAX_ATTEMPTS, Params, Sleep, get_json
from connectors.openai import schema
from connectors.paging import OnPage, fetch_pages, page_cap, split_window, utc_midnight
from connectors.records import CostRecord, UsageRecord
from connectors.schema import convert

__all__ = [
    "COSTS_MAX_DAYS",
    "EMBEDDINGS_PATH",
    "MODERATIONS_PATH",
    "USAGE_REPORTS",
    "USAGE_MAX_DAYS",
    "fetch_completions",
    "fetch_costs",
    "fetch_embeddings",
    "fetch_moderations",
    "fetch_usage",
    "parse_cost_buckets",
    "parse_usage_buckets",
    "split_window",
    "validate_key",
]

# limit counts buckets: 1d usage allows at most 31 per page, costs 1..180 (defaults are 7).
USAGE_BUCKETS_PER_PAGE = 31
COSTS_BUCKETS_PER_PAGE = 180
USAGE_MAX_DAYS = 31
COSTS_MAX_DAYS = 180  # a 90-day window is one costs request

USAGE_PATH = "/v1/organization/usage/completions"
EMBEDDINGS_PATH = "/v1/organization/usage/embeddings"
MODERATIONS_PATH = "/v1/organization/usage/moderations"
COSTS_PATH = "/v1/organization/costs"

# The OpenAPI definition declares arrays without a wire style; repeated keys
# (group_by=a&group_by=b), as in OpenAI's cookbook, are accepted.
USAGE_GROUP_BY = ("model", "service_tier", "batch")
# Embeddings and moderations group by project, user, key or model only; their results carry
# input tokens and requests, nothing else.
INPUT_ONLY_GROUP_BY = ("model",)
USAGE_REPORTS = (USAGE_PATH, EMBEDDINGS_PATH, MODERATIONS_PATH)
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


def parse_usage_buckets(data: list[Any]) -> list[UsageRecord]:
    """Usage records from a completions usage page's already-decoded `data`."""
    return schema.usage_records(convert(data, list[schema.UsageBucket]))


def parse_cost_buckets(data: list[Any]) -> list[CostRecord]:
    """Cost records from a costs page's already-decoded `data`."""
    return schema.cost_records(convert(data, list[schema.CostBucket]))


def _pages(client: httpx.Client, key: str, path: str, params: Params, **kwargs: Any) -> list:
    try:
        return fetch_pages(client, path, params=params, headers=_headers(key), secret=key, **kwargs)
    except ConnectorError as error:
        scoped = _scope_error(error)
        if scoped is error:
            raise
        raise scoped from error


def _usage_params(start: date, end: date, group_by: tuple[str, ...]) -> Params:
    return [
        *_window_params(start, end),
        ("bucket_width", "1d"),
        ("limit", str(USAGE_BUCKETS_PER_PAGE)),
        *(("group_by", g) for g in group_by),
    ]


def _families(start: date, end: date) -> list[tuple[str, Params, type, Any]]:
    """The token usage reports the footprint reads: (path, params, bucket schema, to records)."""
    return [
        (USAGE_PATH, _usage_params(start, end, USAGE_GROUP_BY), schema.UsageBucket,
         schema.usage_records),
        (EMBEDDINGS_PATH, _usage_params(start, end, INPUT_ONLY_GROUP_BY), schema.InputOnlyBucket,
         schema.input_only_records),
        (MODERATIONS_PATH, _usage_params(start, end, INPUT_ONLY_GROUP_BY),
         schema.InputOnlyBucket, schema.input_only_records),
    ]  # fmt: skip


def _fetch_family(
    index: int,
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[UsageRecord]:
    path, params, bucket, to_records = _families(start, end)[index]
    return _pages(
        client,
        key,
        path,
        params,
        bucket=bucket,
        to_records=to_records,
        max_pages=page_cap(start, end, USAGE_BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


# Reference: https://developers.openai.com/api/docs/api-reference/usage (one endpoint each):
# daily completions, embeddings and moderations usage for [start, end), following cursor pages.
fetch_completions = functools.partial(_fetch_family, 0)
fetch_embeddings = functools.partial(_fetch_family, 1)
fetch_moderations = functools.partial(_fetch_family, 2)


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
    """Completions, embeddings and moderations usage for [start, end), the reports in turn (one
    progress stream: more pages follow until the last report's last page). A sample reads the
    three side by side instead (see the connector)."""
    records: list[UsageRecord] = []
    pages_done = 0
    for index in range(len(USAGE_REPORTS)):
        last_family = index == len(USAGE_REPORTS) - 1

        def progress(_n: int, has_more: bool, last_family: bool = last_family) -> None:
            nonlocal pages_done
            pages_done += 1
            if on_page is not None:
                on_page(pages_done, has_more or not last_family)

        records += _fetch_family(
            index,
            client,
            key,
            start,
            end,
            on_page=progress,
            max_attempts=max_attempts,
            sleep=sleep,
        )
    return records


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
        bucket=schema.CostBucket,
        to_records=schema.cost_records,
        max_pages=page_cap(start, end, COSTS_BUCKETS_PER_PAGE),
        window=(start, end),
        on_page=on_page,
        max_attempts=max_attempts,
        sleep=sleep,
    )


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
    _get_json(client, USAGE_PATH, key, params=params, schema=schema.Probe, max_attempts=1)
