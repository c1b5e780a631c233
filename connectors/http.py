"""The only place an httpx.Client is built: one call with its retries, size cap and decoding of
the body into a declared schema (cursor paging over it: connectors.paging)."""

from __future__ import annotations

import email.utils
import functools
import math
import re
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import msgspec
from django.conf import settings

from connectors.errors import ConnectorError

USER_AGENT = "TokenOffset/0.1 (+https://tokenoffset.example/docs/sources)"
# Grouped reports can take seconds to build vendor-side (long read); connecting should be quick.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)

# Retry budget for one request (one page): MAX_ATTEMPTS tries, each wait ≤ MAX_WAIT s, TOTAL_WAIT
# s in all. A longer wait is the caller's (a Celery retry): raised at once with `retry_after`.
MAX_ATTEMPTS = 3
MAX_WAIT = 20.0
TOTAL_WAIT = 60.0
BACKOFF_BASE = 1.0  # seconds; doubles on each attempt when the vendor sends no retry-after

Sleep = Callable[[float], None]
Params = Sequence[tuple[str, str]]
T = TypeVar("T")

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*.]{4,}")
_MAX_VENDOR_TEXT = 300
# Only gzip is asked for, so the body can be inflated here under the size cap (see _read_body).
ACCEPT_ENCODING = "gzip"
_TLS = functools.cache(httpx.create_ssl_context)  # the CA bundle loads in ~25 ms: once, shared


def build_client(base_url: str, *, timeout: httpx.Timeout | None = None, **more) -> httpx.Client:
    """Build the httpx.Client for one vendor base URL (scheme and host only); ``more``: limits…"""
    url = httpx.URL(base_url)
    if url.scheme not in ("https", "http") or not url.host or url.path not in ("", "/"):
        # Clients hold full paths starting /v1/; a base URL ending in /v1 would double it.
        raise ValueError(f"base_url must be scheme and host only, got {base_url!r}")
    return httpx.Client(
        base_url=base_url,
        timeout=timeout or DEFAULT_TIMEOUT,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        follow_redirects=False,
        verify=_TLS(),  # connections are kept alive for the client's life
        **more,
    )


