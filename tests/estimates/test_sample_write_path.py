"""A sample's fast path: plain rows written with COPY, reports fetched all at once, and the
organisation asked for beside them. The vendor is respx; database and sampling code are real."""

import os
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import respx
from django.db.models import F

from estimates import fetch, sampling, storage
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from estimates.rows import dimensions_key
from estimates.sampling import run as sampling_run

VENDOR = "http://vendor.test"
USAGE = f"{VENDOR}/v1/organizations/usage_report/messages"
COSTS = f"{VENDOR}/v1/organizations/cost_report"
ME = f"{VENDOR}/v1/organizations/me"
# Every sub-window of a 90-day sample (3 × usage, 3 × costs) and the organisation lookup.
TYPICAL_REQUESTS = 7


def usage_results():
    row = {"uncached_input_tokens": 1000, "cache_read_input_tokens": 20, "output_tokens": 300}
    return [
        {**row, "model": "claude-sonnet-4-5", "service_tier": "standard",
         "cache_creation": {"ephemeral_5m_input_tokens": 7, "ephemeral_1h_input_tokens": 3},
         "server_tool_use": {"web_search_requests": 2}},
        # The same group twice in one bucket: summed into one row.
        {**row, "model": "claude-sonnet-4-5", "service_tier": "standard"},
        {**row, "model": "a model nobody classified", "service_tier": None},
    ]  # fmt: skip


def cost_results():
    return [
        # Fractional cents: "123.456789" cents is $1.23456789.
        {"amount": "123.456789", "currency": "USD", "description": "Claude Sonnet 4.5 Usage",
         "model": "claude-sonnet-4-5", "token_type": "uncached_input_tokens",
         "workspace_id": "wrkspc_é"},
        {"amount": "0.5", "currency": "USD", "description": "Claude Sonnet 4.5 Usage",
         "model": "claude-sonnet-4-5", "token_type": "uncached_input_tokens",
         "workspace_id": "wrkspc_é"},
        # Text that COPY must escape, and a line with no other dimension at all.
        {"amount": "250", "currency": "USD", "description": "Web search\t\\ \"quoted\"\nline"},
        {"amount": "3", "currency": "usd", "description": None, "cost_type": "web_search"},
    ]  # fmt: skip


def page(request, results):
    day = request.url.params["starting_at"]
    return httpx.Response(200, json={"data": [{"starting_at": day, "results": results}],
                                     "has_more": False, "next_page": None})  # fmt: skip


def vendor_routes(vendor, *, usage=None, costs=None, me=None):
    vendor.get(url__startswith=USAGE).mock(
        side_effect=usage or (lambda request: page(request, usage_results()))
    )
    vendor.get(url__startswith=COSTS).mock(
        side_effect=costs or (lambda request: page(request, cost_results()))
    )
    vendor.get(ME).mock(
        side_effect=me or (lambda request: httpx.Response(200, json={"id": "org-1", "name": "A"}))
    )


@pytest.fixture
def source(make_source, settings):
    made = make_source("flat")
    settings.VENDOR_SANDBOX_URL = VENDOR
    return made


def run(source, trigger="first"):
    return sampling.sample_run(sample_id=sampling.sample_request(source=source, trigger=trigger).pk)


def reference_rows(source, start, end):
    """The rows as model instances would store them: records summed per group, saved by the ORM."""
    fetched = fetch.fetch_window(source, "sk-ant-admin-x", start, end)
    usage, costs = {}, {}
    for r in fetched.usage:
        key = (r.day, r.model, r.service_tier, r.context_window, r.batch)
        if key not in usage:
            usage[key] = DailyUsage(
                account_id=source.account_id, source=source, date=r.day, model=r.model,
                service_tier=r.service_tier, context_window=r.context_window, batch=r.batch,
                uncached_input=0, cache_read=0, cache_write=0, cache_write_1h=0, output=0,
                requests=r.requests, web_search_requests=0,
            )  # fmt: skip
        row = usage[key]
        for name in ("uncached_input", "cache_read", "cache_write", "cache_write_1h", "output"):
            setattr(row, name, getattr(row, name) + getattr(r, name))
        row.web_search_requests += r.web_search_requests
    for r in fetched.costs:
        canonical = dimensions_key(r.dimensions)
        key = (r.day, r.description, canonical, r.currency)
        if key in costs:
            costs[key].amount_usd += r.amount_usd
            continue
        costs[key] = DailyCost(
            account_id=source.account_id, source=source, date=r.day, description=r.description,
            dimensions=r.dimensions, dimensions_key=canonical, amount_usd=r.amount_usd,
            currency=r.currency,
        )  # fmt: skip
    return list(usage.values()), list(costs.values())


USAGE_COLUMNS = [f.name for f in DailyUsage._meta.concrete_fields if f.name not in ("id",)]
COST_COLUMNS = [f.name for f in DailyCost._meta.concrete_fields if f.name not in ("id",)]


def stored(model, columns, source):
    return sorted(model.objects.filter(source=source).values_list(*columns), key=repr)


