"""Stripe webhook events: verified, stored once by id, then processed idempotently.

Nothing here changes the offset in force: events only sync the subscription's state.
Reference: https://docs.stripe.com/billing/subscriptions/webhooks
"""

import logging
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tokenoffset.accounts.models import Membership, Role
from tokenoffset.accounts.services import account_data_changed

from . import fulfilment_events, ledger, stripe_client
from .models import LIVE_STATUSES, OffsetChange, StripeCleanup, StripeEvent, Subscription
from .stripe_cleanup import (
    stripe_cleanup_run,
    stripe_customer_closed,
    stripe_subscription_cancel_later,
)
from .subscriptions import subscription_price_sync_or_retry, subscription_state_apply

logger = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}


def webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify, store once, process; returns the outcome. Raises BadSignature.

    An event is processed once: its state changes and the record of any Stripe call it needs
    (an outbox row) commit together. The call is then made at once; if Stripe fails it, this
    raises ``PaymentsError`` (the endpoint answers 503, so Stripe retries the event) and the
    worker retries it too. A replay of an event whose calls all succeeded does nothing.
    """
    event = stripe_client.event_verify(payload=payload, signature=signature)
    record, _ = StripeEvent.objects.get_or_create(
        stripe_id=event["id"],
        defaults={
            "type": event["type"],
            "created": datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC),
            "payload": event,
        },
    )
    if record.processed_at is not None:
        if not _cleanups_run(record):
            return "duplicate"
        return "processed"
    outcome = event_process(record=record)
    _cleanups_run(record)
    return outcome


def _cleanups_run(record: StripeEvent) -> bool:
    """Run the event's pending Stripe calls now; False if there were none."""
    pending = list(StripeCleanup.objects.filter(event=record, done_at=None).order_by("pk"))
    for cleanup in pending:
        if not stripe_cleanup_run(cleanup=cleanup, force=True):
            raise stripe_client.PaymentsError(
                f"{cleanup.get_action_display()} {cleanup.stripe_id}: {cleanup.last_error}"
            )
    return bool(pending)


def _event_customer(record: StripeEvent) -> str:
    obj = (record.payload.get("data") or {}).get("object") or {}
    customer = obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
    return customer if isinstance(customer, str) else ""


def _finish(record: StripeEvent, outcome: str, subscription: Subscription | None = None) -> bool:
    """Mark the event processed, once; False if another delivery got there first.

    An event about the customer of a deleted account keeps its id, never its payload (emails).
    """
    changes = {
        "processed_at": timezone.now(),
        "outcome": outcome[:200],
        "account": subscription.account_id if subscription else None,
    }
    if subscription is None and stripe_customer_closed(customer_id=_event_customer(record)):
        changes["payload"] = {}
    claimed = StripeEvent.objects.filter(pk=record.pk, processed_at=None).update(**changes)
    return claimed == 1


def _cancel_orphan(record: StripeEvent, subscription_id: str, reason: str) -> str:
    """A subscription of ours that no account holds any more: cancel it, never link it."""
    with transaction.atomic():
        if not _finish(record, f"cancelling: {reason}"):
            return "duplicate"
        stripe_subscription_cancel_later(
            subscription_id=subscription_id, reason=reason, event=record
        )
    logger.warning("cancelling subscription %s: %s", subscription_id, reason)
    return "processed"


def _is_ours(customer_id, metadata: dict) -> bool:
    """Created by our checkout (its metadata names an account) or a customer we closed."""
    return bool((metadata or {}).get("account_id")) or stripe_customer_closed(
        customer_id=customer_id
    )


def _subscription_for_customer(customer_id) -> Subscription | None:
    if not isinstance(customer_id, str) or not customer_id:
        return None
    return Subscription.objects.filter(stripe_customer_id=customer_id).first()


def event_process(*, record: StripeEvent) -> str:
    """Apply one stored event. Network reads happen before the short write transaction."""
    obj = (record.payload.get("data") or {}).get("object") or {}
    if record.type == "checkout.session.completed":
        return _checkout_completed(record, obj)
    if record.type in SUBSCRIPTION_EVENTS:
        return _subscription_changed(record, obj)
    if record.type == "invoice.paid":
        return _invoice_paid(record, obj)
    if record.type == "invoice.payment_failed":
        return _invoice_payment_failed(record, obj)
    if record.type in fulfilment_events.HANDLED:
        return fulfilment_events.event_apply(record=record, obj=obj, finish=_finish)
    _finish(record, "ignored: unhandled type")
    return "ignored"


