"""Reading coefficient sets from the database into the pure math's value objects."""

from dataclasses import dataclass
from decimal import Decimal

from .footprint import (
    BandSpec,
    CoefficientValues,
    VendorCoefficients,
    band_footprint_cost,
    band_price,
)
from .models import Band, CoefficientGroup, CoefficientSet, ModelClassRule


class NoActiveCoefficientSet(Exception):
    pass


def coefficient_set_active() -> CoefficientSet:
    """The set new projections use."""
    coefficient_set = CoefficientSet.objects.filter(is_active=True).first()
    if coefficient_set is None:
        raise NoActiveCoefficientSet("No coefficient set is active; activate one in the admin.")
    return coefficient_set


def coefficient_values(coefficient_set: CoefficientSet) -> CoefficientValues:
    """Everything the footprint and price functions need, from one set's rows."""
    groups: dict[str, dict] = {"class_energy": {}, "token_weight": {}, "price": {}}
    vendors: dict[str, dict[str, Decimal]] = {}
    for row in coefficient_set.coefficients.all():
        if row.group == CoefficientGroup.VENDOR:
            vendors.setdefault(row.vendor, {})[row.name] = row.value
        else:
            groups[row.group][row.name] = row.value
    return CoefficientValues(
        version=coefficient_set.version,
        class_energy_wh=groups["class_energy"],
        token_weights=groups["token_weight"],
        vendors={name: VendorCoefficients(**values) for name, values in vendors.items()},
        price_per_tonne_usd=groups["price"]["price_per_tonne_usd"],
        price_per_m3_usd=groups["price"]["price_per_m3_usd"],
        floor_usd=groups["price"]["floor_usd"],
    )


def band_spec(band: Band) -> BandSpec:
    return BandSpec(
        slug=band.slug,
        name=band.name,
        tokens_low=band.tokens_low,
        tokens_high=band.tokens_high,
        volume=band.volume,
        mix={
            "output": band.mix_output,
            "uncached_input": band.mix_uncached_input,
            "cache_write": band.mix_cache_write,
            "cache_read": band.mix_cache_read,
        },
        model_class=band.model_class,
        vendor=band.vendor,
    )


@dataclass(frozen=True)
class PricedBand:
    band: Band
    price_usd: Decimal  # the monthly price, plan minimum applied
    footprint_usd: Decimal  # what the band's own footprint costs, rounded up to the cent

    @property
    def at_floor(self) -> bool:
        """Priced at the plan minimum: the footprint costs less, the rest funds extra removal."""
        return self.footprint_usd < self.price_usd


def bands_priced(coefficient_set: CoefficientSet) -> list[PricedBand]:
    """The set's bands with their monthly price in dollars, in display order."""
    values = coefficient_values(coefficient_set)
    return [
        PricedBand(
            band=band,
            price_usd=band_price(spec := band_spec(band), values),
            footprint_usd=band_footprint_cost(spec, values),
        )
        for band in coefficient_set.bands.all()
    ]


def band_for_tokens(bands: list[Band], monthly_tokens: int) -> Band | None:
    """The band whose range [tokens_low, tokens_high) holds this monthly volume."""
    for band in bands:
        low, high = band.tokens_low, band.tokens_high
        if low <= monthly_tokens and (high is None or monthly_tokens < high):
            return band
    return None


def model_class_rules(coefficient_set: CoefficientSet) -> list[ModelClassRule]:
    return list(coefficient_set.model_class_rules.order_by("vendor", "position"))
