"""The only place an httpx.Client is built, plus the retry budget and cursor paging shared by
both vendor clients."""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx
from django.conf import settings

from connectors import bounds
from connectors.errors import ConnectorError

USER_AGENT = "TokenOffset/0.1 (+https://tokenoffset.example/docs/sources)"
# Usage reports grouped by several dimensions can take a few seconds to build on the vendor
# side, hence the long read timeout; connecting should be quick.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)

# Retry budget for one request (one page): at most MAX_ATTEMPTS tries, each wait at most
# MAX_WAIT seconds, TOTAL_WAIT seconds of waiting in all. A longer wait is the caller's job
# (a Celery retry), so the error is raised at once with `retry_after` set.
MAX_ATTEMPTS = 3
MAX_WAIT = 20.0
TOTAL_WAIT = 60.0
BACKOFF_BASE = 1.0  # seconds; doubles on each attempt when the vendor sends no retry-after

# Progress callback: on_page(pages_done_in_this_call, has_more). Called in the fetching thread
# right after each page has been fetched and parsed; has_more=False on the last page. To record
# progress per report (and per sub-window when fetching from a thread pool), bind the report in
# a closure or functools.partial. An exception raised by the callback aborts the fetch.
OnPage = Callable[[int, bool], None]
Sleep = Callable[[float], None]
Params = Sequence[tuple[str, str]]
T = TypeVar("T")

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*.]{4,}")
_MAX_VENDOR_TEXT = 300
# Only gzip is asked for, so the body can be inflated here under the size cap (see _read_body).
ACCEPT_ENCODING = "gzip"


def build_client(base_url: str, *, timeout: httpx.Timeout | None = None) -> httpx.Client:
    """Build the httpx.Client for one vendor base URL (scheme and host only)."""
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
        body = json.loads(content)
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else body
    if isinstance(error, dict):
        label = error.get("type") or error.get("code")
        text = error.get("message")
        parts = [str(p) for p in (label, text) if isinstance(p, str | int) and p != ""]
        return ": ".join(parts)
    if isinstance(error, str):
        return error
    return ""


def error_from_response(
    response: httpx.Response, path: str, secret: str | None, *, content: bytes | None = None
) -> ConnectorError:
    """Map a non-2xx response to a ConnectorError (never carrying the key)."""
    status = response.status_code
    message = f"HTTP {status} from GET {path}"
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
    """The decoded body, read chunk by chunk; _TooLarge once it passes `limit` bytes.

    Neither Content-Length (absent, or lying) nor the compressed size is trusted: decoded bytes
    are counted as they arrive, and gzip is inflated at most `limit + 1` bytes at a time, so a
    small compressed body cannot expand into a large allocation.
    """
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


def _send(
    client: httpx.Client, path: str, params: Params, headers: dict[str, str], secret: str
) -> Any:
    limit = settings.VENDOR_MAX_RESPONSE_BYTES
    try:
        # Streamed, so a runaway body is cut off at the cap instead of filling the worker's memory.
        with client.stream("GET", path, params=list(params), headers=headers) as response:
            content = _read_body(response, limit)
    except _TooLarge:
        raise ConnectorError(
            f"The response to GET {path} is larger than {limit:,} bytes; stopped reading",
            kind="malformed",
        ) from None
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"Timed out: GET {path}", kind="timeout") from exc
    except httpx.DecodingError as exc:
        raise ConnectorError(f"Undecodable body from GET {path}", kind="malformed") from exc
    except httpx.RequestError as exc:
        message = redact(f"Could not reach the vendor: GET {path} ({type(exc).__name__})", secret)
        raise ConnectorError(message, kind="unreachable") from exc
    if not response.is_success:
        raise error_from_response(response, path, secret, content=content)
    try:
        # Numbers with a fraction become Decimal straight from the JSON text: money never
        # passes through a float.
        return json.loads(content, parse_float=Decimal)
    except ValueError as exc:
        raise ConnectorError(
            f"HTTP {response.status_code} from GET {path} is not JSON",
            kind="malformed",
            status=response.status_code,
        ) from exc


