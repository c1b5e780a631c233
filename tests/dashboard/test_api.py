"""The published contract of GET /api/v1/estimate, with example fixtures (null cases too)."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from estimates import sampling as services

CONTRACT = Path(__file__).parent / "contract"
NULLABLE = {"offset", "estimate", "progress", "last_sampled_at", "band", "trend_pct"}


def load(name):
    return json.loads((CONTRACT / f"{name}.json").read_text())


def assert_same_shape(actual, example, path="$"):
    """Same keys at every level and the same JSON types (a documented null may be a value)."""
    if example is None or actual is None:
        assert path.rsplit(".", 1)[-1] in NULLABLE, f"{path} may not be null"
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), path
        if path.endswith(".reports"):  # report names are data, not keys of the contract
            for key, value in actual.items():
                assert_same_shape(value, next(iter(example.values())), f"{path}.{key}")
            return
        assert set(actual) == set(example), f"{path}: {sorted(actual)} != {sorted(example)}"
        for key in example:
            assert_same_shape(actual[key], example[key], f"{path}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), path
        for item in actual:
            assert_same_shape(item, example[0], f"{path}[]")
    elif isinstance(example, float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), path
    else:
        assert type(actual) is type(example), f"{path}: {type(actual)} != {type(example)}"


def test_anonymous_gets_401_json(client, db):
    response = client.get(reverse("api_estimate"))
    assert response.status_code == 401
    assert response.json() == {"error": "authentication required"}


def test_a_new_account_matches_the_empty_example(owner_client, account):
    body = owner_client.get(reverse("api_estimate")).json()
    assert_same_shape(body, load("estimate_empty"))
    assert body == {
        "account": {"id": str(account.public_id), "name": account.name},
        "offset": None,
        "estimate": None,
        "sources": [],
    }


def test_a_sampling_source_matches_the_sampling_example(owner_client, make_source):
    source = make_source("flat")
    sample = services.sample_request(source=source, trigger="first")
    services.sample_claim(sample.pk)
    body = owner_client.get(reverse("api_estimate")).json()
    assert_same_shape(body, load("estimate_sampling"))
    assert body["sources"][0]["status"] == "sampling"
    assert body["sources"][0]["progress"] == {"reports": {}}


def test_a_sampled_account_with_an_adopted_offset_matches_the_ready_example(
    owner_client, owner, account, make_source
):
    from billing.services import offset_choose_band

    offset_choose_band(account=account, user=owner, band_slug="worker", expected_price_cents=199)
    source = make_source("trend")
    services.sample_run(sample_id=services.sample_request(source=source, trigger="first").pk)
    body = owner_client.get(reverse("api_estimate")).json()
    assert_same_shape(body, load("estimate_ready"))
    assert body["offset"]["kind"] == "band" and body["offset"]["monthly_price_usd"] == "1.99"
    assert body["estimate"]["coefficient_set"] == "v2"
    assert body["sources"][0]["progress"] is None


@pytest.mark.parametrize("name", ["estimate_empty", "estimate_sampling", "estimate_ready"])
def test_the_examples_themselves_are_consistent(name):
    example = load(name)
    if example["estimate"]:
        tokens = example["estimate"]["monthly_tokens"]
        assert tokens["total"] == sum(v for k, v in tokens.items() if k != "total")


def test_the_api_only_ever_shows_the_current_account(other_client, make_source):
    make_source("flat")
    body = other_client.get(reverse("api_estimate")).json()
    assert body["sources"] == [] and body["estimate"] is None
