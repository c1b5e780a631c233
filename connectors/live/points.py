"""Token points out of decoded OTLP requests; everything else is dropped on arrival.

Claude Code: only the ``claude_code.token.usage`` counter (Sum, delta or cumulative). Its other
counters carry ``type`` and ``model`` too (lines of code, cost, active time) and never become
tokens. Codex: only ``codex.sse_event`` log records of kind ``response.completed``.
Reference: https://code.claude.com/docs/en/monitoring-usage and
https://github.com/openai/codex/blob/main/docs/config.md

Of the attributes we keep the model, the token type, Claude Code's fast mode and the
``organization.id`` (to avoid double counting with an admin key); emails, account and session
ids and custom attributes only enter a salted series digest and are never stored.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from connectors import bounds

TOKEN_METRIC = "claude_code.token.usage"  # noqa: S105 - a metric name
CODEX_EVENT = "codex.sse_event"
DELTA, CUMULATIVE = 1, 2
CLAUDE_TYPES = {  # exactly so: camelCase (an unknown type is rejected, never taken as input)
    "input": "uncached_input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheCreation": "cache_write",
}
MAX_AGE = timedelta(days=35)
MAX_AHEAD = timedelta(hours=1)
_NO_VALUE = 1  # NumberDataPoint flags bit: no recorded value


@dataclass(frozen=True)
class Point:
    series_key: str
    temporality: int
    start_unix_nano: int
    time_unix_nano: int
    value: float
    day: date
    model: str
    column: str  # uncached_input, cache_read, cache_write, output
    service_tier: str = ""


@dataclass
class Extracted:
    points: list[Point] = field(default_factory=list)
    rejected: int = 0
    reasons: set[str] = field(default_factory=set)
    organization_ids: set[str] = field(default_factory=set)
    no_account: bool = False

    def reject(self, reason: str) -> None:
        self.rejected += 1
        self.reasons.add(reason)

    @property
    def message(self) -> str:
        return "; ".join(sorted(self.reasons))[:500]


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attrs(key_values) -> dict:
    return {kv.key: _value(kv.value) for kv in key_values}


def _digest(salt: str, *parts) -> str:
    h = hashlib.sha256(salt.encode())
    for part in parts:
        h.update(b"\x1f" + repr(part).encode("utf-8", "replace"))
    return h.hexdigest()


def _time(nanos: int, now: datetime, out: Extracted) -> tuple[int, date] | None:
    """(time in ns, its UTC day) or None when out of the accepted range (rejected)."""
    if not nanos:
        nanos = int(now.timestamp() * 1e9)  # no timestamp: the receive time
    moment = datetime.fromtimestamp(nanos / 1e9, tz=UTC)
    if moment < now - MAX_AGE:
        out.reject("points older than 35 days are refused")
        return None
    if moment > now + MAX_AHEAD:
        out.reject("points more than an hour in the future are refused")
        return None
    return nanos, moment.date()


def _model(value, out: Extracted) -> str | None:
    if not isinstance(value, str) or not value.strip():
        out.reject("a token point without a model")
        return None
    if len(value) > bounds.MAX_LIVE_MODEL_CHARS:
        out.reject(f"model names over {bounds.MAX_LIVE_MODEL_CHARS} characters")
        return None
    return value.strip()


def _account(attrs: dict, out: Extracted) -> None:
    org = attrs.get("organization.id")
    if isinstance(org, str) and 0 < len(org) <= 100:
        out.organization_ids.add(org)
    else:
        out.no_account = True


def metrics_points(request, *, salt: str, now: datetime) -> Extracted:
    """The token points of an ExportMetricsServiceRequest (rejected ones counted)."""
    out = Extracted()
    for resource_metrics in request.resource_metrics:
        resource = _attrs(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name != TOKEN_METRIC:
                    continue  # other counters share `type` and `model`: never tokens
                _token_metric(metric, resource, scope_metrics.scope.name, salt, now, out)
    return out


def _token_metric(metric, resource: dict, scope: str, salt: str, now: datetime, out) -> None:
    if metric.WhichOneof("data") != "sum":
        for _ in _data_points(metric):
            out.reject(f"{TOKEN_METRIC} must be a sum")
        return
    temporality = metric.sum.aggregation_temporality
    for point in metric.sum.data_points:
        if temporality not in (DELTA, CUMULATIVE) or not metric.sum.is_monotonic:
            out.reject("token sums must be monotonic, delta or cumulative")
            continue
        if point.flags & _NO_VALUE:
            continue
        attrs = {**resource, **_attrs(point.attributes)}
        column = CLAUDE_TYPES.get(attrs.get("type"))
        if column is None:
            out.reject("unknown token types are refused")
            continue
        model = _model(attrs.get("model"), out)
        when = _time(point.time_unix_nano, now, out)
        value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
        if model is None or when is None or not _plausible(value, temporality, out):
            continue
        _account(attrs, out)
        key = _digest(salt, metric.name, scope, sorted(attrs.items()))
        out.points.append(
            Point(
                series_key=key,
                temporality=temporality,
                start_unix_nano=point.start_time_unix_nano,
                time_unix_nano=when[0],
                value=float(value),
                day=when[1],
                model=model,
                column=column,
                service_tier="fast" if attrs.get("speed") == "fast" else "",
            )
        )


def _data_points(metric):
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind else []


def _plausible(value, temporality: int, out: Extracted) -> bool:
    limit = bounds.MAX_LIVE_TOKENS_PER_POINT
    if temporality == CUMULATIVE:
        limit = bounds.MAX_TOKENS_PER_ROW_PER_DAY  # a running total of a long session
    if not math.isfinite(value) or value < 0 or value > limit:
        out.reject(f"token counts must be between 0 and {limit:,}")
        return False
    return True


def _count(value) -> int | None:
    """A Codex count: int, integral double or (often) a decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() and len(value) <= 15 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value == int(value) else None
    return value if isinstance(value, int) else None