def get_json(
    client: httpx.Client,
    path: str,
    *,
    params: Params = (),
    headers: dict[str, str],
    secret: str,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> Any:
    """GET path and return the decoded JSON, retrying transient failures within the budget."""
    sleep = sleep or time.sleep
    waited = 0.0
    for attempt in range(1, max_attempts + 1):
        try:
            return _send(client, path, params, headers, secret)
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


def fetch_pages(
    client: httpx.Client,
    path: str,
    *,
    params: Params,
    headers: dict[str, str],
    secret: str,
    parse_buckets: Callable[[list[Any]], list[T]],
    max_pages: int,
    window: tuple[date, date] | None = None,
    on_page: OnPage | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Sleep | None = None,
) -> list[T]:
    """Follow `has_more`/`next_page` cursors (sent back as `page`), parsing each page's data.

    With a [start, end) window, every record is checked against connectors.bounds: a row dated
    outside the window or a value out of range makes the report malformed (``out_of_range``).
    """
    records: list[T] = []
    cursor: str | None = None
    for pages_done in range(1, max_pages + 1):
        # Every other parameter is resent unchanged; only `page` is added.
        page_params = list(params) if cursor is None else [*params, ("page", cursor)]
        body = get_json(
            client,
            path,
            params=page_params,
            headers=headers,
            secret=secret,
            max_attempts=max_attempts,
            sleep=sleep,
        )
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ConnectorError(f"Unexpected page shape from GET {path}", kind="malformed")
        has_more, cursor = body.get("has_more"), body.get("next_page")
        if not isinstance(has_more, bool) or not (cursor is None or isinstance(cursor, str)):
            raise ConnectorError(f"Unexpected cursor from GET {path}", kind="malformed")
        parsed = parse_buckets(body["data"])
        if window is not None:
            for record in parsed:
                bounds.check_record(record, *window)
        records.extend(parsed)
        # Both vendors' docs: stop on has_more=false *or* an empty cursor.
        has_more = has_more and bool(cursor)
        if on_page is not None:
            on_page(pages_done, has_more)
        if not has_more:
            return records
    raise ConnectorError(
        f"GET {path} still had more pages after {max_pages}; stopped", kind="page_cap"
    )


def _relay(
    on_page: OnPage | None, offset: int, last: bool, seen: list[int], pages: int, has_more: bool
) -> None:
    seen[0] = pages
    if on_page is not None:
        on_page(offset + pages, has_more or not last)


def fetch_windows(
    fetch: Callable[[date, date, OnPage], list[T]],
    windows: Sequence[tuple[date, date]],
    on_page: OnPage | None = None,
) -> list[T]:
    """Run fetch(sub_start, sub_end, on_page) over sub-windows in turn, counting pages across
    them, so on_page(pages_done, has_more) sees one call; has_more stays true until the end."""
    records: list[T] = []
    done = 0
    for i, (sub_start, sub_end) in enumerate(windows):
        seen = [0]
        last = i == len(windows) - 1
        records.extend(fetch(sub_start, sub_end, partial(_relay, on_page, done, last, seen)))
        done += seen[0]
    return records


def fetch_whole_window(
    fetch: Callable[..., list[T]],
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    max_days: int,
    *,
    on_page: OnPage | None = None,
    **options: Any,
) -> list[T]:
    """Run a vendor's one-sub-window fetch over [start, end), sub-window after sub-window."""
    check_window(start, end)
    return fetch_windows(
        lambda s, e, progress: fetch(client, key, s, e, on_page=progress, **options),
        split_window(start, end, max_days),
        on_page,
    )


def check_window(start: date, end: date) -> int:
    """Check a [start, end) window of whole UTC days and return its length in days."""
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("windows are whole UTC days: pass dates, not datetimes")
    if end <= start:
        raise ValueError(f"empty window: {start} .. {end}")
    return (end - start).days


def page_cap(start: date, end: date, buckets_per_page: int) -> int:
    """Pages a daily window should take, plus one for a trailing empty page."""
    return math.ceil(check_window(start, end) / buckets_per_page) + 1


def split_window(start: date, end: date, max_days: int = 31) -> list[tuple[date, date]]:
    """Split [start, end) into consecutive sub-windows of at most max_days (end exclusive)."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    windows = []
    while start < end:
        stop = min(start + timedelta(days=max_days), end)
        windows.append((start, stop))
        start = stop
    return windows


def utc_midnight(day: date) -> datetime:
    """00:00 UTC at the start of day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
