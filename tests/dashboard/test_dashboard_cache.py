"""The cached dashboard never shows a stale figure: after each writer, the next page is new."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from billing import fulfilment
from billing.services import offset_choose_band
from connectors import services as connector_services
from connectors.live.services import live_source_create
from estimates import sampling
from estimates.fetch import fetch_window
from estimates.live import live_reproject
from estimates.sampling.claim import sample_heartbeat
from estimates.sampling.run import sample_store
from estimates.tasks import live_reproject_task
from tests.billing.climate_fixtures import PRODUCT_ID, delivered, order, product
from tests.billing.test_fulfilment import DEC_5, _paid_month, create_route
from tests.connectors.live_fakes import metrics_json, point, send_metrics
from tests.factories import EstimateSourceFactory
from tests.stripe_fixtures import event, post_event
from tokenoffset.accounts.models import Membership
from tokenoffset.dashboard.page import recent
from tokenoffset.dashboard.selectors import dashboard_data


def shown(client):
    """The figures a rendered page used (None when the page came from the cache), and its text."""
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    d = response.context["d"] if response.context is not None else None
    return d, " ".join(response.content.decode().split())


def figures(d) -> tuple:
    e = d.estimate
    return (
        d.offset.price_cents if d.offset else None,
        (e.monthly_tokens_total, e.price_usd, e.stale, e.window_end) if e else None,
        [(r.source.label, r.source.status, r.pages_done, r.pages_total) for r in d.sources],
        [day.total for day in d.days],
        (d.removal.funded_tons, d.removal.delivered_tons) if d.removal else None,
        d.next_sample_at,
    )


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def assert_fresh(client, account):
    """The page served now (cached or not) is the page a fresh render of the current data gives."""
    _, served = shown(client)
    cache.clear()  # the session survives: it is backed by the database
    recent.clear()
    fresh, rendered = shown(client)
    assert without_csrf(served) == without_csrf(rendered)
    assert figures(fresh) == figures(dashboard_data(account=account))
    return fresh


def test_a_second_page_is_served_from_the_cache(owner_client, account):
    EstimateSourceFactory(account=account, label="Alice Org")
    first, html = shown(owner_client)
    assert first.cache_key and cache.get(first.cache_key) is not None
    again, cached_html = shown(owner_client)
    assert again is None  # not rendered: the page itself came from the cache
    assert without_csrf(cached_html) == without_csrf(html) and "Alice Org" in cached_html


def test_a_sample_from_request_to_store_shows_at_once(owner_client, account, make_source):
    source = make_source("flat")
    shown(owner_client)
    sample = sampling.sample_request(source=source, trigger="first")
    assert assert_fresh(owner_client, account).polling
    claimed = sampling.sample_claim(sample.pk)
    shown(owner_client)
    sample_heartbeat(claimed, progress={"reports": {"usage": {"pages_done": 3, "pages_total": 9}}})
    _, html = shown(owner_client)
    assert "3 of 9 pages" in html
    end = claimed.started_at.date()
    claimed.window_start, claimed.window_end = end - timedelta(days=90), end
    key = connector_services.source_api_key(source)
    sample_store(sample=claimed, fetched=fetch_window(source, key, claimed.window_start, end))
    stored = assert_fresh(owner_client, account)
    assert stored.estimate is not None and not stored.polling


def test_renaming_a_source_and_choosing_an_offset_show_at_once(
    owner_client, account, owner, stripe_api
):
    source = EstimateSourceFactory(account=account, label="Alice Org")
    shown(owner_client)
    connector_services.source_rename(source=source, label="Research")
    _, html = shown(owner_client)
    assert "Research" in html
    offset_choose_band(account=account, user=owner, band_slug="agentic", expected_price_cents=295)
    assert assert_fresh(owner_client, account).offset.price_cents == 295


def test_live_ingest_shows_its_tokens_at_once(owner_client, account, owner, client, monkeypatch):
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: None)
    source, token = live_source_create(
        account=account, user=owner, tool="claude_code", billing="subscription"
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    send = lambda n, s: send_metrics(  # noqa: E731
        client, metrics_json([point(n, type="output", at=now, session=s)]), token=token.raw
    )
    assert send(1000, "s1").status_code == 200
    live_reproject(source=source)  # a preliminary estimate of today
    before, _ = shown(owner_client)
    assert send(5000, "s2").status_code == 200
    after = assert_fresh(owner_client, account)
    assert sum(d.total for d in after.days) > sum(d.total for d in before.days)


def test_a_new_utc_day_and_the_weekly_sample_time_refresh_the_labels(owner_client, account):
    EstimateSourceFactory(account=account, label="Alice Org")
    saturday = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    with time_machine.travel(saturday, tick=False):
        first, _ = shown(owner_client)
    with time_machine.travel(saturday + timedelta(hours=9, minutes=30), tick=False):
        later = assert_fresh(owner_client, account)  # Sunday, past 08:00 UTC
    assert later.next_sample_at > first.next_sample_at


@pytest.fixture
def climate_api(stripe_api, db):
    stripe_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
    return stripe_api


def test_a_delivered_removal_order_shows_at_once(client, climate_api):
    obligations = _paid_month(client, climate_api)
    account = obligations[0].account
    owner = Membership.objects.filter(account=account).first().user
    create_route(climate_api)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    client.force_login(owner)
    before, _ = shown(client)
    batch_id = before.removal.orders[0]["order_id"]
    done = delivered(order(order_id=batch_id, metric_tons="1.11"))
    climate_api.get(f"/v1/climate/orders/{batch_id}").respond(200, json=done)
    post_event(client, event("climate.order.delivered", done))
    after = assert_fresh(client, account)
    assert after.removal.delivered_tons > 0 == before.removal.delivered_tons


def test_an_estimate_turning_stale_during_the_day_is_labelled_at_once(owner_client, account):
    from tests.dashboard.test_dashboard import make_projection, make_source

    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(monday, tick=False):
        make_projection(make_source(account), finished_at=monday - timedelta(days=14, hours=-1))
        first, html = shown(owner_client)
    assert not first.estimate.stale and "Stale" not in html
    with time_machine.travel(monday + timedelta(hours=2), tick=False):
        later, html = shown(owner_client)
    assert later.estimate.stale and "Stale" in html


def test_an_unreadable_cache_entry_is_rebuilt_not_an_error(owner_client, account, monkeypatch):
    EstimateSourceFactory(account=account, label="Alice Org")
    shown(owner_client)

    def unreadable(key, *args, **kwargs):
        if key.startswith("dashboard"):
            raise ValueError("unpickling a class of another release")
        return real_get(key, *args, **kwargs)

    def unreadable_many(keys, *args, **kwargs):
        if any(key.startswith("dashboard") for key in keys):
            raise ValueError("unpickling a class of another release")
        return real_get_many(keys, *args, **kwargs)

    real_get, real_get_many = cache.get, cache.get_many
    monkeypatch.setattr(cache, "get", unreadable)
    monkeypatch.setattr(cache, "get_many", unreadable_many)
    _, html = shown(owner_client)
    assert "Alice Org" in html
