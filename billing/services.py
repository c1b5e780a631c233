"""Every write to the offset. The amount billed moves only here, and only through an owner's
explicit choice: ``offset_choose_band``, ``offset_set_custom``, ``offset_adopt_estimate``.

The Stripe side lives in ``subscriptions`` (price, Checkout, portal, state) and
``stripe_cleanup`` (calls that outlive an account)."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from estimates.coefficients import NoActiveCoefficientSet, band_spec, coefficient_set_active
from estimates.models import CoefficientSet, Projection
from estimates.selectors import account_estimate
from tokenoffset.accounts.models import Account
from tokenoffset.accounts.services import account_data_changed

from .errors import OffsetError, PriceChanged
from .models import Offset, OffsetChange, OffsetKind, Subscription
from .selectors import MAX_CUSTOM_CENTS, band_offer, cents, floor_cents
from .subscriptions import subscription_price_sync_or_retry


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
        account_data_changed(account_id=account.pk)
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
