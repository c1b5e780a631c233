"""Thin Celery wrappers around billing services."""

from celery import shared_task

from tokenoffset.accounts.models import Account

from . import alerts, fulfilment, stripe_client
from .models import OffsetChange
from .stripe_cleanup import stripe_cleanups_run_due
from .subscriptions import subscription_price_sync


@shared_task(bind=True, max_retries=8, acks_late=True)
def subscription_price_sync_task(self, change_id: int) -> None:
    """Retry a Stripe price update; the idempotency key comes from the change, so it is safe."""
    change = OffsetChange.objects.filter(pk=change_id).first()
    if change is None:
        return
    try:
        subscription_price_sync(change=change)
    except stripe_client.PaymentsError as e:
        raise self.retry(exc=e, countdown=min(60 * 2**self.request.retries, 3600)) from e


@shared_task
def usage_alerts_weekly_fanout_task() -> None:
    """Sunday 10:00 UTC: check every account with an offset for a moved estimate."""
    for account_id in alerts.usage_alert_account_ids():
        usage_alert_task.delay(account_id)


@shared_task(acks_late=True)
def usage_alert_task(account_id: int) -> None:
    """Email the owners if the account's estimate moved more than 10%; never adopts."""
    account = Account.objects.filter(pk=account_id).first()
    if account is not None:
        alerts.usage_alert_check(account=account)


@shared_task(acks_late=True)
def stripe_cleanups_retry_task() -> None:
    """Every few minutes: retry the Stripe cleanups still pending (each backs off on failure)."""
    stripe_cleanups_run_due()


@shared_task(bind=True, max_retries=6, acks_late=True)
def fulfilment_batch_monthly_task(self, period: str = "") -> str:
    """The 5th at 06:00 UTC: order last month's removal (safe to re-run: never buys twice)."""
    try:
        report = fulfilment.batch_run(period=period or fulfilment.previous_period())
    except stripe_client.PaymentsError as e:
        raise self.retry(exc=e, countdown=min(600 * 2**self.request.retries, 6 * 3600)) from e
    return str(report)
