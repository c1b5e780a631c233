"""Cursor Admin API client: every documented trap, against respx."""

import base64
import json
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
import respx

from connectors.cursor import client, pacing
from connectors.cursor.connector import CONNECTOR, key_shape_problem
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.records import CostRecord, UsageRecord
from tests.connectors.cursor_fakes import BASE, DAY_MS, KEY, FakeClock, event, events_vendor, ms

EVENTS = f"{BASE}/teams/filtered-usage-events"
MEMBERS = f"{BASE}/teams/members"
DAY = date(2026, 8, 20)


@pytest.fixture
def http():
    with build_client(BASE) as c:
        yield c


@pytest.fixture
def clock():
    return FakeClock()


def fetch(http, clock, start=DAY, end=DAY + timedelta(days=1), **kwargs):
    pacer = pacing.Pacer(client.EVENTS_PER_MINUTE, clock=clock)
    return client.fetch_events(http, KEY, start, end, pacer=pacer, **kwargs)


def usage(records):
    return [r for r in records if isinstance(r, UsageRecord)]


def costs(records):
    return [r for r in records if isinstance(r, CostRecord)]


@respx.mock
def test_it_validates_with_basic_auth_and_counts_members_not_removed(http):
    route = respx.get(MEMBERS).respond(
        200,
        json={
            "teamMembers": [
                {
                    "id": "user_a",
                    "name": "Dana",
                    "email": "d@x",
                    "role": "owner",
                    "isRemoved": False,
                },
                {
                    "id": "user_b",
                    "name": "Lee",
                    "email": "l@x",
                    "role": "member",
                    "isRemoved": True,
                },
                {"name": "Kim", "email": "k@x", "role": "free-owner"},  # older docs: no isRemoved
            ]
        },
    )
    assert CONNECTOR.validate(http, KEY).label == "Cursor · 2 members"
    sent = route.calls.last.request.headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert route.call_count == 1


@respx.mock
def test_validation_makes_one_call_and_never_retries(http):
    route = respx.get(MEMBERS).respond(429, json={"error": "Too Many Requests", "message": "x"})
    with pytest.raises(ConnectorError) as caught:
        client.validate_key(http, KEY)
    assert caught.value.kind == "rate_limited" and route.call_count == 1


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Enterprise access required", client.NOT_ENTERPRISE),
        ("This API key is missing the admin:* scope", client.NO_ADMIN_SCOPE),
        ("Insufficient permissions", client.NO_ADMIN_SCOPE),
        ("Nope", None),
    ],
)
@respx.mock
def test_the_403_message_tells_a_team_without_enterprise_from_a_key_without_admin_scope(
    http, message, reason
):
    respx.get(MEMBERS).respond(403, json={"error": "Forbidden", "message": message})
    with pytest.raises(ConnectorError) as caught:
        client.validate_key(http, KEY)
    assert caught.value.kind == "forbidden" and caught.value.permanent
    assert message in caught.value.message
    assert client.forbidden_reason(caught.value) == reason


@respx.mock
def test_it_asks_one_utc_day_at_a_time_in_epoch_milliseconds_with_an_inclusive_end(http, clock):
    log = []
    respx.post(EVENTS).mock(side_effect=events_vendor([], clock=clock, log=log))
    assert fetch(http, clock, DAY, DAY + timedelta(days=3)) == []
    bodies = [body for _, body in log]
    assert [b["startDate"] for b in bodies] == [ms(DAY + timedelta(days=n)) for n in range(3)]
    assert [b["endDate"] for b in bodies] == [ms(DAY + timedelta(days=n + 1)) - 1 for n in range(3)]
    assert all(type(b["startDate"]) is int and type(b["endDate"]) is int for b in bodies)
    assert {(b["page"], b["pageSize"]) for b in bodies} == {(1, 1000)}
    # The wire text has numbers, not strings (strings make this endpoint answer 500).
    raw = respx.calls.last.request.content.decode()
    assert f'"startDate":{ms(DAY + timedelta(days=2))}' in raw.replace(" ", "")


