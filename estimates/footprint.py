"""Monthly token counts -> energy, CO2e, water and price. Pure functions, Decimal throughout.

The formula, per vendor and model class (token counts per month)::

    IT_Wh  = E_out[class] × Σ(weight[type] × tokens[type]) / 1e6
    kWh    = IT_Wh × PUE / 1000
    kgCO2e = kWh × grid_intensity × (1 + embodied_uplift)
    litres = IT_Wh / 1000 × water_onsite + kWh × water_offsite

summed over classes and vendors, then priced once::

    price  = max(floor, kgCO2e / 1000 × $/t + litres / 1000 × $/m³), rounded up to the cent

Decimal matters: in float64, 250M output tokens on ``large`` at the unknown vendor's
coefficients comes to $43.510000000000005 and rounds up to $43.52; the exact price is $43.51.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal, localcontext

TOKEN_TYPES = ("uncached_input", "cache_read", "cache_write", "output")
MODEL_CLASSES = ("small", "medium", "large", "frontier", "frontier_xl")
UNKNOWN_VENDOR = "unknown"

_ZERO = Decimal(0)
_THOUSAND = Decimal(1000)
_MILLION = Decimal(1_000_000)
_CENT = Decimal("0.01")
# Enough digits that every step from integer token counts to dollars is exact; the global
# context (which other code may change) is never relied on.
_CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN)

Usage = Mapping[tuple[str, str], Mapping[str, int | Decimal]]


@dataclass(frozen=True)
class VendorCoefficients:
    pue: Decimal
    water_onsite_l_per_it_kwh: Decimal
    water_offsite_l_per_kwh: Decimal
    grid_kg_per_kwh: Decimal
    embodied_uplift: Decimal


@dataclass(frozen=True)
class CoefficientValues:
    """Everything the footprint and price need from one coefficient set."""

    version: str
    class_energy_wh: Mapping[str, Decimal]  # Wh per 1M output tokens, by model class
    token_weights: Mapping[str, Decimal]  # relative to an output token, by token type
    vendors: Mapping[str, VendorCoefficients]  # must include "unknown"
    price_per_tonne_usd: Decimal
    price_per_m3_usd: Decimal
    floor_usd: Decimal

    def vendor(self, name: str) -> VendorCoefficients:
        """The vendor's coefficients, or the "unknown" vendor's for anything unlisted."""
        return self.vendors.get(name.lower(), self.vendors[UNKNOWN_VENDOR])


@dataclass(frozen=True)
class BandSpec:
    slug: str
    name: str
    tokens_low: int
    tokens_high: int | None  # None: no upper bound
    volume: int  # representative tokens per month
    mix: Mapping[str, Decimal]  # fraction of volume by token type
    model_class: str
    vendor: str


@dataclass(frozen=True)
class Footprint:
    it_kwh: Decimal
    kwh: Decimal
    co2e_kg: Decimal
    water_l: Decimal

    def __add__(self, other: "Footprint") -> "Footprint":
        if not isinstance(other, Footprint):
            return NotImplemented
        return Footprint(
            it_kwh=self.it_kwh + other.it_kwh,
            kwh=self.kwh + other.kwh,
            co2e_kg=self.co2e_kg + other.co2e_kg,
            water_l=self.water_l + other.water_l,
        )


ZERO_FOOTPRINT = Footprint(it_kwh=_ZERO, kwh=_ZERO, co2e_kg=_ZERO, water_l=_ZERO)


def weighted_output_tokens(
    tokens: Mapping[str, int | Decimal], weights: Mapping[str, Decimal]
) -> Decimal:
    """Tokens of all types expressed as output-token equivalents."""
    total = _ZERO
    for token_type, count in tokens.items():
        if token_type not in weights:
            # Refuse rather than guess: a stray column (e.g. the 1-hour part of cache writes,
            # already inside cache_write) would otherwise be counted twice or silently dropped.
            raise ValueError(f"unknown token type {token_type!r}")
        total += weights[token_type] * Decimal(count)
    return total


def footprint(usage: Usage, coefficients: CoefficientValues) -> Footprint:
    """Footprint of monthly tokens keyed by (vendor, model class), then by token type."""
    it_wh_by_vendor: dict[str, Decimal] = {}
    with localcontext(_CONTEXT):
        for (vendor, model_class), tokens in usage.items():
            if model_class not in coefficients.class_energy_wh:
                raise ValueError(f"unknown model class {model_class!r}")
            weighted = weighted_output_tokens(tokens, coefficients.token_weights)
            it_wh = coefficients.class_energy_wh[model_class] * weighted / _MILLION
            key = vendor.lower() if vendor.lower() in coefficients.vendors else UNKNOWN_VENDOR
            it_wh_by_vendor[key] = it_wh_by_vendor.get(key, _ZERO) + it_wh

        total = ZERO_FOOTPRINT
        for vendor, it_wh in it_wh_by_vendor.items():
            v = coefficients.vendor(vendor)
            it_kwh = it_wh / _THOUSAND
            kwh = it_kwh * v.pue
            total += Footprint(
                it_kwh=it_kwh,
                kwh=kwh,
                co2e_kg=kwh * v.grid_kg_per_kwh * (1 + v.embodied_uplift),
                water_l=it_kwh * v.water_onsite_l_per_it_kwh + kwh * v.water_offsite_l_per_kwh,
            )
        return total


def removal_usd(fp: Footprint, coefficients: CoefficientValues) -> Decimal:
    with localcontext(_CONTEXT):
        return fp.co2e_kg / _THOUSAND * coefficients.price_per_tonne_usd


def water_usd(fp: Footprint, coefficients: CoefficientValues) -> Decimal:
    with localcontext(_CONTEXT):
        return fp.water_l / _THOUSAND * coefficients.price_per_m3_usd


def raw_price(fp: Footprint, coefficients: CoefficientValues) -> Decimal:
    """Removal plus water restoration, unrounded and before the floor."""
    with localcontext(_CONTEXT):
        return removal_usd(fp, coefficients) + water_usd(fp, coefficients)


def price(fp: Footprint, coefficients: CoefficientValues) -> Decimal:
    """The monthly price: floor applied, rounded up to the cent.

    Round once, on the account's total footprint: summing per-source rounded prices would add
    up to a cent per source.
    """
    with localcontext(_CONTEXT):
        amount = max(coefficients.floor_usd, raw_price(fp, coefficients))
        return amount.quantize(_CENT, rounding=ROUND_CEILING)


def footprint_cost(fp: Footprint, coefficients: CoefficientValues) -> Decimal:
    """What offsetting the footprint itself costs: removal plus water, rounded up to the cent,
    before the plan minimum (the floor's surplus funds extra removal)."""
    with localcontext(_CONTEXT):
        return raw_price(fp, coefficients).quantize(_CENT, rounding=ROUND_CEILING)


def band_usage(band: BandSpec) -> dict[tuple[str, str], dict[str, Decimal]]:
    """The band's representative monthly usage in the shape ``footprint`` takes."""
    with localcontext(_CONTEXT):
        tokens = {t: Decimal(band.volume) * band.mix.get(t, _ZERO) for t in TOKEN_TYPES}
    return {(band.vendor, band.model_class): tokens}


def band_price(band: BandSpec, coefficients: CoefficientValues) -> Decimal:
    """A band's price, by the same function as an estimate of the same usage."""
    return price(footprint(band_usage(band), coefficients), coefficients)


def band_footprint_cost(band: BandSpec, coefficients: CoefficientValues) -> Decimal:
    """What the band's own footprint costs to offset, before the plan minimum."""
    return footprint_cost(footprint(band_usage(band), coefficients), coefficients)
