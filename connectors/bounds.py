"""Sane ranges for what a vendor's report may contain, defined once for every vendor.

A value outside them is not usage we can believe, or store: the report is treated as malformed
(kind ``out_of_range``) and the sample fails with the previous data kept. The text limits are
also the widths of the columns the values are stored in (estimates.models uses these names).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from connectors.errors import ConnectorError
from connectors.records import CostRecord, UsageRecord

# One (model, tier, context window, batch) group in one day. The largest organisations process
# billions of tokens a day in all; a trillion in one group is beyond any real account, and keeps
# sums over a month of rows far inside a 64-bit column.
MAX_TOKENS_PER_ROW_PER_DAY = 10**12
MAX_REQUESTS_PER_ROW_PER_DAY = 10**10
# One cost line in one day, in either direction (credits and refunds are negative).
MAX_COST_PER_ROW_PER_DAY = Decimal(10_000_000)

# One live telemetry point (a minute of one session's tokens): no interval reaches a billion.
MAX_LIVE_TOKENS_PER_POINT = 10**9
MAX_LIVE_MODEL_CHARS = 100

# Column widths of the daily rows.
MAX_MODEL_CHARS = 200
MAX_GROUP_CHARS = 50  # service tier, context window
MAX_BATCH_CHARS = 10
MAX_DESCRIPTION_CHARS = 300
MAX_DIMENSIONS_CHARS = 1000  # the canonical JSON of a cost line's other fields
MAX_CURRENCY_CHARS = 3

_MAX_SHOWN = 40


def out_of_range(message: str) -> ConnectorError:
    """A ConnectorError for a report value outside the sane range (shown to the owner)."""
    return ConnectorError(message, kind="out_of_range")


def _shown(value) -> str:
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return text if len(text) <= _MAX_SHOWN else f"{value:.3e}"


def _check_day(day: date, start: date, end: date) -> None:
    if not start <= day < end:
        raise out_of_range(f"a row dated {day}, outside the requested days {start} to {end}")


def _check_text(value: str, what: str, limit: int) -> None:
    if len(value) > limit:
        raise out_of_range(f"{what} of {len(value):,} characters; at most {limit} fit")


def _check_count(value: int | None, what: str, limit: int) -> None:
    if value is not None and value > limit:
        raise out_of_range(f"{_shown(value)} {what} in one row for one day; at most {limit:,}")


_TOKEN_COUNTS = tuple(
    (name, f"{name.replace('_', ' ')} tokens")
    for name in ("uncached_input", "cache_read", "cache_write", "output")
)


def check_usage(record: UsageRecord, start: date, end: date) -> None:
    """Raise out_of_range unless the usage record is plausible and fits our columns."""
    _check_day(record.day, start, end)
    _check_text(record.model, "a model name", MAX_MODEL_CHARS)
    _check_text(record.service_tier, "a service tier", MAX_GROUP_CHARS)
    _check_text(record.context_window, "a context window", MAX_GROUP_CHARS)
    _check_text(record.batch, "a batch flag", MAX_BATCH_CHARS)
    for name, what in _TOKEN_COUNTS:
        _check_count(getattr(record, name), what, MAX_TOKENS_PER_ROW_PER_DAY)
    _check_count(record.requests, "requests", MAX_REQUESTS_PER_ROW_PER_DAY)


def _json_length_bound(dimensions: dict) -> int:
    """Never less than the length of the dimensions' compact JSON, without encoding it: an ASCII
    character is written as at most 6 (``\\u001f``), plus quotes, colon and comma. Others (an
    emoji is 12, a surrogate pair) are encoded to know: most cost lines are short and ASCII."""
    if not all(
        type(k) is str and type(v) is str and k.isascii() and v.isascii()
        for k, v in dimensions.items()
    ):
        return MAX_DIMENSIONS_CHARS + 1
    return 2 + sum(6 * (len(k) + len(v)) + 6 for k, v in dimensions.items())


def check_cost(record: CostRecord, start: date, end: date) -> None:
    """Raise out_of_range unless the cost record is plausible and fits our columns."""
    _check_day(record.day, start, end)
    _check_text(record.description, "a cost description", MAX_DESCRIPTION_CHARS)
    _check_text(record.currency, "a currency", MAX_CURRENCY_CHARS)
    if _json_length_bound(record.dimensions) > MAX_DIMENSIONS_CHARS:
        dimensions = json.dumps(record.dimensions, sort_keys=True, separators=(",", ":"))
        _check_text(dimensions, "a cost line's details", MAX_DIMENSIONS_CHARS)
    if abs(record.amount_usd) > MAX_COST_PER_ROW_PER_DAY:
        raise out_of_range(
            f"a cost of {_shown(record.amount_usd)} on one line for one day; "
            f"at most {MAX_COST_PER_ROW_PER_DAY:,}"
        )


def check_record(record: UsageRecord | CostRecord, start: date, end: date) -> None:
    """Check a usage or cost record fetched for the window [start, end)."""
    if isinstance(record, UsageRecord):
        check_usage(record, start, end)
    elif isinstance(record, CostRecord):
        check_cost(record, start, end)
    else:  # pragma: no cover - the clients return only these two
        raise TypeError(f"not a report record: {type(record).__name__}")
