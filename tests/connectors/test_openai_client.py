import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import jsonschema
import pytest
import respx

from connectors import registry
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.openai import client as openai
from connectors.paging import utc_midnight
from connectors.records import CostRecord, UsageRecord
from estimates.fetch import fetch_reports
from tests.connectors.openai_schema import validate_openai_error, validate_openai_response

BASE = "https://api.openai.com"
KEY = "sk-admin-1234abcdSECRETSECRET"
FIXTURES = Path(__file__).parent / "fixtures" / "openai"
USAGE = "/v1/organization/usage/completions"
EMBEDDINGS = "/v1/organization/usage/embeddings"
MODERATIONS = "/v1/organization/usage/moderations"
COSTS = "/v1/organization/costs"

# The documented 90-day walk-through: 2026-05-24 .. 2026-08-22 (exclusive), 31 + 31 + 28 buckets.
START, END = date(2026, 5, 24), date(2026, 8, 22)
CURSOR_1 = "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
CURSOR_2 = "page_AAAAAGdGxdEiJdKOAAAAAGcqsYB="


def load(name):
    return json.loads((FIXTURES / name).read_text())


def ts(day):
    return int(utc_midnight(day).timestamp())


def usage_result(**fields):
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": 1000,
        "output_tokens": 500,
        "input_cached_tokens": 400,
        "input_cache_write_tokens": 100,
        "input_uncached_tokens": 500,
        "num_model_requests": 5,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": "gpt-5-mini-2026-03-01",
        "batch": False,
        "service_tier": "default",
        **fields,
    }


def embeddings_result(**fields):
    return {
        "object": "organization.usage.embeddings.result",
        "input_tokens": 2000,
        "num_model_requests": 4,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": "text-embedding-3-small",
        **fields,
    }


def moderations_result(**fields):
    return {
        "object": "organization.usage.moderations.result",
        "input_tokens": 300,
        "num_model_requests": 3,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": "omni-moderation-latest",
        **fields,
    }


def cost_result(value=0.06):
    return {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": "usd"},
        "line_item": "gpt-5-mini-2026-03-01, input",
        "project_id": None,
        "api_key_id": None,
        "quantity": 10000,
        "quantity_unit": "tokens",
    }


def usage_page(first_day, days, next_page=None, row=usage_result):
    data = [
        {
            "object": "bucket",
            "start_time": ts(first_day + timedelta(days=i)),
            "end_time": ts(first_day + timedelta(days=i + 1)),
            "results": [row()] if i % 2 == 0 else [],  # quiet days are empty buckets
        }
        for i in range(days)
    ]
    return {
        "object": "page",
        "data": data,
        "has_more": next_page is not None,
        "next_page": next_page,
    }


def openai_error(message, code=None, type_="invalid_request_error"):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client():
    with build_client(BASE) as c:
        yield c


@pytest.fixture
def no_sleep(monkeypatch):
    def refuse(seconds):
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(time, "sleep", refuse)


def sent_params(route):
    return [call.request.url.params.multi_items() for call in route.calls]


# fixtures follow the official OpenAPI schemas


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (USAGE, load("usage_completions.json")),
        (USAGE, usage_page(START, 31, CURSOR_1)),
        (USAGE, usage_page(START, 2, row=lambda: usage_result(model=None, batch=None))),
        (COSTS, load("costs.json")),
        (COSTS, usage_page(START, 90, row=cost_result) | {"has_more": False}),
    ],
)
def test_fixtures_match_the_official_schema(path, body):
    validate_openai_response(path, body)


def test_the_string_amount_variant_is_off_spec_but_parsed():
    body = load("costs_string_amount.json")
    with pytest.raises(jsonschema.ValidationError):
        validate_openai_response(COSTS, body)
    assert openai.parse_cost_buckets(body["data"])[0].amount_usd == Decimal("0.13080438")


def test_the_schema_tells_a_costs_page_from_a_usage_page():
    with pytest.raises(jsonschema.ValidationError):
        validate_openai_response(USAGE, load("costs.json"))


def test_error_fixtures_match_the_official_schema():
    validate_openai_error(openai_error("Incorrect API key provided", "invalid_api_key"))
    with pytest.raises(jsonschema.ValidationError):
        validate_openai_error({"error": "You have insufficient permissions"})  # seen in the wild


# pagination and the exact requests


