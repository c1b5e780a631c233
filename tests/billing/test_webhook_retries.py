"""A webhook's Stripe call that fails is retried until it succeeds, and done exactly once."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing.models import StripeCleanup, StripeEvent, Subscription
from billing.tasks import stripe_cleanups_retry_task
from tests.stripe_fixtures import checkout_session, event, post_event, stripe_subscription


@pytest.fixture
def second_checkout(account, subscribed, stripe_api):
    """A second checkout completed for an account already paying sub_1."""
    stripe_api.get("/v1/subscriptions/sub_2").respond(
        200, json=stripe_subscription(sub_id="sub_2", item_id="si_2", amount=500)
    )
    session = checkout_session(
        session_id="cs_2", subscription="sub_2", account_id=str(account.public_id)
    )
    return event("checkout.session.completed", session, event_id="evt_second")


@pytest.fixture
def cancel(stripe_api):
    """Stripe's cancel endpoint for sub_2, failing until the test says otherwise."""
    return stripe_api.delete("/v1/subscriptions/sub_2").respond(
        500, json={"error": {"type": "api_error", "message": "Stripe is down"}}
    )


def cancelled():
    return {"status_code": 200, "json": stripe_subscription(sub_id="sub_2", status="canceled")}


def test_it_answers_503_and_keeps_the_cancel_pending_when_stripe_fails_it(
    client, second_checkout, cancel
):
    response = post_event(client, second_checkout)

    assert response.status_code == 503
    assert cancel.call_count == 1
    cleanup = StripeCleanup.objects.get(stripe_id="sub_2")
    assert cleanup.done_at is None and "Stripe is down" in cleanup.last_error
    # The event's own work (keeping sub_1 tracked) is done once and not redone.
    assert StripeEvent.objects.get(stripe_id="evt_second").processed_at is not None
    assert Subscription.objects.get().stripe_subscription_id == "sub_1"


def test_a_stripe_retry_of_the_event_redoes_the_failed_cancel(client, second_checkout, cancel):
    post_event(client, second_checkout)
    cancel.respond(**cancelled())

    response = post_event(client, second_checkout)

    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    assert cancel.call_count == 2
    # Same idempotency key on every attempt: Stripe cancels once, however many tries.
    keys = {call.request.headers["Idempotency-Key"] for call in cancel.calls}
    assert keys == {"cancel-sub_2"}
    assert StripeCleanup.objects.get(stripe_id="sub_2").done_at is not None


def test_a_replay_of_a_fully_processed_event_does_nothing(
    client, stripe_api, second_checkout, cancel
):
    cancel.respond(**cancelled())
    assert post_event(client, second_checkout).status_code == 200
    calls = len(stripe_api.calls)

    response = post_event(client, second_checkout)

    assert response.json()["outcome"] == "duplicate"
    assert len(stripe_api.calls) == calls


def test_the_worker_cancels_it_when_stripe_never_retries_the_event(client, second_checkout, cancel):
    post_event(client, second_checkout)

    stripe_cleanups_retry_task()  # backing off: not due yet
    assert cancel.call_count == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        stripe_cleanups_retry_task()  # still down: retried, and backs off further
    cleanup = StripeCleanup.objects.get(stripe_id="sub_2")
    assert cancel.call_count == 2 and cleanup.attempts == 2
    assert cleanup.next_attempt_at > timezone.now() + timedelta(minutes=3)

    cancel.respond(**cancelled())
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        stripe_cleanups_retry_task()
    cleanup.refresh_from_db()
    assert cancel.call_count == 3 and cleanup.done_at is not None


def test_a_cancel_refused_because_stripe_cancelled_it_already_counts_as_done(
    client, stripe_api, second_checkout, cancel
):
    cancel.respond(
        400, json={"error": {"type": "invalid_request_error", "message": "Already canceled."}}
    )
    stripe_api.get("/v1/subscriptions/sub_2").respond(
        200, json=stripe_subscription(sub_id="sub_2", status="canceled")
    )

    response = post_event(client, second_checkout)

    assert response.status_code == 200
    assert StripeCleanup.objects.get(stripe_id="sub_2").done_at is not None


def test_a_cancel_refused_while_the_subscription_still_runs_is_retried(
    client, stripe_api, second_checkout, cancel
):
    cancel.respond(400, json={"error": {"type": "invalid_request_error", "message": "No."}})

    response = post_event(client, second_checkout)

    assert response.status_code == 503  # sub_2 is still active (the fixture's GET)
    assert StripeCleanup.objects.get(stripe_id="sub_2").done_at is None
