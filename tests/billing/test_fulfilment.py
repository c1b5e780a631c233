"""The fulfilment ledger: obligations from paid invoices, the monthly Stripe Climate order,
its webhooks, and the proof pages."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing import fulfilment
from billing.models import (
    Allocation,
    CarryOver,
    ClimateOrderBatch,
    ClimateProduct,
    DeliveryDetail,
    OffsetObligation,
    WaterPurchase,
)
from billing.services import offset_choose_band, offset_set_custom
from tests.billing.climate_fixtures import (
    PRODUCT_ID,
    delivered,
    form,
    listing,
    order,
    pay,
    product,
)
from tests.factories import MembershipFactory, SubscriptionFactory, UserFactory
from tests.stripe_fixtures import event, post_event

NOV = datetime(2026, 11, 10, tzinfo=UTC)
DEC_5 = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


@pytest.fixture
def climate_api(stripe_api, db):
    stripe_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
    return stripe_api


def create_route(api, **kw):
    def respond(request):
        import httpx

        body = form(request)
        return httpx.Response(
            200, json=order(metric_tons=body["metric_tons"], batch=body["metadata[batch]"], **kw)
        )

    return api.post("/v1/climate/orders").mock(side_effect=respond)


def test_a_paid_invoice_creates_one_obligation_less_the_fee_split_by_the_offsets_breakdown(
    client, stripe_api, account, owner, subscribed
):
    offset_choose_band(account=account, user=owner, band_slug="agentic", expected_price_cents=295)
    obligation = pay(client, stripe_api, amount=295, fee=39, paid_at=NOV)
    assert obligation.fee_cents == 39 and obligation.payment_intent_id == "pi_in_1"
    assert obligation.removal_cents + obligation.water_cents == 295 - 39
    # Agentic's water part ($0.14 of $2.95) funds water; the rest (and the rounding) removal.
    assert 0 < obligation.water_cents < obligation.removal_cents
    assert obligation.period == "2026-11" and obligation.state == "pending"
    # The event replayed: still one obligation.
    pay(client, stripe_api, amount=295, fee=39, paid_at=NOV)
    assert OffsetObligation.objects.count() == 1


def test_a_custom_amount_funds_only_removal(client, stripe_api, account, owner, subscribed):
    offset_set_custom(account=account, user=owner, amount_cents=1000)
    obligation = pay(client, stripe_api, amount=1000, fee=59)
    assert (obligation.removal_cents, obligation.water_cents) == (941, 0)


def test_when_stripe_cannot_say_the_fee_the_obligation_waits_and_the_batch_fetches_it(
    client, stripe_api, account, owner, subscribed
):
    stripe_api.get("/v1/invoice_payments").respond(500, json={"error": {"message": "down"}})
    obj = {
        **_invoice("in_7", amount=100_000),
        "status_transitions": {"paid_at": int(NOV.timestamp())},
    }
    assert post_event(client, event("invoice.paid", obj)).status_code == 200
    obligation = OffsetObligation.objects.get(invoice_id="in_7")
    assert obligation.fee_cents is None
    stripe_api.routes.clear()
    from tests.billing.climate_fixtures import payment_routes

    payment_routes(stripe_api, invoice_id="in_7", intent="pi_7", fee=36)
    stripe_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
    create_route(stripe_api)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    obligation.refresh_from_db()
    assert obligation.fee_cents == 36 and obligation.state == "allocated"


def _invoice(invoice_id, amount=199):
    from tests.stripe_fixtures import invoice

    return {**invoice(invoice_id=invoice_id), "amount_paid": amount, "currency": "usd"}


def _paid_month(client, api, n=3, amount=20_000, fee=0):
    """``n`` accounts' invoices paid in November (each a separate subscription)."""
    obligations = []
    for i in range(n):
        customer = f"cus_m{i}"
        sub = SubscriptionFactory(live=True, stripe_customer_id=customer)
        sub.stripe_subscription_id = f"sub_m{i}"
        sub.save()
        MembershipFactory(account=sub.account, user=UserFactory(), role="owner")
        offset_set_custom(account=sub.account, user=None, amount_cents=amount + i * 1000)
        obligations.append(
            pay(
                client,
                api,
                invoice_id=f"in_m{i}",
                amount=amount + i * 1000,
                fee=fee,
                paid_at=NOV,
                customer=customer,
                subscription=f"sub_m{i}",
            )  # fmt: skip
        )
    return obligations


