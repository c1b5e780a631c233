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

from . import stripe_client
from .models import OffsetChange, StripeEvent, Subscription
from .services import subscription_price_sync_or_retry, subscription_state_apply

logger = logging.getLogger(__name__)

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
}


def webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify, store once, process; returns the outcome. Raises BadSignature."""
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
        return "duplicate"
    return event_process(record=record)


def _finish(record: StripeEvent, outcome: str, subscription: Subscription | None = None) -> bool:
    """Mark the event processed, once; False if another delivery got there first."""
    claimed = StripeEvent.objects.filter(pk=record.pk, processed_at=None).update(
        processed_at=timezone.now(),
        outcome=outcome[:200],
        account=subscription.account_id if subscription else None,
    )
    return claimed == 1


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
    _finish(record, "ignored: unhandled type")
    return "ignored"


def _checkout_completed(record: StripeEvent, session: dict) -> str:
    subscription = _subscription_for_customer(session.get("customer"))
    metadata = session.get("metadata") or {}
    if subscription is None or metadata.get("account_id") != str(subscription.account.public_id):
        _finish(record, "ignored: unknown customer or account")
        return "ignored"
    if session.get("mode") != "subscription" or not session.get("subscription"):
        _finish(record, "ignored: not a subscription", subscription)
        return "ignored"
    # Re-fetch: subscription events for the same checkout may arrive before or after this one.
    fetched = stripe_client.subscription_retrieve(subscription_id=session["subscription"])
    new_id = session["subscription"]
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        second = locked.is_live and locked.stripe_subscription_id != new_id
        outcome = "cancelled a second subscription" if second else "linked subscription"
        if not _finish(record, outcome, locked):
            return "duplicate"
        if not second:
            subscription_state_apply(subscription=locked, stripe_subscription=fetched)
    if second:
        # Two checkouts completed (two tabs, a back button): one account pays one subscription.
        # Keep the one we track and cancel the newcomer before it charges again.
        logger.warning("account %s: cancelling second subscription", subscription.account_id)
        stripe_client.subscription_cancel(
            subscription_id=new_id, idempotency_key=f"second-subscription-{new_id}"
        )
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
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not _finish(record, "invoice paid", locked):
            return "duplicate"
        locked.last_paid_invoice_id = invoice.get("id", "")
        locked.last_paid_at = record.created
        # A late "paid" for an older invoice must not clear a newer failure.
        if locked.past_due_invoice_id == locked.last_paid_invoice_id or (
            locked.past_due_since and record.created >= locked.past_due_since
        ):
            locked.past_due_invoice_id = ""
            locked.past_due_since = None
        locked.save()
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
