"""Typed records the vendor clients return, normalised to our four token types.

Token types (same for every vendor): `uncached_input`, `cache_read`, `cache_write` (all cache
writes) and `output`; `cache_write_1h` is the part of `cache_write` that went to Anthropic's
1-hour cache (0 where a vendor does not split). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.errors import ConnectorError

# Placeholder for a group field the vendor left null or did not return ("not grouped", default
# workspace, non-token cost line…), so callers can build NOT NULL unique keys on these columns.
BLANK = ""


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
    # Anthropic server_tool_use.web_search_requests: a count of calls, never tokens.
    web_search_requests: int = 0


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
