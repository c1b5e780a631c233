"""Coefficient set v3 as plain data: v2, with the carbon price set to what removal costs.

Price = cost: the price per tonne is the total price per tonne (Frontier's fee included) of the
Stripe Climate product the monthly order buys — Frontier's 2027 offtake portfolio, $550.00/t
plus a $16.50 fee, $566.50/t in Stripe's reference example. Seeded inactive: staff compare it
with the live price shown in the admin, then activate it. Like v1 and v2, nothing here imports
Django or changes once a data migration has seeded it.
"""

from estimates import coefficients_v1 as _v1
from estimates import coefficients_v2 as _v2
from estimates.footprint import BandSpec, CoefficientValues

VERSION = "v3"

CLASS_ENERGY_WH_PER_MTOK = _v2.CLASS_ENERGY_WH_PER_MTOK
TOKEN_WEIGHTS = _v2.TOKEN_WEIGHTS
VENDORS = _v2.VENDORS
PRICE_PER_TONNE_USD = _v1._c(
    "566.50",
    "515",
    "566.50",
    "high",
    "Stripe Climate, Frontier's 2027 offtake portfolio: current_prices_per_metric_ton.usd "
    "amount_total 56650 (subtotal 55000 + fees 1650), https://docs.stripe.com/api/climate/product",
)
PRICE_PER_M3_USD = _v2.PRICE_PER_M3_USD
FLOOR_USD = _v2.FLOOR_USD
BANDS = _v2.BANDS
MODEL_CLASS_RULES = _v2.MODEL_CLASS_RULES

NOTES = (
    "v2 with the carbon price at the Stripe Climate product's total price per tonne, fees "
    "included ($566.50/t, Frontier 2027 portfolio): every tonne billed is a tonne bought."
)


def coefficient_values() -> CoefficientValues:
    """The v3 numbers as the pure functions take them."""
    base = _v2.coefficient_values()
    return CoefficientValues(
        version=VERSION,
        class_energy_wh=base.class_energy_wh,
        token_weights=base.token_weights,
        vendors=base.vendors,
        price_per_tonne_usd=PRICE_PER_TONNE_USD["value"],
        price_per_m3_usd=base.price_per_m3_usd,
        floor_usd=base.floor_usd,
    )


def band_specs() -> tuple[BandSpec, ...]:
    return tuple(BandSpec(**band) for band in BANDS)
