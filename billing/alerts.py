"""The weekly "your usage moved — adopt?" email. It informs owners; it never adopts anything."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from estimates.selectors import account_estimate
from tokenoffset.accounts.emails import email_owners
from tokenoffset.accounts.models import Account

from .models import Offset, UsageAlert
from .selectors import cents, offset_in_force

# More than this relative difference between the estimate and what is billed is worth an email.
THRESHOLD = Decimal("0.10")
# At most one email a week. A little under 7 days, so next Sunday's run is not skipped because
# this week's email went out a few seconds after the hour.
MIN_INTERVAL = timedelta(days=6, hours=12)


def usage_moved(*, billed_cents: int, estimate_cents: int) -> bool:
    """True when the estimate differs from the billed price by more than 10%."""
    return abs(estimate_cents - billed_cents) > Decimal(billed_cents) * THRESHOLD


def usage_alert_enabled(*, account: Account) -> bool:
    """Owners get the email unless one of them turned it off."""
    return not UsageAlert.objects.filter(account=account, enabled=False).exists()


def usage_alert_set(*, account: Account, enabled: bool) -> UsageAlert:
    """Turn the weekly email on or off for the account."""
    alert, _ = UsageAlert.objects.update_or_create(account=account, defaults={"enabled": enabled})
    return alert


def usage_alert_account_ids() -> list[int]:
    """Accounts with an offset in force that did not turn the email off."""
    disabled = UsageAlert.objects.filter(enabled=False).values("account_id")
    return list(
        Offset.objects.exclude(account_id__in=disabled)
        .order_by("account_id")
        .values_list("account_id", flat=True)
    )


def usage_alert_check(*, account: Account, now: datetime | None = None) -> bool:
    """Email the owners when the estimate moved more than 10% from what is billed.

    Returns True when an email went out. Reads the offset, never writes it.
    """
    now = now or timezone.now()
    alert, _ = UsageAlert.objects.get_or_create(account=account)
    due = Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - MIN_INTERVAL)
    if not alert.enabled or not UsageAlert.objects.filter(due, pk=alert.pk).exists():
        return False
    offset = offset_in_force(account=account)
    estimate = account_estimate(account=account)
    if offset is None or estimate is None:
        return False
    estimate_cents = cents(estimate.price_usd)
    if not usage_moved(billed_cents=offset.price_cents, estimate_cents=estimate_cents):
        return False
    # Claim this week's email with a conditional UPDATE: two runs at once send one email.
    claimed = (
        UsageAlert.objects.filter(due, pk=alert.pk, enabled=True).update(
            last_sent_at=now,
            last_billed_cents=offset.price_cents,
            last_estimate_cents=estimate_cents,
        )
        == 1
    )
    if claimed:
        _email(account=account, billed_cents=offset.price_cents, estimate=estimate)
    return claimed


def _email(*, account: Account, billed_cents: int, estimate) -> None:
    billed = Decimal(billed_cents) / 100
    new = Decimal(cents(estimate.price_usd)) / 100
    change = (new - billed) / billed * 100 if billed else Decimal(100)
    direction = "up" if new > billed else "down"
    link = settings.SITE_URL + reverse("billing:home")
    email_owners(
        account=account,
        subject="Your usage moved — adopt?",
        body=(
            f"The latest estimate for {account.name}, sampled "
            f"{estimate.sampled_at:%d %b %Y}, prices your offset at ${new:,.2f} a month. "
            f"You pay ${billed:,.2f} a month: the estimate is {direction} "
            f"{abs(change):.0f}%.\n\n"
            "Nothing changes unless an owner adopts the new number. Review it and adopt it, or "
            f"keep what you have: {link}\n\n"
            "You get this at most once a week. Owners can turn it off on the billing page."
        ),
    )