def test_the_batch_orders_last_months_money_rounded_down_and_allocates_every_tonne_once(
    client, climate_api
):
    obligations = _paid_month(client, climate_api)  # $200 + $210 + $220 of removal
    create = create_route(climate_api)
    with time_machine.travel(DEC_5):
        report = fulfilment.batch_run(period=fulfilment.previous_period())

    # $630 / $566.50 = 1.112091 t → 1.11 t ordered, 0.002091 t carried forward.
    assert create.call_count == 1
    sent = form(create.calls[0].request)
    assert sent["product"] == PRODUCT_ID and sent["metric_tons"] == "1.11"
    assert sent["metadata[period]"] == "2026-11" and sent["metadata[subscribers]"] == "3"
    assert sent["beneficiary[public_name]"] == "Token Offset customers, Nov 2026"
    batch = ClimateOrderBatch.objects.get()
    key = create.calls[0].request.headers["Idempotency-Key"]
    assert key == f"climate-2026-11-{PRODUCT_ID}-{batch.public_id}"
    assert report.order_id == batch.stripe_order_id == "climorder_1"
    assert batch.status == "confirmed" and batch.expected_delivery_year == 2027
    allocations = list(Allocation.objects.order_by("obligation__paid_at", "obligation_id"))
    assert sum(a.metric_tons for a in allocations) == Decimal("1.11")
    assert [a.obligation_id for a in allocations] == [o.pk for o in obligations]
    assert allocations[2].metric_tons > allocations[1].metric_tons > allocations[0].metric_tons
    assert CarryOver.objects.get(product_id=PRODUCT_ID).metric_tons == Decimal("0.002091")
    assert set(OffsetObligation.objects.values_list("state", flat=True)) == {"allocated"}


def test_a_rerun_of_the_batch_never_calls_create_again(client, climate_api):
    _paid_month(client, climate_api)
    create = create_route(climate_api)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
        again = fulfilment.batch_run(period="2026-11")
    assert create.call_count == 1 and again.outcome == "already ordered"
    assert ClimateOrderBatch.objects.count() == 1 and Allocation.objects.count() == 3


def test_a_crash_between_the_batch_row_and_the_create_call_never_buys_twice(client, climate_api):
    _paid_month(client, climate_api)
    # Stripe made the order, but the answer never reached us.
    failing = climate_api.post("/v1/climate/orders").respond(500, json={"error": {"type": "x"}})
    with time_machine.travel(DEC_5), pytest.raises(fulfilment.stripe_client.PaymentsError):
        fulfilment.batch_run(period="2026-11")
    batch = ClimateOrderBatch.objects.get()
    assert batch.stripe_order_id == "" and Allocation.objects.filter(batch=batch).count() == 3
    assert failing.call_count == 1
    made = order(metric_tons="1.11", batch=str(batch.public_id))
    climate_api.get("/v1/climate/orders").respond(
        200, json=listing("/v1/climate/orders", [order(order_id="climorder_other"), made])
    )
    with time_machine.travel(DEC_5):
        report = fulfilment.batch_run(period="2026-11")
    assert failing.call_count == 1  # found by its batch id, not created again
    assert report.order_id == "climorder_1"
    assert ClimateOrderBatch.objects.get().stripe_order_id == "climorder_1"


def test_a_resumed_batch_whose_order_does_not_exist_creates_it_with_the_same_key(
    client, climate_api
):
    _paid_month(client, climate_api)
    climate_api.post("/v1/climate/orders").respond(500, json={"error": {"type": "x"}})
    with time_machine.travel(DEC_5), pytest.raises(fulfilment.stripe_client.PaymentsError):
        fulfilment.batch_run(period="2026-11")
    first_key = f"climate-2026-11-{PRODUCT_ID}-{ClimateOrderBatch.objects.get().public_id}"
    climate_api.routes.clear()
    climate_api.get("/v1/climate/orders").respond(200, json=listing("/v1/climate/orders", []))
    create = create_route(climate_api)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    assert create.calls[0].request.headers["Idempotency-Key"] == first_key


