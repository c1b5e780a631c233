import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import httpx
import pytest
import respx

from connectors import registry
from connectors.anthropic import client as anthropic
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.records import CostRecord, Organization, UsageRecord
from estimates.fetch import fetch_reports

BASE = "https://api.anthropic.com"
KEY = "sk-ant-admin01-" + "x" * 93 + "AA"
FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"
ME = "/v1/organizations/me"

# The documented 90-day walk-through: 31 + 31 + 28 daily buckets.
START, END = date(2026, 6, 1), date(2026, 8, 30)
CURSOR_1 = "page_MjAyNi0wNy0wMlQwMDowMDowMFo="
CURSOR_2 = "page_MjAyNi0wOC0wMlQwMDowMDowMFo="


def load(name):
    return json.loads((FIXTURES / name).read_text())


def rfc3339(day):
    return f"{day.isoformat()}T00:00:00Z"


def usage_row(model="claude-sonnet-4-6", **tokens):
    return {
        "uncached_input_tokens": tokens.get("uncached", 100),
        "cache_creation": {
            "ephemeral_5m_input_tokens": tokens.get("write_5m", 20),
            "ephemeral_1h_input_tokens": tokens.get("write_1h", 10),
        },
        "cache_read_input_tokens": tokens.get("read", 300),
        "output_tokens": tokens.get("output", 50),
        "server_tool_use": {"web_search_requests": 0},
        "model": model,
        "workspace_id": None,
        "service_tier": "standard",
        "api_key_id": None,
        "context_window": "0-200k",
        "inference_geo": None,
    }


def cost_row(amount="100.5"):
    return {
        "amount": amount,
        "currency": "USD",
        "workspace_id": None,
        "description": "Claude Sonnet 4.6 Usage - Output Tokens",
        "cost_type": "tokens",
        "model": "claude-sonnet-4-6",
        "token_type": "output_tokens",
        "service_tier": "standard",
        "context_window": "0-200k",
        "inference_geo": "global",
    }


def report_page(first_day, days, next_page=None, row=usage_row):
    data = [
        {
            "starting_at": rfc3339(first_day + timedelta(days=i)),
            "ending_at": rfc3339(first_day + timedelta(days=i + 1)),
            "results": [row()] if i % 2 == 0 else [],  # quiet days are empty buckets
        }
        for i in range(days)
    ]
    return {"data": data, "has_more": next_page is not None, "next_page": next_page}


def three_pages(row):
    return [
        httpx.Response(200, json=report_page(date(2026, 6, 1), 31, CURSOR_1, row)),
        httpx.Response(200, json=report_page(date(2026, 7, 2), 31, CURSOR_2, row)),
        httpx.Response(200, json=report_page(date(2026, 8, 2), 28, None, row)),
    ]


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


# pagination and the exact requests


