"""Fetching one source's 90-day window: every report and ≤31-day sub-window concurrently.

Which reports a source has, and how they are fetched, is its connector's (connectors.registry).
No database transaction is open while this runs. Progress (pages per report) is reported through
a callback from the calling thread, so only that thread touches the database.
"""

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date

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

PROGRESS_INTERVAL = 0.5  # seconds between progress writes at most
Progress = Callable[[dict | None], None]


@dataclass
class Fetched:
    usage: list[UsageRecord] = field(default_factory=list)
    costs: list[CostRecord] = field(default_factory=list)


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
    max_workers: int = 6,
) -> Fetched:
    """Fetch usage and costs for [start, end); raises ConnectorError on the first failure."""
    connector = registry.for_source(source)
    if not connector.pulled:
        raise ValueError(f"{connector.name} sources are pushed to us, never fetched")
    client = build_client(
        vendor_base_url(source.vendor, is_sandbox=source.is_sandbox),
        timeout=httpx.Timeout(settings.VENDOR_READ_TIMEOUT_SECONDS, connect=5.0),
    )
    try:
        fetched = fetch_reports(
            connector, client, key, start, end, on_progress=on_progress, max_workers=max_workers
        )
        if connector.organization_id is not None and not source.organization_id:
            _organization_learn(connector, client, key, source)
        return fetched
    finally:
        client.close()


def _organization_learn(connector: Connector, client: httpx.Client, key: str, source) -> None:
    # A nicety for double counting with live telemetry: never a reason to fail the sample.
    try:
        organization_id = connector.organization_id(client, key)
    except Exception:  # noqa: BLE001
        return
    if organization_id:
        connector_services.source_organization_remember(
            source=source, organization_id=organization_id
        )


def fetch_reports(
    connector: Connector,
    client: httpx.Client,
    key: str,
    start: date,
    end: date,
    *,
    on_progress: Progress = lambda progress: None,
    max_workers: int = 6,
) -> Fetched:
    """Run every report of a pulled connector over [start, end), sub-windows concurrently."""
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
    on_progress(progress.snapshot())
    result = Fetched()
    pool = ThreadPoolExecutor(max_workers, thread_name_prefix=f"sample-{connector.id}")
    failed = True
    try:
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
        pending, last = set(futures), None
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL, return_when=FIRST_COMPLETED)
            for future in done:
                # Re-raises ConnectorError. A report may return both kinds of record (Cursor's
                # usage events carry tokens and money), so each goes where its type belongs.
                for record in future.result():
                    rows = result.costs if isinstance(record, CostRecord) else result.usage
                    rows.append(record)
            # Called on every tick (with None when nothing changed) so the caller can renew
            # its lease while a slow vendor keeps us waiting.
            snapshot = progress.snapshot()
            on_progress(snapshot if snapshot != last else None)
            last = snapshot
        failed = False
    finally:
        # On failure don't wait for the other sub-windows: the sample has failed already.
        pool.shutdown(wait=not failed, cancel_futures=True)
    return result


__all__ = ["ConnectorError", "Fetched", "fetch_reports", "fetch_window"]
