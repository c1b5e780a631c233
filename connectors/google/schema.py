"""Cloud Monitoring's timeSeries.list body as declared schemas, and how its points become records.

Token metrics are DELTA / INT64; asked for with a 86400 s ALIGN_SUM on UTC midnights, every point
is one UTC day, `int64Value` is a JSON *string*, points come newest first and a day without
traffic has no point at all (no zero). After REDUCE_SUM only the grouped labels are returned.

References:
https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list
https://cloud.google.com/monitoring/api/metrics_gcp (aiplatform, generativelanguage)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from connectors.records import BLANK, UsageRecord, malformed
from connectors.schema import utc_day

DAY = timedelta(days=1)
MODEL_PATH_PREFIX = "/models/"


class Value(msgspec.Struct, rename="camel"):
    int64_value: str | int | None = None
    double_value: float | None = None


class Interval(msgspec.Struct, rename="camel"):
    end_time: datetime
    start_time: datetime | None = None


class Point(msgspec.Struct):
    interval: Interval
    value: Value


class Labelled(msgspec.Struct):
    type: str = ""
    labels: dict[str, str] = {}


class TimeSeries(msgspec.Struct, rename="camel"):
    metric: Labelled = msgspec.field(default_factory=Labelled)
    resource: Labelled = msgspec.field(default_factory=Labelled)
    metric_kind: str = ""
    value_type: str = ""
    points: list[Point] = []


class Status(msgspec.Struct):
    code: int = 0
    message: str = ""


class ListTimeSeries(msgspec.Struct, rename="camel"):
    time_series: list[TimeSeries] = []
    next_page_token: str = ""
    execution_errors: list[Status] = []
    unit: str = ""


def model_name(raw: str) -> str:
    """`gemini-2.5-flash`, also from a `publishers/google/models/gemini-2.5-flash` path."""
    return raw.rsplit(MODEL_PATH_PREFIX, 1)[-1].rsplit("/", 1)[-1] if "/" in raw else raw


def count(value: Value) -> int:
    """A point's token count: int64Value is a decimal string that may exceed 2^53."""
    raw = value.int64_value if value.int64_value is not None else value.double_value
    if raw is None:
        return 0
    try:
        number = int(raw) if not isinstance(raw, float) else raw
    except ValueError:
        raise malformed(f"a time series point has a bad int64Value {str(raw)[:30]!r}") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise malformed(f"a time series point has a fractional count {number!r}")
        number = int(number)
    if number < 0:
        raise malformed("a time series point has a negative token count")
    return number


def point_day(point: Point):
    """The UTC day of a daily-aligned point; a point that is not one whole day is malformed."""
    end = point.interval.end_time
    start = point.interval.start_time or end - DAY
    if end - start != DAY:
        raise malformed(f"a point spans {end - start}, not one day: the alignment is not daily")
    return utc_day(start, "startTime")


def token_split(kind: str) -> str | None:
    """Which of our counts a `type` label feeds; None for a kind we do not count."""
    kind = kind.lower()
    if kind == "output" or kind.endswith("output"):
        return "output"
    if "cache" in kind and "read" in kind:
        return "cache_read"
    if "cache" in kind:  # partner models' cache writes (creation)
        return "cache_write"
    if kind == "input" or kind.endswith("input"):
        # Google models' implicit-cache reads are inside `input`: no split is reported, so
        # input counts as uncached input.
        return "uncached_input"
    return None


def records(series: list[TimeSeries], *, service: str, model_of, split_of) -> list[UsageRecord]:
    """Usage records, one per point: `model_of(series)` and `split_of(series)` read labels."""
    result = []
    for one in series:
        split = split_of(one)
        if split is None:
            continue
        model = model_name(model_of(one))
        for point in one.points:
            tokens = count(point.value)
            counts = dict.fromkeys(("uncached_input", "cache_read", "cache_write", "output"), 0)
            counts[split] = tokens
            result.append(
                UsageRecord(
                    day=point_day(point),
                    model=model,
                    service_tier=service,
                    context_window=BLANK,
                    batch=BLANK,
                    cache_write_1h=0,
                    requests=None,
                    **counts,
                )
            )
    return result