def test_it_fetches_90_days_of_usage_in_3_cursor_pages(mock, client):
    route = mock.get(USAGE)
    route.side_effect = three_pages(usage_row)
    progress = []
    got = anthropic.fetch_usage(
        client, KEY, START, END, on_page=lambda n, more: progress.append((n, more))
    )
    base = [
        ("starting_at", "2026-06-01T00:00:00Z"),
        ("ending_at", "2026-08-30T00:00:00Z"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by[]", "model"),
        ("group_by[]", "service_tier"),
        ("group_by[]", "context_window"),
    ]
    assert sent_params(route) == [base, [*base, ("page", CURSOR_1)], [*base, ("page", CURSOR_2)]]
    assert progress == [(1, True), (2, True), (3, False)]
    assert len(got) == 16 + 16 + 14
    assert got[0].day == START
    assert got[-1].day == date(2026, 8, 28)
    headers = route.calls.last.request.headers
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["user-agent"].startswith("TokenOffset/")
    assert str(route.calls.last.request.url).startswith(f"{BASE}{USAGE}?")


def test_it_fetches_90_days_of_costs_in_3_cursor_pages(mock, client):
    route = mock.get(COSTS)
    route.side_effect = three_pages(cost_row)
    got = anthropic.fetch_costs(client, KEY, START, END)
    base = [
        ("starting_at", "2026-06-01T00:00:00Z"),
        ("ending_at", "2026-08-30T00:00:00Z"),
        ("limit", "31"),
        ("group_by[]", "description"),
    ]
    assert sent_params(route) == [base, [*base, ("page", CURSOR_1)], [*base, ("page", CURSOR_2)]]
    assert len(got) == 46
    assert {r.amount_usd for r in got} == {Decimal("1.005")}


def respond_by_window(request):
    """A page holding exactly the days the request asked for (any order, any thread)."""
    first = date.fromisoformat(request.url.params["starting_at"][:10])
    last = date.fromisoformat(request.url.params["ending_at"][:10])
    row = cost_row if request.url.path == COSTS else usage_row
    return httpx.Response(200, json=report_page(first, (last - first).days, row=row))


def test_a_whole_window_is_fetched_through_the_registry_as_three_sub_windows(mock, client):
    usage = mock.get(USAGE).mock(side_effect=respond_by_window)
    costs = mock.get(COSTS).mock(side_effect=respond_by_window)
    snapshots = []
    got = fetch_reports(
        registry.get("anthropic"), client, KEY, START, END, on_progress=snapshots.append
    )
    windows = sorted((p[0][1], p[1][1]) for p in sent_params(usage))
    assert windows == [
        ("2026-06-01T00:00:00Z", "2026-07-02T00:00:00Z"),
        ("2026-07-02T00:00:00Z", "2026-08-02T00:00:00Z"),
        ("2026-08-02T00:00:00Z", "2026-08-30T00:00:00Z"),
    ]
    assert sorted((p[0][1], p[1][1]) for p in sent_params(costs)) == windows
    assert all(("page", CURSOR_1) not in p for p in sent_params(usage))
    done = {"pages_done": 3, "pages_total": 3}
    assert [s for s in snapshots if s][-1] == {"reports": {"usage": done, "costs": done}}
    assert (len(got.usage), len(got.costs)) == (46, 46)
    assert {r.amount_usd for r in got.costs} == {Decimal("1.005")}


def test_sub_windows_and_reports_can_be_fetched_from_a_thread_pool(mock, client):
    def respond(request):
        first = date.fromisoformat(request.url.params["starting_at"][:10])
        last = date.fromisoformat(request.url.params["ending_at"][:10])
        row = cost_row if request.url.path == COSTS else usage_row
        return httpx.Response(200, json=report_page(first, (last - first).days, row=row))

    mock.get(USAGE).mock(side_effect=respond)
    mock.get(COSTS).mock(side_effect=respond)
    progress = {}

    def record(report, sub_start, pages, has_more):
        progress[(report, sub_start)] = (pages, has_more)

    jobs = [
        (fetch, report, s, e)
        for fetch, report in ((anthropic.fetch_usage, "usage"), (anthropic.fetch_costs, "cost"))
        for s, e in anthropic.split_window(START, END, anthropic.USAGE_MAX_DAYS)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(fetch, client, KEY, s, e, on_page=partial(record, report, s))
            for fetch, report, s, e in jobs
        ]
        results = [f.result() for f in futures]
    assert len(mock.calls) == 6
    assert sum(len(r) for r in results) == 2 * (16 + 16 + 14)
    assert set(progress.values()) == {(1, False)}
    assert len(progress) == 6


def test_it_raises_when_the_vendor_keeps_paging(mock, client):
    route = mock.get(USAGE).respond(json=report_page(date(2026, 6, 1), 1, "page_again"))
    with pytest.raises(ConnectorError) as exc:
        anthropic.fetch_usage(client, KEY, date(2026, 6, 1), date(2026, 7, 2))
    assert exc.value.kind == "page_cap"
    assert route.call_count == 2  # one page expected for 31 days, plus one of slack


# parsing traps


def test_it_normalises_usage_to_our_token_types():
    got = anthropic.parse_usage_buckets(load("usage_report.json")["data"])
    assert got[0] == UsageRecord(
        day=date(2026, 8, 1),
        model="claude-sonnet-4-6",
        service_tier="standard",
        context_window="0-200k",
        batch="",
        uncached_input=1824310,
        cache_read=9733051,
        cache_write=402118,
        cache_write_1h=0,
        output=612994,
        requests=None,
        web_search_requests=37,
    )


def test_cache_write_is_the_5m_plus_1h_split():
    opus = anthropic.parse_usage_buckets(load("usage_report.json")["data"])[1]
    assert (opus.cache_write, opus.cache_write_1h) == (1200 + 88000, 88000)
    assert (opus.service_tier, opus.context_window) == ("batch", "200k-1M")


def test_empty_buckets_give_no_records():
    days = [r.day for r in anthropic.parse_usage_buckets(load("usage_report.json")["data"])]
    assert date(2026, 8, 2) not in days
    assert anthropic.parse_usage_buckets([]) == []


def test_null_group_fields_become_blank_and_unknown_tiers_are_kept():
    got = anthropic.parse_usage_buckets(load("usage_report.json")["data"])
    assert (got[2].service_tier, got[2].context_window) == ("flex_discount_2027", "")
    assert (got[3].model, got[3].service_tier, got[3].context_window) == ("", "", "")


def test_it_rejects_usage_rows_it_cannot_read():
    bad = usage_row()
    del bad["output_tokens"]
    page = report_page(date(2026, 6, 1), 1, row=lambda: bad)
    with pytest.raises(ConnectorError) as exc:
        anthropic.parse_usage_buckets(page["data"])
    assert exc.value.kind == "malformed"


def test_cost_amounts_are_cents_turned_into_exact_dollars():
    got = anthropic.parse_cost_buckets(load("cost_report.json")["data"])
    assert [r.amount_usd for r in got] == [
        Decimal("5.472930"),
        Decimal("9.19491"),
        Decimal("0.370"),
        Decimal("1.2345"),  # the reference's "123.45" example: $1.2345, not $123.45
        Decimal("0.0078912"),
    ]
    assert sum(r.amount_usd for r in got if r.day == date(2026, 8, 1)) == Decimal("15.03784")
    assert all(isinstance(r.amount_usd, Decimal) for r in got)


def test_cost_rows_keep_every_other_dimension():
    got = anthropic.parse_cost_buckets(load("cost_report.json")["data"])
    assert got[0] == CostRecord(
        day=date(2026, 8, 1),
        description="Claude Sonnet 4.6 Usage - Input Tokens",
        dimensions={
            "context_window": "0-200k",
            "cost_type": "tokens",
            "inference_geo": "global",
            "model": "claude-sonnet-4-6",
            "service_tier": "standard",
            "token_type": "uncached_input_tokens",
        },
        amount_usd=Decimal("5.472930"),
        currency="USD",
    )
    code_execution = got[2]
    assert code_execution.dimensions == {"cost_type": "code_execution"}
    assert got[3].dimensions["token_type"] == "cache_creation.ephemeral_1h_input_tokens"
    assert (got[4].description, got[4].dimensions) == ("", {"cost_type": "session_usage"})


@pytest.mark.parametrize("amount", [None, "lots", {"value": 1}, True, "NaN"])
def test_it_rejects_cost_amounts_it_cannot_read(amount):
    page = report_page(date(2026, 6, 1), 1, row=lambda: cost_row(amount))
    with pytest.raises(ConnectorError) as exc:
        anthropic.parse_cost_buckets(page["data"])
    assert exc.value.kind == "malformed"


# organisation and key validation


def test_it_reads_the_organisation(mock, client):
    mock.get(ME).respond(json=load("organization.json"))
    org = anthropic.get_organization(client, KEY)
    assert org == Organization(id="5b0e8d3a-71c2-4f0e-9a4d-2f6c1e7b9a10", name="Acme Analytics Ltd")


def test_validate_key_checks_me_then_probes_yesterday(mock, client, no_sleep):
    me = mock.get(ME).respond(json=load("organization.json"))
    probe = mock.get(USAGE).respond(json=report_page(date(2026, 8, 19), 1))
    org = anthropic.validate_key(client, KEY, today=date(2026, 8, 20))
    assert org.name == "Acme Analytics Ltd"
    assert me.call_count == 1
    assert sent_params(probe) == [
        [
            ("starting_at", "2026-08-19T00:00:00Z"),
            ("ending_at", "2026-08-20T00:00:00Z"),
            ("bucket_width", "1d"),
            ("limit", "1"),
        ]
    ]


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "unauthorized"), (403, "forbidden"), (429, "rate_limited")]
)
def test_validate_key_does_not_retry(mock, client, no_sleep, status, kind):
    mock.get(ME).respond(json=load("organization.json"))
    probe = mock.get(USAGE).respond(status, headers={"retry-after": "1"}, json={})
    with pytest.raises(ConnectorError) as exc:
        anthropic.validate_key(client, KEY)
    assert (exc.value.kind, probe.call_count) == (kind, 1)