def test_it_fetches_90_days_of_usage_in_3_cursor_pages(mock, client):
    route = mock.get(USAGE)
    route.side_effect = [
        httpx.Response(200, json=usage_page(date(2026, 5, 24), 31, CURSOR_1)),
        httpx.Response(200, json=usage_page(date(2026, 6, 24), 31, CURSOR_2)),
        httpx.Response(200, json=usage_page(date(2026, 7, 25), 28)),
    ]
    for path in (EMBEDDINGS, MODERATIONS):  # read in turn after completions; quiet here
        mock.get(path).respond(
            json={"object": "page", "data": [], "has_more": False, "next_page": None}
        )
    progress = []
    got = openai.fetch_usage(
        client, KEY, START, END, on_page=lambda n, more: progress.append((n, more))
    )
    base = [
        ("start_time", "1779580800"),
        ("end_time", "1787356800"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by", "model"),
        ("group_by", "service_tier"),
        ("group_by", "batch"),
    ]
    assert sent_params(route) == [base, [*base, ("page", CURSOR_1)], [*base, ("page", CURSOR_2)]]
    assert progress == [(1, True), (2, True), (3, True), (4, True), (5, False)]
    assert len(got) == 16 + 16 + 14
    assert (got[0].day, got[-1].day) == (START, date(2026, 8, 20))
    headers = route.calls.last.request.headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in headers


def test_it_fetches_90_days_of_costs_in_one_request(mock, client):
    route = mock.get(COSTS).respond(json=usage_page(START, 90, row=cost_result))
    got = openai.fetch_costs(client, KEY, START, END)
    assert sent_params(route) == [
        [
            ("start_time", "1779580800"),
            ("end_time", "1787356800"),
            ("group_by", "line_item"),
            ("limit", "180"),
        ]
    ]
    assert len(got) == 45


def respond_by_window(request):
    """A page holding exactly the days the request asked for (any order, any thread)."""
    first, last = (int(request.url.params[name]) for name in ("start_time", "end_time"))
    days = (last - first) // 86_400
    row = {COSTS: cost_result, EMBEDDINGS: embeddings_result, MODERATIONS: moderations_result}
    row = row.get(request.url.path, usage_result)
    day = datetime.fromtimestamp(first, UTC).date()
    return httpx.Response(200, json=usage_page(day, days, row=row))


def test_a_whole_window_costs_3_requests_per_usage_report_read_side_by_side_and_1_for_costs(
    mock, client
):
    usage = mock.get(USAGE).mock(side_effect=respond_by_window)
    embeddings = mock.get(EMBEDDINGS).mock(side_effect=respond_by_window)
    moderations = mock.get(MODERATIONS).mock(side_effect=respond_by_window)
    costs = mock.get(COSTS).mock(side_effect=respond_by_window)
    snapshots = []
    got = fetch_reports(
        registry.get("openai"), client, KEY, START, END, on_progress=snapshots.append
    )
    assert sorted((p[0][1], p[1][1]) for p in sent_params(usage)) == [
        (str(ts(date(2026, 5, 24))), str(ts(date(2026, 6, 24)))),
        (str(ts(date(2026, 6, 24))), str(ts(date(2026, 7, 25)))),
        (str(ts(date(2026, 7, 25))), str(ts(date(2026, 8, 22)))),
    ]
    assert (embeddings.call_count, moderations.call_count, costs.call_count) == (3, 3, 1)
    assert [s for s in snapshots if s][-1] == {
        "reports": {
            "usage": {"pages_done": 3, "pages_total": 3},
            "embeddings": {"pages_done": 3, "pages_total": 3},
            "moderations": {"pages_done": 3, "pages_total": 3},
            "costs": {"pages_done": 1, "pages_total": 1},
        }
    }
    assert (len(got.usage), len(got.costs)) == (3 * 46, 45)


def test_a_whole_window_has_all_ten_of_its_requests_in_flight_at_once(mock, client):
    lock, in_flight, peak = threading.Condition(), [0], [0]

    def together(request):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            lock.notify_all()
            lock.wait_for(lambda: peak[0] >= 10, timeout=3)
            in_flight[0] -= 1
        return respond_by_window(request)

    for path in (USAGE, EMBEDDINGS, MODERATIONS, COSTS):
        mock.get(path).mock(side_effect=together)
    fetch_reports(registry.get("openai"), client, KEY, START, END)
    assert peak[0] == 10  # 3 sub-windows × 3 usage reports, and the one costs request


def test_it_raises_when_the_vendor_keeps_paging(mock, client):
    route = mock.get(USAGE).respond(json=usage_page(START, 1, "page_again"))
    with pytest.raises(ConnectorError) as exc:
        openai.fetch_usage(client, KEY, START, END)
    assert exc.value.kind == "page_cap"
    assert route.call_count == 4  # three pages expected for 90 days, plus one of slack


# parsing traps


def test_input_tokens_include_cached_and_cache_write_tokens():
    got = openai.parse_usage_buckets(load("usage_completions.json")["data"])
    assert got[0] == UsageRecord(
        day=date(2026, 8, 20),
        model="gpt-5-mini-2026-03-01",
        service_tier="default",
        context_window="",
        batch="false",
        uncached_input=812400 - 402048 - 10000,
        cache_read=402048,
        cache_write=10000,
        cache_write_1h=0,
        output=96310,
        requests=1284,
    )
    # The newer explicit field agrees with our derivation.
    assert (
        got[0].uncached_input
        == load("usage_completions.json")["data"][0]["results"][0]["input_uncached_tokens"]
    )


def test_older_payloads_without_cache_write_fields_still_subtract_cached():
    older = openai.parse_usage_buckets(load("usage_completions.json")["data"])[1]
    assert (older.uncached_input, older.cache_read, older.cache_write) == (15230 - 1230, 1230, 0)
    assert (older.batch, older.service_tier, older.requests) == ("true", "flex", 22)


def test_null_groups_become_blank_unknown_tiers_are_kept_and_empty_buckets_vanish():
    got = openai.parse_usage_buckets(load("usage_completions.json")["data"])
    assert len(got) == 4
    assert date(2026, 8, 21) not in {r.day for r in got}
    assert (got[2].batch, got[2].service_tier) == ("", "priority_plus_2027")
    assert (got[3].model, got[3].batch, got[3].service_tier) == ("", "", "")
    assert (got[3].uncached_input, got[3].cache_read) == (40, 0)


@pytest.mark.parametrize(
    "row",
    [
        usage_result(input_tokens=100, input_cached_tokens=90, input_cache_write_tokens=20),
        usage_result(input_tokens="1000"),
        usage_result(output_tokens=None),
        usage_result(num_model_requests=-1),
    ],
)
def test_it_rejects_usage_rows_it_cannot_read(row):
    with pytest.raises(ConnectorError) as exc:
        openai.parse_usage_buckets(usage_page(START, 1, row=lambda: row)["data"])
    assert exc.value.kind == "malformed"


def test_cost_amounts_are_dollars_as_exact_decimals():
    got = openai.parse_cost_buckets(load("costs.json")["data"])
    assert [r.amount_usd for r in got] == [
        Decimal("1.2310624"),
        Decimal("0.19262"),
        Decimal("0.05"),
        Decimal("0.06"),
        Decimal("3"),
    ]
    assert sum(r.amount_usd for r in got) == Decimal("4.5336824")
    assert {r.currency for r in got} == {"USD"}


def test_cost_rows_keep_line_items_and_other_dimensions():
    got = openai.parse_cost_buckets(load("costs.json")["data"])
    assert got[0] == CostRecord(
        day=date(2026, 8, 20),
        description="gpt-5-mini-2026-03-01, input",
        dimensions={"quantity": "812400", "quantity_unit": "tokens"},
        amount_usd=Decimal("1.2310624"),
        currency="USD",
    )
    assert got[2].dimensions == {}
    assert (got[3].description, got[3].dimensions) == ("", {})
    assert got[4].dimensions == {"quantity": "2.5", "quantity_unit": "duration_minutes_2027"}


def test_cost_amounts_keep_every_digit_through_the_client(mock, client):
    raw = json.dumps(usage_page(START, 1, row=cost_result)).replace(
        "0.06", "0.12345678901234567891"
    )
    mock.get(COSTS).respond(content=raw.encode())
    got = openai.fetch_costs(client, KEY, START, START + timedelta(days=1))
    assert got[0].amount_usd == Decimal("0.12345678901234567891")


@pytest.mark.parametrize("amount", [None, {"value": None, "currency": "usd"}, {"value": "x"}])
def test_it_rejects_cost_amounts_it_cannot_read(amount):
    row = cost_result() | {"amount": amount}
    with pytest.raises(ConnectorError) as exc:
        openai.parse_cost_buckets(usage_page(START, 1, row=lambda: row)["data"])
    assert exc.value.kind == "malformed"


# key validation


def test_validate_key_probes_yesterday_once(mock, client, no_sleep):
    route = mock.get(USAGE).respond(json=usage_page(date(2026, 8, 19), 1))
    assert openai.validate_key(client, KEY, today=date(2026, 8, 20)) is None
    assert sent_params(route) == [
        [
            ("start_time", str(ts(date(2026, 8, 19)))),
            ("end_time", str(ts(date(2026, 8, 20)))),
            ("bucket_width", "1d"),
            ("limit", "1"),
        ]
    ]


def test_validate_key_rejects_a_bad_key_without_echoing_it(mock, client, no_sleep):
    body = openai_error(
        "Incorrect API key provided: sk-admin***************CRET.", "invalid_api_key"
    )
    route = mock.get(USAGE).respond(401, json=body)
    with pytest.raises(ConnectorError) as exc:
        openai.validate_key(client, KEY)
    assert (exc.value.kind, exc.value.permanent, route.call_count) == ("unauthorized", True, 1)
    assert "CRET" not in exc.value.message
    assert KEY not in repr(exc.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"error": "You have insufficient permissions for this operation. "
                        "Missing scopes: api.usage.read."}),
        (401, openai_error("You have insufficient permissions for this operation. "
                           "Missing scopes: api.usage.read.")),
    ],
)  # fmt: skip
def test_missing_scopes_means_the_wrong_kind_of_key(mock, client, no_sleep, status, body):
    mock.get(USAGE).respond(status, json=body)
    with pytest.raises(ConnectorError) as exc:
        openai.validate_key(client, KEY)
    assert (exc.value.kind, exc.value.status, exc.value.permanent) == ("forbidden", status, True)
    assert "Missing scopes" in exc.value.message


