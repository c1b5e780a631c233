"""The Admin API's report bodies as declared schemas, and how their rows become our records.

References:
https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
https://platform.claude.com/docs/en/api/admin/organizations/me
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from connectors.records import BLANK, CostRecord, UsageRecord
from connectors.schema import Count, Group, dimensions, money, text, utc_day, whole


class Organization(msgspec.Struct):
    id: str
    name: str | None = None


class CacheCreation(msgspec.Struct):
    # No flat cache_creation_input_tokens in this report: writes are split by cache TTL.
    ephemeral_5m_input_tokens: Count | None = None
    ephemeral_1h_input_tokens: Count | None = None


class ServerToolUse(msgspec.Struct):
    web_search_requests: Count | None = None


class UsageResult(msgspec.Struct):
    uncached_input_tokens: Count
    cache_read_input_tokens: Count
    output_tokens: Count
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUse | None = None
    model: Group = None
    service_tier: Group = None
    context_window: Group = None


class UsageBucket(msgspec.Struct):
    starting_at: datetime
    results: list[UsageResult]


class CostResult(msgspec.Struct):
    # A decimal string in CENTS, possibly with fractional cents: "123.45" is $1.2345.
    amount: Decimal
    currency: Group = None
    description: Group = None
    workspace_id: Group = None
    cost_type: Group = None
    model: Group = None
    token_type: Group = None
    service_tier: Group = None
    context_window: Group = None
    inference_geo: Group = None
    speed: Group = None


class CostBucket(msgspec.Struct):
    starting_at: datetime
    results: list[CostResult]


class Probe(msgspec.Struct):
    """A report page read only to prove the key may read it."""

    data: list[msgspec.Raw]


def _usage(day, row: UsageResult) -> UsageRecord:
    creation = row.cache_creation or CacheCreation()
    write_5m = whole(creation.ephemeral_5m_input_tokens, "ephemeral_5m_input_tokens")
    write_1h = whole(creation.ephemeral_1h_input_tokens, "ephemeral_1h_input_tokens")
    tools = row.server_tool_use or ServerToolUse()
    return UsageRecord(
        day=day,
        model=text(row.model),
        service_tier=text(row.service_tier),
        context_window=text(row.context_window),
        batch=BLANK,
        uncached_input=whole(row.uncached_input_tokens, "uncached_input_tokens"),
        cache_read=whole(row.cache_read_input_tokens, "cache_read_input_tokens"),
        cache_write=write_5m + write_1h,
        cache_write_1h=write_1h,
        output=whole(row.output_tokens, "output_tokens"),
        requests=None,
        web_search_requests=whole(tools.web_search_requests, "web_search_requests"),
    )


def usage_records(buckets: list[UsageBucket]) -> list[UsageRecord]:
    """Usage records from a usage report page's buckets (empty buckets give none)."""
    records = []
    for bucket in buckets:
        day = utc_day(bucket.starting_at, "starting_at")
        records += [_usage(day, row) for row in bucket.results]
    return records


def _cost(day, row: CostResult) -> CostRecord:
    cents = money(row.amount, "cost amount")
    return CostRecord(
        day=day,
        description=text(row.description),
        dimensions=dimensions(row, {"amount", "currency", "description"}),
        amount_usd=cents.scaleb(-2),
        currency=text(row.currency).upper() or "USD",  # documented as always USD
    )


def cost_records(buckets: list[CostBucket]) -> list[CostRecord]:
    """Cost records from a cost report page's buckets (empty buckets give none)."""
    records = []
    for bucket in buckets:
        day = utc_day(bucket.starting_at, "starting_at")
        records += [_cost(day, row) for row in bucket.results]
    return records