def test_validate_key_stops_at_a_bad_key(mock, client, no_sleep):
    body = {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    mock.get(ME).respond(401, json=body)
    probe = mock.get(USAGE)
    with pytest.raises(ConnectorError) as exc:
        anthropic.validate_key(client, KEY)
    assert exc.value.permanent
    assert "authentication_error: invalid x-api-key" in exc.value.message
    assert KEY not in repr(exc.value)
    assert probe.call_count == 0


# every error class, through the client


def error_body(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}


@pytest.mark.parametrize(
    ("response", "kind", "permanent", "transient"),
    [
        (httpx.Response(401, json=error_body("authentication_error", "no")), "unauthorized", 1, 0),
        (httpx.Response(403, json=error_body("permission_error", "no")), "forbidden", 1, 0),
        (httpx.Response(400, json=error_body("invalid_request_error", "x")), "bad_request", 0, 0),
        (httpx.Response(404, json=error_body("not_found_error", "x")), "bad_request", 0, 0),
        (httpx.Response(429, json=error_body("rate_limit_error", "x")), "rate_limited", 0, 1),
        (httpx.Response(500, json=error_body("api_error", "x")), "server", 0, 1),
        (httpx.Response(529, json=error_body("overloaded_error", "x")), "server", 0, 1),
        (httpx.Response(403, json={"error": "scope"}), "forbidden", 1, 0),
        (httpx.Response(200, text="{not json"), "malformed", 0, 0),
        (httpx.Response(200, json={"data": "nope"}), "malformed", 0, 0),
        (httpx.ConnectTimeout("slow"), "timeout", 0, 1),
        (httpx.ConnectError("refused"), "unreachable", 0, 1),
    ],
)
def test_it_classifies_every_error(mock, client, response, kind, permanent, transient):
    route = mock.get(USAGE)
    route.side_effect = [response] * 3
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        anthropic.fetch_usage(client, KEY, START, END, sleep=sleeps.append)
    assert exc.value.kind == kind
    assert (exc.value.permanent, exc.value.transient) == (bool(permanent), bool(transient))
    assert route.call_count == (3 if transient else 1)
    assert len(sleeps) == (2 if transient else 0)


def test_it_retries_a_429_honouring_retry_after(mock, client):
    route = mock.get(USAGE)
    route.side_effect = [
        httpx.Response(429, headers={"retry-after": "12"}, json=error_body("rate_limit_error", "")),
        httpx.Response(529, json=error_body("overloaded_error", "Overloaded")),
        httpx.Response(200, json=report_page(date(2026, 6, 1), 31)),
    ]
    sleeps = []
    got = anthropic.fetch_usage(
        client, KEY, date(2026, 6, 1), date(2026, 7, 2), sleep=sleeps.append
    )
    assert sleeps == [12.0, 2.0]
    assert len(got) == 16
