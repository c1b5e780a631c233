from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
import respx

from connectors import http, paging
from connectors.errors import ConnectorError

BASE = "https://vendor.example"
PATH = "/v1/things"
KEY = "sk-test-0123456789abcdefSECRET"
HEADERS = {"x-api-key": KEY}


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client():
    with http.build_client(BASE) as c:
        yield c


def get(client, sleeps, **kwargs):
    return http.get_json(
        client,
        PATH,
        params=[("a", "1")],
        headers=HEADERS,
        secret=KEY,
        sleep=sleeps.append,
        **kwargs,
    )


def page(data, next_page=None):
    return {"data": data, "has_more": next_page is not None, "next_page": next_page}


# build_client


def test_it_builds_a_client_with_explicit_timeouts_and_user_agent():
    client = http.build_client("https://api.anthropic.com")
    assert client.base_url == httpx.URL("https://api.anthropic.com")
    assert client.timeout.connect == 5.0
    assert client.timeout.read == 30.0
    assert (
        client.headers["User-Agent"]
        == "TokenOffset/0.1 (+https://tokenoffset.example/docs/sources)"
    )
    assert client.follow_redirects is False
    client.close()


def test_it_accepts_a_custom_timeout():
    client = http.build_client(BASE, timeout=httpx.Timeout(connect=1.0, read=2.0, write=1, pool=1))
    assert client.timeout.read == 2.0
    client.close()


@pytest.mark.parametrize(
    "base_url", ["https://api.openai.com/v1", "api.openai.com", "ftp://api.openai.com"]
)
def test_it_refuses_a_base_url_that_is_not_scheme_and_host(base_url):
    with pytest.raises(ValueError, match="scheme and host"):
        http.build_client(base_url)


def test_it_sends_the_user_agent(mock, client):
    route = mock.get(PATH).respond(json={"ok": True})
    assert get(client, []) == {"ok": True}
    assert route.calls.last.request.headers["user-agent"].startswith("TokenOffset/0.1 ")


# retry-after parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0), (" 12 ", 12.0), ("", None), (None, None)],
)
def test_it_parses_retry_after_seconds(value, expected):
    assert http.parse_retry_after(value) == expected


def test_it_parses_retry_after_http_dates():
    now = datetime(2026, 8, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert http.parse_retry_after(later, now=now) == 90.0
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert http.parse_retry_after(earlier, now=now) == 0.0


@pytest.mark.parametrize("value", ["soon", "nan", "inf"])
def test_it_ignores_unreadable_retry_after(value):
    assert http.parse_retry_after(value) is None


# retry budget


def test_it_retries_429_honouring_retry_after(mock, client):
    route = mock.get(PATH)
    route.side_effect = [
        httpx.Response(429, headers={"retry-after": "7"}, json={"error": "slow down"}),
        httpx.Response(200, json={"ok": True}),
    ]
    sleeps = []
    assert get(client, sleeps) == {"ok": True}
    assert sleeps == [7.0]
    assert route.call_count == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_it_retries_server_errors_with_exponential_backoff(mock, client, status):
    route = mock.get(PATH)
    route.side_effect = [
        httpx.Response(status),
        httpx.Response(status),
        httpx.Response(200, json=[]),
    ]
    sleeps = []
    assert get(client, sleeps) == []
    assert sleeps == [1.0, 2.0]


def test_it_gives_up_after_three_attempts(mock, client):
    route = mock.get(PATH).respond(503, headers={"retry-after": "3"})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps)
    assert route.call_count == 3
    assert sleeps == [3.0, 3.0]
    assert (exc.value.kind, exc.value.status, exc.value.retry_after) == ("server", 503, 3.0)
    assert exc.value.transient and not exc.value.permanent


def test_it_hands_a_long_retry_after_to_the_caller_at_once(mock, client):
    route = mock.get(PATH).respond(429, headers={"retry-after": "21"})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps)
    assert route.call_count == 1
    assert sleeps == []
    assert (exc.value.kind, exc.value.retry_after) == ("rate_limited", 21.0)


def test_it_hands_a_long_http_date_retry_after_to_the_caller(mock, client):
    when = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    mock.get(PATH).respond(429, headers={"retry-after": when})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps)
    assert sleeps == []
    assert 3500 < exc.value.retry_after <= 3600


def test_it_waits_at_most_sixty_seconds_in_all(mock, client):
    route = mock.get(PATH).respond(429, headers={"retry-after": "20"})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps, max_attempts=10)
    assert sleeps == [20.0, 20.0, 20.0]
    assert route.call_count == 4
    assert exc.value.retry_after == 20.0


