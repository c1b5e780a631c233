"""Stripe cleanups: calls that must happen even after the account is gone.

An outbox of ids (``StripeCleanup``): recorded in the transaction that asks for them, run once
it commits, and retried by the worker until Stripe confirms.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tokenoffset.accounts.models import Account

from . import stripe_client
from .models import CleanupAction, StripeCheckout, StripeCleanup, StripeEvent, Subscription

log = logging.getLogger(__name__)

CLEANUP_LEASE = timedelta(minutes=5)
CLEANUP_BACKOFF_MAX_SECONDS = 6 * 3600
CLEANUP_LOUD_AFTER_ATTEMPTS = 5
# Stripe charges nothing more for these; cancelling them again would be refused.
ENDED_STATUSES = {"canceled", "incomplete_expired"}


def stripe_account_closed(*, account: Account) -> StripeCleanup | None:
    """Stop every charge Stripe could still make for an account being deleted.

    Call it inside the transaction that deletes the account. It records (ids only) an outbox
    row: expire the customer's open Checkout Sessions, then delete the customer, which cancels
    its subscriptions. The call is tried once the deletion commits and retried by the worker
    until Stripe confirms, so a Stripe outage never blocks or undoes a deletion. Stored webhook
    payloads about the account (they hold emails) are erased; their event ids stay, so a replay
    is still recognised as one.
    """
    subscription = Subscription.objects.filter(account=account).first()
    customer_id = subscription.stripe_customer_id if subscription else ""
    stripe_events_erase(account=account, customer_id=customer_id)
    if not customer_id:
        return None
    now = timezone.now()
    session_ids = list(
        StripeCheckout.objects.filter(account=account)
        .filter(Q(expires_at=None) | Q(expires_at__gt=now))
        .order_by("created_at", "id")
        .values_list("stripe_id", flat=True)
    )
    cleanup, created = StripeCleanup.objects.get_or_create(
        action=CleanupAction.CLOSE_CUSTOMER,
        stripe_id=customer_id,
        defaults={"checkout_session_ids": session_ids, "reason": "account deleted"},
    )
    if not created and cleanup.done_at is None:
        cleanup.checkout_session_ids = sorted({*cleanup.checkout_session_ids, *session_ids})
        cleanup.save(update_fields=["checkout_session_ids"])
    transaction.on_commit(lambda: stripe_cleanup_run(cleanup=cleanup, force=True))
    return cleanup


def stripe_events_erase(*, account: Account, customer_id: str = "") -> int:
    """Empty the stored payloads of the account's webhook events; ids and types stay."""
    match = Q(account=account)
    if customer_id:
        match |= Q(payload__data__object__customer=customer_id)
        match |= Q(payload__data__object__id=customer_id)
    events = StripeEvent.objects.filter(match)
    # Nothing is left to process them with: a replay is then a plain duplicate.
    events.filter(processed_at=None).update(
        processed_at=timezone.now(), outcome="erased with the account"
    )
    return events.update(payload={})


def stripe_customer_closed(*, customer_id) -> bool:
    """Whether the customer belonged to an account deleted since."""
    return (
        isinstance(customer_id, str)
        and bool(customer_id)
        and StripeCleanup.objects.filter(
            action=CleanupAction.CLOSE_CUSTOMER, stripe_id=customer_id
        ).exists()
    )


def stripe_subscription_cancel_later(
    *, subscription_id: str, reason: str, event: StripeEvent | None = None
) -> StripeCleanup:
    """Record that the subscription must be cancelled now; run it with ``stripe_cleanup_run``."""
    cleanup, _ = StripeCleanup.objects.get_or_create(
        action=CleanupAction.CANCEL_SUBSCRIPTION,
        stripe_id=subscription_id,
        defaults={"reason": reason[:100], "event": event},
    )
    return cleanup