def test_it_stores_the_same_rows_and_projection_as_model_instances_would(source, make_source):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        sample = run(source)
        assert sample.status == "succeeded", sample.error
        usage, costs = reference_rows(source, sample.window_start, sample.window_end)
    twin = make_source("flat")
    DailyUsage.objects.bulk_create([*(_moved(r, twin) for r in usage)])
    DailyCost.objects.bulk_create([*(_moved(r, twin) for r in costs)])

    columns_u = [c for c in USAGE_COLUMNS if c not in ("account", "source")]
    columns_c = [c for c in COST_COLUMNS if c not in ("account", "source")]
    assert stored(DailyUsage, columns_u, source) == stored(DailyUsage, columns_u, twin)
    assert stored(DailyCost, columns_c, source) == stored(DailyCost, columns_c, twin)
    # The JSON column holds the dimensions themselves, the amounts their exact decimals.
    line = DailyCost.objects.filter(source=source, dimensions__workspace_id="wrkspc_é").first()
    assert line.dimensions == {
        "model": "claude-sonnet-4-5", "token_type": "uncached_input_tokens",
        "workspace_id": "wrkspc_é",
    }  # fmt: skip
    assert line.amount_usd == Decimal("1.23956789")
    assert DailyCost.objects.filter(source=source, description__contains="\t\\ ").count() == 3
    assert len(usage) == 2 * 3 and len(costs) == 3 * 3  # one day per sub-window

    projection = Projection.objects.get(sample=sample)
    again = storage.projection_build(
        sample=sample,
        usage=list(DailyUsage.objects.filter(source=twin)),
        costs=list(DailyCost.objects.filter(source=twin)),
        coefficient_set=projection.coefficient_set,
        previous=None,
    )
    # Saved for the twin (one projection per sample), then read back as the stored one was.
    again.source, again.sample = twin, sampling.sample_request(source=twin, trigger="first")
    again.save()
    again.refresh_from_db()
    skip = ("id", "source", "sample", "created_at")
    fields = [f.name for f in Projection._meta.concrete_fields if f.name not in skip]
    assert {f: getattr(projection, f) for f in fields} == {f: getattr(again, f) for f in fields}
    assert projection.unclassified_models == ["a model nobody classified"]


def _moved(row, twin):
    row.source = twin
    return row


def test_a_failure_after_some_reports_arrived_leaves_the_rows_and_projection_untouched(
    source, monkeypatch
):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        assert run(source).status == "succeeded"
    before = _everything(source)
    monkeypatch.setattr("connectors.http.time.sleep", lambda seconds: None)
    last_window = (datetime.now(UTC).date() - timedelta(days=28)).isoformat()

    def last_window_fails(request):
        if request.url.params["starting_at"].startswith(last_window):
            return httpx.Response(500, json={"error": {"type": "api_error", "message": "x"}})
        return page(request, [])

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, costs=last_window_fails)
        sample = sampling.sample_request(source=source, trigger="manual")
        for _ in range(sampling.MAX_ATTEMPTS):
            try:
                result = sampling.sample_run(sample_id=sample.pk)
            except sampling.RetryLater:
                continue
    assert result.status == "failed"
    assert _everything(source) == before


def test_a_lease_lost_after_the_fetch_leaves_the_rows_and_projection_untouched(source, monkeypatch):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        assert run(source).status == "succeeded"
    before = _everything(source)
    real = sampling_run.fetch_window

    def taken_over_meanwhile(src, *args, **kwargs):
        fetched = real(src, *args, **kwargs)
        # Another worker took the sample over while this one was fetching.
        Sample.objects.filter(source=src, status="running").update(attempts=F("attempts") + 1)
        return fetched

    monkeypatch.setattr(sampling_run, "fetch_window", taken_over_meanwhile)
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, usage=lambda request: page(request, []))
        assert run(source, trigger="manual") is None
    assert _everything(source) == before


def _everything(source):
    return (
        stored(DailyUsage, USAGE_COLUMNS, source),
        stored(DailyCost, COST_COLUMNS, source),
        list(Projection.objects.filter(source=source).values_list("pk", "monthly_tokens")),
    )


def test_the_organisation_is_asked_for_while_the_reports_are_still_in_flight(source):
    me_started = threading.Event()
    seen = []

    def usage_waits_for_the_lookup(request):
        seen.append(me_started.wait(timeout=3))
        return page(request, usage_results())

    def me(request):
        me_started.set()
        return httpx.Response(200, json={"id": "org-1", "name": "A"})

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, usage=usage_waits_for_the_lookup, me=me)
        assert run(source).status == "succeeded"
    assert seen == [True, True, True]
    source.refresh_from_db()
    assert source.organization_id == "org-1"


def test_a_failing_organisation_lookup_never_fails_the_sample(source):
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor, me=lambda request: httpx.Response(500, json={"error": "down"}))
        sample = run(source)
    assert sample.status == "succeeded", sample.error
    source.refresh_from_db()
    assert source.organization_id == ""
    assert DailyUsage.objects.filter(source=source).count() == 2 * 3


def test_every_request_of_a_typical_first_sample_is_in_flight_at_once(source):
    lock, in_flight, peak = threading.Condition(), [0], [0]

    def together(answer):
        def respond(request):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
                lock.notify_all()
                lock.wait_for(lambda: peak[0] >= TYPICAL_REQUESTS, timeout=3)
                in_flight[0] -= 1
            return answer(request)

        return respond

    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(
            vendor,
            usage=together(lambda request: page(request, usage_results())),
            costs=together(lambda request: page(request, cost_results())),
            me=together(lambda request: httpx.Response(200, json={"id": "org-1"})),
        )
        assert run(source).status == "succeeded"
    assert peak[0] == TYPICAL_REQUESTS


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite (development) stores through bulk_create, model instances and all",
)
def test_it_writes_the_rows_without_building_a_model_instance_per_row(source, monkeypatch):
    built = []
    for model in (DailyUsage, DailyCost):
        real = model.__init__

        def counting(self, *args, real=real, **kwargs):
            built.append(type(self).__name__)
            real(self, *args, **kwargs)

        monkeypatch.setattr(model, "__init__", counting)
    with respx.mock(assert_all_called=False) as vendor:
        vendor_routes(vendor)
        assert run(source).status == "succeeded"
    assert built == []
    assert DailyCost.objects.filter(source=source).count() == 3 * 3