def test_it_does_not_retry_with_a_single_attempt(mock, client):
    route = mock.get(PATH).respond(429, headers={"retry-after": "1"})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps, max_attempts=1)
    assert (route.call_count, sleeps, exc.value.retry_after) == (1, [], 1.0)


@pytest.mark.parametrize(
    ("side_effect", "kind"),
    [(httpx.ReadTimeout("slow"), "timeout"), (httpx.ConnectError("refused"), "unreachable")],
)
def test_it_retries_transport_errors(mock, client, side_effect, kind):
    route = mock.get(PATH)
    route.side_effect = side_effect
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps)
    assert route.call_count == 3
    assert sleeps == [1.0, 2.0]
    assert exc.value.kind == kind
    assert exc.value.status is None
    assert exc.value.transient


@pytest.mark.parametrize(
    ("status", "kind", "permanent"),
    [
        (400, "bad_request", False),
        (401, "unauthorized", True),
        (402, "bad_request", False),
        (403, "forbidden", True),
        (404, "bad_request", False),
    ],
)
def test_it_does_not_retry_client_errors(mock, client, status, kind, permanent):
    route = mock.get(PATH).respond(status, json={"error": {"type": "x", "message": "nope"}})
    sleeps = []
    with pytest.raises(ConnectorError) as exc:
        get(client, sleeps)
    assert route.call_count == 1
    assert sleeps == []
    assert (exc.value.kind, exc.value.status, exc.value.permanent) == (kind, status, permanent)
    assert not exc.value.transient


def test_it_reports_malformed_json_without_retrying(mock, client):
    route = mock.get(PATH).respond(200, text="<html>proxy error</html>")
    with pytest.raises(ConnectorError) as exc:
        get(client, [])
    assert route.call_count == 1
    assert (exc.value.kind, exc.value.status) == ("malformed", 200)
    assert not exc.value.permanent and not exc.value.transient


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"type": "error", "error": {"type": "permission_error", "message": "no"}}, "no"),
        ({"error": {"message": "Bad", "type": "invalid_request_error", "code": None}}, "Bad"),
        ({"error": "You have insufficient permissions for this operation."}, "insufficient"),
        ("a bare string", "a bare string"),
        ({"unexpected": 1}, ""),
    ],
)
def test_it_reads_error_bodies_as_objects_or_bare_strings(mock, client, body, text):
    mock.get(PATH).respond(403, json=body)
    with pytest.raises(ConnectorError) as exc:
        get(client, [])
    assert exc.value.message.startswith(f"HTTP 403 from GET {PATH}")
    assert text in exc.value.message


def test_it_decodes_fractional_numbers_as_exact_decimals(mock, client):
    mock.get(PATH).respond(content=b'{"value": 0.12345678901234567891, "count": 3}')
    body = get(client, [])
    assert body == {"value": Decimal("0.12345678901234567891"), "count": 3}
    assert isinstance(body["count"], int)


def test_it_survives_a_non_json_error_body(mock, client):
    mock.get(PATH).respond(502, text="<html>Bad gateway</html>")
    with pytest.raises(ConnectorError) as exc:
        get(client, [], max_attempts=1)
    assert exc.value.message == f"HTTP 502 from GET {PATH}"


def test_it_adds_the_vendor_request_id(mock, client):
    mock.get(PATH).respond(500, headers={"request-id": "req_018EeWyX"}, json={})
    with pytest.raises(ConnectorError) as exc:
        get(client, [], max_attempts=1)
    assert "req_018EeWyX" in exc.value.message


def test_it_never_puts_the_key_in_messages_or_repr(mock, client):
    body = {"error": {"message": f"Incorrect API key provided: {KEY} (sk-admin***abcd)"}}
    mock.get(PATH).respond(401, json=body)
    with pytest.raises(ConnectorError) as exc:
        get(client, [])
    for text in (exc.value.message, str(exc.value), repr(exc.value)):
        assert KEY not in text
        assert "SECRET" not in text
        assert "***abcd" not in text


def test_connector_error_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="unknown"):
        ConnectorError("x", kind="teapot")


# pagination


def test_it_follows_cursors_resending_the_same_params(mock, client):
    route = mock.get(PATH)
    route.side_effect = [
        httpx.Response(200, json=page([1, 2], "c1")),
        httpx.Response(200, json=page([3], None)),
    ]
    progress = []
    got = paging.fetch_pages(
        client,
        PATH,
        params=[("g[]", "a"), ("g[]", "b")],
        headers=HEADERS,
        secret=KEY,
        bucket=int,
        to_records=list,
        max_pages=5,
        on_page=lambda n, more: progress.append((n, more)),
    )
    assert got == [1, 2, 3]
    assert progress == [(1, True), (2, False)]
    sent = [c.request.url.params.multi_items() for c in route.calls]
    assert sent == [[("g[]", "a"), ("g[]", "b")], [("g[]", "a"), ("g[]", "b"), ("page", "c1")]]


