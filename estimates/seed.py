"""Copy a plain-data coefficient set (like ``coefficients_v1``) into the coefficient tables.

Takes the model classes as arguments so a data migration can pass its historical models.
"""

from django.utils import timezone

BAND_DESCRIPTIONS = {
    "casual": "A few chats a day with an assistant.",
    "worker": "AI woven into a working day: drafting, coding help, research.",
    "agentic": "Agents and coding tools running for hours, re-reading large contexts.",
    "extreme": "Fleets of agents or production traffic around the clock.",
}


def seed_coefficient_set(data, *, CoefficientSet, Coefficient, Band, ModelClassRule, active=True):
    """Create the set described by the module ``data``; returns it."""
    coefficient_set = CoefficientSet.objects.create(
        version=data.VERSION,
        is_active=active,
        activated_at=timezone.now() if active else None,
        notes=getattr(data, "NOTES", "Seeded defaults."),
    )

    def coefficient(group, name, spec, vendor=""):
        return Coefficient(
            coefficient_set=coefficient_set,
            group=group,
            vendor=vendor,
            name=name,
            value=spec["value"],
            low=spec.get("low"),
            high=spec.get("high"),
            confidence=spec.get("confidence", ""),
            sources="\n".join(spec.get("sources", ())),
        )

    rows = [coefficient("class_energy", k, v) for k, v in data.CLASS_ENERGY_WH_PER_MTOK.items()]
    rows += [coefficient("token_weight", k, v) for k, v in data.TOKEN_WEIGHTS.items()]
    for vendor, values in data.VENDORS.items():
        rows += [coefficient("vendor", k, v, vendor=vendor) for k, v in values.items()]
    rows += [
        coefficient("price", "price_per_tonne_usd", data.PRICE_PER_TONNE_USD),
        coefficient("price", "price_per_m3_usd", data.PRICE_PER_M3_USD),
        coefficient("price", "floor_usd", data.FLOOR_USD),
    ]
    Coefficient.objects.bulk_create(rows)
    Band.objects.bulk_create(
        Band(
            coefficient_set=coefficient_set,
            slug=band["slug"],
            name=band["name"],
            position=position,
            tokens_low=band["tokens_low"],
            tokens_high=band["tokens_high"],
            volume=band["volume"],
            mix_output=band["mix"]["output"],
            mix_uncached_input=band["mix"]["uncached_input"],
            mix_cache_write=band["mix"]["cache_write"],
            mix_cache_read=band["mix"]["cache_read"],
            model_class=band["model_class"],
            vendor=band["vendor"],
            description=BAND_DESCRIPTIONS.get(band["slug"], ""),
        )
        for position, band in enumerate(data.BANDS)
    )
    ModelClassRule.objects.bulk_create(
        ModelClassRule(
            coefficient_set=coefficient_set,
            vendor=vendor,
            position=position,
            pattern=pattern,
            model_class=model_class,
        )
        for position, (vendor, pattern, model_class) in enumerate(data.MODEL_CLASS_RULES)
    )
    return coefficient_set
