"""A sample's own database round trips: few, and none spent on progress nobody will see.

The vendor is respx; database and sampling code are real."""

import threading
import time
from decimal import Decimal

import pytest
import respx
from django.db import connection
from django.test.utils import CaptureQueriesContext

from estimates import fetch, sampling, storage
from estimates.coefficients import coefficient_set_active
from estimates.models import Coefficient, Sample
from estimates.sampling import claim
from estimates.sampling.claim import PROGRESS_QUIET_SECONDS, WINDOW_DAYS
from tests.estimates.test_sample_write_path import (
    VENDOR,
    page,
    run,
    usage_results,
    vendor_routes,
)
from tokenoffset.accounts.models import Account


@pytest.fixture
def source(make_source, settings):
    made = make_source("flat")
    settings.VENDOR_SANDBOX_URL = VENDOR
    return made


def requested(source, trigger="first") -> int:
    return sampling.sample_request(source=source, trigger=trigger).pk


def data_version(source) -> int:
    return Account.objects.get(pk=source.account_id).data_version


def test_a_quick_sample_writes_no_progress_and_moves_the_data_version_at_claim_and_store(source):
    sample_id = requested(source)
    before = data_version(source)
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        done = sampling.sample_run(sample_id=sample_id)
    assert done.status == "succeeded"
    assert Sample.objects.get(pk=done.pk).progress in ({}, None)
    assert data_version(source) == before + 2  # "sampling…", then the estimate


def test_a_slow_fetch_records_its_pages_once_past_its_first_moments(source):
    def slow_usage(request):
        time.sleep(PROGRESS_QUIET_SECONDS + 0.3)
        return page(request, usage_results())

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, usage=slow_usage)
        done = run(source)
    assert done.status == "succeeded"
    progress = Sample.objects.get(pk=done.pk).progress
    assert progress["reports"]["usage"] == {"pages_done": 3, "pages_total": 3}


def test_the_claim_sets_the_window_the_run_fetches_and_stores(source):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        done = run(source)
        asked = sorted(
            call.request.url.params["starting_at"][:10]
            for call in vendor.calls
            if "starting_at" in call.request.url.params
        )
    stored = Sample.objects.get(pk=done.pk)
    assert stored.window_end == stored.started_at.date()
    assert (stored.window_end - stored.window_start).days == WINDOW_DAYS
    assert asked[0] == stored.window_start.isoformat()


def test_a_weekly_sample_of_a_known_source_costs_at_most_19_statements_besides_its_copies(source):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        run(source)
        sample_id = requested(source, trigger="weekly")
        with CaptureQueriesContext(connection) as queries:
            done = sampling.sample_run(sample_id=sample_id)
    assert done.status == "succeeded"
    # Claim 5, store 11 (2 for the unclassified model in this data), the key-replaced check 1;
    # the two COPY are not counted here. It was 25: the window and the first and last progress
    # written apart, a separate lease check, a re-read of the finished sample, and the coefficient
    # set's rules and values read again although a projection already referred to it.
    assert len(queries) <= 19, "\n".join(q["sql"][:120] for q in queries)


def test_a_coefficient_set_is_read_afresh_until_a_projection_refers_to_it(source):
    active = coefficient_set_active()
    with CaptureQueriesContext(connection) as queries:
        storage.coefficient_parts(active)
    assert len(queries) == 2  # its rules and its values: nothing refers to it yet
    Coefficient.objects.filter(coefficient_set=active, name="floor_usd").update(value=Decimal(3))
    assert storage.coefficient_parts(active)[1].floor_usd == Decimal(3)  # still read afresh
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        run(source)
    with CaptureQueriesContext(connection) as queries:
        rules, values = storage.coefficient_parts(active)
    assert len(queries) == 0 and values.floor_usd == Decimal(3) and rules


def test_a_referenced_coefficient_set_is_read_again_after_a_minute(source, monkeypatch):
    monkeypatch.setattr(storage, "PARTS_MAX_AGE", -1.0)  # a minute has passed
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        run(source)
    active = coefficient_set_active()
    with CaptureQueriesContext(connection) as queries:
        storage.coefficient_parts(active)
    assert len(queries) == 2  # its projections may all have gone since, and the set been edited


def test_samples_on_one_thread_share_one_client_per_vendor_url():
    assert fetch.vendor_client("https://api.anthropic.com") is fetch.vendor_client(
        "https://api.anthropic.com"
    )
    assert fetch.vendor_client("https://api.openai.com") is not fetch.vendor_client(
        "https://api.anthropic.com"
    )


def test_samples_on_one_thread_reuse_its_fetch_threads_and_others_get_their_own(source):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        run(source)
        threads = {t.ident for t in threading.enumerate() if t.name.startswith("sample-fetch")}
        run(source)
        again = {t.ident for t in threading.enumerate() if t.name.startswith("sample-fetch")}
    assert threads and again == threads  # no thread started for the second sample
    other = []
    worker = threading.Thread(target=lambda: other.append(fetch.fetch_pool()))
    worker.start()
    worker.join()
    assert other[0] is not fetch.fetch_pool() and fetch.fetch_pool() is fetch.fetch_pool()
    other[0].shutdown()


def test_a_cookie_one_organisation_was_given_never_reaches_anothers_requests(make_source, settings):
    settings.VENDOR_SANDBOX_URL = VENDOR
    first, second = make_source("flat"), make_source("flat")  # two keys, two organisations

    def with_cookie(request):
        response = page(request, usage_results())
        response.headers["set-cookie"] = "session=of-the-first-org; Path=/"
        return response

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, usage=with_cookie)
        assert run(first).status == "succeeded"
        vendor.calls.reset()
        assert run(second).status == "succeeded"
        sent = [call.request.headers.get("cookie") for call in vendor.calls]
    assert sent and not any(sent)


def test_a_slow_vendor_shows_the_pages_to_come_before_the_first_one_arrives(source, monkeypatch):
    written, heartbeat = [], claim.sample_heartbeat

    def recording(sample, progress=None):
        if progress is not None:
            written.append(progress)
        heartbeat(sample, progress=progress)

    monkeypatch.setattr(claim, "sample_heartbeat", recording)

    def slow_usage(request):
        time.sleep(PROGRESS_QUIET_SECONDS + 0.8)
        return page(request, usage_results())

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, usage=slow_usage)
        assert run(source).status == "succeeded"
    # Written by a heartbeat after the first half second, while no usage page had arrived.
    assert written[0]["reports"]["usage"] == {"pages_done": 0, "pages_total": 3}
