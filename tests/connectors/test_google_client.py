"""Google: the JWT-bearer exchange and Cloud Monitoring's documented traps, against respx."""

from datetime import date, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from connectors.errors import ConnectorError
from connectors.google import auth, client
from connectors.google.credentials import (
    CredentialProblem,
    credential_from_upload,
    credential_load,
)
from connectors.http import build_client
from tests.connectors import google_fixtures as g

START, END = date(2026, 5, 24), date(2026, 8, 22)
PATH = "/v3/projects/acme-ml-prod/timeSeries"


@pytest.fixture(autouse=True)
def fresh_tokens():
    auth.cache_clear()
    yield
    auth.cache_clear()


@pytest.fixture
def credential():
    return credential_from_upload(g.key_file())


@pytest.fixture
def http():
    with build_client(g.MONITORING) as c:
        yield c


@pytest.fixture
def google():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(g.TOKEN_URL).respond(200, json=g.token_ok())
        yield mock


def metric_of(request) -> str:
    query = parse_qs(request.url.query.decode())["filter"][0]
    return query.split('"')[1]


def answer(by_metric: dict):
    """A timeSeries side effect: each metric's body, or 404 "Cannot find metric(s)"."""

    def respond(request):
        metric = metric_of(request)
        if metric in by_metric:
            return httpx.Response(200, json=by_metric[metric])
        return httpx.Response(404, json=g.no_metric(metric))

    return respond


def test_it_signs_a_jwt_bearer_assertion_with_the_documented_claims(google, http, credential):
    auth.access_token(http, credential, clock=lambda: 1_800_000_000.0)
    form = parse_qs(google.calls.last.request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    header, claims, signed, signature = g.jwt_parts(form["assertion"][0])
    assert header == {"alg": "RS256", "typ": "JWT", "kid": g.KEY_ID}
    assert claims == {
        "iss": g.EMAIL,
        "scope": "https://www.googleapis.com/auth/monitoring.read",
        "aud": g.TOKEN_URL,
        "iat": 1_800_000_000,
        "exp": 1_800_000_000 + 3600,
    }
    public = g.private_key().public_key()
    public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())  # RS256
    with pytest.raises(InvalidSignature):
        public.verify(signature, signed + b"x", padding.PKCS1v15(), hashes.SHA256())
    assert google.calls.last.request.headers["content-type"].startswith(
        "application/x-www-form-urlencoded"
    )


def test_it_never_calls_the_token_uri_named_in_the_key_file(google, http, settings):
    settings.GOOGLE_OAUTH_TOKEN_URL = "https://oauth2.example.test/token"
    configured = google.post("https://oauth2.example.test/token").respond(json=g.token_ok())
    theirs = google.post("https://attacker.example/token").respond(json=g.token_ok())
    credential = credential_from_upload(g.key_file(token_uri="https://attacker.example/token"))
    assert "attacker" not in credential.dumps() and "token_uri" not in credential.dumps()
    auth.access_token(http, credential)
    assert configured.call_count == 1 and theirs.call_count == 0


def test_a_token_is_reused_until_it_nears_expiry(google, http, credential):
    now = [1_800_000_000.0]
    for _ in range(3):
        assert auth.access_token(http, credential, clock=lambda: now[0]) == g.ACCESS_TOKEN
    assert google.calls.call_count == 1
    now[0] += 3599 - auth.REFRESH_MARGIN - 1  # still comfortably valid
    auth.access_token(http, credential, clock=lambda: now[0])
    assert google.calls.call_count == 1
    now[0] += 2  # within 3 min 45 s of expiry: renewed
    auth.access_token(http, credential, clock=lambda: now[0])
    assert google.calls.call_count == 2


def test_a_string_expires_in_is_accepted(google, http, credential):
    google.post(g.TOKEN_URL).respond(200, json=g.token_ok(expires_in="3599"))
    assert auth.access_token(http, credential) == g.ACCESS_TOKEN


@pytest.mark.parametrize(
    "description",
    ["Invalid JWT Signature.", "Invalid grant: account not found"],
)
def test_invalid_grant_is_a_permanent_refusal_of_the_key(google, http, credential, description):
    body = {"error": "invalid_grant", "error_description": description}
    google.post(g.TOKEN_URL).respond(400, json=body)
    with pytest.raises(ConnectorError) as caught:
        auth.access_token(http, credential)
    assert caught.value.kind == "unauthorized" and caught.value.permanent
    assert description in caught.value.message