@respx.mock
def test_it_sums_events_per_utc_day_and_model_with_input_already_uncached(http, clock):
    events = [
        event(ms(DAY), tokens=(1840, 612, 9050, 48211), charged="8.41442"),
        event(ms(DAY + timedelta(days=1)) - 1, tokens=(10, 1, 2, 3), charged="0"),  # 23:59:59.999
        event(ms(DAY, 3600), "gpt-5", tokens=(5, 6, 0, 7), charged="2.5"),
        event(ms(DAY + timedelta(days=1)), tokens=(1, 1, 1, 1)),  # the next day, 00:00:00.000
    ]
    respx.post(EVENTS).mock(side_effect=events_vendor(events, clock=clock))
    records = fetch(http, clock, DAY, DAY + timedelta(days=2))
    rows = {(r.day, r.model): r for r in usage(records)}
    sonnet = rows[(DAY, "claude-4.5-sonnet")]
    assert (sonnet.uncached_input, sonnet.output, sonnet.cache_write, sonnet.cache_read) == (
        1850,
        613,
        9052,
        48214,
    )
    assert sonnet.requests == 2 and sonnet.cache_write_1h == 0
    assert (sonnet.service_tier, sonnet.context_window, sonnet.batch) == ("", "", "")
    assert rows[(DAY, "gpt-5")].uncached_input == 5
    assert rows[(DAY + timedelta(days=1), "claude-4.5-sonnet")].output == 1
    spend = {r.day: r for r in costs(records)}
    assert spend[DAY].amount_usd == Decimal("0.1091442")  # (8.41442 + 0 + 2.5) cents, exactly
    assert spend[DAY].currency == "USD"
    assert spend[DAY + timedelta(days=1)].amount_usd == Decimal("0.015")


@respx.mock
def test_an_event_without_token_usage_adds_its_charge_but_no_tokens(http, clock):
    events = [
        event(ms(DAY, 10), "gpt-5", tokens=None, charged="4"),
        event(ms(DAY, 20), tokens=(1, 2, 3, 4), charged="1"),
    ]
    respx.post(EVENTS).mock(side_effect=events_vendor(events, clock=clock))
    records = fetch(http, clock)
    assert [(r.model, r.requests) for r in usage(records)] == [("claude-4.5-sonnet", 1)]
    assert costs(records)[0].amount_usd == Decimal("0.05")


@respx.mock
def test_without_charged_cents_the_model_price_and_cursor_fee_are_the_charge(http, clock):
    legacy = event(ms(DAY, 10), charged=None, cursorTokenFee=0.5)
    respx.post(EVENTS).mock(side_effect=events_vendor([legacy], clock=clock))
    assert costs(fetch(http, clock))[0].amount_usd == Decimal("0.015")  # 1.0 + 0.5 cents


@respx.mock
def test_unknown_fields_models_and_kinds_are_kept_not_fatal(http, clock):
    odd = event(
        ms(DAY, 5),
        "composer-9-experimental",
        kind="USAGE_EVENT_KIND_SOMETHING_NEW",
        brandNewField={"nested": [1, 2]},
        isHeadless=True,
    )
    odd["tokenUsage"]["discountPercentOff"] = 20
    respx.post(EVENTS).mock(
        side_effect=events_vendor([odd, event(ms(DAY, 6), "auto")], clock=clock)
    )
    assert {r.model for r in usage(fetch(http, clock))} == {"composer-9-experimental", "auto"}


@respx.mock
def test_it_follows_every_page_of_a_busy_day(http, clock):
    events = [event(ms(DAY, n), tokens=(1, 0, 0, 0), charged="1") for n in range(2500)]
    log = []
    respx.post(EVENTS).mock(side_effect=events_vendor(events, clock=clock, log=log))
    progress = []
    records = fetch(http, clock, on_page=lambda n, more: progress.append((n, more)))
    assert [body["page"] for _, body in log] == [1, 2, 3]
    assert usage(records)[0].uncached_input == 2500
    assert costs(records)[0].amount_usd == Decimal(25)
    assert progress == [(1, True), (2, True), (3, False)]


