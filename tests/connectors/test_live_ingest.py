"""POST /otlp/v1/metrics and /otlp/v1/logs: what becomes daily rows, and every refusal."""

import gzip
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from connectors.live.models import LiveSeries, LiveSource
from connectors.live.services import live_source_create, live_token_rotate
from estimates.models import DailyUsage
from estimates.tasks import live_reproject_task
from tests.connectors.live_fakes import (
    EMAIL,
    MODEL,
    SESSION,
    codex_record,
    logs_json,
    metrics_json,
    point,
    post,
    protobuf,
    send_metrics,
)


@pytest.fixture(autouse=True)
def _reprojections(monkeypatch):
    sent = []
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: sent.append(a))
    return sent


@pytest.fixture
def base():
    # Noon UTC two days ago: every point lands on a known day, whatever the time of the run.
    return (timezone.now() - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def live(account, owner):
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    return source, token.raw


def rows(source):
    return {
        (r.date, r.model, r.service_tier): (r.uncached_input, r.cache_read, r.cache_write, r.output)
        for r in DailyUsage.objects.filter(source=source)
    }


def four(at, start=None, scale=1, **kw):
    return [
        point(100.0 * scale, type="input", at=at, start=start, **kw),
        point(2000.0 * scale, type="cacheRead", at=at, start=start, **kw),
        point(300.0 * scale, type="cacheCreation", at=at, start=start, **kw),
        point(50.0 * scale, type="output", at=at, start=start, **kw),
    ]


def test_it_stores_delta_protobuf_points_as_exact_daily_rows(client, live, base):
    source, token = live
    minute = timedelta(minutes=1)
    data = metrics_json([*four(base, base - minute), *four(base + minute, base)])
    response = send_metrics(client, data, token=token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-protobuf"
    parsed = ExportMetricsServiceResponse.FromString(response.content)
    assert not parsed.HasField("partial_success")
    assert rows(source) == {(base.date(), MODEL, ""): (200, 4000, 600, 100)}


def test_it_accepts_otlp_json_with_string_int64s_gzipped(client, live, base):
    source, token = live
    data = metrics_json([point(7, type="output", at=base), point(3, type="input", at=base)])
    response = send_metrics(client, data, token=token, json_body=True, gzipped=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {}
    assert rows(source) == {(base.date(), MODEL, ""): (3, 0, 0, 7)}


def test_it_accepts_gzipped_protobuf(client, live, base):
    source, token = live
    response = send_metrics(client, metrics_json(four(base)), token=token, gzipped=True)
    assert response.status_code == 200
    assert rows(source) == {(base.date(), MODEL, ""): (100, 2000, 300, 50)}


def test_other_claude_code_counters_never_become_tokens(client, live, base):
    source, token = live
    lines = {
        "name": "claude_code.lines_of_code.count",
        "sum": {
            "aggregationTemporality": 1,
            "isMonotonic": True,
            "dataPoints": [point(40, type="added", at=base)],
        },
    }
    cost = {
        "name": "claude_code.cost.usage",
        "sum": {
            "aggregationTemporality": 1,
            "isMonotonic": True,
            "dataPoints": [point(1.5, type="input", at=base)],
        },
    }
    data = metrics_json([point(10, type="output", at=base)], more_metrics=[lines, cost])
    response = send_metrics(client, data, token=token)
    assert response.status_code == 200
    assert rows(source) == {(base.date(), MODEL, ""): (0, 0, 0, 10)}


def test_delta_resends_of_the_same_points_are_counted_once(client, live, base):
    source, token = live
    data = metrics_json(four(base, base - timedelta(minutes=1)))
    for _ in range(3):
        assert send_metrics(client, data, token=token).status_code == 200
    assert rows(source) == {(base.date(), MODEL, ""): (100, 2000, 300, 50)}


def test_cumulative_counts_increases_restarts_and_resends_once(client, live, base):
    source, token = live
    start = base - timedelta(hours=1)
    m = timedelta(minutes=1)

    def send(value, at, start):
        data = metrics_json([point(value, type="output", at=at, start=start)], temporality=2)
        assert send_metrics(client, data, token=token).status_code == 200

    send(100, base, start)  # first sighting: the session started at 0
    send(100, base, start)  # resend
    send(250, base + m, start)  # +150
    send(250, base + m, start)  # resend
    send(40, base + 2 * m, base + m)  # restart (new start time): +40
    send(250, base + m, start)  # the old process's point, late: ignored
    send(30, base + 3 * m, base + m)  # value drop with the same start: a reset, +30
    assert rows(source) == {(base.date(), MODEL, ""): (0, 0, 0, 320)}


def test_points_land_on_the_utc_day_of_their_time(client, live, base):
    source, token = live
    next_day = base + timedelta(hours=13)  # 01:00 UTC the next day
    data = metrics_json([point(5, type="output", at=base), point(7, type="output", at=next_day)])
    send_metrics(client, data, token=token)
    assert rows(source) == {
        (base.date(), MODEL, ""): (0, 0, 0, 5),
        (next_day.date(), MODEL, ""): (0, 0, 0, 7),
    }


def test_fast_mode_is_kept_as_the_rows_tier(client, live, base):
    source, token = live
    send_metrics(
        client,
        metrics_json([point(9, type="output", at=base, extra={"speed": "fast"})]),
        token=token,
    )
    assert rows(source) == {(base.date(), MODEL, "fast"): (0, 0, 0, 9)}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"at_days": -36}, "older than 35 days"),
        ({"at_hours": 2}, "more than an hour in the future"),
        ({"value": 5 * 10**9}, "between 0 and"),
        ({"value": -1.0}, "between 0 and"),
        ({"type": "cache_read"}, "unknown token types"),
        ({"type": "total"}, "unknown token types"),
        ({"model": "m" * 101}, "model names over 100"),
    ],
)
def test_refused_points_are_reported_as_partial_success_and_never_stored(
    client, live, base, bad, reason
):
    source, token = live
    now = timezone.now()
    at = now + timedelta(days=bad.get("at_days", 0), hours=bad.get("at_hours", 0))
    if "at_days" not in bad and "at_hours" not in bad:
        at = base
    bad_point = point(
        bad.get("value", 10), type=bad.get("type", "output"), model=bad.get("model", MODEL), at=at
    )
    data = metrics_json([bad_point, point(1, type="input", at=base)])
    response = send_metrics(client, data, token=token)
    assert response.status_code == 200
    parsed = ExportMetricsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_data_points == 1
    assert reason in parsed.partial_success.error_message
    assert rows(source) == {(base.date(), MODEL, ""): (1, 0, 0, 0)}


