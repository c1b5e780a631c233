from .models import Subscription


def billing_banner(request):
    """``billing_past_due`` for the site-wide banner; queried only when a template asks."""
    account = getattr(request, "account", None)
    if account is None:
        return {}

    def past_due() -> bool:
        subscription = Subscription.objects.filter(account=account).first()
        return subscription is not None and subscription.is_past_due

    return {"billing_past_due": past_due}
