"""A source's daily rows as plain values, aggregated from records as the reports arrive.

Plain slotted rows, not model instances: a heavy sample is ~15,000 of them, written with one
COPY per table (estimates.storage) and read by the projection as they are. Their fields are the
DailyUsage / DailyCost columns of the same names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.records import CostRecord, UsageRecord

USAGE_FIELDS = (
    "date",
    "model",
    "service_tier",
    "context_window",
    "batch",
    "uncached_input",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "output",
    "requests",
    "web_search_requests",
)
COST_FIELDS = ("date", "description", "dimensions", "dimensions_key", "amount_usd", "currency")


@dataclass(slots=True)
class UsageRow:
    date: date
    model: str
    service_tier: str
    context_window: str
    batch: str
    uncached_input: int
    cache_read: int
    cache_write: int
    cache_write_1h: int
    output: int
    requests: int | None
    web_search_requests: int

    def copy_values(self) -> tuple:
        """The columns of USAGE_FIELDS, in their order."""
        return (
            self.date,
            self.model,
            self.service_tier,
            self.context_window,
            self.batch,
            self.uncached_input,
            self.cache_read,
            self.cache_write,
            self.cache_write_1h,
            self.output,
            self.requests,
            self.web_search_requests,
        )


@dataclass(slots=True)
class CostRow:
    date: date
    description: str
    dimensions: dict[str, str]
    dimensions_key: str  # the canonical JSON text of dimensions
    amount_usd: Decimal
    currency: str

    def copy_values(self) -> tuple:
        """The columns of COST_FIELDS, in their order; the JSON column as its JSON text."""
        return (
            self.date,
            self.description,
            self.dimensions_key,
            self.dimensions_key,
            self.amount_usd,
            self.currency,
        )


def dimensions_key(dimensions: dict) -> str:
    return json.dumps(dimensions, sort_keys=True, separators=(",", ":"))


class Rows:
    """Usage rows per (day, model, tier, context window, batch) and cost rows per (day,
    description, dimensions, currency); records that fall on the same row are summed."""

    def __init__(self, records: Iterable[UsageRecord | CostRecord] = ()):
        self._usage: dict[tuple, UsageRow] = {}
        self._costs: dict[tuple, CostRow] = {}
        self._keys: dict[tuple, str] = {}  # dimensions → their key: a cost line repeats daily
        self.add(records)

    @property
    def usage(self) -> list[UsageRow]:
        return list(self._usage.values())

    @property
    def costs(self) -> list[CostRow]:
        return list(self._costs.values())

    def add(self, records: Iterable[UsageRecord | CostRecord]) -> None:
        for r in records:
            if isinstance(r, CostRecord):
                self._cost(r)
            else:
                self._use(r)

    def _use(self, r: UsageRecord) -> None:
        key = (r.day, r.model, r.service_tier, r.context_window, r.batch)
        row = self._usage.get(key)
        if row is None:
            self._usage[key] = UsageRow(
                r.day,
                r.model,
                r.service_tier,
                r.context_window,
                r.batch,
                r.uncached_input,
                r.cache_read,
                r.cache_write,
                r.cache_write_1h,
                r.output,
                r.requests,
                r.web_search_requests,
            )
            return
        row.uncached_input += r.uncached_input
        row.cache_read += r.cache_read
        row.cache_write += r.cache_write
        row.cache_write_1h += r.cache_write_1h
        row.output += r.output
        row.web_search_requests += r.web_search_requests
        if r.requests is not None:
            row.requests = (row.requests or 0) + r.requests

    def _cost(self, r: CostRecord) -> None:
        if not r.amount_usd.is_finite():  # as the model field would refuse it
            raise ValueError(f"not a finite amount: {r.amount_usd!r}")
        try:
            items = tuple(r.dimensions.items())
            canonical = self._keys.get(items)
        except TypeError:  # a value that is not a string: no shortcut
            items, canonical = None, dimensions_key(r.dimensions)
        if canonical is None:
            canonical = self._keys[items] = dimensions_key(r.dimensions)
        key = (r.day, r.description, canonical, r.currency)
        row = self._costs.get(key)
        if row is None:
            self._costs[key] = CostRow(
                r.day, r.description, r.dimensions, canonical, r.amount_usd, r.currency
            )
        else:
            row.amount_usd += r.amount_usd
