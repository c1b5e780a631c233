"""The Stripe side of the offset: the customer, Checkout and the Customer Portal, the item's
price, and Stripe's view of the subscription copied onto ours."""

import logging
import uuid
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from tokenoffset.accounts.models import Account
from tokenoffset.accounts.services import account_data_changed

from . import stripe_client
from .errors import OffsetError
from .models import Offset, OffsetChange, StripeCheckout, Subscription

log = logging.getLogger(__name__)


def subscription_price_sync(*, change: OffsetChange) -> bool:
    """Give the Stripe subscription item the change's price; False when nothing was sent."""
    latest = OffsetChange.objects.filter(account_id=change.account_id).first()
    if latest is None or latest.pk != change.pk:
        return False  # a newer change supersedes this one
    subscription = Subscription.objects.filter(account_id=change.account_id).first()
    if subscription is None or not subscription.is_live:
        return False
    item_id = subscription.stripe_item_id
    if not item_id:
        fetched = stripe_client.subscription_retrieve(
            subscription_id=subscription.stripe_subscription_id
        )
        item_id = _first_item(fetched).get("id", "")
    stripe_client.subscription_price_set(
        subscription_id=subscription.stripe_subscription_id,
        item_id=item_id,
        amount_cents=change.to_price_cents,
        metadata={"offset_change_id": str(change.public_id)},
        idempotency_key=f"offset-change-{change.public_id}",
    )
    OffsetChange.objects.filter(pk=change.pk).update(
        stripe_synced_at=timezone.now(), stripe_error=""
    )
    Subscription.objects.filter(pk=subscription.pk).update(
        stripe_item_id=item_id, unit_amount_cents=change.to_price_cents
    )
    account_data_changed(account_id=change.account_id)
    return True


def subscription_price_sync_or_retry(*, change: OffsetChange) -> None:
    """Sync now; if Stripe fails, record it and let the worker retry (same idempotency key)."""
    try:
        subscription_price_sync(change=change)
    except stripe_client.PaymentsError as e:
        log.warning("Stripe price update for change %s failed: %s", change.public_id, e)
        OffsetChange.objects.filter(pk=change.pk).update(stripe_error=str(e)[:300])
        from .tasks import subscription_price_sync_task

        transaction.on_commit(lambda: subscription_price_sync_task.delay(change.pk))


def subscription_customer_ensure(*, account: Account, user) -> Subscription:
    """The account's Stripe customer, created once (metadata: the account's public id)."""
    subscription = Subscription.objects.filter(account=account).first()
    if subscription:
        return subscription
    customer_id = stripe_client.customer_create(
        account_public_id=str(account.public_id), name=account.name, email=user.email
    )
    subscription, _ = Subscription.objects.get_or_create(
        account=account, defaults={"stripe_customer_id": customer_id}
    )
    return subscription


def subscription_checkout_start(
    *, account: Account, user, success_url: str, cancel_url: str
) -> str:
    """A Checkout Session for the offset in force; returns the URL to send the owner to."""
    offset = Offset.objects.filter(account=account).first()
    change = OffsetChange.objects.filter(account=account).first()
    if offset is None or change is None:
        raise OffsetError("Pick a band or an amount before subscribing.")
    existing = Subscription.objects.filter(account=account).first()
    if existing and existing.is_live:
        raise OffsetError("This account already has a subscription; manage it instead.")
    subscription = subscription_customer_ensure(account=account, user=user)
    session = stripe_client.checkout_session_create(
        customer_id=subscription.stripe_customer_id,
        amount_cents=offset.price_cents,
        metadata={"account_id": str(account.public_id), "offset_change_id": str(change.public_id)},
        success_url=success_url,
        cancel_url=cancel_url,
        # One key per click: protects a retried request, never merges two attempts.
        idempotency_key=f"checkout-{change.public_id}-{uuid.uuid4().hex}",
    )
    # Kept so that deleting the account can expire it while it is still open.
    StripeCheckout.objects.get_or_create(
        stripe_id=session.id,
        defaults={"account": account, "expires_at": _timestamp(session.expires_at)},
    )
    return session.url


def subscription_portal_start(*, account: Account, return_url: str) -> str:
    """A Customer Portal session for the account's Stripe customer."""
    subscription = Subscription.objects.filter(account=account).first()
    if subscription is None:
        raise OffsetError("Subscribe first; then you can manage your card and invoices.")
    return stripe_client.portal_session_create(
        customer_id=subscription.stripe_customer_id, return_url=return_url
    )


def _first_item(stripe_subscription: dict) -> dict:
    items = (stripe_subscription.get("items") or {}).get("data") or []
    return items[0] if items else {}


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def subscription_state_apply(*, subscription: Subscription, stripe_subscription: dict) -> None:
    """Copy Stripe's view of the subscription onto our row. Never touches the offset."""
    item = _first_item(stripe_subscription)
    subscription.stripe_subscription_id = stripe_subscription["id"]
    subscription.status = str(stripe_subscription.get("status") or "")
    subscription.stripe_item_id = item.get("id", "")
    subscription.unit_amount_cents = (item.get("price") or {}).get("unit_amount")
    # Current API versions keep the period on the item, not on the subscription.
    subscription.current_period_end = _timestamp(item.get("current_period_end"))
    subscription.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
    if subscription.status in ("canceled", "incomplete_expired"):
        subscription.past_due_invoice_id = ""
        subscription.past_due_since = None
    subscription.save()
    account_data_changed(account_id=subscription.account_id)
