"""A Google sample: 90 days of Vertex AI and Gemini API metrics over 5 projects, at 150 ms.

The key file comes from the sandbox (its key generated there and then), so the token exchange
and every timeSeries.list are the real client's, signature checks included.
"""

import time

import httpx
from django.conf import settings

from connectors.google import auth
from connectors.google.client import METRICS
from connectors.google.credentials import credential_from_upload
from estimates import sampling
from estimates.models import DailyUsage, SampleStatus

from .sampling import bench_source

PROJECTS = ("bench-alpha", "bench-bravo", "bench-charlie", "bench-delta", "bench-echo")


def google_sample(account, user, latency_ms: int = 150) -> dict:
    url = f"{settings.VENDOR_SANDBOX_URL}/google/service-account.json?behaviour=flat.l{latency_ms}"
    credential = credential_from_upload(httpx.get(url).text, " ".join(PROJECTS))
    source = bench_source(
        account,
        user,
        "google",
        credential.dumps(),
        "bench Google · 5 projects",
        kind="service_account",
        key_hint=credential.hint,
    )
    source.save()
    auth.cache_clear()  # the token exchange is part of the measured sample
    sample = sampling.sample_request(source=source, trigger="first")
    started = time.perf_counter()
    done = sampling.sample_run(sample_id=sample.pk)
    wall = time.perf_counter() - started
    assert done.status == SampleStatus.SUCCEEDED, done.error
    return {
        "projects": len(PROJECTS),
        "requests": 1 + len(PROJECTS) * len(METRICS),
        "latency_ms": latency_ms,
        "usage_rows": DailyUsage.objects.filter(source=source).count(),
        "wall_s": round(wall, 3),
        "wall_over_rtt": round(wall / (latency_ms / 1000), 2),
    }


def table_lines(g: dict) -> list[str]:
    return [
        "",
        "| Google sample (90 d, Vertex AI + Gemini API) | requests | latency | usage rows "
        "| wall s | wall ÷ RTT |",
        "|---|---|---|---|---|---|",
        f"| {g['projects']} projects | {g['requests']} | {g['latency_ms']} ms | {g['usage_rows']} "
        f"| {g['wall_s']} | {g['wall_over_rtt']} |",
    ]