@respx.mock
def test_it_stops_on_an_empty_page_and_reads_num_pages_without_has_next_page(http, clock):
    pages = [
        {"usageEvents": [event(ms(DAY, 1))], "pagination": {"numPages": 5, "currentPage": 1}},
        {"usageEvents": [], "pagination": {"numPages": 5, "currentPage": 2, "hasNextPage": True}},
    ]
    route = respx.post(EVENTS).mock(side_effect=[httpx.Response(200, json=p) for p in pages])
    assert len(usage(fetch(http, clock))) == 1
    assert route.call_count == 2


@respx.mock
def test_a_cursor_that_never_ends_stops_at_the_page_cap(http, clock, monkeypatch):
    monkeypatch.setattr(client, "MAX_PAGES_PER_DAY", 3)
    page = {"usageEvents": [event(ms(DAY, 1))], "pagination": {"hasNextPage": True}}
    respx.post(EVENTS).respond(200, json=page)
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "page_cap"


@respx.mock
def test_an_event_dated_outside_the_requested_day_is_out_of_range(http, clock):
    stray = {"usageEvents": [event(ms(DAY - timedelta(days=3)))], "pagination": None}
    respx.post(EVENTS).respond(200, json=stray)
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "out_of_range"


@pytest.mark.parametrize("timestamp", ["2026-08-20T10:00:00Z", "-5", "1" * 30, "１２３"])
@respx.mock
def test_a_timestamp_that_is_not_epoch_milliseconds_is_malformed(http, clock, timestamp):
    bad = event(ms(DAY))
    bad["timestamp"] = timestamp
    respx.post(EVENTS).respond(200, json={"usageEvents": [bad]})
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "malformed"


@respx.mock
def test_a_numeric_timestamp_is_accepted_too(http, clock):
    numeric = event(ms(DAY, 7))
    numeric["timestamp"] = int(numeric["timestamp"])
    respx.post(EVENTS).respond(200, json={"usageEvents": [numeric]})
    assert usage(fetch(http, clock))[0].day == DAY


@respx.mock
def test_negative_token_counts_are_malformed(http, clock):
    respx.post(EVENTS).respond(200, json={"usageEvents": [event(ms(DAY), tokens=(-1, 0, 0, 0))]})
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "malformed"


@respx.mock
def test_a_day_beyond_the_sane_token_range_is_refused(http, clock):
    huge = event(ms(DAY), tokens=(10**12, 0, 0, 0))
    respx.post(EVENTS).respond(200, json={"usageEvents": [huge, event(ms(DAY, 1))]})
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "out_of_range"


@respx.mock
def test_a_range_the_vendor_refuses_is_a_bad_request_and_not_retried(http, clock):
    body = {"error": "Bad Request", "message": "Date range cannot exceed 30 days"}
    route = respx.post(EVENTS).respond(400, json=body)
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "bad_request" and route.call_count == 1
    assert "Date range cannot exceed 30 days" in caught.value.message


@respx.mock
def test_it_paces_itself_to_sixty_requests_a_minute_for_the_team(http, clock):
    log = []
    respx.post(EVENTS).mock(side_effect=events_vendor([], clock=clock, log=log))
    fetch(http, clock, DAY, DAY + timedelta(days=150))
    arrived = [t for t, _ in log]
    assert len(arrived) == 150
    # No 61 requests within any 60 s: the 61st after any request comes more than a minute later.
    assert min(later - first for first, later in zip(arrived, arrived[60:], strict=False)) > 60
    # …and it does not dawdle either: 150 requests take a little over two minutes.
    assert arrived[-1] - arrived[0] < 3 * 60


@respx.mock
def test_it_honours_retry_after_on_429_within_the_retry_budget(http, clock):
    limited = httpx.Response(
        429,
        json={"error": "Too Many Requests", "message": "Rate limit exceeded."},
        headers={"retry-after": "7"},
    )
    ok = httpx.Response(200, json={"usageEvents": [event(ms(DAY, 1))]})
    route = respx.post(EVENTS).mock(side_effect=[limited, ok])
    assert len(usage(fetch(http, clock))) == 1
    assert route.call_count == 2 and clock.sleeps == [7.0]


