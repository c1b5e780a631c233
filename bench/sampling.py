"""Sampling benchmarks: one heavy org (no latency and 150 ms) and a typical org's first sample."""

import time
import tracemalloc
import uuid
from contextlib import contextmanager

from django.db import connection

from connectors import crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from estimates import fetch, sampling
from estimates.models import DailyCost, DailyUsage, SampleStatus
from estimates.sampling import run as sampling_run


def bench_source(account, user, vendor: str, key: str, label: str, **fields) -> EstimateSource:
    """An unsaved source holding ``key`` encrypted for its own id (a sandbox source unless told)."""
    public_id = uuid.uuid4()
    return EstimateSource(
        account=account,
        public_id=public_id,
        vendor=vendor,
        label=label,
        key_ciphertext=crypto.encrypt(key, source_public_id=public_id),
        created_by=user,
        **{"is_sandbox": True, "key_hint": key[-4:], **fields},
    )


def source_for(account, user, behaviour, params, vendor="anthropic") -> EstimateSource:
    key = make_key(vendor, behaviour, params=params)
    source = bench_source(account, user, vendor, key, f"bench {behaviour} {params}")
    source.save()
    return source


@contextmanager
def counting_queries():
    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


def heavy_sample(account, user, latency_ms: int) -> dict:
    """Sample 90 days × 60 usage groups × 100 cost lines; time the phases."""
    source = source_for(account, user, "heavy", {"g": 60, "c": 100, "l": latency_ms})
    timings = {}
    original_fetch, original_store = fetch.fetch_window, sampling_run.sample_store

    def timed_fetch(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original_fetch(*args, **kwargs)
        finally:
            timings.setdefault("fetch_s", time.perf_counter() - started)

    def timed_store(*, sample, fetched):
        started = time.perf_counter()
        with counting_queries() as queries:
            result = original_store(sample=sample, fetched=fetched)
        timings.setdefault("write_s", time.perf_counter() - started)
        timings.setdefault("write_statements", queries["n"])
        return result

    sampling_run.fetch_window, sampling_run.sample_store = timed_fetch, timed_store
    try:
        sample = sampling.sample_request(source=source, trigger="first")
        started = time.perf_counter()
        done = sampling.sample_run(sample_id=sample.pk)
        wall = time.perf_counter() - started
        # Memory in a second, untimed run (tracing allocations slows Python several-fold).
        tracemalloc.start()
        again = sampling.sample_request(source=source, trigger="manual")
        sampling.sample_run(sample_id=again.pk)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        sampling_run.fetch_window, sampling_run.sample_store = original_fetch, original_store
    assert done.status == SampleStatus.SUCCEEDED, done.error
    return {
        "latency_ms": latency_ms,
        "usage_rows": DailyUsage.objects.filter(source=source).count(),
        "cost_rows": DailyCost.objects.filter(source=source).count(),
        "wall_s": round(wall, 3),
        "fetch_s": round(timings["fetch_s"], 3),
        "write_s": round(timings["write_s"], 3),
        "write_statements": timings["write_statements"],
        "peak_python_mib": round(peak / 1024 / 1024, 1),
        "wall_over_rtt": round(wall / (latency_ms / 1000), 2) if latency_ms else None,
        "fetch_over_rtt": round(timings["fetch_s"] / (latency_ms / 1000), 2)
        if latency_ms
        else None,
        "source": source,
    }


def typical_sample(account, user, latency_ms: int = 150, runs: int = 3) -> dict:
    """A first sample of the sandbox's flat org (organisation id unknown), per vendor: wall
    from sample_run to success over one round trip; the median of `runs` new sources, after
    one untimed sample that warms the process as a running worker is."""
    result = {"latency_ms": latency_ms, "runs": runs}
    for vendor in ("anthropic", "openai"):
        warm = source_for(account, user, "flat", {"l": 0}, vendor)
        sampling.sample_run(sample_id=sampling.sample_request(source=warm, trigger="first").pk)
        walls = []
        for _ in range(runs):
            source = source_for(account, user, "flat", {"l": latency_ms}, vendor)
            sample = sampling.sample_request(source=source, trigger="first")
            started = time.perf_counter()
            done = sampling.sample_run(sample_id=sample.pk)
            walls.append(time.perf_counter() - started)
            assert done.status == SampleStatus.SUCCEEDED, done.error
        wall = sorted(walls)[len(walls) // 2]
        result[vendor] = {
            "wall_s": round(wall, 3),
            "wall_over_rtt": round(wall / (latency_ms / 1000), 2),
        }
    result["wall_over_rtt"] = result["anthropic"]["wall_over_rtt"]
    return result
