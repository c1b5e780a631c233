"""Every write to the offset and the subscription. The amount billed moves only here, and only
through an owner's explicit choice: ``offset_choose_band``, ``offset_set_custom``,
``offset_adopt_estimate``."""

import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from estimates.coefficients import NoActiveCoefficientSet, band_spec, coefficient_set_active
from estimates.models import CoefficientSet, Projection
from estimates.selectors import account_estimate
from tokenoffset.accounts.models import Account

from . import stripe_client
from .models import (
    CleanupAction,
    Offset,
    OffsetChange,
    OffsetKind,
    StripeCheckout,
    StripeCleanup,
    StripeEvent,
    Subscription,
)
from .selectors import MAX_CUSTOM_CENTS, band_offer, cents, floor_cents

log = logging.getLogger(__name__)


class OffsetError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PriceChanged(OffsetError):
    """The price shown on the confirmation page no longer holds; confirm again."""


def _usd(amount_cents: int) -> str:
    return f"${Decimal(amount_cents) / 100:,.2f}"


def _offset_apply(
    *,
    account: Account,
    user,
    kind: str,
    price_cents: int,
    reason: str,
    figures: dict,
    coefficient_set: CoefficientSet | None,
    band_slug: str = "",
    band_name: str = "",
    projection: Projection | None = None,
) -> OffsetChange:
    with transaction.atomic():
        # One change at a time per account: the history's from → to must chain.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        offset = Offset.objects.filter(account=account).first()
        if offset and (offset.kind, offset.band_slug, offset.price_cents) == (
            kind,
            band_slug,
            price_cents,
        ):
            raise OffsetError("That is already your offset in force.")
        subscription = Subscription.objects.filter(account=account).first()
        live = subscription is not None and subscription.is_live
        now = timezone.now()
        change = OffsetChange.objects.create(
            account=account,
            from_kind=offset.kind if offset else "",
            from_price_cents=offset.price_cents if offset else None,
            from_band_slug=offset.band_slug if offset else "",
            to_kind=kind,
            to_price_cents=price_cents,
            to_band_slug=band_slug,
            to_band_name=band_name,
            figures=figures,
            coefficient_set=coefficient_set,
            coefficient_set_version=coefficient_set.version if coefficient_set else "",
            projection=projection,
            reason=reason,
            chosen_by=user,
            created_at=now,
            effective_from=(subscription.current_period_end or now) if live else now,
        )
        Offset.objects.update_or_create(
            account=account,
            defaults={
                "kind": kind,
                "price_cents": price_cents,
                "band_slug": band_slug,
                "band_name": band_name,
                "figures": figures,
                "coefficient_set": coefficient_set,
                "coefficient_set_version": change.coefficient_set_version,
                "projection": projection,
                "chosen_by": user,
                "chosen_at": now,
            },
        )
    # Outside the transaction: never hold it open across an HTTP call.
    if live:
        subscription_price_sync_or_retry(change=change)
    return change


def offset_choose_band(*, account: Account, user, band_slug: str, expected_price_cents: int):
    """An owner picks a band of the active set at the price they were shown."""
    offer = band_offer(slug=band_slug)
    if offer is None:
        raise OffsetError("That band is not offered.")
    if offer.price_cents != expected_price_cents:
        raise PriceChanged(f"{offer.band.name} now costs {_usd(offer.price_cents)}; confirm again.")
    spec = band_spec(offer.band)
    figures = {
        "volume": spec.volume,
        "tokens_low": spec.tokens_low,
        "tokens_high": spec.tokens_high,
        "mix": {k: str(v) for k, v in spec.mix.items()},
        "model_class": spec.model_class,
        "vendor": spec.vendor,
        "range": offer.range_words,
    }
    return _offset_apply(
        account=account,
        user=user,
        kind=OffsetKind.BAND,
        price_cents=offer.price_cents,
        reason=f"Chose the {offer.band.name} band ({offer.band.coefficient_set.version})",
        figures=figures,
        coefficient_set=offer.band.coefficient_set,
        band_slug=offer.band.slug,
        band_name=offer.band.name,
    )


def offset_set_custom(*, account: Account, user, amount_cents: int) -> OffsetChange:
    """An owner sets a custom monthly amount: whole cents, from the plan floor to $10,000."""
    floor = floor_cents()
    if not floor <= amount_cents <= MAX_CUSTOM_CENTS:
        raise OffsetError(f"Choose an amount from {_usd(floor)} to {_usd(MAX_CUSTOM_CENTS)}.")
    try:
        coefficient_set = coefficient_set_active()
    except NoActiveCoefficientSet:
        coefficient_set = None
    return _offset_apply(
        account=account,
        user=user,
        kind=OffsetKind.CUSTOM,
        price_cents=amount_cents,
        reason=f"Set a custom amount of {_usd(amount_cents)}",
        figures={"amount_usd": f"{Decimal(amount_cents) / 100:.2f}"},
        coefficient_set=coefficient_set,
    )


def offset_adopt_estimate(*, account: Account, user, expected_price_cents: int) -> OffsetChange:
    """An owner adopts the account's latest estimate at the price they were shown."""
    estimate = account_estimate(account=account)
    if estimate is None:
        raise OffsetError("There is no estimate to adopt yet.")
    price_cents = cents(estimate.price_usd)
    if price_cents != expected_price_cents:
        raise PriceChanged(f"The estimate is now {_usd(price_cents)}; confirm again.")
    fp = estimate.footprint
    figures = {
        "monthly_tokens": estimate.monthly_tokens,
        "monthly_tokens_total": estimate.monthly_tokens_total,
        "provider_spend_usd": str(estimate.provider_spend_usd),
        "kwh": str(fp.kwh),
        "co2e_kg": str(fp.co2e_kg),
        "water_l": str(fp.water_l),
        "price_usd": str(estimate.price_usd),
        "sampled_at": estimate.sampled_at.isoformat(),
        "sources": [str(p.source.public_id) for p in estimate.projections],
    }
    newest = max(estimate.projections, key=lambda p: p.created_at)
    sampled = estimate.sampled_at
    return _offset_apply(
        account=account,
        user=user,
        kind=OffsetKind.ESTIMATE,
        price_cents=price_cents,
        reason=f"Adopted the estimate sampled {sampled.day} {sampled:%b %Y}",
        figures=figures,
        coefficient_set=estimate.coefficient_set,
        projection=newest,
    )


# --- Stripe -------------------------------------------------------------------------------


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


# Stripe charges nothing more for these; cancelling them again would be refused.
ENDED_STATUSES = {"canceled", "incomplete_expired"}


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


# --- Stripe cleanups: calls that must happen even after the account is gone ------------------

CLEANUP_LEASE = timedelta(minutes=5)
CLEANUP_BACKOFF_MAX_SECONDS = 6 * 3600
CLEANUP_LOUD_AFTER_ATTEMPTS = 5


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