def test_unspecified_temporality_and_gauges_are_rejected(client, live, base):
    source, token = live
    data = metrics_json([point(5, type="output", at=base)], temporality=0)
    parsed = ExportMetricsServiceResponse.FromString(
        send_metrics(client, data, token=token).content
    )
    assert parsed.partial_success.rejected_data_points == 1
    assert rows(source) == {}


@pytest.mark.parametrize("header", [None, "Bearer tkol_wrong", "Basic abc", "Bearer "])
def test_a_missing_or_wrong_token_gets_401_and_stores_nothing(client, live, base, header):
    source, _ = live
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = post(
        client, "/otlp/v1/metrics", protobuf(metrics_json(four(base))), token=None, **extra
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert b"valid live source token" in response.content
    assert rows(source) == {}


def test_a_token_in_the_query_string_is_not_accepted(client, live, base):
    _, token = live
    response = client.generic(
        "POST",
        f"/otlp/v1/metrics?token={token}",
        protobuf(metrics_json(four(base))),
        content_type="application/x-protobuf",
    )
    assert response.status_code == 401


def test_rotating_the_token_stops_the_old_one_at_once(client, live, owner, base):
    source, old = live
    new = live_token_rotate(source=source, user=owner)
    data = metrics_json([point(5, type="output", at=base)])
    assert send_metrics(client, data, token=old).status_code == 401
    assert send_metrics(client, data, token=new.raw).status_code == 200
    assert LiveSource.objects.get(source=source).token_hint == new.raw[-4:]


def test_two_sources_never_mix(client, live, account, owner, other_account, other_owner, base):
    source, token = live
    other, other_token = live_source_create(
        account=other_account, user=other_owner, tool="claude_code", billing="unknown"
    )
    send_metrics(client, metrics_json([point(5, type="output", at=base)]), token=token)
    send_metrics(client, metrics_json([point(9, type="output", at=base)]), token=other_token.raw)
    assert rows(source) == {(base.date(), MODEL, ""): (0, 0, 0, 5)}
    assert rows(other) == {(base.date(), MODEL, ""): (0, 0, 0, 9)}
    assert DailyUsage.objects.get(source=other).account == other_account


def test_bodies_over_the_cap_get_413_before_and_after_decompression(client, live, monkeypatch):
    from connectors.live import otlp

    _, token = live
    response = post(
        client,
        "/otlp/v1/metrics",
        b"x",
        token=token,
        CONTENT_LENGTH=str(otlp.MAX_BODY_BYTES + 1),
    )
    assert response.status_code == 413
    monkeypatch.setattr(otlp, "MAX_BODY_BYTES", 1000)
    response = post(client, "/otlp/v1/metrics", b"\0" * 1001, token=token)
    assert response.status_code == 413
    # A gzip bomb: 30 KB of zeros inflating past the cap (and past 100:1).
    bomb = gzip.compress(b"\0" * (otlp.MAX_DECODED_BYTES + 1))
    monkeypatch.setattr(otlp, "MAX_BODY_BYTES", 4 * 1024 * 1024)
    response = post(client, "/otlp/v1/metrics", bomb, token=token, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [("text/plain", ""), ("application/x-protobuf", "br"), ("application/grpc", "")],
)
def test_other_content_types_and_encodings_get_415(client, live, content_type, encoding):
    _, token = live
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    response = post(
        client, "/otlp/v1/metrics", b"x", token=token, content_type=content_type, **extra
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("body", "content_type", "gzipped"),
    [
        (b"\xff\xff\xff not protobuf", "application/x-protobuf", False),
        (b"{not json", "application/json", False),
        (b"[1, 2]", "application/json", False),
        (b'{"resourceMetrics": "nope"}', "application/json", False),
        (b"not gzip at all", "application/x-protobuf", True),
    ],
)
def test_malformed_bodies_get_400_with_a_status(client, live, body, content_type, gzipped):
    _, token = live
    extra = {"HTTP_CONTENT_ENCODING": "gzip"} if gzipped else {}
    response = post(
        client, "/otlp/v1/metrics", body, token=token, content_type=content_type, **extra
    )
    assert response.status_code == 400
    assert b"not" in response.content


def test_an_empty_request_is_a_success(client, live):
    _, token = live
    response = post(client, "/otlp/v1/metrics", b"{}", token=token, content_type="application/json")
    assert response.status_code == 200


def test_over_the_source_rate_it_answers_429_with_retry_after(client, live, settings, base):
    _, token = live
    settings.LIVE_INGEST_REQUESTS_PER_MINUTE = 2
    data = metrics_json([point(1, type="output", at=base)])
    statuses = [send_metrics(client, data, token=token).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = send_metrics(client, data, token=token)
    assert response["Retry-After"] == "60"


def test_get_is_405_and_no_path_redirects(client, live):
    assert client.get("/otlp/v1/metrics").status_code == 405
    assert client.post("/otlp/v1/metrics/").status_code == 404
    assert client.post("/otlp/v1/traces").status_code == 404


def test_codex_completed_responses_become_rows_input_minus_cached(client, account, owner, base):
    source, token = live_source_create(
        account=account, user=owner, tool="codex", billing="subscription"
    )
    records = [
        codex_record(at=base),  # counts as strings
        codex_record(at=base + timedelta(seconds=5), input=500, output=100.0, cached=0),
        codex_record(at=base, kind="response.output_text.delta"),  # no counts: unread
        {
            "attributes": [
                {"key": "event.name", "value": {"stringValue": "claude_code.api_request"}}
            ]
        },
    ]
    body = json.dumps(logs_json(records)).encode()
    response = post(client, "/otlp/v1/logs", body, token=token.raw, content_type="application/json")
    assert response.status_code == 200
    # Input includes cached, output includes reasoning: 1000-600 + 500, 600 cached, 200 + 100.
    assert rows(source) == {(base.date(), "gpt-5-codex", ""): (900, 600, 0, 300)}
    # A resend (protobuf this time) counts nothing more.
    response = post(
        client, "/otlp/v1/logs", protobuf(logs_json(records[:2]), logs=True), token=token.raw
    )
    assert response.status_code == 200
    assert rows(source) == {(base.date(), "gpt-5-codex", ""): (900, 600, 0, 300)}


def test_codex_counts_that_are_not_whole_numbers_are_rejected(client, account, owner, base):
    source, token = live_source_create(account=account, user=owner, tool="codex", billing="unknown")
    body = json.dumps(logs_json([codex_record(at=base, input="12.5x")])).encode()
    response = post(client, "/otlp/v1/logs", body, token=token.raw, content_type="application/json")
    assert json.loads(response.content)["partialSuccess"]["rejectedLogRecords"] == "1"
    assert rows(source) == {}


def test_emails_sessions_and_custom_attributes_are_never_stored(client, live, base):
    source, token = live
    data = metrics_json(
        four(base, extra={"user.account_uuid": "acct-uuid-42", "team": "secret-team"}),
        resource={"custom.key": "custom-value"},
    )
    send_metrics(client, data, token=token)
    stored = repr(
        [
            list(DailyUsage.objects.values()),
            list(LiveSeries.objects.values()),
            list(LiveSource.objects.values()),
        ]
    )
    for secret in (EMAIL, SESSION, "acct-uuid-42", "secret-team", "custom-value"):
        assert secret not in stored


def test_the_first_data_enqueues_one_projection(
    client, live, base, _reprojections, django_capture_on_commit_callbacks
):
    source, token = live
    with django_capture_on_commit_callbacks(execute=True):
        send_metrics(client, metrics_json([point(1, type="output", at=base)]), token=token)
    with django_capture_on_commit_callbacks(execute=True):
        send_metrics(
            client,
            metrics_json([point(1, type="output", at=base + timedelta(minutes=1))]),
            token=token,
        )
    assert _reprojections == [(source.pk,)]
    assert LiveSource.objects.get(source=source).first_data_at is not None
