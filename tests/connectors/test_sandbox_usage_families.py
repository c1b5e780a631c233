"""The sandbox serves OpenAI's embeddings and moderations usage like the real API, on its
documented shapes (validated against the official OpenAPI schemas by ``oai``)."""

import datetime as dt

import pytest

from connectors.sandbox.catalogue import make_key
from connectors.sandbox.synthetic import INPUT_ONLY, daily_input_only
from tests.connectors.test_sandbox import TODAY, http, oai, oai_window  # noqa: F401
from tests.sandbox_fixtures import vendor_sandbox  # noqa: F401

FAMILIES = ["/v1/organization/usage/embeddings", "/v1/organization/usage/moderations"]


@pytest.mark.parametrize("path", FAMILIES)
def test_it_serves_90_days_in_three_pages_on_the_documented_shape(http, path):  # noqa: F811
    key, pages, cursor = make_key("openai", "flat"), [], None
    while True:
        params = oai_window(90, group_by="model") | ({"page": cursor} if cursor else {})
        body = oai(http, path, key, **params).json()
        pages.append(body)
        cursor = body["next_page"]
        if not body["has_more"]:
            break
    assert [len(page["data"]) for page in pages] == [31, 31, 28]
    kind = path.rsplit("/", 1)[1]
    rows = [row for page in pages for bucket in page["data"] for row in bucket["results"]]
    assert {row["object"] for row in rows} == {f"organization.usage.{kind}.result"}
    assert {row["input_tokens"] for row in rows} == {INPUT_ONLY[kind][0][1]["input"]}


def test_newco_answers_empty_buckets_before_its_first_day(http):  # noqa: F811
    body = oai(
        http,
        FAMILIES[0],
        make_key("openai", "newco"),
        **oai_window(60, group_by="model"),
    ).json()
    empty = [bucket for bucket in body["data"] if not bucket["results"]]
    assert len(empty) > 0 and all(bucket["object"] == "bucket" for bucket in empty)


def test_batch_and_service_tier_are_not_dimensions_of_embeddings(http):  # noqa: F811
    key = make_key("openai", "flat")
    response = oai(http, FAMILIES[0], key, **oai_window(1, group_by="batch"))
    assert response.status_code == 400


def test_the_pure_generator_matches_what_is_served(http):  # noqa: F811
    day = TODAY - dt.timedelta(days=3)
    start = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    body = oai(
        http,
        FAMILIES[1],
        make_key("openai", "weekly"),
        start_time=start,
        end_time=start + 86_400,
    ).json()
    expected = daily_input_only("moderations", "weekly", day)
    assert sum(r["input_tokens"] for r in body["data"][0]["results"]) == sum(
        r["input_tokens"] for r in expected
    )
