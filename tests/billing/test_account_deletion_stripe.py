"""Deleting an account stops everything Stripe could still charge for it, even when Stripe fails."""

import json
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from billing.models import StripeCheckout, StripeCleanup, StripeEvent, Subscription
from billing.services import offset_set_custom
from billing.subscriptions import subscription_checkout_start
from billing.tasks import stripe_cleanups_retry_task
from tests.factories import SubscriptionFactory
from tests.stripe_fixtures import checkout_session, event, invoice, post_event, stripe_subscription
from tokenoffset.accounts.models import Account
from tokenoffset.dashboard.lifecycle import account_delete

EMAIL = "alice@example.org"


def sessions_list(*ids):
    return {
        "object": "list",
        "data": [{"id": i, "object": "checkout.session", "status": "open"} for i in ids],
        "has_more": False,
        "url": "/v1/checkout/sessions",
    }


def deleted_customer(customer_id="cus_1"):
    return {"id": customer_id, "object": "customer", "deleted": True}


def stripe_error(message="Stripe is down"):
    return {"error": {"type": "api_error", "message": message}}


@pytest.fixture
def pending_checkout(account):
    """A customer with a Checkout Session still open: the owner is on Stripe's page."""
    subscription = SubscriptionFactory(account=account)
    StripeCheckout.objects.create(
        account=account, stripe_id="cs_stored", expires_at=timezone.now() + timedelta(hours=20)
    )
    return subscription


@pytest.fixture
def close_routes(stripe_api):
    """Stripe answering the three calls that close a customer."""
    routes = {
        "list": stripe_api.get("/v1/checkout/sessions").respond(
            200, json=sessions_list("cs_listed")
        ),
        "expire_stored": stripe_api.post("/v1/checkout/sessions/cs_stored/expire").respond(
            200, json={"id": "cs_stored", "object": "checkout.session", "status": "expired"}
        ),
        "expire_listed": stripe_api.post("/v1/checkout/sessions/cs_listed/expire").respond(
            200, json={"id": "cs_listed", "object": "checkout.session", "status": "expired"}
        ),
        "delete": stripe_api.delete("/v1/customers/cus_1").respond(200, json=deleted_customer()),
    }
    return routes


def delete(account, owner, capture):
    with capture(execute=True):
        account_delete(account=account, user=owner)


def test_it_remembers_each_checkout_session_it_creates(stripe_api, account, owner):
    offset_set_custom(account=account, user=owner, amount_cents=500)
    SubscriptionFactory(account=account)
    stripe_api.post("/v1/checkout/sessions").respond(
        200,
        json={
            "id": "cs_new",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_new",
            "expires_at": int((timezone.now() + timedelta(hours=24)).timestamp()),
        },
    )

    subscription_checkout_start(
        account=account, user=owner, success_url="https://s", cancel_url="https://c"
    )

    checkout = StripeCheckout.objects.get(account=account)
    assert checkout.stripe_id == "cs_new" and checkout.expires_at > timezone.now()


def test_it_expires_open_checkouts_then_deletes_the_customer(
    stripe_api, close_routes, account, owner, pending_checkout, django_capture_on_commit_callbacks
):
    delete(account, owner, django_capture_on_commit_callbacks)

    listed = close_routes["list"].calls.last.request.url.params
    assert (listed["customer"], listed["status"]) == ("cus_1", "open")
    assert close_routes["expire_stored"].call_count == 1
    assert close_routes["expire_listed"].call_count == 1
    assert close_routes["delete"].call_count == 1
    paths = [call.request.url.path for call in stripe_api.calls]
    assert paths[-1] == "/v1/customers/cus_1"  # the customer goes last, after its checkouts
    assert not Account.objects.filter(pk=account.pk).exists()
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is not None


def test_a_checkout_already_completed_or_expired_does_not_stop_the_customer_deletion(
    stripe_api, account, owner, pending_checkout, django_capture_on_commit_callbacks
):
    stripe_api.get("/v1/checkout/sessions").respond(200, json=sessions_list())
    stripe_api.post("/v1/checkout/sessions/cs_stored/expire").respond(
        400, json={"error": {"type": "invalid_request_error", "message": "Not open."}}
    )
    remove = stripe_api.delete("/v1/customers/cus_1").respond(200, json=deleted_customer())

    delete(account, owner, django_capture_on_commit_callbacks)

    assert remove.call_count == 1
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is not None


