"""Numbers formatted for people: the dashboard's template filters."""

from decimal import Decimal

import pytest

from tokenoffset.dashboard.templatetags import people


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (640, "640"),
        (999, "999"),
        (1_000, "1k"),
        (12_400, "12.4k"),
        (300_000, "300k"),
        (999_950, "1M"),
        (3_000_000, "3M"),
        (12_400_000, "12.4M"),
        (12_449_999, "12.4M"),
        (150_000_000, "150M"),
        (3_000_000_000, "3B"),
        (Decimal("2500000.7"), "2.5M"),
        ("7000", "7k"),
        (-1_500_000, "−1.5M"),
        (None, "—"),
        ("n/a", "—"),
    ],
)
def test_tokens(value, expected):
    assert people.tokens(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("3.2"), "$3.20"),
        (Decimal("1.99"), "$1.99"),
        (Decimal("32.736924"), "$32.74"),
        (Decimal("1234.5"), "$1,234.50"),
        (0, "$0.00"),
        (Decimal("0.004"), "<$0.01"),
        (Decimal("-2.5"), "−$2.50"),
        (None, "—"),
    ],
)
def test_usd(value, expected):
    assert people.usd(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.83"), "1.8 kWh"),
        (Decimal("19.836"), "19.8 kWh"),
        (Decimal("1234.4"), "1,234 kWh"),
        (Decimal("0.042"), "0.042 kWh"),
        (Decimal("0.00071"), "0.00071 kWh"),
        (0, "0 kWh"),
        (None, "—"),
    ],
)
def test_kwh(value, expected):
    assert people.kwh(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("9.12456"), "9.1 kg"),
        (Decimal("0.828"), "0.83 kg"),
        (Decimal("1500"), "1,500 kg"),
        ("", "—"),
    ],
)
def test_kg(value, expected):
    assert people.kg(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("70.1916"), "70 L"),
        (Decimal("70.5"), "71 L"),
        (Decimal("1.84"), "1.8 L"),
        (Decimal("0.26"), "0.26 L"),
        (Decimal("12345"), "12,345 L"),
        (float("nan"), "—"),
    ],
)
def test_litres(value, expected):
    assert people.litres(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(18.04, "+18%"), (-4.5, "−4.5%"), (0, "±0%"), (0.04, "±0%"), (None, "—")],
)
def test_pct(value, expected):
    assert people.pct(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("0.15"), "15%"), (Decimal("0.003"), "0.3%"), (Decimal("0.96"), "96%")],
)
def test_share(value, expected):
    assert people.share(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1000.000000"), "1,000"),
        (Decimal("0.020000"), "0.02"),
        (Decimal("1.140000"), "1.14"),
        (Decimal("1234.5"), "1,234.5"),
        (Decimal("0"), "0"),
    ],
)
def test_plain(value, expected):
    assert people.plain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(300_000, "300 thousand"), (3_000_000, "3 million"), (3_000_000_000, "3 billion"), (20, "20")],
)
def test_tokens_words(value, expected):
    assert people.tokens_words(value) == expected


def test_filters_are_usable_in_templates():
    from django.template import engines

    template = engines["django"].from_string(
        "{% load people %}{{ n|tokens }} {{ p|usd }} {{ e|kwh }} {{ c|kg }} {{ w|litres }}"
    )
    rendered = template.render(
        {"n": 12_400_000, "p": Decimal("3.2"), "e": 1.8, "c": 3, "w": Decimal("70.2")}
    )
    assert rendered == "12.4M $3.20 1.8 kWh 3 kg 70 L"


@pytest.mark.parametrize(
    ("low", "high", "unit", "expected"),
    [
        (Decimal("1.4"), Decimal("2.2"), "kwh", "1.4–2.2 kWh"),
        (Decimal("56.2"), Decimal("84.1"), "litres", "56–84 L"),
        (Decimal("2.56"), Decimal("4"), "usd", "$2.56–$4.00"),
        (Decimal("1.99"), Decimal("1.99"), "usd", "$1.99"),
        (7_800_000, 11_800_000, "tokens", "7.8M–11.8M"),
        (Decimal("1.000000"), Decimal("1.000000"), "plain", "1"),
        (None, 3, "tokens", "—"),
    ],
)
def test_span(low, high, unit, expected):
    assert people.span(low, high, unit) == expected