def _checkout_completed(record: StripeEvent, session: dict) -> str:
    subscription = _subscription_for_customer(session.get("customer"))
    metadata = session.get("metadata") or {}
    new_id = session.get("subscription")
    if (
        subscription is None
        and session.get("mode") == "subscription"
        and isinstance(new_id, str)
        and new_id
        and _is_ours(session.get("customer"), metadata)
    ):
        # Completed after (or while) its account was deleted: nothing may charge it.
        return _cancel_orphan(record, new_id, "checkout completed for a deleted account")
    if subscription is None or metadata.get("account_id") != str(subscription.account.public_id):
        _finish(record, "ignored: unknown customer or account")
        return "ignored"
    if session.get("mode") != "subscription" or not session.get("subscription"):
        _finish(record, "ignored: not a subscription", subscription)
        return "ignored"
    # Re-fetch: subscription events for the same checkout may arrive before or after this one.
    fetched = stripe_client.subscription_retrieve(subscription_id=new_id)
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        second = locked.is_live and locked.stripe_subscription_id != new_id
        outcome = "cancelled a second subscription" if second else "linked subscription"
        if not _finish(record, outcome, locked):
            return "duplicate"
        if second:
            # Two checkouts completed (two tabs, a back button): one account pays one
            # subscription. Keep the one we track; the newcomer is cancelled (retried until
            # Stripe confirms) before it charges again.
            stripe_subscription_cancel_later(
                subscription_id=new_id, reason="second subscription", event=record
            )
        else:
            subscription_state_apply(subscription=locked, stripe_subscription=fetched)
    if second:
        logger.warning("account %s: cancelling second subscription", subscription.account_id)
        return "processed"
    # The owner may have chosen a new amount while on the checkout page: send the newest one.
    latest = OffsetChange.objects.filter(account_id=subscription.account_id).first()
    if latest and str(latest.public_id) != metadata.get("offset_change_id"):
        locked.refresh_from_db()
        if locked.unit_amount_cents != latest.to_price_cents:
            subscription_price_sync_or_retry(change=latest)
    return "processed"


def _subscription_changed(record: StripeEvent, obj: dict) -> str:
    subscription = _subscription_for_customer(obj.get("customer"))
    if (
        subscription is None
        and isinstance(obj.get("id"), str)
        and obj.get("status") in LIVE_STATUSES
        and _is_ours(obj.get("customer"), obj.get("metadata"))
    ):
        # Still charging, and no account holds it (deleted since): cancel it.
        return _cancel_orphan(record, obj["id"], "subscription of a deleted account")
    if subscription is None or not obj.get("id"):
        _finish(record, "ignored: unknown customer")
        return "ignored"
    tracked = subscription.stripe_subscription_id
    if tracked and tracked != obj["id"] and subscription.is_live:
        _finish(record, "ignored: not the account's live subscription", subscription)
        return "ignored"
    # Order matters here (created/updated/deleted can arrive in any order): ask Stripe.
    fetched = stripe_client.subscription_retrieve(subscription_id=obj["id"])
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not _finish(record, f"synced: {fetched.get('status')}", locked):
            return "duplicate"
        subscription_state_apply(subscription=locked, stripe_subscription=fetched)
    return "processed"


def _invoice_subscription_id(invoice: dict) -> str:
    # Current API versions: invoice.parent.subscription_details.subscription.
    parent = invoice.get("parent") or {}
    return ((parent.get("subscription_details") or {}).get("subscription")) or ""


def _invoice_paid(record: StripeEvent, invoice: dict) -> str:
    subscription = _subscription_for_customer(invoice.get("customer"))
    if subscription is None or not _invoice_subscription_id(invoice):
        _finish(record, "ignored: unknown customer or not a subscription invoice")
        return "ignored"
    # Its Stripe fee (read before the transaction); unknown for now if Stripe cannot say.
    payment = ledger.payment_lookup(invoice_id=invoice.get("id") or "")
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not _finish(record, "invoice paid", locked):
            return "duplicate"
        ledger.obligation_record(
            subscription=locked, invoice=invoice, paid_at=record.created, payment=payment
        )
        locked.last_paid_invoice_id = invoice.get("id", "")
        locked.last_paid_at = record.created
        # A late "paid" for an older invoice must not clear a newer failure.
        if locked.past_due_invoice_id == locked.last_paid_invoice_id or (
            locked.past_due_since and record.created >= locked.past_due_since
        ):
            locked.past_due_invoice_id = ""
            locked.past_due_since = None
        locked.save()
        account_data_changed(account_id=locked.account_id)
    return "processed"


def _invoice_payment_failed(record: StripeEvent, invoice: dict) -> str:
    subscription = _subscription_for_customer(invoice.get("customer"))
    if subscription is None or not _invoice_subscription_id(invoice):
        _finish(record, "ignored: unknown customer or not a subscription invoice")
        return "ignored"
    invoice_id = invoice.get("id", "")
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not _finish(record, "payment failed", locked):
            return "duplicate"
        if locked.last_paid_invoice_id == invoice_id:
            return "processed"  # already paid: this failure arrived late
        newly = locked.past_due_invoice_id != invoice_id
        locked.past_due_invoice_id = invoice_id
        locked.past_due_since = locked.past_due_since or record.created
        locked.save()
        account_data_changed(account_id=locked.account_id)
    if newly:
        _email_owners_payment_failed(subscription=locked, invoice=invoice)
    return "processed"


def _email_owners_payment_failed(*, subscription: Subscription, invoice: dict) -> None:
    account = subscription.account
    recipients = list(
        Membership.objects.filter(account=account, role=Role.OWNER).values_list(
            "user__email", flat=True
        )
    )
    if not recipients:
        return
    body = render_to_string(
        "billing/email/payment_failed.txt",
        {
            "account": account,
            "amount_due": Decimal(int(invoice.get("amount_due") or 0)) / 100,
            "billing_url": settings.SITE_URL + reverse("billing:home"),
        },
    )
    send_mail("[Token Offset] Your payment failed", body, None, recipients)