def test_when_stripe_fails_the_account_is_deleted_and_the_worker_retries_until_done(
    stripe_api, close_routes, account, owner, pending_checkout, django_capture_on_commit_callbacks
):
    close_routes["delete"].respond(500, json=stripe_error())

    delete(account, owner, django_capture_on_commit_callbacks)

    assert not Account.objects.filter(pk=account.pk).exists()
    cleanup = StripeCleanup.objects.get(stripe_id="cus_1")
    assert cleanup.done_at is None and cleanup.attempts == 1
    assert "Stripe is down" in cleanup.last_error
    # Only Stripe ids outlive the account: no name, no email.
    kept = json.dumps([cleanup.stripe_id, cleanup.checkout_session_ids, cleanup.reason])
    assert EMAIL not in kept and "Alice" not in kept

    stripe_cleanups_retry_task()  # not due yet: backing off
    assert close_routes["delete"].call_count == 1

    close_routes["delete"].respond(200, json=deleted_customer())
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        stripe_cleanups_retry_task()

    cleanup.refresh_from_db()
    assert close_routes["delete"].call_count == 2 and cleanup.done_at is not None
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        stripe_cleanups_retry_task()
    assert close_routes["delete"].call_count == 2  # done means done


def test_a_customer_stripe_deleted_already_counts_as_done(
    stripe_api, account, owner, pending_checkout, django_capture_on_commit_callbacks
):
    stripe_api.get("/v1/checkout/sessions").respond(200, json=sessions_list())
    stripe_api.post("/v1/checkout/sessions/cs_stored/expire").respond(
        200, json={"id": "cs_stored", "object": "checkout.session", "status": "expired"}
    )
    stripe_api.delete("/v1/customers/cus_1").respond(
        404, json={"error": {"type": "invalid_request_error", "code": "resource_missing"}}
    )

    delete(account, owner, django_capture_on_commit_callbacks)

    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is not None


def checkout_completed(account_public_id, *, subscription="sub_9", customer="cus_1"):
    session = checkout_session(
        session_id="cs_listed",
        customer=customer,
        subscription=subscription,
        account_id=account_public_id,
        offset_change_id="x",
    )
    return {**session, "customer_details": {"email": EMAIL}}


