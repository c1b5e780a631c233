"""The Admin API's usage and costs bodies as declared schemas, and how rows become records.

Reference: https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from connectors.records import BLANK, CostRecord, UsageRecord, malformed
from connectors.schema import Count, Group, dimensions, money, text, unix_day, whole


class UsageResult(msgspec.Struct):
    # input_tokens INCLUDES cached and cache-write tokens: counting both double-counts.
    input_tokens: Count
    output_tokens: Count
    num_model_requests: Count
    input_cached_tokens: Count | None = None
    input_cache_write_tokens: Count | None = None  # newer payloads only
    model: Group = None
    service_tier: Group = None
    batch: bool | str | None = None


class UsageBucket(msgspec.Struct):
    start_time: int  # Unix seconds
    results: list[UsageResult]


class InputOnlyResult(msgspec.Struct):
    """An embeddings or moderations result: input tokens only, grouped by model at most."""

    input_tokens: Count
    num_model_requests: Count
    model: Group = None


class InputOnlyBucket(msgspec.Struct):
    start_time: int  # Unix seconds
    results: list[InputOnlyResult]


class Amount(msgspec.Struct):
    # In DOLLARS (major units), a JSON number per the OpenAPI definition; some payloads carry a
    # numeric string. Either is decoded from its printed digits, exactly.
    value: Decimal
    currency: Group = None


class CostResult(msgspec.Struct):
    amount: Amount
    line_item: Group = None
    project_id: Group = None
    api_key_id: Group = None
    quantity: int | float | None = None
    quantity_unit: Group = None


class CostBucket(msgspec.Struct):
    start_time: int
    results: list[CostResult]


class Probe(msgspec.Struct):
    """A report page read only to prove the key may read it."""

    data: list[msgspec.Raw]


def _usage(day, row: UsageResult) -> UsageRecord:
    total_input = whole(row.input_tokens, "input_tokens")
    cached = whole(row.input_cached_tokens, "input_cached_tokens")
    cache_write = whole(row.input_cache_write_tokens, "input_cache_write_tokens")
    uncached = total_input - cached - cache_write
    if uncached < 0:
        raise malformed(f"input_tokens {total_input} < cached {cached} + write {cache_write}")
    return UsageRecord(
        day=day,
        model=text(row.model),
        service_tier=text(row.service_tier),
        context_window=BLANK,
        batch=text(row.batch),  # true/false -> "true"/"false", null -> BLANK
        uncached_input=uncached,
        cache_read=cached,
        cache_write=cache_write,
        cache_write_1h=0,
        output=whole(row.output_tokens, "output_tokens"),
        requests=whole(row.num_model_requests, "num_model_requests"),
    )


def usage_records(buckets: list[UsageBucket]) -> list[UsageRecord]:
    """Usage records from a completions usage page's buckets (empty buckets give none)."""
    records = []
    for bucket in buckets:
        day = unix_day(bucket.start_time, "start_time")
        records += [_usage(day, row) for row in bucket.results]
    return records


def _input_only(day, row: InputOnlyResult) -> UsageRecord:
    # Embeddings and moderations read input and write none: it is all uncached input.
    return UsageRecord(
        day=day,
        model=text(row.model),
        service_tier=BLANK,
        context_window=BLANK,
        batch=BLANK,
        uncached_input=whole(row.input_tokens, "input_tokens"),
        cache_read=0,
        cache_write=0,
        cache_write_1h=0,
        output=0,
        requests=whole(row.num_model_requests, "num_model_requests"),
    )


def input_only_records(buckets: list[InputOnlyBucket]) -> list[UsageRecord]:
    """Usage records from an embeddings or moderations page's buckets (empty buckets give none)."""
    records = []
    for bucket in buckets:
        day = unix_day(bucket.start_time, "start_time")
        records += [_input_only(day, row) for row in bucket.results]
    return records


def _cost(day, row: CostResult) -> CostRecord:
    return CostRecord(
        day=day,
        description=text(row.line_item),
        dimensions=dimensions(row, {"amount", "line_item"}),
        amount_usd=money(row.amount.value, "amount.value"),
        # The org's billing currency, lower-case in the payload; blank if OpenAI omits it.
        currency=text(row.amount.currency).upper(),
    )


def cost_records(buckets: list[CostBucket]) -> list[CostRecord]:
    """Cost records from a costs page's buckets (empty buckets give none)."""
    records = []
    for bucket in buckets:
        day = unix_day(bucket.start_time, "start_time")
        records += [_cost(day, row) for row in bucket.results]
    return records