def test_without_a_secret_key_the_batch_reports_what_it_would_buy_and_buys_nothing(
    client, climate_api, settings
):
    _paid_month(client, climate_api)
    settings.STRIPE_SECRET_KEY = ""
    ClimateProduct.objects.create(product_id=PRODUCT_ID, price_total_cents=56650)
    with time_machine.travel(DEC_5):
        report = fulfilment.batch_run(period="2026-11")
    assert report.outcome.startswith("would order") and report.metric_tons == Decimal("1.11")
    assert "1.11 t" in str(report) and "$566.50/t" in str(report)
    assert not ClimateOrderBatch.objects.exists() and not Allocation.objects.exists()


def _ordered(client, api, **order_kw):
    _paid_month(client, api)
    create_route(api, **order_kw)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    return ClimateOrderBatch.objects.get()


def test_delivery_stores_the_proof_and_emails_each_covered_account_once(
    client, climate_api, django_capture_on_commit_callbacks
):
    batch = _ordered(client, climate_api)
    done = delivered(order(metric_tons="1.11", batch=str(batch.public_id)))
    climate_api.get("/v1/climate/orders/climorder_1").respond(200, json=done)
    evt = event("climate.order.delivered", done)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, evt).json()["outcome"] == "processed"
    batch.refresh_from_db()
    assert batch.status == "delivered" and batch.certificate_url.endswith("climorder_1.pdf")
    detail = DeliveryDetail.objects.get(batch=batch)
    assert detail.supplier_name == "Charm Industrial" and detail.metric_tons == Decimal("1.11")
    assert detail.registry_url == "https://registry.example/retirement/1"
    assert len(mail.outbox) == 3  # one per covered account (each has one owner)
    # A replay, and a late "created" after the delivery, change nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, evt).json()["outcome"] == "duplicate"
        post_event(client, event("climate.order.created", order(batch=str(batch.public_id))))
    assert len(mail.outbox) == 3 and DeliveryDetail.objects.count() == 1
    assert ClimateOrderBatch.objects.get().status == "delivered"


def test_a_cancellation_we_did_not_ask_for_is_reordered_in_the_next_batch(client, climate_api):
    batch = _ordered(client, climate_api)
    gone = order(
        metric_tons="1.11",
        batch=str(batch.public_id),
        status="canceled",
        cancellation_reason="product_unavailable",
        canceled_at=1700100000,
    )
    climate_api.get("/v1/climate/orders/climorder_1").respond(200, json=gone)
    post_event(client, event("climate.order.canceled", gone))
    post_event(client, event("climate.order.canceled", gone))  # replayed
    batch.refresh_from_db()
    assert batch.reorder_needed and batch.status == "canceled"

    climate_api.routes.clear()
    climate_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product())
    create = create_route(climate_api, order_id="climorder_2")
    with time_machine.travel(datetime(2027, 1, 5, 6, tzinfo=UTC)):
        fulfilment.batch_run(period="2026-12")
    assert form(create.calls[0].request)["metric_tons"] == "1.11"
    new = ClimateOrderBatch.objects.get(period="2026-12")
    assert new.reordered_tons == Decimal("1.11") and new.stripe_order_id == "climorder_2"
    assert Allocation.objects.filter(batch=new).count() == 3
    assert ClimateOrderBatch.objects.get(pk=batch.pk).reordered_in == new  # history kept


def test_a_refund_before_the_batch_voids_and_after_it_nets_out_of_the_next(client, climate_api):
    first, second, third = _paid_month(client, climate_api)
    refund = {"id": "ch_pi_in_m0", "object": "charge", "payment_intent": "pi_in_m0",
              "amount_refunded": 20_000, "refunded": True}  # fmt: skip
    post_event(client, event("charge.refunded", refund))
    assert OffsetObligation.objects.get(pk=first.pk).state == "void"
    create = create_route(climate_api)
    with time_machine.travel(DEC_5):
        fulfilment.batch_run(period="2026-11")
    assert not Allocation.objects.filter(obligation=first).exists()
    assert (
        form(create.calls[0].request)["metric_tons"] == "0.75"
    )  # $430 / $566.50 = 0.759 t, rounded down

    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_pi_in_m1",
               "payment_intent": "pi_in_m1"}  # fmt: skip
    post_event(client, event("charge.dispute.created", dispute))
    netted = Allocation.objects.get(obligation=second)
    assert netted.netted_at is not None
    carry = CarryOver.objects.get(product_id=PRODUCT_ID).metric_tons
    assert carry < 0  # the next order is smaller by the disputed tonnes
    assert OffsetObligation.objects.get(pk=second.pk).state == "netted"


