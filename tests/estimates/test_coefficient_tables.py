"""The seeded v1 set in the database gives exactly the published figures."""

from decimal import Decimal

import pytest

from estimates import coefficients_v1
from estimates.classify import model_class
from estimates.coefficients import (
    bands_priced,
    coefficient_set_active,
    coefficient_values,
    model_class_rules,
)
from estimates.models import CoefficientSet


@pytest.fixture
def v1(db):
    return coefficient_set_active()


def test_v1_is_seeded_active_and_matches_the_plain_data(v1):
    assert v1.version == "v1"
    assert coefficient_values(v1) == coefficients_v1.coefficient_values()


def test_band_prices_from_the_database(v1):
    prices = {priced.band.slug: priced.price_usd for priced in bands_priced(v1)}
    assert prices == {
        "casual": Decimal("1.99"),
        "worker": Decimal("1.99"),
        "agentic": Decimal("2.95"),
        "extreme": Decimal("32.74"),
    }


def test_database_rules_classify_like_the_seed(v1):
    rules = model_class_rules(v1)
    assert model_class("anthropic", "claude-opus-4-6", rules) == ("frontier", True)
    assert model_class("openai", "o3-mini", rules) == ("medium", True)
    assert model_class("openai", "mystery-model-9", rules) == ("large", False)


def test_a_set_becomes_referenced_once_a_projection_points_at_it(v1):
    assert v1.is_referenced is False
    other = CoefficientSet.objects.create(version="v2")
    assert other.is_referenced is False
