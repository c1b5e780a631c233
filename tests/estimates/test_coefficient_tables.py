"""The seeded sets in the database give exactly the published figures: v1 kept, v2 in force."""

from decimal import Decimal

import pytest

from estimates import coefficients_v1, coefficients_v2
from estimates.classify import model_class
from estimates.coefficients import (
    bands_priced,
    coefficient_set_active,
    coefficient_values,
    model_class_rules,
)
from estimates.models import CoefficientSet

PUBLISHED_BAND_PRICES = {
    "casual": Decimal("1.99"),
    "worker": Decimal("1.99"),
    "agentic": Decimal("2.95"),
    "extreme": Decimal("32.74"),
}


@pytest.fixture
def v1(db):
    return CoefficientSet.objects.get(version="v1")


@pytest.fixture
def v2(db):
    return CoefficientSet.objects.get(version="v2")


def test_v1_is_seeded_and_matches_the_plain_data(v1):
    assert coefficient_values(v1) == coefficients_v1.coefficient_values()
    rules = [(r.vendor, r.pattern, r.model_class) for r in model_class_rules(v1)]
    assert sorted(rules) == sorted(coefficients_v1.MODEL_CLASS_RULES)


def test_v2_is_the_set_in_force_and_v1_is_kept_inactive(v1, v2):
    assert coefficient_set_active() == v2
    assert not v1.is_active and v2.activated_at is not None
    assert coefficient_values(v2) == coefficients_v2.coefficient_values()
    rules = [(r.vendor, r.pattern, r.model_class) for r in model_class_rules(v2)]
    assert sorted(rules) == sorted(coefficients_v2.MODEL_CLASS_RULES)


def test_v2_changes_no_coefficient_of_v1_only_the_version(v1, v2):
    old, new = coefficient_values(v1), coefficient_values(v2)
    assert (old.version, new.version) == ("v1", "v2")
    assert old.__dict__ | {"version": "v2"} == new.__dict__
    columns = ("group", "vendor", "name", "value", "low", "high", "confidence", "sources")
    assert sorted(v1.coefficients.values_list(*columns)) == sorted(
        v2.coefficients.values_list(*columns)
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_band_prices_from_the_database(db, version):
    coefficient_set = CoefficientSet.objects.get(version=version)
    prices = {p.band.slug: p.price_usd for p in bands_priced(coefficient_set)}
    assert prices == PUBLISHED_BAND_PRICES


def test_database_rules_classify_like_the_seed(v1):
    rules = model_class_rules(v1)
    assert model_class("anthropic", "claude-opus-4-6", rules) == ("frontier", True)
    assert model_class("openai", "o3-mini", rules) == ("medium", True)
    assert model_class("openai", "mystery-model-9", rules) == ("large", False)


def test_v2_rules_in_the_database_classify_cursor_and_gemini_names(v1, v2):
    rules = model_class_rules(v2)
    assert model_class("anthropic", "claude-4.5-opus-high-thinking", rules) == ("frontier", True)
    assert model_class("google", "gemini-2.5-flash", rules) == ("medium", True)
    assert model_class("unknown", "composer-1", rules) == ("large", True)
    assert model_class("anthropic", "claude-opus-4-1-latest", rules) == ("frontier_xl", True)
    # v1 stays as it was: it never knew Cursor's own models or the -latest Opus 4.1 alias.
    old = model_class_rules(v1)
    assert model_class("unknown", "composer-1", old) == ("large", False)
    assert model_class("anthropic", "claude-opus-4-1-latest", old) == ("frontier", True)


def test_a_set_becomes_referenced_once_a_projection_points_at_it(v1):
    assert v1.is_referenced is False
    other = CoefficientSet.objects.create(version="v9")
    assert other.is_referenced is False