def test_pricing_updated_refreshes_the_live_price_the_admin_shows(client, stripe_api, admin_client):
    stripe_api.get(f"/v1/climate/products/{PRODUCT_ID}").respond(200, json=product(total=60000))
    post_event(client, event("climate.product.pricing_updated", product()))
    assert ClimateProduct.objects.get(product_id=PRODUCT_ID).price_total_cents == 60000
    body = admin_client.get("/admin/estimates/coefficientset/").content.decode()
    assert "vs live $600.00/t" in body


def test_a_set_priced_below_the_live_price_cannot_be_activated(admin_client, db):
    from estimates.models import CoefficientSet

    ClimateProduct.objects.create(product_id=PRODUCT_ID, price_total_cents=56650)
    v3 = CoefficientSet.objects.get(version="v3")
    v1 = CoefficientSet.objects.get(version="v1")
    response = admin_client.post(
        "/admin/estimates/coefficientset/",
        {"action": "activate", "_selected_action": [v1.pk]},
        follow=True,
    )
    assert "below the $566.50/t" in response.content.decode()
    assert not CoefficientSet.objects.get(pk=v1.pk).is_active
    admin_client.post(
        "/admin/estimates/coefficientset/", {"action": "activate", "_selected_action": [v3.pk]}
    )
    assert CoefficientSet.objects.get(pk=v3.pk).is_active


def test_the_seeded_set_prices_removal_at_the_reference_total_and_is_inactive(db):
    from estimates.coefficients import coefficient_values
    from estimates.models import CoefficientSet

    v3 = CoefficientSet.objects.get(version="v3")
    assert not v3.is_active
    assert coefficient_values(v3).price_per_tonne_usd == Decimal("566.50")


def test_a_water_purchase_is_allocated_pro_rata_over_the_water_money(
    client, stripe_api, account, owner, subscribed, admin_client
):
    offset_choose_band(account=account, user=owner, band_slug="agentic", expected_price_cents=295)
    obligation = pay(client, stripe_api, amount=295, fee=39, paid_at=NOV)
    admin_client.post(
        "/admin/billing/waterpurchase/add/",
        {
            "partner": "Water Partner",
            "cubic_metres": "1.5",
            "amount_cents": "300",
            "currency": "usd",
            "receipt_url": "https://partner.example/r/1",
            "purchased_at_0": "2026-11-30",
            "purchased_at_1": "00:00:00",
        },  # fmt: skip
    )
    purchase = WaterPurchase.objects.get()
    assert purchase.allocated_at is not None
    assert obligation.water_allocation.cubic_metres == Decimal("1.5")


def test_obligations_and_allocations_outlive_a_deleted_account(client, climate_api):
    _ordered(client, climate_api)
    from tokenoffset.accounts.models import Account

    account = OffsetObligation.objects.first().account
    Account.objects.filter(pk=account.pk).delete()
    assert OffsetObligation.objects.count() == 3 and Allocation.objects.count() == 3
    assert OffsetObligation.objects.filter(account=None).count() == 1


def test_the_impact_page_lists_every_order_and_names_no_account(client, climate_api):
    batch = _ordered(client, climate_api)
    names = list(OffsetObligation.objects.values_list("account__name", flat=True))
    body = client.get("/impact").content.decode()
    assert "climorder_1" in body and "1.11 t" in body and batch.period in body
    assert not any(name in body for name in names)


def test_the_dashboard_billing_page_and_export_show_the_accounts_removal(client, climate_api):
    _ordered(client, climate_api)
    obligation = OffsetObligation.objects.order_by("pk").first()
    account = obligation.account
    user = account.memberships.get().user
    client.force_login(user)
    tons = f"{obligation.allocation.metric_tons:.4f}"
    for url in ("/", "/billing/"):
        body = client.get(url).content.decode()
        assert "Your removal so far" in body and f"{tons} t" in body, url
    from tokenoffset.dashboard.lifecycle import account_export

    export = account_export(account=account)
    assert [a["order_id"] for a in export["removal_allocations"]] == ["climorder_1"]


def test_the_monthly_batch_runs_on_the_fifth_at_six_utc():
    from tokenoffset.celery import app

    entry = app.conf.beat_schedule["fulfilment-batch-monthly"]
    assert entry["task"] == "billing.tasks.fulfilment_batch_monthly_task"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {5} and schedule.hour == {6} and schedule.minute == {0}
