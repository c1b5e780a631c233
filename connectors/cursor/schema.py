"""The Admin API's members and usage-events bodies as declared schemas, and how events become
our daily records.

Cursor reports one row per request (a usage event), not daily totals: the events of a window are
summed here per UTC day and model into UsageRecords, and their `chargedCents` per UTC day into
one CostRecord. Field names drift between generations of the API, so every field but the ones
we cannot do without is optional, and unknown fields and `kind` values are ignored, never fatal.

Reference: https://cursor.com/docs/account/teams/admin-api
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import msgspec

from connectors.records import BLANK, CostRecord, UsageRecord, malformed
from connectors.schema import Count, Group, money, text, whole

DAY_MS = 86_400_000
EPOCH = date(1970, 1, 1)
CENTS = Decimal(100)
COST_DESCRIPTION = "Cursor usage (charged)"


class Member(msgspec.Struct, rename="camel"):
    email: Group = None
    name: Group = None
    role: Group = None
    is_removed: bool | None = None  # newer docs: removed members may still be listed


class Members(msgspec.Struct, rename="camel"):
    team_members: list[Member]


class TokenUsage(msgspec.Struct, rename="camel"):
    # inputTokens excludes cache reads and writes: the four counts add up, none contains another.
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cache_write_tokens: Count | None = None
    cache_read_tokens: Count | None = None
    total_cents: Decimal | None = None  # the model's price, before Cursor's token fee


class UsageEvent(msgspec.Struct, rename="camel"):
    # Epoch milliseconds as a JSON *string* ("1750979225854"); a number is accepted too.
    timestamp: str | int
    model: Group = None
    kind: Group = None  # "Usage-based", "Included in Business", USAGE_EVENT_KIND_…: kept as is
    is_token_based_call: bool | None = None
    # Absent when the request was not billed by tokens: its tokens are unknown, not zero.
    token_usage: TokenUsage | None = None
    # What the team was charged, in (fractional) cents, Cursor's token fee included.
    charged_cents: Decimal | None = None
    cursor_token_fee: Decimal | None = None


class Pagination(msgspec.Struct, rename="camel"):
    num_pages: int | None = None
    current_page: int | None = None
    page_size: int | None = None
    has_next_page: bool | None = None


class EventsPage(msgspec.Struct, rename="camel"):
    usage_events: list[UsageEvent] = msgspec.field(default_factory=list)
    pagination: Pagination | None = None
    total_usage_events_count: int | None = None


def active_members(body: Members) -> int:
    """Members not marked removed."""
    return sum(1 for member in body.team_members if not member.is_removed)


def has_next_page(page: EventsPage) -> bool:
    """Another page follows: `hasNextPage`, else `currentPage < numPages`; never after an empty
    page (a runaway cursor must not loop)."""
    if not page.usage_events or page.pagination is None:
        return False
    p = page.pagination
    if p.has_next_page is not None:
        return p.has_next_page
    if p.current_page is not None and p.num_pages is not None:
        return p.current_page < p.num_pages
    return False


def event_day(timestamp: str | int) -> date:
    """The UTC day of an epoch-millisecond timestamp, in exact integer arithmetic."""
    if isinstance(timestamp, str):
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 16:
            raise malformed(f"a usage event has a bad timestamp: {timestamp[:40]!r}")
        timestamp = int(timestamp)
    try:
        return EPOCH + timedelta(days=timestamp // DAY_MS)
    except OverflowError as exc:
        raise malformed(f"a usage event has a bad timestamp: {timestamp!r}") from exc


@dataclass
class _Tokens:
    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    requests: int = 0


class DailyTotals:
    """Usage events summed per UTC day × model (tokens) and per UTC day (money)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[date, str], _Tokens] = defaultdict(_Tokens)
        self._cents: dict[date, Decimal] = {}

    def add(self, events: list[UsageEvent]) -> None:
        for event in events:
            day = event_day(event.timestamp)
            cents = _charged_cents(event)
            if cents is not None:
                self._cents[day] = self._cents.get(day, Decimal(0)) + cents
            usage = event.token_usage
            if usage is None:
                continue
            row = self._tokens[(day, text(event.model))]
            row.uncached_input += whole(usage.input_tokens, "tokenUsage.inputTokens")
            row.cache_read += whole(usage.cache_read_tokens, "tokenUsage.cacheReadTokens")
            row.cache_write += whole(usage.cache_write_tokens, "tokenUsage.cacheWriteTokens")
            row.output += whole(usage.output_tokens, "tokenUsage.outputTokens")
            row.requests += 1

    def usage_records(self) -> list[UsageRecord]:
        return [
            UsageRecord(
                day=day,
                model=model,
                service_tier=BLANK,
                context_window=BLANK,
                batch=BLANK,
                uncached_input=t.uncached_input,
                cache_read=t.cache_read,
                cache_write=t.cache_write,
                cache_write_1h=0,
                output=t.output,
                requests=t.requests,
            )
            for (day, model), t in sorted(self._tokens.items())
        ]

    def cost_records(self) -> list[CostRecord]:
        return [
            CostRecord(
                day=day,
                description=COST_DESCRIPTION,
                dimensions={},
                amount_usd=cents / CENTS,
                currency="USD",
            )
            for day, cents in sorted(self._cents.items())
        ]


def _charged_cents(event: UsageEvent) -> Decimal | None:
    # chargedCents is what the team paid; payloads from before it existed carry the model's
    # price (totalCents) and, for third-party models, Cursor's fee separately.
    if event.charged_cents is not None:
        return money(event.charged_cents, "chargedCents")
    usage = event.token_usage
    if usage is None or usage.total_cents is None:
        return None
    fee = event.cursor_token_fee or Decimal(0)
    return money(usage.total_cents, "tokenUsage.totalCents") + money(fee, "cursorTokenFee")