def logs_points(request, *, salt: str, now: datetime) -> Extracted:
    """Token points of an ExportLogsServiceRequest: Codex's completed responses only."""
    out = Extracted()
    for resource_logs in request.resource_logs:
        resource = _attrs(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = _attrs(record.attributes)
                name = record.event_name or attrs.get("event.name")
                if name != CODEX_EVENT or attrs.get("event.kind") != "response.completed":
                    continue  # every other record (Claude Code events included) unread
                _codex_record(record, {**resource, **attrs}, salt, now, out)
    return out


def _codex_record(record, attrs: dict, salt: str, now: datetime, out: Extracted) -> None:
    counts = {
        name: _count(attrs.get(f"{name}_token_count", 0)) for name in ("input", "output", "cached")
    }
    if any(v is None for v in counts.values()):
        out.reject("Codex token counts must be whole numbers")
        return
    # Input includes the cached tokens and output the reasoning ones (OpenAI Responses usage):
    # never add reasoning_token_count or tool_token_count (a total) on top.
    uncached = counts["input"] - counts["cached"]
    if uncached < 0 or max(counts.values()) > bounds.MAX_LIVE_TOKENS_PER_POINT:
        out.reject("Codex token counts out of range")
        return
    model = _model(attrs.get("model"), out)
    when = _time(record.time_unix_nano or record.observed_time_unix_nano, now, out)
    if model is None or when is None:
        return
    identity = (attrs.get("conversation.id"), when[0], model, sorted(counts.items()))
    for column, value in (
        ("uncached_input", uncached),
        ("cache_read", counts["cached"]),
        ("output", counts["output"]),
    ):
        # One "series" per record and column: a resent record is recognised by it.
        out.points.append(
            Point(
                series_key=_digest(salt, CODEX_EVENT, identity, column),
                temporality=DELTA,
                start_unix_nano=when[0],
                time_unix_nano=when[0],
                value=float(value),
                day=when[1],
                model=model,
                column=column,
            )
        )
