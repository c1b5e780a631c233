"""OTLP/HTTP on the wire: reading a capped body, decoding protobuf or OTLP-JSON, answering.

Reference: https://github.com/open-telemetry/opentelemetry-proto/blob/main/docs/specification.md
(OTLP/HTTP: content types, gzip, full success, partial success, failures, throttling). Nothing
here knows Claude Code or Codex; points.py reads the decoded requests.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# A Claude Code export is a few KB per session and minute; OTLP suggests 20 MiB, we need far
# less. The second cap applies after decompression, so a small gzip bomb is a 413 too.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DECODED_BYTES = 8 * 1024 * 1024
MAX_INFLATION = 100  # a higher gzip ratio is a bomb, not telemetry
_INFLATE_CHUNK = 64 * 1024


class OtlpRefused(Exception):
    """A request we answer with an OTLP failure: its status and an English message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Signal:
    name: str  # "metrics" or "logs"
    request: type[Message]
    response: type[Message]
    rejected_field: str  # the partial_success counter


METRICS = Signal(
    "metrics",
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    "rejected_data_points",
)
LOGS = Signal(
    "logs",
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "rejected_log_records",
)


def media_type(content_type: str) -> str:
    """The request's encoding; OtlpRefused(415) for anything but protobuf or JSON."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in (PROTOBUF, JSON):
        raise OtlpRefused(415, f"Content-Type must be {PROTOBUF} or {JSON}.")
    return kind


def body_read(read: Callable[[int], bytes], *, content_length: str, content_encoding: str) -> bytes:
    """The request body, inflated if gzip, within both caps (413 past either)."""
    encoding = content_encoding.strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise OtlpRefused(415, "Content-Encoding must be gzip or none.")
    try:
        declared = int(content_length or 0)
    except ValueError:
        raise OtlpRefused(400, "Content-Length is not a number.") from None
    if declared > MAX_BODY_BYTES:
        raise OtlpRefused(413, f"The body is {declared:,} bytes; at most {MAX_BODY_BYTES:,}.")
    # Read with our own cap, not request.body: chunked bodies have no Content-Length, and
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE would answer a 400 instead of a deliberate 413.
    raw = read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise OtlpRefused(413, f"The body is over {MAX_BODY_BYTES:,} bytes.")
    return _gunzip(raw) if encoding == "gzip" else raw


def _gunzip(raw: bytes) -> bytes:
    limit = min(MAX_DECODED_BYTES, max(len(raw), 1024) * MAX_INFLATION)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts, size = [], 0
    try:
        data = raw
        while data and not inflater.eof:
            chunk = inflater.decompress(data, _INFLATE_CHUNK)
            size += len(chunk)
            if size > limit:
                raise OtlpRefused(413, f"The body inflates past {limit:,} bytes.")
            parts.append(chunk)
            data = inflater.unconsumed_tail
    except zlib.error:
        raise OtlpRefused(400, "The body is not valid gzip.") from None
    if not inflater.eof:
        raise OtlpRefused(400, "The gzip body is truncated.")
    return b"".join(parts)


def request_decode(signal: Signal, body: bytes, kind: str) -> Message:
    """The Export…ServiceRequest in body; OtlpRefused(400) when it cannot be read."""
    message = signal.request()
    if not body:
        return message  # an empty request is a success
    try:
        if kind == PROTOBUF:
            message.ParseFromString(body)
        else:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            # OTLP-JSON writes trace and span ids in hex where proto3 JSON expects base64; we
            # never use them, so they are dropped before parsing.
            json_format.ParseDict(_without_ids(data), message, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, ValueError, TypeError, RecursionError):
        raise OtlpRefused(400, f"The body is not a valid OTLP {signal.name} request.") from None
    return message


def _without_ids(value):
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("traceId", "spanId")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def response_encode(signal: Signal, kind: str, *, rejected: int = 0, message: str = "") -> bytes:
    """A success (partial when points were rejected), in the request's encoding."""
    response = signal.response()
    if rejected:
        setattr(response.partial_success, signal.rejected_field, rejected)
        response.partial_success.error_message = message
    if kind == JSON:
        return json_format.MessageToJson(response, indent=None).encode()
    return response.SerializeToString()


# google.rpc.Status codes for the failures we send.
_RPC_CODES = {400: 3, 401: 16, 413: 3, 415: 3, 429: 8, 503: 14}


def status_encode(kind: str, status: int, message: str) -> bytes:
    """A google.rpc.Status body (code, message) in the request's encoding."""
    code = _RPC_CODES.get(status, 2)
    if kind == JSON:
        return json.dumps({"code": code, "message": message}).encode()
    # Two fields, encoded by hand: opentelemetry-proto does not ship google.rpc.Status.
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)
