"""A cost line's details must fit their column as canonical JSON, escapes included."""

import json
from datetime import date
from decimal import Decimal

import pytest

from connectors import bounds
from connectors.errors import ConnectorError
from connectors.records import CostRecord

DAY = date(2026, 11, 1)


def cost(dimensions: dict) -> CostRecord:
    return CostRecord(DAY, "Claude usage", dimensions, Decimal("1.50"), "USD")


def check(dimensions: dict) -> None:
    bounds.check_cost(cost(dimensions), DAY, date(2026, 11, 2))


def encoded(dimensions: dict) -> int:
    return len(json.dumps(dimensions, sort_keys=True, separators=(",", ":")))


def test_details_that_fit_pass_even_when_a_quick_bound_would_not_say_so():
    dimensions = {"workspace_id": "w" * 400, "model": "m" * 500}
    assert encoded(dimensions) <= bounds.MAX_DIMENSIONS_CHARS
    check(dimensions)


def test_details_too_long_are_out_of_range():
    with pytest.raises(ConnectorError) as caught:
        check({"workspace_id": "w" * 1000})
    assert caught.value.kind == "out_of_range" and "details" in str(caught.value)


def test_details_that_only_escaping_makes_too_long_are_out_of_range():
    dimensions = {"note": "\x01" * 200}  # 200 characters, each written as \u0001
    assert encoded(dimensions) > bounds.MAX_DIMENSIONS_CHARS
    with pytest.raises(ConnectorError):
        check(dimensions)


def test_details_that_non_ascii_characters_make_too_long_are_out_of_range():
    dimensions = {"project": "\U0001f680" * 90}  # 90 characters, each written as 12
    assert encoded(dimensions) > bounds.MAX_DIMENSIONS_CHARS
    with pytest.raises(ConnectorError):
        check(dimensions)


def test_short_details_pass():
    check({"workspace_id": "wrkspc_01", "token_type": "uncached_input_tokens"})
