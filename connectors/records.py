"""Typed records the vendor clients return, normalised to our four token types.

Token types (same for every vendor): `uncached_input`, `cache_read`, `cache_write` (all cache
writes) and `output`; `cache_write_1h` is the part of `cache_write` that went to Anthropic's
1-hour cache (0 where a vendor does not split). Nothing here touches the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.errors import ConnectorError

# Placeholder for a group field the vendor left null or did not return ("not grouped", default
# workspace, non-token cost line…), so callers can build NOT NULL unique keys on these columns.
BLANK = ""
_MAX_DIGITS = 30  # a count with more digits than this is not a count


@dataclass(frozen=True, slots=True)
class Organization:
    """The vendor organisation a key belongs to."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Token counts for one day and one (model, service tier, context window, batch) group."""

    day: date
    model: str
    service_tier: str
    context_window: str  # Anthropic "0-200k" / "200k-1M"; BLANK for OpenAI
    batch: str  # OpenAI "true" / "false"; BLANK for Anthropic or when not reported
    uncached_input: int
    cache_read: int
    cache_write: int
    cache_write_1h: int
    output: int
    requests: int | None  # OpenAI num_model_requests; Anthropic does not report requests


@dataclass(frozen=True, slots=True)
class CostRecord:
    """One cost line for one day; amount_usd is in dollars (major units of `currency`)."""

    day: date
    description: str  # Anthropic `description`, OpenAI `line_item`; BLANK when null
    dimensions: dict[str, str] = field(hash=False)  # every other non-null field, as strings
    amount_usd: Decimal
    currency: str  # upper-case ISO 4217, e.g. "USD"


def malformed(message: str) -> ConnectorError:
    """A ConnectorError for a response we cannot read."""
    return ConnectorError(message, kind="malformed")


def text(value: Any) -> str:
    """A group field as a string: null/missing becomes BLANK, unknown enum values are kept."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def count(row: dict[str, Any], key: str, *, required: bool = False) -> int:
    """A token or request count from a result row (missing optional counts are 0)."""
    value = row.get(key)
    if value is None:
        if required:
            raise malformed(f"result row lacks {key!r}")
        return 0
    if isinstance(value, float | Decimal):
        # 3.0 or 1e6 are whole numbers written as JSON floats; 1e30 is whole too, and left for
        # connectors.bounds to refuse with its range. Absurd exponents stop here, before int().
        number = Decimal(value)
        if number.is_finite() and number.adjusted() > _MAX_DIGITS:
            raise ConnectorError(f"{key} of {number:.3e} in one row", kind="out_of_range")
        if number.is_finite() and number == number.to_integral_value():
            value = int(number)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise malformed(f"result row has a bad {key!r}: {value!r}")
    return value


def decimal(value: Any, what: str) -> Decimal:
    """Money as an exact Decimal from a JSON string or number (never via float arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise malformed(f"bad {what}: {value!r}")
    try:
        result = Decimal(str(value).strip())
    except ArithmeticError as exc:
        raise malformed(f"bad {what}: {value!r}") from exc
    if not result.is_finite():
        raise malformed(f"bad {what}: {value!r}")
    return result


def buckets(data: list[Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(bucket, results) pairs from a page's `data`, checking the shape on the way."""
    pairs = []
    for bucket in data:
        results = bucket.get("results") if isinstance(bucket, dict) else None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise malformed("bucket without a results list")
        pairs.append((bucket, results))
    return pairs


def dimensions(row: dict[str, Any], skip: set[str]) -> dict[str, str]:
    """Every non-null field of a cost row except those in skip, as strings."""
    return {k: text(v) for k, v in sorted(row.items()) if k not in skip and v is not None}