def stripe_cleanup_run(*, cleanup: StripeCleanup, force: bool = False) -> bool:
    """Make the cleanup's Stripe calls; True once Stripe confirms, False to retry later.

    Safe to run twice at once: every call carries an idempotency key or is a no-op when already
    done. ``force`` ignores the back-off (a Stripe retry of the event that asked for it).
    """
    now = timezone.now()
    claim = StripeCleanup.objects.filter(pk=cleanup.pk, done_at=None)
    if not force:
        claim = claim.filter(next_attempt_at__lte=now)
    # A lease, so that the sweep and a webhook retry do not both call Stripe in the same minute.
    if not claim.update(next_attempt_at=now + CLEANUP_LEASE):
        cleanup.refresh_from_db()
        return cleanup.done_at is not None
    try:
        _cleanup_perform(cleanup)
    except (stripe_client.PaymentsError, stripe_client.PaymentsNotConfigured) as e:
        attempts = cleanup.attempts + 1
        delay = min(60 * 2 ** min(cleanup.attempts, 16), CLEANUP_BACKOFF_MAX_SECONDS)
        StripeCleanup.objects.filter(pk=cleanup.pk).update(
            attempts=F("attempts") + 1,
            last_error=str(e)[:300],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        level = logging.ERROR if attempts >= CLEANUP_LOUD_AFTER_ATTEMPTS else logging.WARNING
        log.log(
            level,
            "Stripe cleanup %s %s failed (attempt %s), retrying in %ss: %s",
            cleanup.action,
            cleanup.stripe_id,
            attempts,
            delay,
            e,
        )
        cleanup.refresh_from_db()
        return False
    StripeCleanup.objects.filter(pk=cleanup.pk).update(
        attempts=F("attempts") + 1, last_error="", done_at=timezone.now()
    )
    cleanup.refresh_from_db()
    return True


def stripe_cleanups_run_due(*, limit: int = 100) -> int:
    """The worker's sweep: run every cleanup whose next attempt is due; returns how many done."""
    due = StripeCleanup.objects.filter(done_at=None, next_attempt_at__lte=timezone.now())
    return sum(
        stripe_cleanup_run(cleanup=cleanup) for cleanup in due.order_by("next_attempt_at")[:limit]
    )


def _refused(error: stripe_client.PaymentsError) -> bool:
    """Stripe answered that the object is not in a state for this (already done) or is gone."""
    return error.http_status in (400, 404)


def _cleanup_perform(cleanup: StripeCleanup) -> None:
    if cleanup.action == CleanupAction.CLOSE_CUSTOMER:
        customer_id = cleanup.stripe_id
        session_ids = {*cleanup.checkout_session_ids}
        session_ids |= set(stripe_client.checkout_sessions_open(customer_id=customer_id))
        for session_id in sorted(session_ids):
            try:
                stripe_client.checkout_session_expire(session_id=session_id)
            except stripe_client.PaymentsError as e:
                if not _refused(e):  # else: completed or expired already
                    raise
        try:
            stripe_client.customer_delete(customer_id=customer_id)
        except stripe_client.PaymentsError as e:
            if e.http_status != 404:  # else: deleted already
                raise
    elif cleanup.action == CleanupAction.CANCEL_SUBSCRIPTION:
        _subscription_cancel_for_good(cleanup.stripe_id)
    else:
        raise stripe_client.PaymentsError(f"Unknown cleanup action {cleanup.action!r}.")


def _subscription_cancel_for_good(subscription_id: str) -> None:
    try:
        stripe_client.subscription_cancel(
            subscription_id=subscription_id, idempotency_key=f"cancel-{subscription_id}"
        )
    except stripe_client.PaymentsError as e:
        if not _refused(e):
            raise
        # Refused: done only if it has ended already (or no longer exists).
        try:
            fetched = stripe_client.subscription_retrieve(subscription_id=subscription_id)
        except stripe_client.PaymentsError as gone:
            if gone.http_status == 404:
                return
            raise
        if fetched.get("status") not in ENDED_STATUSES:
            raise
