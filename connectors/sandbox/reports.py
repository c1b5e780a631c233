"""Page building for the sandbox's report endpoints (no HTTP here); queries.py validates them.

References:
https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal

from connectors.sandbox import aggregation, synthetic
from connectors.sandbox.catalogue import ANTHROPIC, effective_params
from connectors.sandbox.queries import (
    InvalidRequest,
    Query,
    encode_cursor,
    floor,
    iso,
    parse_query,
)

__all__ = ["InvalidRequest", "Query", "build_page", "parse_query"]


def build_page(query: Query, behaviour: str, params: Mapping[str, int], today: dt.date) -> dict:
    """The JSON-ready response page for a validated query."""
    buckets, moment = [], query.cursor
    while moment < query.end and len(buckets) < query.limit:
        bucket_end = min(floor(moment, query.width) + query.width, query.end)
        buckets.append(_bucket(query, behaviour, params, today, moment, bucket_end))
        moment = bucket_end
    has_more = moment < query.end
    next_page = encode_cursor(query.vendor, moment) if has_more else None
    if query.vendor == ANTHROPIC:
        return {"data": buckets, "has_more": has_more, "next_page": next_page}
    return {"object": "page", "data": buckets, "has_more": has_more, "next_page": next_page}


def _bucket(query: Query, behaviour, params, today, start: int, end: int) -> dict:
    day_start = floor(start, 86_400)
    day = dt.datetime.fromtimestamp(day_start, dt.UTC).date()
    rows = _day_rows(query.vendor, query.kind, behaviour, _data_params(behaviour, params), day,
                     today)  # fmt: skip
    if (start - day_start, end - day_start) != (0, 86_400):
        rows = aggregation.portion(rows, start - day_start, end - day_start)
    rows = [row for row in rows if all(row[f] in ok for f, ok in query.filters.items())]
    results = [
        _wire(query, row)
        for row in aggregation.aggregate(query.vendor, query.kind, rows, query.group_by)
    ]
    if query.vendor == ANTHROPIC:
        return {"starting_at": iso(start), "ending_at": iso(end), "results": results}
    return {"object": "bucket", "start_time": start, "end_time": end, "results": results}


def _data_params(behaviour: str, params: Mapping[str, int]) -> tuple:
    if behaviour != "heavy":
        return ()
    full = effective_params(behaviour, params)
    return (("g", full["g"]), ("c", full["c"]))


@functools.lru_cache(maxsize=512)
def _day_rows(vendor, kind, behaviour, data_params: tuple, day, today) -> list[dict]:
    if kind in synthetic.INPUT_ONLY:
        return synthetic.daily_input_only(kind, behaviour, day, today=today)
    make = synthetic.daily_usage if kind == "usage" else synthetic.daily_costs
    return make(vendor, behaviour, day, dict(data_params), today=today)


def _wire(query: Query, row: dict) -> dict:
    if query.vendor == ANTHROPIC:
        row = {name: value for name, value in row.items()
               if name != "speed" or query.with_speed}  # fmt: skip
    return _encode(row, query.vendor)


def _encode(value, vendor: str):
    if isinstance(value, dict):
        return {name: _encode(item, vendor) for name, item in value.items()}
    if isinstance(value, Decimal):  # Anthropic: cents as a decimal string; OpenAI: a number
        return format(value, "f") if vendor == ANTHROPIC else float(value)
    return value
