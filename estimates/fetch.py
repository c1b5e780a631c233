"""Fetching one source's 90-day window: every report and ≤31-day sub-window concurrently.

Which reports a source has, and how they are fetched, is its connector's (connectors.registry).
No database transaction is open while this runs. Progress (pages per report) is reported through
a callback from the calling thread, so only that thread touches the database. Records become
rows (estimates.rows) in that thread as each sub-window arrives, while the others are fetched.
"""

import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from django.conf import settings

from connectors import registry
from connectors import services as connector_services
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.interface import Connector
from connectors.keys import vendor_base_url
from connectors.models import EstimateSource
from connectors.paging import split_window
from connectors.records import CostRecord, UsageRecord

from .rows import Rows

PROGRESS_INTERVAL = 0.5  # seconds between progress writes at least
Progress = Callable[[dict | None], None]


@dataclass
class Fetched:
    usage: list[UsageRecord] = field(default_factory=list)
    costs: list[CostRecord] = field(default_factory=list)
    rows: Rows = field(init=False)  # the records aggregated into the rows to store

    def __post_init__(self):
        self.rows = Rows([*self.usage, *self.costs])

    def add(self, records: list) -> None:
        # A report may return both kinds of record (Cursor's usage events carry tokens and
        # money), so each goes where its type belongs.
        for record in records:
            (self.costs if isinstance(record, CostRecord) else self.usage).append(record)
        self.rows.add(records)


class _Progress:
    """Pages fetched per report, counted from the fetching threads."""

    def __init__(self, totals: dict[str, int]):
        self._lock = threading.Lock()
        self.reports = {name: {"pages_done": 0, "pages_total": n} for name, n in totals.items()}

    def page(self, report: str, _pages_in_call: int, has_more: bool) -> None:
        with self._lock:
            entry = self.reports[report]
            entry["pages_done"] += 1
            if has_more and entry["pages_total"] is not None:
                # The vendor paged within a sub-window: one more page than we planned for.
                entry["pages_total"] = max(entry["pages_total"], entry["pages_done"] + 1)

    def snapshot(self) -> dict:
        with self._lock:
            return {"reports": {k: dict(v) for k, v in self.reports.items()}}


def fetch_window(
    source: EstimateSource,
    key: str,
    start: date,
    end: date,
    *,
    on_progress: Progress = lambda progress: None,
    max_workers: int | None = None,
) -> Fetched:
    """Fetch usage and costs for [start, end); raises ConnectorError on the first failure.

    A source that does not know its organisation yet asks for it beside the reports, in the
    same pool: a nicety for double counting with live telemetry, never a reason to fail.
    """
    connector = registry.for_source(source)
    if not connector.pulled:
        raise ValueError(f"{connector.name} sources are pushed to us, never fetched")
    client = vendor_client(vendor_base_url(source.vendor, is_sandbox=source.is_sandbox))
    learned: list[str] = []
    also = None
    if connector.organization_id is not None and not source.organization_id:
        also = functools.partial(_organization_ask, connector, client, key, learned)
    fetched = fetch_reports(
        connector,
        client,
        key,
        start,
        end,
        on_progress=on_progress,
        max_workers=max_workers,
        also=also,
    )
    if learned:
        connector_services.source_organization_remember(source=source, organization_id=learned[0])
    return fetched


_clients = threading.local()


def vendor_client(base_url: str) -> httpx.Client:
    """The calling thread's client for one vendor URL, kept from one of its samples to the next
    (a worker thread runs one sample at a time): connections, and TLS sessions with them, stay
    open instead of a handshake per request; one pool per thread, so threads never contend for
    it. The key travels in each request's headers; cookies are never kept, so nothing of one
    organisation's requests reaches another's."""
    timeout = settings.VENDOR_READ_TIMEOUT_SECONDS
    key = (os.getpid(), base_url, timeout)  # a forked worker child builds its own
    clients = _clients.__dict__.setdefault("by_url", {})
    client = clients.get(key)
    if client is None or client.is_closed:
        client = clients[key] = build_client(
            base_url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            # A sample's requests all at once: SAMPLE_FETCH_MAX_WORKERS bounds them.
            limits=httpx.Limits(max_connections=None, keepalive_expiry=30),
        )
    return client


def _organization_ask(connector: Connector, client: httpx.Client, key: str, into: list) -> None:
    # Runs in the pool, so it touches no database: the calling thread stores the answer.
    try:
        organization_id = connector.organization_id(client, key)
    except Exception:  # noqa: BLE001 - never a reason to fail the sample
        return
    if organization_id:
        into.append(organization_id)


_pools = threading.local()


def fetch_pool(max_workers: int | None = None) -> ThreadPoolExecutor:
    """The calling thread's pool for its samples' requests, kept from one sample to the next
    (starting a thread per request costs more than a small sample's parsing): at most
    SAMPLE_FETCH_MAX_WORKERS requests in flight per sample, as a worker thread runs one sample at
    a time. Its threads start as needed and never touch the database."""
    bound = settings.SAMPLE_FETCH_MAX_WORKERS if max_workers is None else max_workers
    key = (os.getpid(), bound)  # a forked worker child starts its own
    pools = _pools.__dict__.setdefault("by_bound", {})
    pool = pools.get(key)
    if pool is None:
        pool = pools[key] = ThreadPoolExecutor(max(1, bound), thread_name_prefix="sample-fetch")
    return pool


def fetch_reports(
    connector: Connector,
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_progress: Progress = lambda progress: None,
    max_workers: int | None = None,
    also: Callable[[], None] | None = None,
) -> Fetched:
    """Run every report of a pulled connector over [start, end), sub-windows concurrently.

    ``also`` (which must not raise) runs in the same pool, beside the reports.
    """
    jobs = [
        (name, report.fetch, s, e)
        for name, report in connector.reports().items()
        for s, e in split_window(start, end, report.max_days)
    ]
    progress = _Progress(
        {
            name: report.pages_per_window * sum(1 for j in jobs if j[0] == name)
            for name, report in connector.reports().items()
        }
    )
    result = Fetched()
    pool = fetch_pool(max_workers)
    extra, futures = [], {}
    failed = True
    try:
        extra = [] if also is None else [pool.submit(also)]
        futures = {
            pool.submit(
                fetch,
                client,
                key,
                s,
                e,
                on_page=lambda n, more, report=report: progress.page(report, n, more),
            ): report
            for report, fetch, s, e in jobs
        }
        last, written_at = progress.snapshot(), time.monotonic()
        on_progress(last)  # written while the first requests are in flight
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL, return_when=FIRST_COMPLETED)
            for future in done:
                result.add(future.result())  # re-raises ConnectorError
            # Called on every tick (with None when nothing changed, or changed less than an
            # interval after the last write) so the caller can renew its lease while a slow
            # vendor keeps us waiting. The last snapshot is always delivered.
            snapshot, now = progress.snapshot(), time.monotonic()
            if snapshot != last and (not pending or now - written_at >= PROGRESS_INTERVAL):
                on_progress(snapshot)
                last, written_at = snapshot, now
            else:
                on_progress(None)
        wait(extra)
        failed = False
    finally:
        if failed:  # the sample has failed already: the requests not started never will be
            for future in [*extra, *futures]:
                future.cancel()
    return result


__all__ = ["ConnectorError", "Fetched", "fetch_reports", "fetch_window"]
