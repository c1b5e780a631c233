"""The public pages: the methodology (from the coefficient tables in force), sources, privacy."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.shortcuts import render

from connectors import registry
from estimates import backtest
from estimates.coefficients import (
    NoActiveCoefficientSet,
    band_spec,
    bands_priced,
    coefficient_set_active,
    coefficient_values,
)
from estimates.footprint import (
    MODEL_CLASSES,
    CoefficientValues,
    Footprint,
    band_price,
    band_usage,
    footprint,
)
from estimates.models import Band, Coefficient, CoefficientGroup, CoefficientSet

VENDOR_ORDER = ("anthropic", "openai", "google", "unknown")
VENDOR_LABELS = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google"}
NAME_LABELS = {
    # token types
    "output": "Output (reasoning included)",
    "uncached_input": "Input, uncached",
    "cache_write": "Cache write",
    "cache_read": "Cache read",
    # per vendor
    "pue": "PUE: facility energy per unit of server energy",
    "water_onsite_l_per_it_kwh": "On-site water, L per server kWh",
    "water_offsite_l_per_kwh": "Off-site water (electricity generation), L per facility kWh",
    "grid_kg_per_kwh": "Grid intensity, kg CO₂e per kWh (location-based)",
    "embodied_uplift": "Embodied emissions (hardware, buildings), added to operational CO₂e",
    # price
    "price_per_tonne_usd": "Durable carbon removal, $ per tonne CO₂e",
    "price_per_m3_usd": "Water restoration, $ per m³",
    "floor_usd": "Plan floor, $ per month",
}
CLASS_EXAMPLES = {
    "small": "Claude 3 / 3.5 Haiku, gpt-4o-mini, gpt-4.1-nano, gpt-5-nano, Gemini Flash-Lite, "
    "Gemma, embeddings",
    "medium": "Claude Haiku 4.5, gpt-5-mini, gpt-4.1-mini, o4-mini, o3-mini, gpt-5-codex-mini, "
    "Gemini Flash",
    "large": "Claude Sonnet 3.7 – 4.6, gpt-4o, gpt-4.1, gpt-5, gpt-5-codex, o1, o3, Gemini Pro; "
    "models of unknown make (Cursor's composer-1, auto)",
    "frontier": "Claude Opus 4.5 and later",
    "frontier_xl": "Claude Opus 4 / 4.1, Claude 3 Opus, gpt-4.5, o1-pro, o3-pro, gpt-5-pro",
}
# Anchor query of the public disclosures: 500 input and 300 output tokens.
ANCHOR_INPUT, ANCHOR_OUTPUT = 500, 300


@dataclass
class Row:
    name: str
    label: str
    cells: list  # Coefficient rows (one per column); None where a column has none
    refs: list[int] = field(default_factory=list)
    examples: str = ""


class References:
    """Numbered public sources, in order of first citation."""

    def __init__(self):
        self.items: list[str] = []

    def cite(self, coefficients) -> list[int]:
        numbers: list[int] = []
        for coefficient in coefficients:
            if coefficient is None:
                continue
            for source in filter(None, (s.strip() for s in coefficient.sources.splitlines())):
                if source not in self.items:
                    self.items.append(source)
                number = self.items.index(source) + 1
                if number not in numbers:
                    numbers.append(number)
        return sorted(numbers)


def coefficient_tables(coefficient_set: CoefficientSet) -> dict:
    """The set's rows grouped for display, each citing numbered references."""
    rows = list(Coefficient.objects.filter(coefficient_set=coefficient_set).order_by("id"))
    refs = References()

    def simple(group: str, order=None) -> list[Row]:
        picked = [c for c in rows if c.group == group]
        if order:
            picked.sort(key=lambda c: order.index(c.name) if c.name in order else len(order))
        return [
            Row(
                c.name,
                NAME_LABELS.get(c.name, c.name),
                [c],
                refs.cite([c]),
                CLASS_EXAMPLES.get(c.name, ""),
            )
            for c in picked
        ]

    class_energy = simple(CoefficientGroup.CLASS_ENERGY, MODEL_CLASSES)
    weights = simple(CoefficientGroup.TOKEN_WEIGHT)
    vendor_rows = [c for c in rows if c.group == CoefficientGroup.VENDOR]
    present = {c.vendor for c in vendor_rows}
    vendors = [v for v in VENDOR_ORDER if v in present] + sorted(present - set(VENDOR_ORDER))
    names = list(dict.fromkeys(c.name for c in vendor_rows))
    by_key = {(c.name, c.vendor): c for c in vendor_rows}
    per_vendor = []
    for name in names:
        cells = [by_key.get((name, v)) for v in vendors]
        per_vendor.append(Row(name, NAME_LABELS.get(name, name), cells, refs.cite(cells)))
    return {
        "class_energy": class_energy,
        "weights": weights,
        "weights_by_name": {row.name: row.cells[0].value for row in weights},
        "vendors": [VENDOR_LABELS.get(v, v.capitalize()) for v in vendors],
        "per_vendor": per_vendor,
        "price": simple(CoefficientGroup.PRICE),
        "references": refs.items,
    }


def anchor_query_wh(values: CoefficientValues) -> Decimal | None:
    """Facility Wh of a 500-in / 300-out query on ``large`` at the unknown vendor's PUE."""
    try:
        weighted = ANCHOR_OUTPUT * values.token_weights["output"] + (
            ANCHOR_INPUT * values.token_weights["uncached_input"]
        )
        return values.class_energy_wh["large"] * weighted / 1_000_000 * values.vendor("unknown").pue
    except KeyError:
        return None


def backtest_rows() -> list[backtest.Row]:
    """The projection's backtest, run once per method version (the results cannot change)."""
    key = f"methodology:backtest:{backtest.METHOD_VERSION}"
    return cache.get_or_set(key, backtest.run, timeout=None)


def methodology(request):
    try:
        active = coefficient_set_active()
    except NoActiveCoefficientSet:
        active = None
    context = {
        "active": active,
        "history": CoefficientSet.objects.order_by("-created_at"),
        "backtest": backtest_rows(),
        "backtest_method": backtest.METHOD_VERSION,
        "backtest_seeds": len(backtest.SEEDS),
    }
    if active is not None:
        values = coefficient_values(active)
        context.update(
            tables=coefficient_tables(active),
            bands=bands_priced(active),
            floor_usd=values.floor_usd,
            values=values,
            anchor_wh=anchor_query_wh(values),
        )
    return render(request, "docs/methodology.html", context)


@dataclass(frozen=True)
class Example:
    """A band's representative month, shown as the dashboard would show it."""

    band: Band
    tokens: dict[str, Decimal]
    footprint: Footprint
    price_usd: Decimal


def example_month(active: CoefficientSet, band_slug: str = "agentic") -> Example | None:
    band = active.bands.filter(slug=band_slug).first() or active.bands.last()
    if band is None:
        return None
    spec = band_spec(band)
    values = coefficient_values(active)
    fp = footprint(band_usage(spec), values)
    (tokens,) = band_usage(spec).values()
    return Example(band=band, tokens=tokens, footprint=fp, price_usd=band_price(spec, values))


def front(request):
    """The front page for visitors: what we do, the bands, how a source sharpens the number."""
    try:
        active = coefficient_set_active()
    except NoActiveCoefficientSet:
        active = None
    context = {
        "bands": bands_priced(active) if active else [],
        "example": example_month(active) if active else None,
        "connectors": list(registry.CONNECTORS.values()),
    }
    return render(request, "public/front.html", context)


def sources(request):
    return render(request, "docs/sources.html")


def privacy(request):
    return render(request, "privacy.html")
