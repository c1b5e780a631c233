import json

from django.core import mail

from billing.models import Offset, StripeEvent, Subscription
from billing.services import offset_set_custom
from tests.factories import SubscriptionFactory
from tests.stripe_fixtures import (
    checkout_session,
    event,
    invoice,
    post_event,
    sign,
    stripe_subscription,
)


def test_a_valid_event_is_processed_once_and_a_replay_changes_nothing(
    client, stripe_api, account, owner, subscribed
):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    fetched = stripe_api.get("/v1/subscriptions/sub_1").respond(
        200, json=stripe_subscription(status="past_due", amount=500)
    )
    evt = event("customer.subscription.updated", stripe_subscription(status="past_due"))

    first = post_event(client, evt)
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    subscription = Subscription.objects.get(account=account)
    assert subscription.status == "past_due"
    assert subscription.current_period_end is not None

    Subscription.objects.filter(pk=subscription.pk).update(status="active")
    replay = post_event(client, evt)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert Subscription.objects.get(account=account).status == "active"
    assert fetched.call_count == 1
    assert StripeEvent.objects.filter(stripe_id=evt["id"]).count() == 1
    assert Offset.objects.get(account=account).price_cents == 500


def test_a_bad_signature_is_400_and_nothing_is_stored(client, stripe_settings, subscribed):
    evt = event("invoice.payment_failed", invoice())
    assert post_event(client, evt, secret="whsec_wrong").status_code == 400
    payload = json.dumps(evt)
    response = client.post(
        "/billing/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, timestamp=1_000_000_000),  # far too old
    )
    assert response.status_code == 400
    unsigned = client.post(
        "/billing/webhooks/stripe/", data=payload, content_type="application/json"
    )
    assert unsigned.status_code == 400
    assert not StripeEvent.objects.exists()
    assert not Subscription.objects.get(pk=subscribed.pk).is_past_due


def test_the_signature_is_checked_on_the_raw_body(client, stripe_settings, subscribed):
    evt = event("invoice.payment_failed", invoice())
    payload = json.dumps(evt)
    reformatted = json.dumps(evt, indent=2)  # same JSON, other bytes
    response = client.post(
        "/billing/webhooks/stripe/",
        data=reformatted,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
    )
    assert response.status_code == 400


def test_an_unknown_event_type_is_acknowledged_and_ignored(client, stripe_api, subscribed):
    evt = event("customer.tax_id.created", {"id": "txi_1", "customer": "cus_1"})
    response = post_event(client, evt)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert StripeEvent.objects.get(stripe_id=evt["id"]).processed_at is not None
    assert not stripe_api.calls


def test_a_failed_payment_marks_past_due_and_emails_the_owners_once(
    client, stripe_api, account, owner, member, subscribed
):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    evt = event("invoice.payment_failed", invoice(invoice_id="in_9", amount_due=500))

    assert post_event(client, evt).status_code == 200
    assert Subscription.objects.get(account=account).is_past_due
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.org"]  # owners only
    assert "$5.00" in mail.outbox[0].body
    assert Offset.objects.get(account=account).price_cents == 500

    # Stripe retries the charge and fails again: same invoice, no second email.
    post_event(client, event("invoice.payment_failed", invoice(invoice_id="in_9")))
    assert len(mail.outbox) == 1


def test_a_paid_invoice_clears_past_due(client, stripe_api, account, subscribed):
    post_event(client, event("invoice.payment_failed", invoice(invoice_id="in_9"), created=100))
    post_event(client, event("invoice.paid", invoice(invoice_id="in_9"), created=200))
    assert not Subscription.objects.get(account=account).is_past_due


def test_a_late_failure_for_an_invoice_already_paid_is_ignored(client, stripe_api, subscribed):
    post_event(client, event("invoice.paid", invoice(invoice_id="in_9"), created=200))
    post_event(client, event("invoice.payment_failed", invoice(invoice_id="in_9"), created=100))
    assert not Subscription.objects.get(pk=subscribed.pk).is_past_due


def test_checkout_completed_links_the_subscription_from_a_fresh_fetch(
    client, stripe_api, account, owner
):
    change = offset_set_custom(account=account, user=owner, amount_cents=800)
    SubscriptionFactory(account=account)
    stripe_api.get("/v1/subscriptions/sub_1").respond(
        200, json=stripe_subscription(amount=800, item_id="si_7")
    )
    session = checkout_session(
        account_id=str(account.public_id), offset_change_id=str(change.public_id)
    )
    assert post_event(client, event("checkout.session.completed", session)).status_code == 200
    subscription = Subscription.objects.get(account=account)
    assert (subscription.stripe_subscription_id, subscription.stripe_item_id) == ("sub_1", "si_7")
    assert subscription.status == "active" and subscription.unit_amount_cents == 800


def test_out_of_order_subscription_events_end_in_stripes_current_state(
    client, stripe_api, subscribed
):
    # "deleted" is delivered before an older "updated": both re-fetch, so the last word is Stripe's.
    stripe_api.get("/v1/subscriptions/sub_1").respond(
        200, json=stripe_subscription(status="canceled")
    )
    post_event(
        client, event("customer.subscription.deleted", stripe_subscription(status="canceled"))
    )
    post_event(client, event("customer.subscription.updated", stripe_subscription(status="active")))
    assert Subscription.objects.get(pk=subscribed.pk).status == "canceled"


def test_a_subscription_amount_changed_in_stripe_never_moves_the_offset(
    client, stripe_api, account, owner, subscribed
):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=stripe_subscription(amount=99999))
    post_event(client, event("customer.subscription.updated", stripe_subscription(amount=99999)))
    assert Subscription.objects.get(pk=subscribed.pk).unit_amount_cents == 99999
    assert Offset.objects.get(account=account).price_cents == 500


def test_an_event_for_an_unknown_customer_is_ignored(client, stripe_api, subscribed):
    evt = event("invoice.payment_failed", invoice(customer="cus_someone_else"))
    assert post_event(client, evt).json()["outcome"] == "ignored"
    assert not Subscription.objects.get(pk=subscribed.pk).is_past_due


def test_a_second_completed_checkout_is_cancelled_and_the_first_stays_tracked(
    client, stripe_api, account, subscribed
):
    stripe_api.get("/v1/subscriptions/sub_2").respond(
        200, json=stripe_subscription(sub_id="sub_2", item_id="si_2", amount=500)
    )
    cancel = stripe_api.delete("/v1/subscriptions/sub_2").respond(
        200, json=stripe_subscription(sub_id="sub_2", status="canceled")
    )
    session = checkout_session(
        session_id="cs_2", subscription="sub_2", account_id=str(account.public_id)
    )
    response = post_event(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    assert cancel.call_count == 1
    assert cancel.calls.last.request.headers["idempotency-key"] == "cancel-sub_2"
    subscription = Subscription.objects.get(account=account)
    assert (subscription.stripe_subscription_id, subscription.unit_amount_cents) == ("sub_1", 199)
