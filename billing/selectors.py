"""Tenant-scoped reads of the offset in force, its history and what an owner could adopt."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from estimates.coefficients import (
    NoActiveCoefficientSet,
    band_for_tokens,
    bands_priced,
    coefficient_set_active,
    coefficient_values,
)
from estimates.models import Band, CoefficientSet
from estimates.selectors import AccountEstimate, account_estimate

from . import stripe_client
from .models import Offset, OffsetChange, Subscription

SUGGESTED_BAND = "worker"
MAX_CUSTOM_CENTS = 1_000_000  # $10,000 a month
DEFAULT_FLOOR_CENTS = 199


def cents(amount_usd: Decimal) -> int:
    """Dollars (already whole cents, or rounded up to the cent) as integer cents."""
    return int((amount_usd * 100).to_integral_value(rounding=ROUND_CEILING))


def offset_in_force(*, account) -> Offset | None:
    """The account's offset in force, or None until an owner picks one."""
    return (
        Offset.objects.filter(account=account)
        .select_related("coefficient_set", "chosen_by")
        .first()
    )


def offset_json(*, account) -> dict | None:
    """The offset in force in the shape /api/v1/estimate returns beside the estimate."""
    offset = offset_in_force(account=account)
    if offset is None:
        return None
    return {
        "kind": offset.kind,
        "band": offset.band_slug or None,
        "monthly_price_usd": f"{offset.price_usd:.2f}",
        "adopted_at": offset.chosen_at.isoformat(),
    }


def offset_changes(*, account, limit: int = 50) -> list[OffsetChange]:
    return list(OffsetChange.objects.filter(account=account).select_related("chosen_by")[:limit])


def subscription_of(*, account) -> Subscription | None:
    return Subscription.objects.filter(account=account).first()


def floor_cents() -> int:
    """The plan floor of the active coefficient set."""
    try:
        return cents(coefficient_values(coefficient_set_active()).floor_usd)
    except NoActiveCoefficientSet:
        return DEFAULT_FLOOR_CENTS


def _tokens_in_words(n: int) -> str:
    for size, word in ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")):
        if n >= size:
            value = Decimal(n) / size
            return f"{value.normalize():f} {word}"
    return str(n)


def band_range_words(band: Band) -> str:
    if not band.tokens_low:
        return f"under {_tokens_in_words(band.tokens_high)} tokens a month"
    if band.tokens_high is None:
        return f"more than {_tokens_in_words(band.tokens_low)} tokens a month"
    low, high = _tokens_in_words(band.tokens_low), _tokens_in_words(band.tokens_high)
    return f"{low} to {high} tokens a month"


@dataclass(frozen=True)
class BandOffer:
    band: Band
    price_usd: Decimal
    price_cents: int
    range_words: str
    suggested: bool
    footprint_usd: Decimal  # the band's own footprint cost; below price_usd at the plan minimum

    @property
    def at_floor(self) -> bool:
        return self.footprint_usd < self.price_usd


def band_offers(
    *, coefficient_set: CoefficientSet | None = None, monthly_tokens: int | None = None
) -> list[BandOffer]:
    """The active set's bands priced, in display order (empty without an active set); the
    suggested one holds ``monthly_tokens`` (an estimate's), or is Worker when nothing is known."""
    try:
        coefficient_set = coefficient_set or coefficient_set_active()
    except NoActiveCoefficientSet:
        return []
    priced = bands_priced(coefficient_set)
    suggested = band_suggested([p.band for p in priced], monthly_tokens)
    return [
        BandOffer(
            band=p.band,
            price_usd=p.price_usd,
            price_cents=cents(p.price_usd),
            range_words=band_range_words(p.band),
            suggested=p.band.slug == suggested,
            footprint_usd=p.footprint_usd,
        )
        for p in priced
    ]


def band_suggested(bands: list[Band], monthly_tokens: int | None) -> str:
    """The slug of the band whose range holds the estimated monthly tokens; Worker without one."""
    if monthly_tokens is not None:
        band = band_for_tokens(bands, monthly_tokens)
        if band is not None:
            return band.slug
    return SUGGESTED_BAND


def band_offer(*, slug: str) -> BandOffer | None:
    return next((o for o in band_offers() if o.band.slug == slug), None)


def band_repriced(*, offset: Offset | None) -> BandOffer | None:
    """The account's band under the active set, when that prices it differently."""
    if offset is None or offset.kind != "band":
        return None
    offer = band_offer(slug=offset.band_slug)
    if offer is None or offer.price_cents == offset.price_cents:
        return None
    return offer


def estimate_offer(
    *, account, offset: Offset | None, estimate: AccountEstimate | None = None
) -> AccountEstimate | None:
    """The account's estimate when its price differs from the billed price by a cent or more."""
    estimate = estimate or account_estimate(account=account)
    if estimate is None:
        return None
    if offset is not None and cents(estimate.price_usd) == offset.price_cents:
        return None
    return estimate


@dataclass(frozen=True)
class BillingOverview:
    offset: Offset | None
    subscription: Subscription | None
    changes: list[OffsetChange]
    bands: list[BandOffer]
    repriced: BandOffer | None
    estimate: AccountEstimate | None
    floor_cents: int
    max_custom_cents: int

    @property
    def floor_usd(self) -> Decimal:
        return Decimal(self.floor_cents) / 100


def billing_overview(*, account) -> BillingOverview:
    """Everything the billing page (and the dashboard's offset card) shows."""
    offset = offset_in_force(account=account)
    estimate = account_estimate(account=account)
    return BillingOverview(
        offset=offset,
        subscription=subscription_of(account=account),
        changes=offset_changes(account=account),
        # The suggested band holds the estimate, whether or not it is the offset in force.
        bands=band_offers(monthly_tokens=estimate.monthly_tokens_total if estimate else None),
        repriced=band_repriced(offset=offset),
        estimate=estimate_offer(account=account, offset=offset, estimate=estimate),
        floor_cents=floor_cents(),
        max_custom_cents=MAX_CUSTOM_CENTS,
    )


def payments_configured() -> bool:
    return stripe_client.is_configured()


def takes_effect_words(*, subscription: Subscription | None) -> str:
    """When a new amount would take effect, in words, for the confirmation page."""
    if subscription is not None and subscription.is_live:
        if subscription.current_period_end:
            end = subscription.current_period_end
            return f"from your next billing period, starting {end.day} {end:%B %Y}"
        return "from your next billing period"
    if subscription is not None and subscription.stripe_subscription_id:
        return "now — your subscription has ended, so nothing is being paid"
    return "now — it becomes your monthly price when you subscribe"
