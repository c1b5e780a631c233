"""The published contract of GET /api/v1/usage/daily, with its example fixtures."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from estimates.models import DailyUsage
from tests.dashboard.test_api import assert_same_shape, load
from tests.factories import EstimateSourceFactory

URL = "/api/v1/usage/daily"


def today():
    return timezone.now().date()


def usage(source, days_ago, model, **tokens):
    return DailyUsage.objects.create(
        account=source.account,
        source=source,
        date=today() - timedelta(days=days_ago),
        model=model,
        service_tier=tokens.pop("service_tier", ""),
        context_window="",
        batch="",
        **tokens,
    )


@pytest.fixture
def anthropic(account):
    return EstimateSourceFactory(account=account, vendor="anthropic", label="Acme")


@pytest.fixture
def cursor(account):
    return EstimateSourceFactory(account=account, vendor="cursor", key="crsr_" + "a" * 64)


def test_the_route_is_published_under_its_name():
    assert reverse("api_usage_daily") == URL


def test_anonymous_gets_401_json(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "authentication required"}


def test_rows_are_summed_per_date_source_and_model_with_the_makers_vendor(
    owner_client, anthropic, cursor
):
    usage(anthropic, 1, "claude-opus-4-6", output=10, uncached_input=1, service_tier="standard")
    usage(anthropic, 1, "claude-opus-4-6", output=5, cache_read=7, service_tier="batch")
    usage(cursor, 1, "claude-4.5-sonnet", output=3, cache_write=2, cache_read=9, uncached_input=4)
    usage(cursor, 1, "composer-1", output=1)
    usage(cursor, 2, "gpt-5", output=8)

    body = owner_client.get(URL).json()

    assert_same_shape(body, load("usage_daily"))
    day1, day2 = (str(today() - timedelta(days=n)) for n in (1, 2))
    a, c = str(anthropic.public_id), str(cursor.public_id)
    assert body["rows"] == [
        {"date": day2, "source": c, "vendor": "openai", "model": "gpt-5",
         "uncached_input": 0, "cache_read": 0, "cache_write": 0, "output": 8,
         "web_search_requests": 0},
        {"date": day1, "source": a, "vendor": "anthropic", "model": "claude-opus-4-6",
         "uncached_input": 1, "cache_read": 7, "cache_write": 0, "output": 15,
         "web_search_requests": 0},
        {"date": day1, "source": c, "vendor": "anthropic", "model": "claude-4.5-sonnet",
         "uncached_input": 4, "cache_read": 9, "cache_write": 2, "output": 3,
         "web_search_requests": 0},
        {"date": day1, "source": c, "vendor": "unknown", "model": "composer-1",
         "uncached_input": 0, "cache_read": 0, "cache_write": 0, "output": 1,
         "web_search_requests": 0},
    ]  # fmt: skip


def test_by_default_the_last_90_whole_utc_days_plus_today(owner_client, anthropic):
    for days_ago in (0, 90, 91):
        usage(anthropic, days_ago, "claude-opus-4-6", output=1)

    body = owner_client.get(URL).json()

    assert body["start"] == str(today() - timedelta(days=90))
    assert body["end"] == str(today() + timedelta(days=1))  # exclusive
    assert [r["date"] for r in body["rows"]] == [body["start"], str(today())]


def test_start_is_inclusive_and_end_exclusive(owner_client, anthropic):
    for days_ago in (3, 2, 1):
        usage(anthropic, days_ago, "claude-opus-4-6", output=1)
    start, end = today() - timedelta(days=3), today() - timedelta(days=1)

    body = owner_client.get(URL, {"start": str(start), "end": str(end)}).json()

    assert (body["start"], body["end"]) == (str(start), str(end))
    assert [r["date"] for r in body["rows"]] == [str(start), str(start + timedelta(days=1))]


def test_source_narrows_the_rows_to_one_source(owner_client, anthropic, cursor):
    usage(anthropic, 1, "claude-opus-4-6", output=1)
    usage(cursor, 1, "gpt-5", output=1)

    body = owner_client.get(URL, {"source": str(cursor.public_id)}).json()

    assert [r["source"] for r in body["rows"]] == [str(cursor.public_id)]


def test_another_accounts_source_is_a_404_like_an_unknown_one(owner_client, other_account):
    foreign = EstimateSourceFactory(account=other_account, vendor="anthropic")
    usage(foreign, 1, "claude-opus-4-6", output=1)

    for source_id in (foreign.public_id, "5d2e8c1a-4f7b-4b1e-8a3c-2e9f6d0b7c44"):
        response = owner_client.get(URL, {"source": str(source_id)})
        assert response.status_code == 404
        assert response.json() == {"error": "no such source"}


def test_another_accounts_rows_never_appear(other_client, anthropic):
    usage(anthropic, 1, "claude-opus-4-6", output=1)
    assert other_client.get(URL).json()["rows"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01"}, "start must be a date as YYYY-MM-DD"),
        ({"end": "20261101"}, "end must be a date as YYYY-MM-DD"),
        ({"start": "yesterday"}, "start must be a date as YYYY-MM-DD"),
        ({"start": "2026-11-02", "end": "2026-11-02"}, "end must be after start"),
        ({"start": "2026-11-03", "end": "2026-11-02"}, "end must be after start"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "at most 400 days"),
        ({"source": "not-a-uuid"}, "source must be a source id"),
    ],
)
def test_bad_parameters_get_a_clear_400(owner_client, account, params, message):
    response = owner_client.get(URL, params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_members_may_read(member_client, anthropic):
    usage(anthropic, 1, "claude-opus-4-6", output=1)
    response = member_client.get(URL)
    assert response.status_code == 200 and len(response.json()["rows"]) == 1


def test_an_empty_account_matches_the_empty_example(owner_client, account):
    body = owner_client.get(URL).json()
    assert_same_shape(body, load("usage_daily_empty"))
    assert body["rows"] == []


def test_the_query_count_does_not_grow_with_rows(
    owner_client, anthropic, cursor, django_assert_max_num_queries
):
    for days_ago in range(30):
        for model in ("claude-4.5-sonnet", "gpt-5", "composer-1"):
            usage(cursor, days_ago, model, output=1)
        usage(anthropic, days_ago, "claude-opus-4-6", output=1)
    with django_assert_max_num_queries(8):
        body = owner_client.get(URL, {"source": str(cursor.public_id)}).json()
    assert len(body["rows"]) == 90


def test_the_example_rows_name_the_makers_of_their_models():
    from estimates.classify import model_maker

    for row in load("usage_daily")["rows"]:
        assert row["vendor"] == model_maker(row["model"])


def test_estimate_sources_carry_their_kind_beside_their_vendor(owner_client, cursor):
    source = owner_client.get(reverse("api_estimate")).json()["sources"][0]
    assert (source["kind"], source["vendor"]) == ("admin_key", "cursor")
