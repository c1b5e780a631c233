import math
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from estimates import coefficients_v1
from estimates.footprint import (
    MODEL_CLASSES,
    TOKEN_TYPES,
    ZERO_FOOTPRINT,
    band_price,
    band_usage,
    footprint,
    price,
    raw_price,
    removal_usd,
    water_usd,
)

V1 = coefficients_v1.coefficient_values()
BANDS = {band.slug: band for band in coefficients_v1.band_specs()}


def test_worked_check_reproduces_the_published_figures():
    usage = {
        ("anthropic", "frontier"): {
            "output": 5_000_000,
            "uncached_input": 10_000_000,
            "cache_write": 0,
            "cache_read": 85_000_000,
        }
    }
    fp = footprint(usage, V1)

    assert fp.it_kwh == Decimal("17.4")
    assert fp.kwh == Decimal("19.836")
    assert fp.co2e_kg == Decimal("9.12456")
    assert fp.water_l == Decimal("70.1916")
    assert removal_usd(fp, V1) == Decimal("2.737368")
    assert water_usd(fp, V1) == Decimal("0.1403832")
    assert price(fp, V1) == Decimal("2.88")


@pytest.mark.parametrize(
    ("slug", "expected_price", "expected_raw"),
    [
        ("casual", Decimal("1.99"), None),
        ("worker", Decimal("1.99"), None),
        ("agentic", Decimal("2.95"), Decimal("2.949978")),
        ("extreme", Decimal("32.74"), Decimal("32.736924")),
    ],
)
def test_band_prices_under_v1(slug, expected_price, expected_raw):
    band = BANDS[slug]

    assert band_price(band, V1) == expected_price
    raw = raw_price(footprint(band_usage(band), V1), V1)
    if expected_raw is None:
        assert raw < V1.floor_usd
    else:
        assert raw == expected_raw


def test_a_band_and_an_estimate_of_the_same_usage_cost_the_same():
    band = BANDS["agentic"]
    estimate = {
        ("unknown", "frontier"): {
            "output": 3_000_000,
            "uncached_input": 4_500_000,
            "cache_write": 7_500_000,
            "cache_read": 135_000_000,
        }
    }

    assert price(footprint(estimate, V1), V1) == band_price(band, V1)


def test_decimal_avoids_the_float_cent_trap():
    usage = {("unknown", "large"): {"output": 250_000_000}}

    assert price(footprint(usage, V1), V1) == Decimal("43.51")

    # The same formula in float64 lands a hair above 43.51 and rounds up a cent too many.
    it_wh = 1000 * 250e6 / 1e6
    kwh = it_wh * 1.2 / 1000
    as_float = kwh * 0.4 * 1.15 / 1000 * 300 + (it_wh / 1000 * 0.5 + kwh * 3.1) / 1000 * 2.0
    assert math.ceil(as_float * 100) / 100 == 43.52


def test_unknown_vendor_strings_use_the_unknown_coefficients():
    tokens = {"output": 1_000_000, "cache_read": 50_000_000}

    mistral = footprint({("mistral", "large"): tokens}, V1)
    unknown = footprint({("unknown", "large"): tokens}, V1)

    assert mistral == unknown
    assert footprint({("Anthropic", "large"): tokens}, V1) == footprint(
        {("anthropic", "large"): tokens}, V1
    )
    assert footprint({("anthropic", "large"): tokens}, V1) != unknown


def test_vendors_and_classes_sum():
    a = {("anthropic", "large"): {"output": 1_000_000}}
    b = {("openai", "small"): {"uncached_input": 7_000_000}}

    assert footprint({**a, **b}, V1) == footprint(a, V1) + footprint(b, V1)
    assert footprint({}, V1) == ZERO_FOOTPRINT


def test_price_is_rounded_once_on_the_total():
    # Each source alone is 2.949978 raw: rounding each and summing would charge 5.90.
    agentic = band_usage(BANDS["agentic"])
    total = footprint(agentic, V1) + footprint(agentic, V1)

    assert raw_price(total, V1) == Decimal("5.899956")
    assert price(total, V1) == Decimal("5.90")
    assert price(ZERO_FOOTPRINT, V1) == Decimal("1.99")


