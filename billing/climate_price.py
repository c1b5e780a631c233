"""Price = cost: a coefficient set's carbon price per tonne must cover the Stripe Climate
product's live total price per tonne (Frontier's fee included)."""

from decimal import Decimal

from django.conf import settings

from estimates.models import CoefficientSet

from .models import ClimateProduct


class PriceBelowCost(Exception):
    """The set's carbon price would not buy the tonnes it bills for."""


def _set_price(coefficient_set: CoefficientSet) -> Decimal | None:
    row = coefficient_set.coefficients.filter(group="price", name="price_per_tonne_usd").first()
    return row.value if row else None


def _live_product() -> ClimateProduct | None:
    return ClimateProduct.objects.filter(product_id=settings.STRIPE_CLIMATE_PRODUCT_ID).first()


def coefficient_set_price_check(*, coefficient_set: CoefficientSet) -> None:
    """Raise PriceBelowCost if the set is priced under the product's live price per tonne.

    With no live price known yet (no refresh so far), nothing is blocked.
    """
    product = _live_product()
    price = _set_price(coefficient_set)
    if product is None or product.price_total_usd is None or price is None:
        return
    if price < product.price_total_usd:
        raise PriceBelowCost(
            f"{coefficient_set.version} prices removal at ${price:,.2f}/t, below the "
            f"${product.price_total_usd:,.2f}/t {product.product_id} costs now (fees "
            "included); it was not activated."
        )


def live_price_words(*, coefficient_set: CoefficientSet) -> str:
    """ "$566.50/t vs live $566.50/t (ok)" for the admin."""
    product = _live_product()
    price = _set_price(coefficient_set)
    mine = f"${price:,.2f}/t" if price is not None else "no price"
    if product is None or product.price_total_usd is None:
        return f"{mine}; live price not fetched yet"
    verdict = "below cost" if price is not None and price < product.price_total_usd else "ok"
    return f"{mine} vs live ${product.price_total_usd:,.2f}/t ({verdict})"
