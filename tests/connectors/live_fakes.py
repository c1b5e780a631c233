"""OTLP requests as Claude Code and Codex send them, for the live source's tests."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

TOKEN_METRIC = "claude_code.token.usage"
MODEL = "claude-opus-4-6"
EMAIL = "dev.person@example.org"
SESSION = "5f1e2d3c-session-id-0001"


def nanos(moment: datetime) -> int:
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()) * 1_000_000_000


def kv(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def point(
    value,
    *,
    type="input",
    model=MODEL,
    at: datetime,
    start: datetime | None = None,
    session=SESSION,
    extra: dict | None = None,
) -> dict:
    attrs = {"type": type, "model": model, "session.id": session, "user.email": EMAIL}
    attrs.update(extra or {})
    data = {
        "attributes": [kv(k, v) for k, v in attrs.items()],
        "startTimeUnixNano": str(nanos(start or at)),
        "timeUnixNano": str(nanos(at)),
    }
    if isinstance(value, float):
        data["asDouble"] = value
    else:
        data["asInt"] = str(value)
    return data


def metrics_json(
    points: list[dict],
    *,
    temporality: int = 1,
    name: str = TOKEN_METRIC,
    resource: dict | None = None,
    more_metrics: list[dict] = (),
) -> dict:
    resource_attrs = {"service.name": "claude-code", "service.version": "2.1.220"}
    resource_attrs.update(resource or {})
    metric = {
        "name": name,
        "unit": "tokens",
        "sum": {"aggregationTemporality": temporality, "isMonotonic": True, "dataPoints": points},
    }
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": [kv(k, v) for k, v in resource_attrs.items()]},
                "scopeMetrics": [
                    {
                        "scope": {"name": "com.anthropic.claude_code", "version": "2.1.220"},
                        "metrics": [metric, *more_metrics],
                    }
                ],
            }
        ]
    }


def codex_record(
    *,
    at: datetime,
    input="1000",
    output="200",
    cached="600",
    reasoning="150",
    kind="response.completed",
    model="gpt-5-codex",
) -> dict:
    attrs = {
        "event.name": "codex.sse_event",
        "event.kind": kind,
        "conversation.id": "conv-1",
        "user.email": EMAIL,
        "user.account_id": "acct-123",
        "model": model,
        "input_token_count": input,
        "output_token_count": output,
        "cached_token_count": cached,
        "reasoning_token_count": reasoning,
        "tool_token_count": "1200",
    }
    return {
        "timeUnixNano": str(nanos(at)),
        "attributes": [kv(k, v) for k, v in attrs.items()],
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
    }


def logs_json(records: list[dict]) -> dict:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [kv("service.name", "codex_cli_rs")]},
                "scopeLogs": [{"scope": {"name": "codex"}, "logRecords": records}],
            }
        ]
    }


def protobuf(data: dict, logs: bool = False) -> bytes:
    message = ExportLogsServiceRequest() if logs else ExportMetricsServiceRequest()
    clean = json.loads(json.dumps(data))
    for rl in clean.get("resourceLogs", []):
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                r.pop("traceId", None), r.pop("spanId", None)
    json_format.ParseDict(clean, message)
    return message.SerializeToString()


def post(
    client,
    path: str,
    body: bytes,
    *,
    token: str,
    content_type="application/x-protobuf",
    gzipped=False,
    **headers,
):
    if gzipped:
        body = gzip.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.generic("POST", path, body, content_type=content_type, **headers)


def send_metrics(client, data: dict, *, token: str, json_body=False, gzipped=False):
    if json_body:
        body, ctype = json.dumps(data).encode(), "application/json"
    else:
        body, ctype = protobuf(data), "application/x-protobuf"
    return post(client, "/otlp/v1/metrics", body, token=token, content_type=ctype, gzipped=gzipped)