def test_a_checkout_completed_after_deletion_cancels_its_subscription_and_links_nothing(
    client, stripe_api, close_routes, account, owner, pending_checkout,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    public_id = str(account.public_id)
    delete(account, owner, django_capture_on_commit_callbacks)
    cancel = stripe_api.delete("/v1/subscriptions/sub_9").respond(
        200, json=stripe_subscription(sub_id="sub_9", status="canceled")
    )

    response = post_event(
        client, event("checkout.session.completed", checkout_completed(public_id))
    )

    assert response.status_code == 200
    assert cancel.call_count == 1
    assert cancel.calls.last.request.headers["Idempotency-Key"] == "cancel-sub_9"
    assert not Subscription.objects.exists() and not Account.objects.filter(pk=account.pk).exists()
    assert StripeCleanup.objects.get(stripe_id="sub_9").done_at is not None


def test_an_active_subscription_of_an_unknown_customer_from_our_checkout_is_cancelled(
    client, stripe_api, db
):
    # Its checkout completed before the account was deleted; the webhook arrives afterwards.
    sub = stripe_subscription(sub_id="sub_7", customer="cus_gone")
    sub["metadata"] = {"account_id": "00000000-0000-0000-0000-000000000000"}
    cancel = stripe_api.delete("/v1/subscriptions/sub_7").respond(
        200, json=stripe_subscription(sub_id="sub_7", customer="cus_gone", status="canceled")
    )

    response = post_event(client, event("customer.subscription.created", sub))

    assert response.status_code == 200 and cancel.call_count == 1
    assert not Subscription.objects.exists()


def test_a_subscription_not_made_by_our_checkout_is_left_alone(client, stripe_api, db):
    # Another product on the same Stripe account: no metadata of ours, a customer we never had.
    sub = stripe_subscription(sub_id="sub_other", customer="cus_other")

    response = post_event(client, event("customer.subscription.updated", sub))

    assert response.json()["outcome"] == "ignored"
    assert not stripe_api.calls and not StripeCleanup.objects.exists()


def test_a_cancelled_subscription_of_a_deleted_account_is_not_cancelled_again(
    client, stripe_api, close_routes, account, owner, pending_checkout,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    delete(account, owner, django_capture_on_commit_callbacks)
    calls = len(stripe_api.calls)
    sub = stripe_subscription(sub_id="sub_1", status="canceled")

    response = post_event(client, event("customer.subscription.deleted", sub))

    assert response.json()["outcome"] == "ignored" and len(stripe_api.calls) == calls


# --- Stored event payloads ----------------------------------------------------------------


def test_deleting_erases_stored_event_payloads_but_keeps_their_ids(
    client, stripe_api, close_routes, account, owner, subscribed, other_account,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    paid = invoice(invoice_id="in_1")
    paid["customer_email"] = EMAIL
    post_event(client, event("invoice.paid", paid, event_id="evt_paid"))
    # Stored but never processed (Stripe failed mid-way): it names the customer only.
    StripeEvent.objects.create(
        stripe_id="evt_stuck",
        type="checkout.session.completed",
        created=timezone.now(),
        payload=event("checkout.session.completed", checkout_completed(str(account.public_id))),
    )
    bob = StripeEvent.objects.create(
        stripe_id="evt_bob",
        type="invoice.paid",
        created=timezone.now(),
        payload=event("invoice.paid", {**invoice(customer="cus_bob"), "customer_email": "b@x.y"}),
    )
    assert EMAIL in json.dumps(list(StripeEvent.objects.values_list("payload", flat=True)))

    delete(account, owner, django_capture_on_commit_callbacks)

    for stripe_id in ("evt_paid", "evt_stuck"):
        record = StripeEvent.objects.get(stripe_id=stripe_id)
        assert record.payload == {} and record.processed_at is not None
    assert EMAIL not in json.dumps(list(StripeEvent.objects.values_list("payload", flat=True)))
    bob.refresh_from_db()
    assert bob.payload["data"]["object"]["customer_email"] == "b@x.y"  # other customers: kept


def test_a_replay_of_an_erased_event_is_recognised_and_does_nothing(
    client, stripe_api, close_routes, account, owner, subscribed,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    paid = event("invoice.paid", {**invoice(invoice_id="in_1"), "customer_email": EMAIL})
    post_event(client, paid)
    delete(account, owner, django_capture_on_commit_callbacks)
    calls = len(stripe_api.calls)

    response = post_event(client, paid)

    assert response.json()["outcome"] == "duplicate"
    assert len(stripe_api.calls) == calls
    assert StripeEvent.objects.get(stripe_id=paid["id"]).payload == {}


def test_an_event_about_a_deleted_accounts_customer_arriving_later_keeps_no_email(
    client, stripe_api, close_routes, account, owner, pending_checkout,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    delete(account, owner, django_capture_on_commit_callbacks)
    gone = {"id": "cus_1", "object": "customer", "email": EMAIL, "deleted": True}

    post_event(client, event("customer.deleted", gone, event_id="evt_gone"))

    assert StripeEvent.objects.get(stripe_id="evt_gone").payload == {}


def test_a_stripe_outage_while_deleting_surfaces_nowhere_but_the_cleanup(
    stripe_api, account, owner, pending_checkout, django_capture_on_commit_callbacks
):
    stripe_api.get("/v1/checkout/sessions").mock(side_effect=httpx.ConnectError("down"))

    delete(account, owner, django_capture_on_commit_callbacks)

    assert not Account.objects.filter(pk=account.pk).exists()
    assert StripeCleanup.objects.get(stripe_id="cus_1").done_at is None