def test_it_asks_for_daily_sums_on_utc_midnights_grouped_by_model_and_type(
    google, http, credential
):
    route = google.get(g.MONITORING + PATH).mock(side_effect=answer({}))
    client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {g.ACCESS_TOKEN}"
    query = parse_qs(request.url.query.decode())
    assert query == {
        "filter": [
            f'metric.type="{g.VERTEX}" AND resource.type="aiplatform.googleapis.com/PublisherModel"'
        ],
        "interval.startTime": ["2026-05-24T00:00:00Z"],
        "interval.endTime": ["2026-08-22T00:00:00Z"],
        "aggregation.alignmentPeriod": ["86400s"],
        "aggregation.perSeriesAligner": ["ALIGN_SUM"],
        "aggregation.crossSeriesReducer": ["REDUCE_SUM"],
        "aggregation.groupByFields": ["resource.label.model_user_id", "metric.label.type"],
        "view": ["FULL"],
    }


def test_vertex_counts_are_read_by_model_user_id_and_type_from_string_values(
    google, http, credential
):
    day1, day2 = END - timedelta(days=2), END - timedelta(days=1)
    big = 987_654_321_012  # int64Value arrives as a JSON string
    body = {
        "timeSeries": [
            g.series("gemini-2.5-flash", "input", [(day1, 2210087), (day2, 1834512)]),
            g.series("publishers/google/models/gemini-2.5-flash", "output", [(day2, 201344)]),
            g.series("claude-sonnet-4-5", "cache_read_input", [(day2, big)]),
        ]
    }
    google.get(g.MONITORING + PATH).respond(200, json=body)
    records = client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    got = {(r.day, r.model, r.uncached_input, r.cache_read, r.output) for r in records}
    assert got == {
        (day1, "gemini-2.5-flash", 2210087, 0, 0),
        (day2, "gemini-2.5-flash", 1834512, 0, 0),
        (day2, "gemini-2.5-flash", 0, 0, 201344),
        (day2, "claude-sonnet-4-5", 0, big, 0),
    }
    assert {r.service_tier for r in records} == {"vertex-ai"}


def test_an_empty_series_list_and_a_day_without_points_give_no_records(google, http, credential):
    google.get(g.MONITORING + PATH).respond(200, json={"unit": "1"})
    assert client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END) == []


def test_a_metric_never_written_is_zero_usage_not_an_error(google, http, credential):
    google.get(g.MONITORING + PATH).respond(404, json=g.no_metric(g.VERTEX))
    assert client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END) == []


def test_a_point_that_is_not_one_whole_day_is_malformed(google, http, credential):
    body = {"timeSeries": [g.series("gemini-2.5-flash", "input", [(END - timedelta(2), 5)])]}
    body["timeSeries"][0]["points"][0]["interval"]["startTime"] = "2026-08-20T12:00:00Z"
    google.get(g.MONITORING + PATH).respond(200, json=body)
    with pytest.raises(ConnectorError, match="not one day") as caught:
        client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    assert caught.value.kind == "malformed"


def test_every_page_is_followed_with_the_same_query(google, http, credential):
    day = END - timedelta(days=1)
    pages = [
        {"timeSeries": [g.series("gemini-2.5-pro", "input", [(day, 10)])], "nextPageToken": "p2"},
        {"timeSeries": [g.series("gemini-2.5-pro", "output", [(day, 3)])], "nextPageToken": ""},
    ]
    route = google.get(g.MONITORING + PATH).mock(
        side_effect=[httpx.Response(200, json=p) for p in pages]
    )
    records = client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    assert sum(r.uncached_input + r.output for r in records) == 13
    first, second = (parse_qs(c.request.url.query.decode()) for c in route.calls)
    assert "pageToken" not in first and second.pop("pageToken") == ["p2"]
    assert first == second


def test_an_expired_token_is_renewed_once_on_401(google, http, credential):
    unauthenticated = g.google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
    google.get(g.MONITORING + PATH).mock(
        side_effect=[httpx.Response(401, json=unauthenticated), httpx.Response(200, json={})]
    )
    client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    assert len([c for c in google.calls if c.request.method == "POST"]) == 2