def test_projected_fractional_token_counts_are_accepted():
    fp = footprint({("openai", "medium"): {"output": Decimal("1234567.8")}}, V1)

    assert fp.it_kwh == Decimal("350") * Decimal("1234567.8") / 1_000_000 / 1000


def test_an_unknown_token_type_is_refused_rather_than_double_counted():
    with pytest.raises(ValueError, match="cache_write_1h"):
        footprint({("anthropic", "large"): {"cache_write_1h": 10}}, V1)


def test_an_unknown_model_class_is_refused():
    with pytest.raises(ValueError, match="huge"):
        footprint({("anthropic", "huge"): {"output": 10}}, V1)


token_counts = st.integers(min_value=0, max_value=10**11)
usages = st.dictionaries(
    st.tuples(
        st.sampled_from(["anthropic", "openai", "google", "other"]), st.sampled_from(MODEL_CLASSES)
    ),
    st.fixed_dictionaries({t: token_counts for t in TOKEN_TYPES}),
    max_size=4,
)


@given(usages)
def test_price_is_never_below_the_floor_and_is_whole_cents(usage):
    fp = footprint(usage, V1)
    amount = price(fp, V1)

    assert amount >= V1.floor_usd
    assert amount >= raw_price(fp, V1)
    if raw_price(fp, V1) <= V1.floor_usd:
        assert amount == V1.floor_usd
    else:
        assert amount - raw_price(fp, V1) < Decimal("0.01")
    assert amount == amount.quantize(Decimal("0.01"))


@given(usages, st.sampled_from(TOKEN_TYPES), st.integers(min_value=1, max_value=10**10))
def test_price_never_falls_when_tokens_are_added(usage, token_type, extra):
    more = {key: dict(tokens) for key, tokens in usage.items()}
    key = next(iter(more), ("anthropic", "large"))
    more.setdefault(key, {})
    more[key][token_type] = more[key].get(token_type, 0) + extra

    assert price(footprint(more, V1), V1) >= price(footprint(usage, V1), V1)
    assert footprint(more, V1).co2e_kg > footprint(usage, V1).co2e_kg


def _coefficients():
    yield from coefficients_v1.CLASS_ENERGY_WH_PER_MTOK.values()
    yield from coefficients_v1.TOKEN_WEIGHTS.values()
    for vendor in coefficients_v1.VENDORS.values():
        yield from vendor.values()
    yield coefficients_v1.PRICE_PER_TONNE_USD
    yield coefficients_v1.PRICE_PER_M3_USD
    yield coefficients_v1.FLOOR_USD


@pytest.mark.parametrize("coefficient", list(_coefficients()))
def test_every_coefficient_is_a_decimal_inside_its_range_with_public_sources(coefficient):
    assert all(isinstance(coefficient[k], Decimal) for k in ("value", "low", "high"))
    assert coefficient["low"] <= coefficient["value"] <= coefficient["high"]
    for source in coefficient["sources"]:
        assert re.search(r"https?://|arXiv|\(\d{4}\)|\d{4}", source)
        assert "spec" not in source.lower()


def test_v1_matches_the_published_defaults():
    assert set(V1.class_energy_wh) == set(MODEL_CLASSES)
    assert set(V1.token_weights) == set(TOKEN_TYPES)
    assert coefficients_v1.TOKEN_WEIGHTS["cache_read"]["low"] == Decimal("0.005")
    assert coefficients_v1.TOKEN_WEIGHTS["cache_read"]["high"] == Decimal("0.05")
    assert {v: c.pue for v, c in V1.vendors.items()} == {
        "anthropic": Decimal("1.14"),
        "openai": Decimal("1.20"),
        "google": Decimal("1.09"),
        "unknown": Decimal("1.20"),
    }
    assert (V1.price_per_tonne_usd, V1.price_per_m3_usd, V1.floor_usd) == (
        Decimal("300"),
        Decimal("2"),
        Decimal("1.99"),
    )


@pytest.mark.parametrize("band", list(BANDS.values()), ids=list(BANDS))
def test_band_mix_sums_to_one_and_volume_lies_in_its_range(band):
    assert sum(band.mix.values()) == 1
    assert band.tokens_low <= band.volume
    if band.tokens_high is not None:  # the top band has no upper bound
        assert band.volume < band.tokens_high
    assert band.model_class in MODEL_CLASSES
