"""The vendor sandbox speaks the documented Anthropic and OpenAI admin usage/cost contracts."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from decimal import Decimal

import httpx
import pytest

from connectors.sandbox import aggregation
from connectors.sandbox.catalogue import BEHAVIOURS, effective_params, make_key, parse_key
from connectors.sandbox.catalogue import markdown_table as behaviours_markdown
from connectors.sandbox.server import start_in_thread, stop
from connectors.sandbox.synthetic import daily_costs, daily_usage, utc_today
from tests.connectors.openai_schema import validate_openai_error, validate_openai_response
from tests.sandbox_fixtures import vendor_sandbox  # noqa: F401

A_USAGE, A_COSTS = "/v1/organizations/usage_report/messages", "/v1/organizations/cost_report"
O_USAGE, O_COSTS = "/v1/organization/usage/completions", "/v1/organization/costs"
TODAY = utc_today()


@pytest.fixture
def http(vendor_sandbox):  # noqa: F811
    with httpx.Client(base_url=vendor_sandbox, timeout=10) as client:
        yield client


def iso(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def ant(http, path, key, **params):
    return http.get(
        path, params=params, headers={"x-api-key": key, "anthropic-version": "2023-06-01"}
    )


def oai(http, path, key, **params):
    response = http.get(path, params=params, headers={"authorization": f"Bearer {key}"})
    if response.status_code == 200:
        validate_openai_response(path, response.json())
    elif "application/json" in response.headers["content-type"]:
        body = response.json()
        if not isinstance(body.get("error"), str):
            validate_openai_error(body)
    return response


def window(days: int = 90, end: dt.date = TODAY):
    return end - dt.timedelta(days=days), end


def ant_window(days=90, **params):
    start, end = window(days)
    return {"starting_at": iso(start), "ending_at": iso(end), "limit": 31, **params}


def oai_window(days=90, limit=31, **params):
    start, end = window(days)
    return {"start_time": unix(start), "end_time": unix(end), "limit": limit, **params}


# --- catalogue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
def test_every_key_round_trips(vendor, behaviour):
    key = make_key(vendor, behaviour, "n0nce")
    assert parse_key(key) == (vendor, behaviour, "n0nce", {})


def test_key_prefixes_follow_the_vendor_key_kinds():
    assert make_key("anthropic", "flat", "x") == "sk-ant-admin01-sandbox-flat-x"
    assert make_key("openai", "flat", "x") == "sk-admin-sandbox-flat-x"
    assert make_key("anthropic", "standard", "x") == "sk-ant-api03-sandbox-standard-x"
    assert make_key("openai", "standard", "x") == "sk-proj-sandbox-standard-x"


def test_params_travel_in_the_key():
    key = "sk-ant-admin01-sandbox-heavy.g60.c100.l150-abc"
    assert parse_key(key) == ("anthropic", "heavy", "abc", {"g": 60, "c": 100, "l": 150})
    assert make_key("anthropic", "heavy", "abc", {"g": 60, "c": 100, "l": 150}) == key
    assert effective_params("slow") == {"l": 1500}
    assert effective_params("slow", {"l": 10}) == {"l": 10}


@pytest.mark.parametrize(
    "key",
    [
        "sk-ant-admin01-sandbox-nope-x",  # unknown behaviour
        "sk-ant-admin01-sandbox-flat",  # no nonce
        "sk-ant-admin01-sandbox-heavy.z1-x",  # unknown param
        "sk-ant-admin01-sandbox-heavy.g1.g2-x",  # repeated param
        "sk-ant-admin01-sandbox-standard-x",  # standard behaviour needs a standard prefix
        "sk-proj-sandbox-flat-x",  # a standard prefix is only for `standard`
        "sk-ant-api03-real-looking-key",
    ],
)
def test_malformed_keys_are_not_sandbox_keys(key):
    assert parse_key(key) is None


def test_the_readme_table_lists_every_behaviour():
    table = behaviours_markdown()
    assert all(f"| `{name}` |" in table for name in BEHAVIOURS)


# --- auth and documented errors ----------------------------------------------------------------


def test_anthropic_me_identifies_the_organization(http):
    response = ant(http, "/v1/organizations/me", make_key("anthropic", "flat"))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"id", "name", "type"} and body["type"] == "organization"
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert response.headers["anthropic-organization-id"] == body["id"]
    assert response.headers["request-id"].startswith("req_")


def assert_anthropic_error(response, status, error_type):
    body = response.json()
    assert response.status_code == status
    assert set(body) == {"type", "error", "request_id"} and body["type"] == "error"
    assert set(body["error"]) == {"type", "message"} and body["error"]["type"] == error_type
    assert body["request_id"].startswith("req_")


def test_anthropic_auth_errors(http):
    me = "/v1/organizations/me"
    assert_anthropic_error(
        http.get(me, headers={"anthropic-version": "2023-06-01"}), 401, "authentication_error"
    )
    response = ant(http, me, "sk-ant-admin01-somebody-elses")
    assert_anthropic_error(response, 401, "authentication_error")
    assert response.json()["error"]["message"] == "invalid x-api-key"
    no_version = http.get(me, headers={"x-api-key": make_key("anthropic", "flat")})
    assert_anthropic_error(no_version, 400, "invalid_request_error")
    assert_anthropic_error(ant(http, me, make_key("openai", "flat")), 401, "authentication_error")


def test_openai_auth_errors_never_echo_the_key(http):
    missing = http.get(O_COSTS, params={"start_time": unix(TODAY)})
    assert missing.status_code == 401
    validate_openai_error(missing.json())
    key = "sk-admin-not-a-sandbox-key-1234"
    response = oai(http, O_COSTS, key, start_time=unix(TODAY))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert key not in response.text


@pytest.mark.parametrize(
    ("vendor", "path", "maximum", "width"),
    [
        ("anthropic", A_USAGE, 31, "1d"),
        ("anthropic", A_USAGE, 168, "1h"),
        ("anthropic", A_USAGE, 1440, "1m"),
        ("anthropic", A_COSTS, 31, "1d"),
        ("openai", O_USAGE, 31, "1d"),
        ("openai", O_USAGE, 168, "1h"),
        ("openai", O_USAGE, 1440, "1m"),
        ("openai", O_COSTS, 180, "1d"),
    ],
)
def test_limit_above_the_documented_maximum_is_a_400(http, vendor, path, maximum, width):
    key = make_key(vendor, "flat")
    get, start = (
        (ant, {"starting_at": iso(TODAY)})
        if vendor == "anthropic"
        else (oai, {"start_time": unix(TODAY)})
    )
    assert get(http, path, key, bucket_width=width, limit=maximum, **start).status_code == 200
    for bad in (maximum + 1, 0):
        response = get(http, path, key, bucket_width=width, limit=bad, **start)
        if vendor == "anthropic":
            assert_anthropic_error(response, 400, "invalid_request_error")
        else:
            assert response.status_code == 400
            assert response.json()["error"]["type"] == "invalid_request_error"
            assert response.json()["error"]["param"] == "limit"


@pytest.mark.parametrize(
    "params",
    [
        {"bucket_width": "1h"},  # cost report is daily only
        {"group_by[]": "model"},  # cost report groups by workspace_id/description only
        {"starting_at": None},  # required
        {"starting_at": "2026-08-01"},  # not RFC 3339
        {"page": "page_bm9wZQ=="},  # not a cursor we issued
    ],
)
def test_anthropic_cost_report_rejects_bad_parameters(http, params):
    query = {"starting_at": iso(TODAY), **params}
    query = {name: value for name, value in query.items() if value is not None}
    response = ant(http, A_COSTS, make_key("anthropic", "flat"), **query)
    assert_anthropic_error(response, 400, "invalid_request_error")


def test_anthropic_arrays_need_brackets_and_speed_needs_the_beta(http):
    key = make_key("anthropic", "flat")
    assert ant(http, A_USAGE, key, starting_at=iso(TODAY), group_by="model").status_code == 400
    assert ant(http, A_USAGE, key, starting_at=iso(TODAY), **{"group_by[]": "x"}).status_code == 400
    assert (
        ant(http, A_USAGE, key, starting_at=iso(TODAY), **{"group_by[]": "speed"}).status_code
        == 400
    )
    headers = {
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "fast-mode-2026-02-01",
    }
    fast = http.get(
        A_USAGE, params={"starting_at": iso(TODAY), "group_by[]": "speed"}, headers=headers
    )
    assert fast.status_code == 200
    assert fast.json()["data"][0]["results"][0]["speed"] == "standard"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (O_COSTS, {"bucket_width": "1h"}),
        (O_COSTS, {"group_by": "model"}),
        (O_USAGE, {"group_by": "line_item"}),
        (O_USAGE, {"start_time": None}),
        (O_USAGE, {"start_time": "2026-08-01"}),
        (O_USAGE, {"page": "garbage"}),
    ],
)
def test_openai_rejects_bad_parameters(http, path, params):
    query = {"start_time": unix(TODAY), **params}
    query = {name: value for name, value in query.items() if value is not None}
    assert oai(http, path, make_key("openai", "flat"), **query).status_code == 400


def test_unknown_paths_are_404_in_the_vendor_format(http):
    assert_anthropic_error(ant(http, "/v1/organizations/nope", "k"), 404, "not_found_error")
    response = oai(http, "/v1/organization/nope", "k")
    assert response.status_code == 404


# --- pagination and shapes ---------------------------------------------------------------------


def walk(get, http, path, key, params):
    pages = [get(http, path, key, **params).json()]
    while pages[-1]["has_more"]:
        pages.append(get(http, path, key, **params, page=pages[-1]["next_page"]).json())
        assert len(pages) < 20
    assert pages[-1]["next_page"] is None
    return pages


@pytest.mark.parametrize("path", [A_USAGE, A_COSTS])
def test_anthropic_90_days_take_three_pages(http, path):
    pages = walk(ant, http, path, make_key("anthropic", "flat"), ant_window())
    assert [len(page["data"]) for page in pages] == [31, 31, 28]
    buckets = [bucket for page in pages for bucket in page["data"]]
    start, end = window()
    assert buckets[0]["starting_at"] == iso(start) and buckets[-1]["ending_at"] == iso(end)
    assert all(
        a["ending_at"] == b["starting_at"] for a, b in zip(buckets, buckets[1:], strict=False)
    )


def test_openai_90_days_take_three_usage_pages_or_one_costs_page(http):
    key = make_key("openai", "flat")
    pages = walk(oai, http, O_USAGE, key, oai_window())
    assert [len(page["data"]) for page in pages] == [31, 31, 28]
    (costs,) = walk(oai, http, O_COSTS, key, oai_window(limit=180))
    assert len(costs["data"]) == 90 and costs["has_more"] is False
    assert costs["data"][-1]["end_time"] == unix(TODAY)


USAGE_KEYS = {
    "uncached_input_tokens",
    "cache_creation",
    "cache_read_input_tokens",
    "output_tokens",
    "server_tool_use",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "workspace_id",
    "api_key_id",
    "account_id",
    "service_account_id",
}
COST_KEYS = {
    "amount",
    "currency",
    "workspace_id",
    "description",
    "cost_type",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "inference_geo",
}


def test_anthropic_shapes_field_by_field(http):
    key = make_key("anthropic", "flat")
    usage = ant(http, A_USAGE, key, **ant_window(7, limit=7)).json()
    assert set(usage) == {"data", "has_more", "next_page"}
    for bucket in usage["data"]:
        assert set(bucket) == {"starting_at", "ending_at", "results"}
        (row,) = bucket["results"]  # no group_by: one org-wide row
        assert set(row) == USAGE_KEYS
        assert set(row["cache_creation"]) == {
            "ephemeral_5m_input_tokens",
            "ephemeral_1h_input_tokens",
        }
        assert set(row["server_tool_use"]) == {"web_search_requests"}
        assert all(row[name] is None for name in USAGE_KEYS if name.endswith(("_id", "tier")))
    by_line = {"group_by[]": ["workspace_id", "description"]}
    costs = ant(http, A_COSTS, key, **ant_window(1, **by_line)).json()
    rows = costs["data"][0]["results"]
    assert all(set(row) == COST_KEYS and row["currency"] == "USD" for row in rows)
    assert all(isinstance(row["amount"], str) and Decimal(row["amount"]) > 0 for row in rows)
    assert {row["workspace_id"] for row in rows} == {"wrkspc_01SandboxProduction00", None}
    web = [row for row in rows if row["cost_type"] == "web_search"]
    assert web and web[0]["model"] is None and web[0]["token_type"] is None


def test_flat_figures_match_the_pure_generator(http):
    day = TODAY - dt.timedelta(days=3)
    body = ant(
        http,
        A_USAGE,
        make_key("anthropic", "flat"),
        starting_at=iso(day),
        ending_at=iso(day + dt.timedelta(days=1)),
        **{"group_by[]": "model"},
    ).json()
    by_model = {row["model"]: row for row in body["data"][0]["results"]}
    expected = {row["model"]: row for row in daily_usage("anthropic", "flat", day)}
    assert set(by_model) == {"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"}
    for model, row in by_model.items():
        assert row["cache_creation"] == expected[model]["cache_creation"]
        assert row["cache_read_input_tokens"] == expected[model]["cache_read_input_tokens"]
    costs = ant(http, A_COSTS, make_key("anthropic", "flat"), **ant_window(5)).json()["data"]
    assert {bucket["results"][0]["amount"] for bucket in costs} == {"2885"}  # $28.85 a day
    total = sum(row["amount"] for row in daily_costs("anthropic", "flat", day))
    assert total == Decimal("2885")


def test_openai_input_tokens_include_cached_tokens(http):
    body = oai(
        http, O_USAGE, make_key("openai", "flat"), **oai_window(3), group_by=["model", "project_id"]
    ).json()
    for bucket in body["data"]:
        assert len(bucket["results"]) == 2
        for row in bucket["results"]:
            assert row["input_tokens"] == row["input_uncached_tokens"] + row["input_cached_tokens"]
            assert row["input_cached_tokens"] > 0 and row["user_id"] is None
    costs = oai(http, O_COSTS, make_key("openai", "flat"), **oai_window(3)).json()["data"]
    # Completions $9.025, embeddings $0.06 and images $0.70 a day.
    assert {bucket["results"][0]["amount"]["value"] for bucket in costs} == {9.785}


def test_openai_group_by_line_item_fills_quantity_and_accepts_all_array_encodings(http):
    key = make_key("openai", "flat")
    for group_by in (["line_item", "project_id"], "line_item,project_id"):
        rows = oai(http, O_COSTS, key, **oai_window(1), group_by=group_by).json()
        rows = rows["data"][0]["results"]
        units = {row["line_item"]: row["quantity_unit"] for row in rows}
        assert len(rows) == 8 and units.pop("gpt-image-1, image generation") == "images"
        assert set(units.values()) == {"tokens"}
    assert "gpt-5-2025-08-07, cached input" in {row["line_item"] for row in rows}
    assert "text-embedding-3-small, input" in {row["line_item"] for row in rows}


def test_hourly_buckets_add_up_to_the_day_and_partial_buckets_are_short(http):
    key, day = make_key("openai", "trend"), TODAY - dt.timedelta(days=2)
    hourly = oai(
        http,
        O_USAGE,
        key,
        start_time=unix(day),
        end_time=unix(day) + 86_400,
        bucket_width="1h",
        limit=24,
    ).json()["data"]
    assert len(hourly) == 24
    total = sum(bucket["results"][0]["input_tokens"] for bucket in hourly)
    assert total == sum(row["input_tokens"] for row in daily_usage("openai", "trend", day))
    late = oai(http, O_USAGE, key, start_time=unix(day) + 3_600, end_time=unix(day) + 86_400 * 2)
    first, second = late.json()["data"]
    assert (first["start_time"], first["end_time"]) == (unix(day) + 3_600, unix(day) + 86_400)
    assert first["results"][0]["input_tokens"] < second["results"][0]["input_tokens"]


def test_filters_select_rows(http):
    key = make_key("anthropic", "flat")
    body = ant(
        http,
        A_USAGE,
        key,
        **ant_window(1),
        **{"models[]": "claude-haiku-4-5-20251001", "group_by[]": "model"},
    ).json()
    assert [row["model"] for row in body["data"][0]["results"]] == ["claude-haiku-4-5-20251001"]
    body = oai(http, O_USAGE, make_key("openai", "flat"), **oai_window(1), models="nope").json()
    assert body["data"][0]["results"] == []


# --- data behaviours ---------------------------------------------------------------------------


def daily_input(http, behaviour, days=30):
    body = ant(http, A_USAGE, make_key("anthropic", behaviour), **ant_window(days)).json()
    return [sum(row["uncached_input_tokens"] for row in b["results"]) for b in body["data"]]


def test_trend_grows_steadily(http):
    values = daily_input(http, "trend")
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    assert all(step > 0 for step in steps) and max(steps) - min(steps) <= 1


def test_newco_starts_20_days_ago_with_empty_buckets_before(http):
    body = ant(http, A_USAGE, make_key("anthropic", "newco"), **ant_window(31)).json()
    assert len(body["data"]) == 31
    used = [bool(bucket["results"]) for bucket in body["data"]]
    assert used == [False] * 11 + [True] * 20  # ages 31…21 empty; first usage at age 20


def test_weekly_is_quiet_on_weekends_and_spike_has_one_20x_day(http):
    start, _ = window(28)
    values = daily_input(http, "weekly", 28)
    days = [start + dt.timedelta(days=i) for i in range(28)]
    weekday = {v for v, d in zip(values, days, strict=True) if d.weekday() < 5}
    weekend = {v for v, d in zip(values, days, strict=True) if d.weekday() >= 5}
    assert len(weekday) == len(weekend) == 1 and weekend.pop() * 10 == weekday.pop()
    spike = daily_input(http, "spike", 28)
    assert sorted(set(spike)) == [7_000_000, 140_000_000] and spike.count(140_000_000) == 1


def test_usage_is_deterministic_and_independent_of_the_nonce(http):
    a = oai(http, O_USAGE, make_key("openai", "heavy", "one"), **oai_window(5)).json()
    b = oai(http, O_USAGE, make_key("openai", "heavy", "two"), **oai_window(5)).json()
    assert a == b
    day = TODAY - dt.timedelta(days=1)
    assert daily_usage("openai", "heavy", day) == daily_usage("openai", "heavy", day)
    expected = aggregation.aggregate("openai", "usage", daily_usage("openai", "heavy", day), [])
    assert a["data"][-1]["results"][0]["input_tokens"] == expected[0]["input_tokens"]


def test_heavy_params_set_rows_per_day(http):
    key = make_key("anthropic", "heavy", params={"g": 12, "c": 7})
    finest = ["api_key_id", "workspace_id", "model", "service_tier"]
    usage = ant(http, A_USAGE, key, **ant_window(2, **{"group_by[]": finest})).json()
    assert [len(bucket["results"]) for bucket in usage["data"]] == [12, 12]
    by_line = {"group_by[]": ["workspace_id", "description"]}
    costs = ant(http, A_COSTS, key, **ant_window(2, **by_line)).json()
    assert [len(bucket["results"]) for bucket in costs["data"]] == [7, 7]
    body = oai(
        http,
        O_COSTS,
        make_key("openai", "heavy"),
        **oai_window(1),
        group_by=["line_item", "project_id", "api_key_id"],
    ).json()
    assert len(body["data"][0]["results"]) == 100


# --- failure behaviours ------------------------------------------------------------------------


def test_standard_keys_pass_me_but_get_403_on_reports(http):
    key = make_key("anthropic", "standard")
    assert ant(http, "/v1/organizations/me", key).status_code == 200
    for path in (A_USAGE, A_COSTS):
        assert_anthropic_error(
            ant(http, path, key, starting_at=iso(TODAY)), 403, "permission_error"
        )
    response = oai(http, O_USAGE, make_key("openai", "standard"), start_time=unix(TODAY))
    assert response.status_code == 403
    assert response.json() == {
        "error": "You have insufficient permissions for this operation. "
        "Missing scopes: api.usage.read."
    }
    as_object = oai(http, O_COSTS, make_key("openai", "standard.o1.s401"), start_time=unix(TODAY))
    assert as_object.status_code == 401
    assert "Missing scopes: api.usage.read" in as_object.json()["error"]["message"]


def test_revoked_keys_get_401_everywhere(http):
    key = make_key("anthropic", "revoked")
    for path in ("/v1/organizations/me", A_USAGE, A_COSTS):
        assert_anthropic_error(
            ant(http, path, key, starting_at=iso(TODAY)), 401, "authentication_error"
        )
    response = oai(http, O_COSTS, make_key("openai", "revoked"), start_time=unix(TODAY))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_ratelimited_keys_get_two_429s_with_retry_after_then_data(http, vendor):
    get, path, query = (
        (ant, A_USAGE, {"starting_at": iso(TODAY)})
        if vendor == "anthropic"
        else (oai, O_USAGE, {"start_time": unix(TODAY)})
    )
    key = make_key(vendor, "ratelimited")
    statuses = [get(http, path, key, **query) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "1"
    if vendor == "anthropic":
        assert_anthropic_error(statuses[0], 429, "rate_limit_error")
    assert get(http, path, make_key(vendor, "ratelimited"), **query).status_code == 429  # new nonce


@pytest.mark.parametrize(
    ("vendor", "failures"), [("anthropic", [529, 500, 529]), ("openai", [500, 503, 502])]
)
def test_flaky_keys_fail_every_other_call_at_first(http, vendor, failures):
    get, path, query = (
        (ant, A_COSTS, {"starting_at": iso(TODAY)})
        if vendor == "anthropic"
        else (oai, O_COSTS, {"start_time": unix(TODAY)})
    )
    key = make_key(vendor, "flaky")
    statuses = [get(http, path, key, **query).status_code for _ in range(8)]
    assert statuses == [failures[0], 200, failures[1], 200, failures[2], 200, 200, 200]


def test_late401_fails_on_the_second_page(http):
    key = make_key("anthropic", "late401")
    first = ant(http, A_USAGE, key, **ant_window())
    assert first.status_code == 200 and first.json()["has_more"]
    second = ant(http, A_USAGE, key, **ant_window(), page=first.json()["next_page"])
    assert_anthropic_error(second, 401, "authentication_error")
    key = make_key("openai", "late401.n1")  # for clients that split windows instead of paging
    assert oai(http, O_COSTS, key, start_time=unix(TODAY)).status_code == 200
    assert oai(http, O_COSTS, key, start_time=unix(TODAY)).status_code == 401


def test_malformed_answers_200_with_broken_json(http):
    key = make_key("openai", "malformed")
    response = http.get(
        O_USAGE, params={"start_time": unix(TODAY)}, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert ant(http, "/v1/organizations/me", make_key("anthropic", "malformed")).json()["id"]


def test_slow_and_latency_params_delay_each_request(http):
    started = time.monotonic()
    assert oai(http, O_COSTS, make_key("openai", "slow.l300"), start_time=unix(TODAY)).is_success
    assert ant(http, "/v1/organizations/me", make_key("anthropic", "flat.l200")).is_success
    assert time.monotonic() - started >= 0.5


def test_hang_outlasts_a_client_timeout_and_does_not_block_shutdown():
    server, base_url = start_in_thread()
    key = make_key("openai", "hang")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{base_url}{O_USAGE}",
            params={"start_time": unix(TODAY)},
            headers={"authorization": f"Bearer {key}"},
            timeout=0.3,
        )

    def held_request():
        headers = {"x-api-key": make_key("anthropic", "hang"), "anthropic-version": "2023-06-01"}
        with contextlib.suppress(httpx.HTTPError):  # stop() drops the held request unanswered
            httpx.get(f"{base_url}/v1/organizations/me", headers=headers, timeout=30)

    held = threading.Thread(target=held_request)
    held.start()
    time.sleep(0.2)
    started = time.monotonic()
    stop(server)
    held.join(timeout=5)
    assert time.monotonic() - started < 5 and not held.is_alive()