def test_validate_key_does_not_retry_a_429(mock, client, no_sleep):
    route = mock.get(USAGE).respond(429, headers={"Retry-After": "2"}, json=openai_error("slow"))
    with pytest.raises(ConnectorError) as exc:
        openai.validate_key(client, KEY)
    assert (exc.value.kind, exc.value.retry_after, route.call_count) == ("rate_limited", 2.0, 1)


# every error class, through the client


@pytest.mark.parametrize(
    ("response", "kind", "permanent", "transient"),
    [
        (httpx.Response(401, json=openai_error("bad", "invalid_api_key")), "unauthorized", 1, 0),
        (httpx.Response(403, json=openai_error("no", type_="insufficient_permissions")),
         "forbidden", 1, 0),
        (httpx.Response(403, json={"error": "bare string"}), "forbidden", 1, 0),
        (httpx.Response(400, json=openai_error("limit too high")), "bad_request", 0, 0),
        (httpx.Response(429, json=openai_error("slow down")), "rate_limited", 0, 1),
        (httpx.Response(500, json=openai_error("oops", type_="server_error")), "server", 0, 1),
        (httpx.Response(503, text="upstream connect error"), "server", 0, 1),
        (httpx.Response(200, text="<html>"), "malformed", 0, 0),
        (httpx.Response(200, json={"object": "page", "data": [{"object": "bucket"}],
                                   "has_more": False, "next_page": None}), "malformed", 0, 0),
        (httpx.ReadTimeout("slow"), "timeout", 0, 1),
        (httpx.ConnectError("refused"), "unreachable", 0, 1),
    ],
)  # fmt: skip
def test_it_classifies_every_error(mock, client, response, kind, permanent, transient):
    route = mock.get(COSTS)
    route.side_effect = [response] * 3
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        openai.fetch_costs(client, KEY, START, END, sleep=sleeps.append)
    assert exc.value.kind == kind
    assert (exc.value.permanent, exc.value.transient) == (bool(permanent), bool(transient))
    assert route.call_count == (3 if transient else 1)
    assert sleeps == ([1.0, 2.0] if transient else [])


def test_it_retries_a_429_honouring_retry_after(mock, client):
    route = mock.get(COSTS)
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "4"}, json=openai_error("slow down")),
        httpx.Response(429, headers={"Retry-After": "9"}, json=openai_error("slow down")),
        httpx.Response(200, json=usage_page(START, 90, row=cost_result)),
    ]
    sleeps = []
    got = openai.fetch_costs(client, KEY, START, END, sleep=sleeps.append)
    assert sleeps == [4.0, 9.0]
    assert len(got) == 45
