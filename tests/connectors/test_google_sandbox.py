"""The sandbox's Google flavour answers in the documented shapes, one behaviour at a time,
through the real client."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.errors import ConnectorError
from connectors.google import auth, client
from connectors.google.credentials import credential_from_upload
from connectors.google.schema import ListTimeSeries
from connectors.http import build_client, decode
from connectors.sandbox.google_auth import KeyStore, token
from tests.connectors import google_fixtures as g


@pytest.fixture(autouse=True)
def fresh_tokens():
    auth.cache_clear()
    yield
    auth.cache_clear()


def key_file(sandbox, behaviour):
    return httpx.get(f"{sandbox}/google/service-account.json?behaviour={behaviour}").text


def window():
    end = datetime.now(UTC).date()
    return end - timedelta(days=90), end


@pytest.fixture
def http(sandbox):
    with build_client(sandbox) as c:
        yield c


def test_a_sandbox_key_file_looks_like_googles_and_its_key_is_made_at_run_time(sandbox):
    first, second = key_file(sandbox, "flat"), key_file(sandbox, "flat")
    assert first != second  # a fresh key every time: none is stored in the repository
    credential = credential_from_upload(first)
    assert credential.client_email.endswith("@token-offset-sandbox.iam.gserviceaccount.com")
    assert credential.project_ids == ("sandbox-demo",)


def test_the_sandbox_token_endpoint_checks_the_signature_and_the_times():
    store = KeyStore()
    other = credential_from_upload(g.key_file())  # a key the sandbox never issued
    signed = auth.assertion(other, "http://sandbox/token", 1_800_000_000)
    form = {"grant_type": [auth.GRANT_TYPE], "assertion": [signed]}
    assert token(store, form, now=1_800_000_000) == (
        400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    )  # fmt: skip


def test_flat_gives_daily_utc_points_newest_first_as_strings(sandbox, http):
    credential = credential_from_upload(key_file(sandbox, "flat"), "sandbox-alpha")
    start, end = window()
    bearer = auth.access_token(http, credential)
    response = http.get(
        client.series_path("sandbox-alpha"),
        params=client.series_params(client.VERTEX, start, end),
        headers={"Authorization": f"Bearer {bearer}"},
    )
    page = decode(response.content, ListTimeSeries, path="timeSeries")
    labels = {
        (s.resource.labels["model_user_id"], s.metric.labels["type"]) for s in page.time_series
    }
    assert labels == {("gemini-2.5-flash", "input"), ("gemini-2.5-flash", "output"),
                      ("gemini-2.5-pro", "input"), ("gemini-2.5-pro", "output")}  # fmt: skip
    raw = response.json()["timeSeries"][0]
    assert raw["metricKind"] == "DELTA" and raw["valueType"] == "INT64"
    assert isinstance(raw["points"][0]["value"]["int64Value"], str)
    ends = [p["interval"]["endTime"] for p in raw["points"]]
    assert ends == sorted(ends, reverse=True) and ends[0] == f"{end.isoformat()}T00:00:00Z"
    assert len(ends) == 90


def test_trend_grows_towards_today(sandbox, http):
    key = credential_from_upload(key_file(sandbox, "trend"), "sandbox-alpha").dumps()
    records = client.fetch_usage(http, key, *window())
    first, last = min(r.day for r in records), max(r.day for r in records)
    by_day = {d: sum(r.output for r in records if r.day == d) for d in (first, last)}
    assert by_day[last] > by_day[first] > 0


@pytest.mark.parametrize(
    ("behaviour", "cause"),
    [("nopermission", "no_permission"), ("disabled", "api_disabled"),
     ("unknownproject", "unknown_project")],
)  # fmt: skip
def test_refusing_behaviours_are_told_apart(sandbox, http, behaviour, cause):
    key = credential_from_upload(key_file(sandbox, behaviour)).dumps()
    with pytest.raises(client.GoogleError) as caught:
        client.validate(http, key)
    assert caught.value.cause == cause


def test_revoked_is_an_invalid_grant(sandbox, http):
    key = credential_from_upload(key_file(sandbox, "revoked")).dumps()
    with pytest.raises(ConnectorError) as caught:
        client.validate(http, key)
    assert caught.value.kind == "unauthorized" and "Invalid JWT Signature" in caught.value.message


def test_ratelimited_is_retried_within_the_budget(sandbox, http):
    key = credential_from_upload(key_file(sandbox, "ratelimited.n1.r0"), "sandbox-alpha").dumps()
    assert client.fetch_usage(http, key, *window(), sleep=lambda s: None)


def test_paging_gives_the_same_records_as_flat_over_many_pages(sandbox, http):
    pages = []
    flat = credential_from_upload(key_file(sandbox, "flat"), "sandbox-alpha").dumps()
    paging = credential_from_upload(key_file(sandbox, "paging"), "sandbox-alpha").dumps()
    expected = client.fetch_usage(http, flat, *window())
    got = client.fetch_usage(http, paging, *window(), on_page=lambda n, more: pages.append(n))
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert len(pages) == 4 + 1 + 1 + 1  # Vertex: a page per series; Gemini: 1 + 1; the end
