"""Replay a realistic Claude Code session to a live source with the real OpenTelemetry SDK.

For trying live tracking offline with `make run`: create a live source (Estimate sources →
Connect a source → Live from Claude Code / Codex), then
``python manage.py live_replay --token tkol_…``. The SDK (a development dependency) exports
exactly what Claude Code's does: a delta ``claude_code.token.usage`` counter per model and
token type, plus the counters that must never become tokens (cost, lines of code, sessions).
"""

import random
from collections import Counter as Tally

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MODELS = {"main": "claude-opus-4-6", "auxiliary": "claude-haiku-4-5-20251001"}


class Command(BaseCommand):
    help = "Send a realistic Claude Code session's telemetry to /otlp/v1/metrics."

    def add_arguments(self, parser):
        parser.add_argument("--token", required=True, help="the live source's ingest token")
        parser.add_argument("--site", default=settings.SITE_URL)
        parser.add_argument("--requests", type=int, default=24, help="API requests to replay")
        parser.add_argument("--cumulative", action="store_true", help="cumulative temporality")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, token, site, requests, cumulative, seed, **options):
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics import Counter, MeterProvider
            from opentelemetry.sdk.metrics.export import (
                AggregationTemporality,
                PeriodicExportingMetricReader,
            )
            from opentelemetry.sdk.resources import Resource
        except ImportError as e:  # a production image without the dev dependencies
            raise CommandError("Install the dev dependencies (opentelemetry-sdk).") from e
        temporality = (
            AggregationTemporality.CUMULATIVE if cumulative else AggregationTemporality.DELTA
        )
        exporter = OTLPMetricExporter(
            endpoint=f"{site.rstrip('/')}/otlp/v1/metrics",
            headers={"Authorization": f"Bearer {token}"},
            preferred_temporality={Counter: temporality},
            timeout=10,
        )
        # Flushed by hand every few requests, standing in for Claude Code's 60 s interval.
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        resource = Resource.create(
            {"service.name": "claude-code", "service.version": "2.1.220", "os.type": "linux"}
        )
        provider = MeterProvider(resource=resource, metric_readers=[reader])
        meter = provider.get_meter("com.anthropic.claude_code")
        tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
        cost = meter.create_counter("claude_code.cost.usage", unit="USD")
        lines = meter.create_counter("claude_code.lines_of_code.count")
        meter.create_counter("claude_code.session.count").add(1, {"start_type": "fresh"})
        rng = random.Random(seed)  # noqa: S311 - demo data
        sent = Tally()
        common = {"session.id": "replay-session", "user.id": "replay-install"}
        ok = True
        for n in range(1, requests + 1):
            source = "auxiliary" if n % 4 == 0 else "main"
            model = MODELS[source]
            usage = {
                "input": rng.randint(3, 40),
                "cacheRead": rng.randint(20_000, 90_000),
                "cacheCreation": rng.randint(200, 6_000),
                "output": rng.randint(80, 2_500),
            }
            for kind, value in usage.items():
                attrs = {**common, "type": kind, "model": model, "query_source": source}
                tokens.add(float(value), attrs)  # JavaScript counters export doubles
                sent[(model, kind)] += value
            cost.add(0.05, {**common, "model": model})
            lines.add(rng.randint(0, 30), {**common, "type": "added", "model": model})
            if n % 6 == 0:
                ok = provider.force_flush(timeout_millis=15_000) and ok
        ok = provider.force_flush(timeout_millis=15_000) and ok
        provider.shutdown()
        for (model, kind), value in sorted(sent.items()):
            self.stdout.write(f"{model:<28} {kind:<14} {value:>10,}")
        if not ok:
            raise CommandError("Some exports failed: check the token and --site.")
        self.stdout.write(self.style.SUCCESS("Sent. Open Estimate sources → Live to see today."))