def redact(text: str, secret: str | None) -> str:
    """Remove the key (and anything shaped like an sk- key) from text meant for logs."""
    if secret:
        text = text.replace(secret, "[redacted]")
    # OpenAI echoes a masked key ("Incorrect API key provided: sk-admin***abcd").
    return _KEY_LIKE.sub("sk-[redacted]", text)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a retry-after header (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _kind_for_status(status: int) -> str:
    if status == 401:
        return "unauthorized"
    if status == 403:
        return "forbidden"
    if status == 408:
        return "timeout"
    if status == 429:
        return "rate_limited"
    if status >= 500:  # 500, 502, 503, 504 and Anthropic's 529 "overloaded"
        return "server"
    # 400, 402, 404, 409, 422 …: the vendor rejects the request itself. Not the key's fault and
    # not worth retrying (a parameter or path we send is wrong, or the API changed).
    return "bad_request"


def _vendor_text(content: bytes) -> str:
    """The vendor's error text: `error` may be an object (type/message) or a bare string."""
    try:
        body = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return ""
    error = body.get("error") if isinstance(body, dict) else body
    if isinstance(error, dict):
        label = error.get("type") or error.get("status") or error.get("code")
        details = error.get("details") if isinstance(error.get("details"), list) else []
        if reasons := [str(d["reason"]) for d in details if isinstance(d, dict) and "reason" in d]:
            label = f"{label} ({', '.join(reasons)})"  # Google's cause: SERVICE_DISABLED …
        text = error.get("message")
        parts = [str(p) for p in (label, text) if isinstance(p, str | int) and p != ""]
        return ": ".join(parts)
    if isinstance(error, str):  # OAuth adds error_description (RFC 6749 §5.2), Cursor a message
        more = isinstance(body, dict) and (body.get("error_description") or body.get("message"))
        return f"{error}: {more}" if isinstance(more, str) and more else error
    return ""


def error_from_response(
    response: httpx.Response,
    path: str,
    secret: str | None,
    *,
    content: bytes | None = None,
    method: str = "GET",
) -> ConnectorError:
    """Map a non-2xx response to a ConnectorError (never carrying the key)."""
    status = response.status_code
    message = f"HTTP {status} from {method} {path}"
    content = response.content if content is None else content
    text = _vendor_text(content)[:_MAX_VENDOR_TEXT]
    if text:
        message += f": {text}"
    request_id = response.headers.get("request-id") or response.headers.get("x-request-id")
    if request_id:
        message += f" (request id {request_id})"
    return ConnectorError(
        redact(message, secret),
        kind=_kind_for_status(status),
        status=status,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


class _TooLarge(Exception):
    pass


def _read_body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, read chunk by chunk; _TooLarge once it passes `limit` bytes. Neither
    Content-Length (absent, or lying) nor the compressed size is trusted: decoded bytes are
    counted as they arrive, and gzip is inflated at most `limit + 1` bytes at a time."""
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
        raise _TooLarge
    if encoding in ("", "identity"):
        inflate = None
    elif encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    else:
        raise httpx.DecodingError(f"unsupported content-encoding {encoding!r}")
    body = bytearray()
    for chunk in response.iter_raw():
        if inflate is None:
            body += chunk
        else:
            pending = chunk
            while pending and not inflate.eof:
                try:
                    body += inflate.decompress(pending, limit + 1 - len(body))
                except zlib.error as exc:
                    raise httpx.DecodingError(str(exc)) from exc
                if len(body) > limit:
                    raise _TooLarge
                pending = inflate.unconsumed_tail
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


# Untyped bodies (error texts, ad-hoc calls): fractions become Decimal straight from the JSON
# text, so money never passes through a float.
_UNTYPED = msgspec.json.Decoder(float_hook=Decimal)


@functools.cache
def _decoder(schema: Any) -> msgspec.json.Decoder:
    # A report's schema is declared once; its decoder is built once per process.
    return msgspec.json.Decoder(schema)


def decode(content: bytes, schema: Any, *, path: str, status: int = 200, method="GET") -> Any:
    """Decode a body into `schema` (a msgspec type; Any for plain JSON), or raise malformed."""
    try:
        if schema is Any:
            return _UNTYPED.decode(content)
        return _decoder(schema).decode(content)
    except msgspec.ValidationError as exc:
        # msgspec names the field and the expected type, never the value received.
        raise ConnectorError(
            f"Unexpected body from {method} {path}: {exc}", kind="malformed", status=status
        ) from exc
    except msgspec.DecodeError as exc:
        raise ConnectorError(
            f"HTTP {status} from {method} {path} is not JSON", kind="malformed", status=status
        ) from exc


def _send(
    client: httpx.Client,
    method: str,
    path: str,
    params: Params,
    headers: dict[str, str],
    secret: str,
    schema: Any,
    body: dict[str, Any],
) -> Any:
    limit = settings.VENDOR_MAX_RESPONSE_BYTES
    what = f"{method} {path}"
    try:
        # Streamed, so a runaway body is cut off at the cap instead of filling the worker's memory.
        with client.stream(method, path, params=list(params), headers=headers, **body) as response:
            content = _read_body(response, limit)
    except _TooLarge:
        raise ConnectorError(
            f"The response to {what} is larger than {limit:,} bytes; stopped reading",
            kind="malformed",
        ) from None
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"Timed out: {what}", kind="timeout") from exc
    except httpx.DecodingError as exc:
        raise ConnectorError(f"Undecodable body from {what}", kind="malformed") from exc
    except httpx.RequestError as exc:
        message = redact(f"Could not reach the vendor: {what} ({type(exc).__name__})", secret)
        raise ConnectorError(message, kind="unreachable") from exc
    if not response.is_success:
        raise error_from_response(response, path, secret, content=content, method=method)
    return decode(content, schema, path=path, status=response.status_code, method=method)


def get_json(client: httpx.Client, path: str, **kwargs: Any) -> Any:
    """GET path and decode the body into `schema`; see `request_json`."""
    return request_json(client, "GET", path, **kwargs)


def post_json(
    client: httpx.Client, path: str, *, json: Any = None, form: dict | None = None, **kwargs: Any
) -> Any:
    """POST a JSON body (or a form) and decode the answer; retried like a GET, so only for calls
    that are safe to repeat (report queries, token requests). See `request_json`."""
    body = {"json": json} if form is None else {"data": form}
    return request_json(client, "POST", path, body=body, **kwargs)


def request_json(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    params: Params = (),
    headers: dict[str, str],
    secret: str,
    schema: type[T] | Any = Any,
    body: dict[str, Any] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> T | Any:
    """One call, decoded into `schema`, retrying transient failures within the wait budget."""
    sleep = sleep or time.sleep
    waited = 0.0
    for attempt in range(1, max_attempts + 1):
        try:
            return _send(client, method, path, params, headers, secret, schema, body or {})
        except ConnectorError as error:
            if not error.transient or attempt >= max_attempts:
                raise
            if error.retry_after is not None:
                delay = error.retry_after
            else:
                delay = BACKOFF_BASE * 2 ** (attempt - 1)
            if delay > MAX_WAIT or waited + delay > TOTAL_WAIT:
                # Longer than we may block a worker: hand the wait to the caller.
                error.retry_after = delay
                raise
            sleep(delay)
            waited += delay
    raise AssertionError("unreachable")  # pragma: no cover
