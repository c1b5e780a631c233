"""The sandbox's Cursor answers: the documented shapes, the documented rules, every behaviour."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from connectors.cursor import client, pacing
from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.keys import KeyRejected, key_shape_check, key_validate
from connectors.records import CostRecord, UsageRecord
from connectors.sandbox import cursor as sandbox_cursor
from connectors.sandbox.cursor import make_key, parse_key


# The documented fields, strictly: an undocumented field or a wrong type fails the test.
class DocMember(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    email: str
    name: str
    role: str
    isRemoved: bool  # noqa: N815 - the wire's names


class DocMembers(msgspec.Struct, forbid_unknown_fields=True):
    teamMembers: list[DocMember]  # noqa: N815


class DocTokens(msgspec.Struct, forbid_unknown_fields=True):
    inputTokens: int  # noqa: N815
    outputTokens: int  # noqa: N815
    cacheWriteTokens: int  # noqa: N815
    cacheReadTokens: int  # noqa: N815
    totalCents: float  # noqa: N815


class DocEvent(msgspec.Struct, forbid_unknown_fields=True):
    timestamp: str
    userEmail: str  # noqa: N815
    model: str
    kind: str
    maxMode: bool  # noqa: N815
    requestsCosts: float  # noqa: N815
    isTokenBasedCall: bool  # noqa: N815
    chargedCents: float  # noqa: N815
    isChargeable: bool | None = None  # noqa: N815
    isHeadless: bool | None = None  # noqa: N815
    tokenUsage: DocTokens | None = None  # noqa: N815
    cursorTokenFee: float | None = None  # noqa: N815
    conversationId: str | None = None  # noqa: N815


class DocPagination(msgspec.Struct, forbid_unknown_fields=True):
    numPages: int  # noqa: N815
    currentPage: int  # noqa: N815
    pageSize: int  # noqa: N815
    hasNextPage: bool  # noqa: N815
    hasPreviousPage: bool  # noqa: N815


class DocPeriod(msgspec.Struct, forbid_unknown_fields=True):
    startDate: int  # noqa: N815
    endDate: int  # noqa: N815


class DocEventsPage(msgspec.Struct, forbid_unknown_fields=True):
    totalUsageEventsCount: int  # noqa: N815
    pagination: DocPagination
    usageEvents: list[DocEvent]  # noqa: N815
    period: DocPeriod


class DocError(msgspec.Struct, forbid_unknown_fields=True):
    error: str
    message: str


DAY_MS = 86_400_000


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def yesterday_ms() -> int:
    return (int(datetime.now(UTC).timestamp() * 1000) // DAY_MS - 1) * DAY_MS


@pytest.fixture
def skip_clock(monkeypatch):
    clock = pacing.SkipClock()
    monkeypatch.setattr(pacing, "CLOCK", clock)
    pacing.forget_all()
    return clock


def events(sandbox, key, **body):
    start = yesterday_ms()
    payload = {"startDate": start, "endDate": start + DAY_MS - 1, "page": 1, "pageSize": 1000}
    return httpx.post(f"{sandbox}/teams/filtered-usage-events", json={**payload, **body},
                      headers=basic(key))  # fmt: skip


def test_members_have_the_documented_shape(sandbox):
    response = httpx.get(f"{sandbox}/teams/members", headers=basic(make_key("flat")))
    members = msgspec.json.decode(response.content, type=DocMembers)
    assert response.status_code == 200
    assert [m.isRemoved for m in members.teamMembers].count(True) == 1
    assert all(m.id.startswith("user_") for m in members.teamMembers)


@pytest.mark.parametrize("behaviour", ["flat", "trend", "paging-heavy"])
def test_usage_event_pages_have_the_documented_shape(sandbox, behaviour):
    response = events(sandbox, make_key(behaviour))
    page = msgspec.json.decode(response.content, type=DocEventsPage)
    assert response.status_code == 200 and page.usageEvents
    assert all(e.timestamp.isdigit() for e in page.usageEvents)  # epoch ms as a string
    assert all((e.tokenUsage is None) == (not e.isTokenBasedCall) for e in page.usageEvents)
    start = yesterday_ms()
    assert all(start <= int(e.timestamp) < start + DAY_MS for e in page.usageEvents)
    assert page.period == DocPeriod(start, start + DAY_MS - 1)


def test_a_heavy_day_comes_in_two_full_pages(sandbox):
    key = make_key("paging-heavy")
    first = msgspec.json.decode(events(sandbox, key).content, type=DocEventsPage)
    second = msgspec.json.decode(events(sandbox, key, page=2).content, type=DocEventsPage)
    assert first.totalUsageEventsCount == 2000 and len(first.usageEvents) == 1000
    assert first.pagination.hasNextPage and not second.pagination.hasNextPage
    assert second.pagination.currentPage == 2 == second.pagination.numPages
    stamps = [e.timestamp for e in first.usageEvents + second.usageEvents]
    assert len(set(stamps)) == 2000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"startDate": "1787184000000"}, 500, "unexpected"),  # dates as strings
        ({"pageSize": 1001}, 400, "pageSize"),
        ({"endDate": 0}, 400, "endDate"),
        ({"endDate": yesterday_ms() + 31 * DAY_MS}, 400, "30 days"),
        ({"hostingType": "MOON"}, 400, "hostingType"),
    ],
)
def test_requests_cursor_refuses_get_its_error_bodies(sandbox, body, status, message):
    response = events(sandbox, make_key("flat"), **body)
    error = msgspec.json.decode(response.content, type=DocError)
    assert response.status_code == status and message in error.message


def test_bearer_auth_is_refused_as_cursor_does(sandbox):
    key = make_key("flat")
    response = httpx.get(f"{sandbox}/teams/members", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert msgspec.json.decode(response.content, type=DocError).message == "Invalid API key"


@pytest.mark.parametrize(
    ("behaviour", "status", "says"),
    [
        ("revoked", 401, "revoked"),
        ("not-enterprise", 403, "only open to Enterprise teams"),
        ("no-admin-scope", 403, "lacks the admin scope"),
    ],
)
def test_each_refusal_gets_its_own_message_when_connecting(sandbox, behaviour, status, says):
    key = key_shape_check("cursor", make_key(behaviour))
    raw = httpx.get(f"{sandbox}/teams/members", headers=basic(key))
    assert raw.status_code == status
    msgspec.json.decode(raw.content, type=DocError)
    with pytest.raises(KeyRejected) as caught:
        key_validate("cursor", key, is_sandbox=True)
    assert says in caught.value.message and key not in caught.value.message


def test_a_flat_key_connects_with_the_member_count(sandbox):
    key = make_key("flat", params={"e": 5})
    assert key_validate("cursor", key, is_sandbox=True).label == "Cursor · 3 members (sandbox)"


def test_ratelimited_answers_429_then_serves(sandbox, skip_clock):
    key = make_key("ratelimited", params={"n": 2, "r": 3})
    first = httpx.get(f"{sandbox}/teams/members", headers=basic(key))
    assert first.status_code == 429 and first.headers["retry-after"] == "3"
    msgspec.json.decode(first.content, type=DocError)
    day = datetime.now(UTC).date() - timedelta(days=1)
    with build_client(sandbox) as http:
        records = client.fetch_events(http, key, day, day + timedelta(days=1))
    assert skip_clock.skipped > 2.9  # the retry-after of the second 429, waited on the clock
    assert any(isinstance(r, UsageRecord) for r in records)


def test_flat_events_become_daily_usage_per_model_and_charged_spend(sandbox, skip_clock):
    today = datetime.now(UTC).date()
    with build_client(sandbox) as http:
        records = client.fetch_events(
            http, make_key("flat"), today - timedelta(days=3), today - timedelta(days=1)
        )
    usage = [r for r in records if isinstance(r, UsageRecord)]
    costs = [r for r in records if isinstance(r, CostRecord)]
    assert {r.model for r in usage} == set(sandbox_cursor.MODELS)
    assert len(usage) == 2 * len(sandbox_cursor.MODELS) and len(costs) == 2
    assert sum(r.requests for r in usage) == 2 * 20  # 24 a day, every sixth without tokens
    assert all(r.amount_usd > 0 and r.currency == "USD" for r in costs)


def test_trend_grows_towards_today(sandbox):
    old = sandbox_cursor.events_per_day("trend", 24, 1000 - 300, 1000)
    new = sandbox_cursor.events_per_day("trend", 24, 1000 - 1, 1000)
    assert 0 < old < new <= 48


def test_sandbox_keys_fit_both_documented_prefixes_and_the_key_check():
    key = make_key("paging-heavy", nonce="abc", params={"e": 2000, "l": 150})
    assert key == "key_sandbox-paging-heavy.e2000.l150-abc"
    assert parse_key(key) == ("paging-heavy", "abc", {"e": 2000, "l": 150})
    assert parse_key("crsr_sandbox-flat-abc") == ("flat", "abc", {})
    assert parse_key("key_sandbox-nope-abc") is None
    assert parse_key("key_sandbox-flat.e1.e2-abc") is None
    assert key_shape_check("cursor", make_key("flat")).startswith("key_sandbox-flat-")


def test_an_unknown_key_is_refused_with_cursors_401(sandbox):
    response = httpx.get(f"{sandbox}/teams/members", headers=basic("key_" + "ab" * 32))
    assert response.status_code == 401
    with pytest.raises(ConnectorError), build_client(sandbox) as http:
        client.validate_key(http, "key_" + "ab" * 32)


def test_the_readme_table_lists_every_behaviour():
    table = sandbox_cursor.markdown_table()
    assert all(f"`{name}`" in table for name in sandbox_cursor.BEHAVIOURS)
