"""The real OpenTelemetry Python SDK and OTLP/HTTP exporter against the live server.

Each test flushes by hand (``force_flush``) with an export interval of an hour, so nothing waits
out the 60 s default interval; throttling answers (429/503) are tested with plain HTTP, since
the exporter would sit in its retry back-off.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.utils import timezone
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from connectors.live.services import live_source_create
from estimates.models import DailyUsage
from estimates.tasks import live_reproject_task

MODEL = "claude-sonnet-4-6"
HOUR_MS = 3_600_000


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: None)


@pytest.fixture
def live(transactional_db, account, owner):
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    return source, token.raw


class Session:
    """One Claude Code session's meter, exporting to the live server on demand."""

    def __init__(self, url: str, token: str, *, delta: bool, gzip: bool = False):
        temporality = AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
        self.exporter = OTLPMetricExporter(
            endpoint=f"{url}/otlp/v1/metrics",
            headers={"Authorization": f"Bearer {token}"},
            compression=Compression.Gzip if gzip else Compression.NoCompression,
            preferred_temporality={Counter: temporality},
            timeout=5,
        )
        reader = PeriodicExportingMetricReader(self.exporter, export_interval_millis=HOUR_MS)
        self.provider = MeterProvider(
            resource=Resource.create({"service.name": "claude-code", "session.id": "s-1"}),
            metric_readers=[reader],
        )
        meter = self.provider.get_meter("com.anthropic.claude_code")
        self.tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
        self.lines = meter.create_counter("claude_code.lines_of_code.count")

    def request(self, input, output, cache_read=0.0, cache_creation=0.0, model=MODEL):
        # JavaScript counters (Claude Code's) export doubles: so do these.
        for kind, value in (
            ("input", input),
            ("output", output),
            ("cacheRead", cache_read),
            ("cacheCreation", cache_creation),
        ):
            self.tokens.add(float(value), {"type": kind, "model": model, "user.email": "a@b.c"})
        self.lines.add(12, {"type": "added", "model": model})

    def flush(self) -> bool:
        return self.provider.force_flush(timeout_millis=10_000)

    def close(self):
        self.provider.shutdown()


def today_row(source):
    row = DailyUsage.objects.get(source=source, date=timezone.now().date())
    return (row.model, row.uncached_input, row.cache_read, row.cache_write, row.output)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "cumulative"])
def test_the_real_exporter_fills_todays_row_exactly(live_server, live, delta):
    source, token = live
    session = Session(live_server.url, token, delta=delta)
    try:
        session.request(1000, 200, cache_read=50_000, cache_creation=3000)
        assert session.flush()
        session.request(10, 20, cache_read=5000)
        assert session.flush()
        assert session.flush()  # cumulative: the same totals again; delta: nothing new
    finally:
        session.close()
    assert today_row(source) == (MODEL, 1010, 55_000, 3000, 220)


def test_the_real_exporter_sends_gzip(live_server, live):
    source, token = live
    session = Session(live_server.url, token, delta=True, gzip=True)
    try:
        session.request(7, 3)
        assert session.flush()
    finally:
        session.close()
    assert today_row(source) == (MODEL, 7, 0, 0, 3)


def test_a_wrong_token_fails_the_export_and_stores_nothing(live_server, live):
    source, _ = live
    exporter = OTLPMetricExporter(
        endpoint=f"{live_server.url}/otlp/v1/metrics",
        headers={"Authorization": "Bearer tkol_not-the-token"},
        timeout=5,
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=HOUR_MS)
    provider = MeterProvider(metric_readers=[reader])
    counter = provider.get_meter("com.anthropic.claude_code").create_counter(
        "claude_code.token.usage"
    )
    counter.add(5.0, {"type": "output", "model": MODEL})
    results = []
    original = exporter.export
    exporter.export = lambda *a, **kw: results.append(original(*a, **kw)) or results[-1]
    provider.force_flush(timeout_millis=10_000)
    provider.shutdown()
    assert MetricExportResult.FAILURE in results
    assert not DailyUsage.objects.filter(source=source).exists()


def test_429_carries_retry_after_for_the_exporters_back_off(live_server, live, settings):
    _, token = live
    settings.LIVE_INGEST_REQUESTS_PER_MINUTE = 1
    statuses = []
    for _ in range(2):
        request = urllib.request.Request(  # noqa: S310 - the loopback live server
            f"{live_server.url}/otlp/v1/metrics",
            data=b"{}",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
                statuses.append((response.status, None))
        except urllib.error.HTTPError as e:
            statuses.append((e.code, e.headers["Retry-After"]))
            assert json.loads(e.read())["message"] == "Over this source's request rate."
    assert statuses == [(200, None), (429, "60")]


def test_the_usage_api_shows_the_live_rows(live_server, live, client, owner):
    source, token = live
    session = Session(live_server.url, token, delta=True)
    try:
        session.request(40, 60, cache_read=1000)
        assert session.flush()
    finally:
        session.close()
    client.force_login(owner)
    body = client.get("/api/v1/usage/daily", {"source": str(source.public_id)}).json()
    assert body["rows"] == [
        {
            "date": timezone.now().date().isoformat(),
            "source": str(source.public_id),
            "vendor": "anthropic",
            "model": MODEL,
            "uncached_input": 40,
            "cache_read": 1000,
            "cache_write": 0,
            "output": 60,
            "web_search_requests": 0,
        }
    ]


@pytest.mark.parametrize("cumulative", [False, True], ids=["delta", "cumulative"])
def test_the_replay_command_sends_a_session_that_lands_exactly(live_server, live, cumulative):
    from io import StringIO

    from django.core.management import call_command

    source, token = live
    out = StringIO()
    args = ["--token", token, "--site", live_server.url, "--requests", "13"]
    call_command("live_replay", *args, *(["--cumulative"] if cumulative else []), stdout=out)
    sent = {}
    for line in out.getvalue().splitlines()[:-1]:
        model, kind, value = line.split()
        sent[(model, kind)] = int(value.replace(",", ""))
    columns = {
        "input": "uncached_input",
        "cacheRead": "cache_read",
        "cacheCreation": "cache_write",
        "output": "output",
    }
    stored = {
        (row.model, kind): getattr(row, column)
        for row in DailyUsage.objects.filter(source=source)
        for kind, column in columns.items()
    }
    assert stored == sent and len(sent) == 8
