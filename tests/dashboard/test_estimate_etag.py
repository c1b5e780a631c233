"""The progress poll: GET /api/v1/estimate answers 304 to a current ETag without building JSON."""

from django.test import Client
from django.urls import reverse

from connectors import services as connector_services
from estimates import sampling
from estimates.sampling.claim import sample_heartbeat
from tests.factories import EstimateSourceFactory, SampleFactory


def get(client, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(reverse("api_estimate"), headers=headers)


def test_a_current_etag_gets_304_without_building_the_json(
    owner_client, account, django_assert_num_queries
):
    EstimateSourceFactory(account=account, label="Alice Org")
    first = get(owner_client)
    assert first.status_code == 200 and first["ETag"]
    # The user with their memberships and accounts (the session is a cache hit): nothing else.
    with django_assert_num_queries(1):
        again = get(owner_client, first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "no-store" in again["Cache-Control"]  # tenant data: never in a shared cache


def test_progress_a_rename_or_another_etag_gets_the_new_json(owner_client, account):
    source = EstimateSourceFactory(account=account, label="Alice Org")
    sample = SampleFactory(source=source, status="queued")
    claimed = sampling.sample_claim(sample.pk)
    etag = get(owner_client)["ETag"]
    sample_heartbeat(claimed, progress={"reports": {"usage": {"pages_done": 2, "pages_total": 5}}})
    moved = get(owner_client, etag)
    assert moved.status_code == 200 and moved["ETag"] != etag
    [row] = moved.json()["sources"]
    assert row["progress"]["reports"]["usage"]["pages_done"] == 2
    connector_services.source_rename(source=source, label="Research")
    renamed = get(owner_client, moved["ETag"])
    assert renamed.json()["sources"][0]["label"] == "Research"
    assert get(owner_client, '"something-else"').status_code == 200


def test_another_accounts_etag_is_not_this_accounts(owner_client, other_owner):
    etag = get(owner_client)["ETag"]
    other = Client()
    other.force_login(other_owner)
    assert get(other, etag).status_code == 200
