"""Thin Celery wrappers around billing services."""

from celery import shared_task

from . import stripe_client
from .models import OffsetChange
from .services import subscription_price_sync


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
