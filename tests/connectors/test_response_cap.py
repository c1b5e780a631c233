"""A vendor response is read up to VENDOR_MAX_RESPONSE_BYTES and no further, whatever its
headers say, and counting decoded bytes for gzip bodies."""

import gzip
import json

import httpx
import pytest
import respx

from connectors import http
from connectors.errors import ConnectorError

BASE = "https://vendor.example"
PATH = "/v1/things"
KEY = "sk-test-0123456789abcdefSECRET"
CAP = 1024 * 1024  # 1 MB for the tests
CHUNK = 64 * 1024


@pytest.fixture(autouse=True)
def small_cap(settings):
    settings.VENDOR_MAX_RESPONSE_BYTES = CAP


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client():
    with http.build_client(BASE) as c:
        yield c


class Endless:
    """A 200 MB body produced chunk by chunk; counts what the client actually pulled."""

    def __init__(self, total=200 * 1024 * 1024):
        self.total = total
        self.pulled = 0

    def __iter__(self):
        yield b'{"data": ["'
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


def get(client):
    return http.get_json(client, PATH, headers={"x-api-key": KEY}, secret=KEY, sleep=[].append)


def test_it_stops_reading_a_200_mb_body_without_content_length_at_the_cap(mock, client):
    body = Endless()
    route = mock.get(PATH).mock(return_value=httpx.Response(200, stream=httpx_stream(body)))
    with pytest.raises(ConnectorError) as exc:
        get(client)
    assert exc.value.kind == "malformed"
    assert not exc.value.transient  # a retry would only read it again
    assert "larger than 1,048,576 bytes" in exc.value.message
    assert route.call_count == 1
    assert body.pulled <= CAP + 2 * CHUNK  # stopped at the cap, not at 200 MB


def test_it_stops_at_the_cap_when_content_length_lies(mock, client):
    body = Endless()
    response = httpx.Response(200, headers={"Content-Length": "100"}, stream=httpx_stream(body))
    mock.get(PATH).mock(return_value=response)
    with pytest.raises(ConnectorError, match="larger than") as exc:
        get(client)
    assert exc.value.kind == "malformed"
    assert body.pulled <= CAP + 2 * CHUNK


def test_it_refuses_a_declared_length_over_the_cap_before_reading(mock, client):
    body = Endless()
    response = httpx.Response(
        200, headers={"Content-Length": str(200 * 1024 * 1024)}, stream=httpx_stream(body)
    )
    mock.get(PATH).mock(return_value=response)
    with pytest.raises(ConnectorError, match="larger than"):
        get(client)
    assert body.pulled == 0


def test_it_counts_decoded_bytes_of_a_gzip_body(mock, client):
    # 8 MB of JSON that gzips to a few kilobytes: small on the wire, too large once inflated.
    inflated = json.dumps({"data": ["0" * (8 * CAP)]}).encode()
    compressed = gzip.compress(inflated)
    assert len(compressed) < CAP
    mock.get(PATH).respond(200, headers={"Content-Encoding": "gzip"}, content=compressed)
    with pytest.raises(ConnectorError, match="larger than") as exc:
        get(client)
    assert exc.value.kind == "malformed"


def test_it_still_reads_gzip_bodies_under_the_cap(mock, client):
    payload = {"data": [{"n": i} for i in range(1000)], "has_more": False}
    compressed = gzip.compress(json.dumps(payload).encode())
    mock.get(PATH).respond(200, headers={"Content-Encoding": "gzip"}, content=compressed)
    assert get(client) == payload


def test_it_asks_vendors_for_gzip_only(mock, client):
    route = mock.get(PATH).respond(json={"ok": True})
    get(client)
    assert route.calls.last.request.headers["accept-encoding"] == "gzip"


def test_a_body_of_exactly_the_cap_is_read(mock, client):
    filler = CAP - len(b'{"s": ""}')
    content = b'{"s": "' + b"y" * filler + b'"}'
    assert len(content) == CAP
    mock.get(PATH).respond(200, content=content)
    assert len(get(client)["s"]) == filler


def test_the_cap_has_a_20_mb_default():
    from tokenoffset import settings as project_settings

    assert project_settings.VENDOR_MAX_RESPONSE_BYTES == 20 * 1024 * 1024


def httpx_stream(iterable):
    """A sync byte stream over a generator (no Content-Length: it is not known in advance)."""

    class Stream(httpx.SyncByteStream):
        def __iter__(self):
            yield from iterable

    return Stream()
