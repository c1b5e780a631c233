"""A respx stand-in for Cursor's usage-events endpoint, and a clock that never really waits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx

BASE = "https://api.cursor.com"
KEY = "key_" + "c0ffee" * 10 + "beef"  # 64 hex characters, the older documented shape
DAY_MS = 86_400_000


class FakeClock:
    """Virtual seconds: sleeping moves time forward; `sent` lists when each request went out."""

    def __init__(self, latency: float = 0.15):
        self.t = 1000.0
        self.latency = latency
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep_until(self, moment: float) -> None:
        if moment > self.t:
            self.sleeps.append(moment - self.t)
            self.t = moment


def ms(day: date, seconds: float = 0) -> int:
    return int(
        datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000 + seconds * 1000
    )


def event(
    when_ms: int, model="claude-4.5-sonnet", *, tokens=(100, 10, 5, 1000), charged="1.5", **extra
):
    """A usage event as documented; tokens = (input, output, cacheWrite, cacheRead) or None."""
    body = {
        "timestamp": str(when_ms),
        "userEmail": "dana@example.com",
        "model": model,
        "kind": "Usage-based",
        "maxMode": False,
        "requestsCosts": 1,
        "isTokenBasedCall": tokens is not None,
        **extra,
    }
    if tokens is not None:
        i, o, w, r = tokens
        body["tokenUsage"] = {
            "inputTokens": i,
            "outputTokens": o,
            "cacheWriteTokens": w,
            "cacheReadTokens": r,
            "totalCents": 1.0,
        }
    if charged is not None:
        body["chargedCents"] = json.loads(charged)  # a JSON number with its printed digits
    return body


def events_vendor(events: list[dict], *, clock: FakeClock | None = None, log: list | None = None):
    """A side effect serving `events` filtered by the request's inclusive range, paged."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if clock is not None:
            clock.t += clock.latency
        if log is not None:
            log.append((clock.t if clock else None, body))
        if not isinstance(body.get("startDate"), int) or not isinstance(body.get("endDate"), int):
            return httpx.Response(500, json={"error": "Internal Server Error", "message": "x"})
        size = body.get("pageSize", 100)
        if size > 1000:
            return httpx.Response(400, json={"error": "Bad Request", "message": "pageSize"})
        page = body.get("page", 1)
        chosen = [e for e in events if body["startDate"] <= int(e["timestamp"]) <= body["endDate"]]
        pages = max(1, -(-len(chosen) // size))
        return httpx.Response(
            200,
            json={
                "totalUsageEventsCount": len(chosen),
                "pagination": {
                    "numPages": pages,
                    "currentPage": page,
                    "pageSize": size,
                    "hasNextPage": page < pages,
                    "hasPreviousPage": page > 1,
                },
                "usageEvents": chosen[(page - 1) * size : page * size],
                "period": {"startDate": body["startDate"], "endDate": body["endDate"]},
            },
        )

    return respond
