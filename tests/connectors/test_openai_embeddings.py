"""The embeddings and moderations usage reports: read like completions, counted as input."""

from datetime import date

import httpx
import jsonschema
import pytest
import respx

from connectors.errors import ConnectorError
from connectors.http import build_client
from connectors.openai import client as openai
from connectors.records import UsageRecord
from tests.connectors.openai_schema import validate_openai_response
from tests.connectors.test_openai_client import (
    BASE,
    CURSOR_1,
    CURSOR_2,
    EMBEDDINGS,
    END,
    KEY,
    MODERATIONS,
    START,
    USAGE,
    embeddings_result,
    moderations_result,
    sent_params,
    usage_page,
)

EMPTY = {"object": "page", "data": [], "has_more": False, "next_page": None}
FAMILIES = [(EMBEDDINGS, embeddings_result), (MODERATIONS, moderations_result)]


@pytest.fixture
def mock():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client():
    with build_client(BASE) as c:
        yield c


@pytest.mark.parametrize(("path", "row"), FAMILIES)
def test_it_builds_pages_that_match_the_official_schemas(path, row):
    validate_openai_response(path, usage_page(START, 31, CURSOR_1, row=row))
    validate_openai_response(path, usage_page(START, 2, row=lambda: row(model=None)))


def test_the_schema_tells_an_embeddings_page_from_a_moderations_page():
    with pytest.raises(jsonschema.ValidationError):
        validate_openai_response(EMBEDDINGS, usage_page(START, 1, row=moderations_result))


@pytest.mark.parametrize(("path", "row"), FAMILIES)
def test_it_reads_90_days_in_3_cursor_pages_and_empty_buckets_give_no_rows(mock, client, path, row):
    mock.get(USAGE).respond(json=EMPTY)
    other = EMBEDDINGS if path == MODERATIONS else MODERATIONS
    mock.get(other).respond(json=EMPTY)
    route = mock.get(path)
    route.side_effect = [
        httpx.Response(200, json=usage_page(date(2026, 5, 24), 31, CURSOR_1, row=row)),
        httpx.Response(200, json=usage_page(date(2026, 6, 24), 31, CURSOR_2, row=row)),
        httpx.Response(200, json=usage_page(date(2026, 7, 25), 28, row=row)),
    ]
    got = openai.fetch_usage(client, KEY, START, END)
    base = [
        ("start_time", "1779580800"),
        ("end_time", "1787356800"),
        ("bucket_width", "1d"),
        ("limit", "31"),
        ("group_by", "model"),
    ]
    assert sent_params(route) == [base, [*base, ("page", CURSOR_1)], [*base, ("page", CURSOR_2)]]
    assert len(got) == 16 + 16 + 14  # every other bucket is empty
    assert (got[0].day, got[-1].day) == (START, date(2026, 8, 20))


def test_it_counts_embeddings_and_moderations_input_as_uncached_input(mock, client):
    mock.get(USAGE).respond(json=EMPTY)
    mock.get(EMBEDDINGS).respond(json=usage_page(START, 1, row=embeddings_result))
    mock.get(MODERATIONS).respond(json=usage_page(START, 1, row=moderations_result))
    got = openai.fetch_usage(client, KEY, START, date(2026, 5, 25))
    common = dict(day=START, service_tier="", context_window="", batch="", cache_read=0,
                  cache_write=0, cache_write_1h=0, output=0)  # fmt: skip
    assert got == [
        UsageRecord(model="text-embedding-3-small", uncached_input=2000, requests=4, **common),
        UsageRecord(model="omni-moderation-latest", uncached_input=300, requests=3, **common),
    ]


def test_a_model_left_ungrouped_is_kept_blank_not_dropped(mock, client):
    mock.get(USAGE).respond(json=EMPTY)
    mock.get(MODERATIONS).respond(json=EMPTY)
    mock.get(EMBEDDINGS).respond(
        json=usage_page(START, 1, row=lambda: embeddings_result(model=None))
    )
    got = openai.fetch_usage(client, KEY, START, date(2026, 5, 25))
    assert [(r.model, r.uncached_input) for r in got] == [("", 2000)]


def test_a_malformed_embeddings_page_fails_the_report(mock, client):
    mock.get(USAGE).respond(json=EMPTY)
    mock.get(EMBEDDINGS).respond(
        json=usage_page(START, 1, row=lambda: embeddings_result(input_tokens=-5))
    )
    with pytest.raises(ConnectorError) as exc:
        openai.fetch_usage(client, KEY, START, date(2026, 5, 25))
    assert exc.value.kind == "malformed"