@respx.mock
def test_without_retry_after_it_backs_off_exponentially_then_gives_up(http, clock):
    limited = {"error": "Too Many Requests", "message": "Rate limit exceeded."}
    route = respx.post(EVENTS).respond(429, json=limited)
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.kind == "rate_limited" and caught.value.transient
    assert route.call_count == 3 and clock.sleeps == [1.0, 2.0]


@respx.mock
def test_a_retry_after_longer_than_a_worker_may_wait_goes_to_the_caller(http, clock):
    route = respx.post(EVENTS).respond(429, json={}, headers={"retry-after": "120"})
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert caught.value.retry_after == 120 and route.call_count == 1 and clock.sleeps == []


@respx.mock
def test_a_429_holds_every_request_of_the_team_not_just_the_one_that_got_it(clock):
    pacer = pacing.Pacer(60, clock=clock)
    pacer.hold(9)
    with pacer.slot():
        pass
    assert clock.sleeps == [9]


@respx.mock
def test_server_errors_are_retried_then_succeed(http, clock):
    error = httpx.Response(500, json={"error": "Internal Server Error", "message": "oops"})
    ok = httpx.Response(200, json={"usageEvents": []})
    route = respx.post(EVENTS).mock(side_effect=[error, ok])
    assert fetch(http, clock) == []
    assert route.call_count == 2


@respx.mock
def test_the_key_never_appears_in_an_error(http, clock):
    echo = {"error": "Unauthorized", "message": f"Invalid API key {KEY}"}
    respx.post(EVENTS).respond(401, json=echo)
    with pytest.raises(ConnectorError) as caught:
        fetch(http, clock)
    assert KEY not in caught.value.message and KEY not in repr(caught.value)
    assert caught.value.permanent


def test_pacers_are_shared_per_team_and_keyed_by_a_digest(monkeypatch):
    monkeypatch.setattr(pacing, "CLOCK", FakeClock())
    pacing.forget_all()
    assert pacing.pacer_for(KEY, 60) is pacing.pacer_for(KEY, 60)
    assert pacing.pacer_for(KEY, 60) is not pacing.pacer_for(KEY + "0", 60)
    assert KEY not in repr(pacing._pacers)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("key_" + "ab" * 32, None),
        ("crsr_" + "x" * 64, None),
        ("sk-ant-admin01-" + "a" * 40, "Anthropic"),
        ("sk-admin-" + "a" * 40, "OpenAI"),
        ("AIzaSy" + "a" * 33, "Google"),
        ("cur_" + "a" * 40, "start with key_ or crsr_"),
    ],
)
def test_the_key_shape_check_names_the_vendor_of_a_misplaced_key(key, problem):
    found = key_shape_problem(key)
    assert (found is None) if problem is None else (problem in found)


def test_days_are_cut_at_utc_midnight_in_whole_milliseconds():
    assert client._epoch_ms(date(2026, 8, 20)) == 1787184000000
    assert json.dumps({"d": client._epoch_ms(date(2026, 8, 21)) - 1}) == '{"d": 1787270399999}'
    assert ms(date(2026, 8, 21)) - ms(date(2026, 8, 20)) == DAY_MS


def test_threads_share_the_team_pace_and_a_skipping_clock_never_jumps_a_request_in_flight():
    import time
    from concurrent.futures import ThreadPoolExecutor

    clock = pacing.SkipClock()
    pacer = pacing.Pacer(60, clock=clock)
    sent, answered = [], []

    def request(_):
        with pacer.slot():
            sent.append(clock.now())
            time.sleep(0.01)
            answered.append(clock.now())

    started = clock.now()
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(request, range(180)))
    sent.sort()
    answered.sort()
    # The 61st request after any answer goes out more than a minute after that answer…
    assert min(later - first for first, later in zip(answered, sent[60:], strict=False)) > 60
    # …and 180 requests take two windows and a little, not three.
    assert clock.now() - started < 125
