"""Live telemetry: the OTLP endpoint under a sustained stream, and the dashboard beside it.

Gunicorn on PostgreSQL, as in bench.load. A pool of threads posts Claude Code-sized protobuf
exports (one session each: 4 token types × 2 models, plus the counters we drop) at a fixed
rate, standing in for hundreds of sessions exporting once a minute; wrk measures the dashboard
alone, then with the stream running.
"""

from __future__ import annotations

import shutil
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from statistics import quantiles

from django.conf import settings
from django.utils import timezone

from bench.load import _free_port, deployed_gunicorn_workers, gunicorn_start, session_cookie, wrk


def _export(session: int, now_ns: int) -> bytes:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    scope.scope.name = "com.anthropic.claude_code"
    for name in ("claude_code.token.usage", "claude_code.cost.usage"):
        metric = scope.metrics.add()
        metric.name = name
        metric.sum.aggregation_temporality = 1
        metric.sum.is_monotonic = True
        for model in ("claude-opus-4-6", "claude-haiku-4-5-20251001"):
            for kind in ("input", "output", "cacheRead", "cacheCreation"):
                p = metric.sum.data_points.add()
                p.start_time_unix_nano, p.time_unix_nano = now_ns - 60 * 10**9, now_ns
                p.as_double = 1234.0
                for key, value in (
                    ("type", kind),
                    ("model", model),
                    ("session.id", f"bench-{session}"),
                    ("user.email", "bench@example.org"),
                ):
                    attr = p.attributes.add()
                    attr.key, attr.value.string_value = key, value
    return request.SerializeToString()


def live_stream(account, user, *, rate: float = 50, seconds: int = 10) -> dict:
    """Ingest latency at `rate` requests/s, and the dashboard's latency with and without it."""
    from connectors.live.services import live_source_create

    settings.LIVE_INGEST_REQUESTS_PER_MINUTE = 10**9  # the bench measures, never throttles
    source, token = live_source_create(
        account=account, user=user, tool="claude_code", billing="subscription"
    )
    port = _free_port()
    server = gunicorn_start(port, deployed_gunicorn_workers())
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = threading.Event()

    def post(n: int) -> None:
        body = _export(n % 500, int(timezone.now().timestamp()) * 10**9)
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{base}/otlp/v1/metrics",
            data=body,
            headers={
                "Content-Type": "application/x-protobuf",
                "Authorization": f"Bearer {token.raw}",
            },
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as e:
            status = e.code
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    def stream() -> None:
        with ThreadPoolExecutor(8) as pool:
            n = 0
            while not stop.is_set():
                pool.submit(post, n)
                n += 1
                time.sleep(1 / rate)

    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/robots.txt", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        has_wrk = shutil.which("wrk") is not None
        cookie = session_cookie(user)
        alone = wrk(f"{base}/", cookie, seconds) if has_wrk else None
        thread = threading.Thread(target=stream)
        thread.start()
        if has_wrk:
            beside = wrk(f"{base}/", cookie, seconds)
        else:
            time.sleep(seconds)
        stop.set()
        thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    cuts = quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {
        "rate_per_s": rate,
        "sessions_at_one_export_a_minute": int(rate * 60),
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "ingest_p50_ms": round(cuts[49], 2),
        "ingest_p99_ms": round(cuts[98], 2),
        "dashboard_alone": alone,
        "dashboard_beside_stream": beside if has_wrk else None,
        "rows": source.daily_usage.count(),
    }


def table_line(r: dict) -> str:
    sessions = r["sessions_at_one_export_a_minute"]
    line = (
        f"live OTLP stream: {r['rate_per_s']:.0f} exports/s (≈{sessions} sessions), "
        f"ingest p50 {r['ingest_p50_ms']} ms, p99 {r['ingest_p99_ms']} ms, "
        f"statuses {r['statuses']}"
    )
    if r["dashboard_alone"] and r["dashboard_beside_stream"]:
        a, b = r["dashboard_alone"], r["dashboard_beside_stream"]
        line += (
            f"; dashboard p50/p99 {a['p50_ms']}/{a['p99_ms']} ms alone, "
            f"{b['p50_ms']}/{b['p99_ms']} ms beside the stream"
        )
    return line