def test_it_stops_when_has_more_comes_without_a_cursor(mock, client):
    route = mock.get(PATH).respond(json={"data": [1], "has_more": True, "next_page": None})
    progress = []
    got = paging.fetch_pages(
        client,
        PATH,
        params=[],
        headers=HEADERS,
        secret=KEY,
        bucket=int,
        to_records=list,
        max_pages=5,
        on_page=lambda n, more: progress.append((n, more)),
    )
    assert (got, route.call_count, progress) == ([1], 1, [(1, False)])


def test_it_raises_when_the_page_cap_is_hit(mock, client):
    route = mock.get(PATH).respond(json=page([], "again"))
    with pytest.raises(ConnectorError) as exc:
        paging.fetch_pages(
            client,
            PATH,
            params=[],
            headers=HEADERS,
            secret=KEY,
            bucket=int,
            to_records=list,
            max_pages=3,
        )
    assert route.call_count == 3
    assert exc.value.kind == "page_cap"
    assert not exc.value.transient and not exc.value.permanent


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"data": {}, "has_more": False, "next_page": None},
        {"data": [], "next_page": None},
        {"data": [], "has_more": "no", "next_page": None},
        {"data": [], "has_more": True, "next_page": 7},
    ],
)
def test_it_rejects_pages_of_the_wrong_shape(mock, client, body):
    mock.get(PATH).respond(json=body)
    with pytest.raises(ConnectorError) as exc:
        paging.fetch_pages(
            client,
            PATH,
            params=[],
            headers=HEADERS,
            secret=KEY,
            bucket=int,
            to_records=list,
            max_pages=3,
        )
    assert exc.value.kind == "malformed"


# windows


def test_it_splits_a_90_day_window_into_31_31_28():
    windows = paging.split_window(date(2026, 6, 1), date(2026, 8, 30))
    assert windows == [
        (date(2026, 6, 1), date(2026, 7, 2)),
        (date(2026, 7, 2), date(2026, 8, 2)),
        (date(2026, 8, 2), date(2026, 8, 30)),
    ]
    assert [(e - s).days for s, e in windows] == [31, 31, 28]


def test_it_splits_with_a_larger_maximum_and_handles_empty_windows():
    assert paging.split_window(date(2026, 6, 1), date(2026, 8, 30), 180) == [
        (date(2026, 6, 1), date(2026, 8, 30))
    ]
    assert paging.split_window(date(2026, 6, 1), date(2026, 6, 1)) == []
    with pytest.raises(ValueError, match="max_days"):
        paging.split_window(date(2026, 6, 1), date(2026, 6, 2), 0)


def test_it_sizes_the_page_cap_for_the_window():
    assert paging.page_cap(date(2026, 6, 1), date(2026, 8, 30), 31) == 4
    assert paging.page_cap(date(2026, 6, 1), date(2026, 7, 2), 31) == 2
    assert paging.page_cap(date(2026, 6, 1), date(2026, 8, 30), 180) == 2


def test_it_refuses_datetimes_and_empty_windows():
    with pytest.raises(TypeError):
        paging.check_window(datetime(2026, 6, 1, tzinfo=UTC), date(2026, 6, 2))
    with pytest.raises(ValueError, match="empty"):
        paging.check_window(date(2026, 6, 2), date(2026, 6, 2))


# POST (report queries with a JSON body, token requests with a form)


def test_it_posts_a_json_body_and_retries_it_like_a_get(mock, client):
    import json

    route = mock.post(PATH).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"ok": True})]
    )
    sleeps = []

    result = http.post_json(
        client, PATH, json={"page": 1}, headers=HEADERS, secret=KEY, sleep=sleeps.append
    )

    assert result == {"ok": True}
    assert route.call_count == 2 and sleeps == [1.0]
    request = route.calls.last.request
    assert json.loads(request.content) == {"page": 1}
    assert request.headers["content-type"] == "application/json"


def test_it_posts_a_form_and_names_the_method_in_errors(mock, client):
    route = mock.post(PATH).respond(400, json={"error": "invalid_grant"})

    with pytest.raises(ConnectorError) as exc:
        http.post_json(client, PATH, form={"grant_type": "x"}, headers={}, secret=KEY)

    assert route.calls.last.request.content == b"grant_type=x"
    assert exc.value.message.startswith(f"HTTP 400 from POST {PATH}: invalid_grant")
