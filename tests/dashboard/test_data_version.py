"""Every writer of what the dashboard shows moves the account's data version (its cache key)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from billing import fulfilment
from billing.ledger import obligation_reverse
from billing.models import ClimateOrderBatch, OffsetObligation
from billing.services import offset_choose_band
from connectors import services as connector_services
from connectors.live.services import live_billing_set, live_source_create
from connectors.models import SourceStatus
from connectors.sandbox.catalogue import make_key
from estimates import sampling
from estimates.fetch import fetch_window
from estimates.live import live_reproject
from estimates.models import Sample, SampleStatus
from estimates.pushed import pushed_project
from estimates.sampling.claim import sample_fail, sample_heartbeat
from estimates.sampling.run import sample_store
from estimates.tasks import live_reproject_task
from tests.billing.climate_fixtures import delivered, order, pay
from tests.billing.test_fulfilment import DEC_5, _paid_month, create_route
from tests.connectors.live_fakes import metrics_json, point, send_metrics
from tests.factories import EstimateSourceFactory, SampleFactory
from tests.stripe_fixtures import event, post_event, stripe_subscription
from tokenoffset.accounts.models import Account


def version(account_id: int) -> int:
    return Account.objects.values_list("data_version", flat=True).get(pk=account_id)


@contextmanager
def moves(*accounts):
    before = [version(a.pk) for a in accounts]
    yield
    after = [version(a.pk) for a in accounts]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


# --- samples --------------------------------------------------------------------------------------


def test_requesting_claiming_and_storing_a_sample_each_move_the_version(account, make_source):
    source = make_source("flat")
    with moves(account):
        sample = sampling.sample_request(source=source, trigger="first")
    with moves(account):
        claimed = sampling.sample_claim(sample.pk)
    fetched = fetch_window(
        claimed.source,
        connector_services.source_api_key(claimed.source),
        claimed.started_at.date() - timedelta(days=90),
        claimed.started_at.date(),
    )
    claimed.window_start = claimed.started_at.date() - timedelta(days=90)
    claimed.window_end = claimed.started_at.date()
    with moves(account):
        assert sample_store(sample=claimed, fetched=fetched).status == "succeeded"


def test_a_progress_heartbeat_moves_the_version_a_bare_lease_renewal_does_not(account):
    sample = SampleFactory(source=EstimateSourceFactory(account=account), status="queued")
    claimed = sampling.sample_claim(sample.pk)
    with moves(account):
        sample_heartbeat(claimed, progress={"reports": {"usage": {"pages_done": 1}}})
    before = version(account.pk)
    claimed._renewed_at = timezone.now() - timedelta(days=1)  # due for a lease renewal
    sample_heartbeat(claimed)
    assert version(account.pk) == before


def test_a_failed_sample_moves_the_version(account):
    sample = SampleFactory(source=EstimateSourceFactory(account=account), status="queued")
    claimed = sampling.sample_claim(sample.pk)
    with moves(account):
        sample_fail(claimed, "The vendor is down.")
    assert Sample.objects.get(pk=sample.pk).status == SampleStatus.FAILED


# --- sources ---------------------------------------------------------------------------------


def test_adding_renaming_rejecting_replacing_and_removing_a_source_move_the_version(
    account, owner, sandbox
):
    with moves(account):
        source = connector_services.source_create(
            account=account,
            user=owner,
            vendor="anthropic",
            raw_key=make_key("anthropic", "flat"),
            is_sandbox=True,
        )
    with moves(account):
        connector_services.source_rename(source=source, label="Renamed")
    with moves(account):
        connector_services.source_mark_rejected(source=source, detail="Key revoked.")
    with moves(account):
        connector_services.source_replace_key(
            source=source, user=owner, raw_key=make_key("anthropic", "flat")
        )
    assert source.status == SourceStatus.PENDING
    with moves(account):
        connector_services.source_remove(source=source, user=owner)


def test_a_local_upload_or_a_live_source_moves_the_version(account, owner, client, monkeypatch):
    monkeypatch.setattr(live_reproject_task, "delay", lambda *a: None)
    source = EstimateSourceFactory(account=account, kind="local_logs", key_ciphertext=b"")
    with moves(account), transaction.atomic():
        pushed_project(source=source, latest_day=timezone.now().date(), progress={})
    with moves(account):
        live, token = live_source_create(
            account=account, user=owner, tool="claude_code", billing="unknown"
        )
    with moves(account):
        live_billing_set(source=live, billing="subscription")
    base = timezone.now().replace(hour=0, minute=30, second=0, microsecond=0)
    with moves(account):  # the ingest itself, not only the projection it queues
        data = metrics_json([point(1000, type="output", at=base)])
        assert send_metrics(client, data, token=token.raw).status_code == 200
    with moves(account):
        live_reproject(source=live)


# --- billing ---------------------------------------------------------------------------------


def test_choosing_an_offset_and_subscription_changes_move_the_version(
    client, stripe_api, account, owner, subscribed
):
    stripe_api.post("/v1/subscriptions/sub_1").respond(200, json=stripe_subscription(amount=295))
    with moves(account):
        offset_choose_band(
            account=account, user=owner, band_slug="agentic", expected_price_cents=295
        )
    stripe_api.get("/v1/subscriptions/sub_1").respond(
        200, json=stripe_subscription(status="past_due", amount=295)
    )
    with moves(account):
        evt = event("customer.subscription.updated", stripe_subscription(status="past_due"))
        assert post_event(client, evt).json()["outcome"] == "processed"
    with moves(account):
        pay(client, stripe_api, amount=295, fee=39)


@pytest.fixture
def climate_api(stripe_api, db):
    from tests.billing.climate_fixtures import PRODUCT_ID, product

    stripe_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
    return stripe_api


def test_allocation_delivery_and_a_refund_move_the_version_of_every_covered_account(
    client, climate_api
):
    obligations = _paid_month(client, climate_api)
    accounts = [o.account for o in obligations]
    create_route(climate_api)
    with moves(*accounts), time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    batch = ClimateOrderBatch.objects.get()
    done = delivered(order(metric_tons="1.11", batch=str(batch.public_id)))
    climate_api.get("/v1/climate/orders/climorder_1").respond(200, json=done)
    with moves(*accounts):
        post_event(client, event("climate.order.delivered", done))
    with moves(accounts[0]):
        obligation_reverse(
            obligation=OffsetObligation.objects.get(pk=obligations[0].pk), reason="x"
        )