@pytest.mark.parametrize(
    ("status", "body", "cause"),
    [
        (403, g.google_error(403, "PERMISSION_DENIED", "Permission monitoring.timeSeries.list "
         "denied (or the resource may not exist)."), "no_permission"),
        (403, g.google_error(403, "PERMISSION_DENIED", "Cloud Monitoring API has not been used "
         "in project 123 before or it is disabled.", reason="SERVICE_DISABLED"), "api_disabled"),
        (404, g.google_error(404, "NOT_FOUND", "Project acme-ml-prod not found."),
         "unknown_project"),
    ],
)  # fmt: skip
def test_refusals_are_told_apart_by_the_body(google, http, credential, status, body, cause):
    google.get(g.MONITORING + PATH).respond(status, json=body)
    with pytest.raises(client.GoogleError) as caught:
        client.fetch_series(http, credential, "acme-ml-prod", client.VERTEX, START, END)
    assert caught.value.cause == cause and caught.value.project == "acme-ml-prod"
    assert caught.value.permanent


def test_a_sample_reads_every_metric_of_every_project_concurrently(google, http):
    key = credential_from_upload(g.key_file(), "acme-ml-prod acme-ml-dev").dumps()
    day = END - timedelta(days=1)
    by_metric = {
        g.VERTEX: {"timeSeries": [g.series("gemini-2.5-flash", "input", [(day, 100)])]},
        g.GEMINI_OUT: {"timeSeries": [g.series("gemini-2.0-flash", "", [(day, 7)],
                                               metric=g.GEMINI_OUT)]},
        g.GEMINI_PAID_IN: {"timeSeries": [g.series("gemini-2.0-flash", "", [(day, 70)],
                                                   metric=g.GEMINI_PAID_IN)]},
    }  # fmt: skip
    routes = [
        google.get(f"{g.MONITORING}/v3/projects/{p}/timeSeries").mock(side_effect=answer(by_metric))
        for p in ("acme-ml-prod", "acme-ml-dev")
    ]
    pages = []
    records = client.fetch_usage(http, key, START, END, on_page=lambda n, more: pages.append(more))
    assert [r.call_count for r in routes] == [len(client.METRICS)] * 2
    assert len([c for c in google.calls if c.request.method == "POST"]) == 1  # one token
    totals = {}
    for r in records:
        totals[r.service_tier, r.model] = totals.get((r.service_tier, r.model), 0) + (
            r.uncached_input + r.output
        )
    assert totals == {
        ("vertex-ai", "gemini-2.5-flash"): 200,
        ("gemini-api", "gemini-2.0-flash"): 154,
    }
    assert pages[-1] is False and pages.count(False) == 1


@pytest.mark.parametrize(
    "project",
    ["My_Project", "ab", "acme-", "1abc-def", "../../v1/x", "acme ml", "a" * 31, "proj%2F..", ""],
)
def test_project_ids_outside_googles_format_are_refused(project):
    with pytest.raises(CredentialProblem):
        credential_from_upload(g.key_file(project_id=project))


@pytest.mark.parametrize("project", ["acme-ml-prod", "example.com:ml-prod", "123456789012"])
def test_project_ids_and_numbers_in_googles_format_are_accepted(project):
    assert credential_from_upload(g.key_file(), project).project_ids == (project,)


def test_only_the_signing_fields_and_projects_are_kept():
    stored = credential_from_upload(g.key_file(), "acme-ml-prod, acme-ml-dev\nacme-ml-prod")
    assert set(__import__("json").loads(stored.dumps())) == {
        "client_email", "private_key_id", "private_key", "project_ids",
    }  # fmt: skip
    assert credential_load(stored.dumps()).project_ids == ("acme-ml-prod", "acme-ml-dev")
    assert stored.hint == g.KEY_ID[-4:]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ("not json", "not JSON"),
        ('{"type": "authorized_user"}', "not a service-account key"),
        (g.key_file(private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"),
         "not a readable PEM key"),
        (g.key_file(client_email=None), "no client_email"),
    ],
)  # fmt: skip
def test_a_bad_upload_is_explained(upload, message):
    with pytest.raises(CredentialProblem, match=message):
        credential_from_upload(upload)
