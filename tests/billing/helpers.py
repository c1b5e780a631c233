"""Billing test helpers: projections the pipeline would have stored, coefficient sets."""

from decimal import Decimal

from django.utils import timezone

from connectors.models import EstimateSource
from estimates.coefficients import coefficient_set_active
from estimates.models import Band, Coefficient, CoefficientSet, ModelClassRule, Projection
from tests.factories import EstimateSourceFactory, ProjectionFactory


def make_source(account, *, label="Acme org") -> EstimateSource:
    return EstimateSourceFactory(account=account, label=label)


def make_projection(
    source: EstimateSource,
    *,
    co2e_kg: Decimal | str = "10",
    water_l: Decimal | str = "50",
    trigger: str = "first",
    at=None,
) -> Projection:
    """A successful sample and its projection, as the sampling pipeline would store them."""
    return ProjectionFactory(
        source=source,
        co2e_kg=Decimal(co2e_kg),
        water_l=Decimal(water_l),
        trigger=trigger,
        at=at or timezone.now(),
    )


def activate_copy(*, price_per_tonne: str, version: str) -> CoefficientSet:
    """A new coefficient set: the active one with another $/tonne, activated."""
    active = coefficient_set_active()
    new = CoefficientSet.objects.create(version=version)
    Coefficient.objects.bulk_create(
        Coefficient(
            coefficient_set=new,
            group=c.group,
            vendor=c.vendor,
            name=c.name,
            value=Decimal(price_per_tonne) if c.name == "price_per_tonne_usd" else c.value,
            low=c.low,
            high=c.high,
            confidence=c.confidence,
            sources=c.sources,
        )
        for c in active.coefficients.all()
    )
    bands = list(active.bands.all())
    for band in bands:
        band.pk, band.coefficient_set = None, new
    Band.objects.bulk_create(bands)
    rules = list(active.model_class_rules.all())
    for rule in rules:
        rule.pk, rule.coefficient_set = None, new
    ModelClassRule.objects.bulk_create(rules)
    CoefficientSet.objects.filter(is_active=True).update(is_active=False)
    CoefficientSet.objects.filter(pk=new.pk).update(is_active=True, activated_at=timezone.now())
    new.refresh_from_db()
    return new
