"""The declared report schemas: what they refuse, what they keep, and the bounds after them."""

import json
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from connectors import bounds
from connectors.anthropic import schema as anthropic
from connectors.errors import ConnectorError
from connectors.http import decode
from connectors.openai import schema as openai
from connectors.paging import Page

PATH = "/v1/report"


def anthropic_page(**row):
    result = {
        "uncached_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 10},
        "cache_read_input_tokens": 300,
        "output_tokens": 50,
        "model": "claude-sonnet-4-6",
        "service_tier": "standard",
        "context_window": "0-200k",
    } | row
    result = {k: v for k, v in result.items() if v is not ...}
    body = {
        "data": [{"starting_at": "2026-08-01T00:00:00Z", "results": [result]}],
        "has_more": False,
        "next_page": None,
    }
    return json.dumps(body).encode()


def usage(content, schema=anthropic):
    page = decode(content, Page[schema.UsageBucket], path=PATH)
    return schema.usage_records(page.data)


def test_a_page_decodes_straight_into_records():
    [record] = usage(anthropic_page())
    assert (record.day, record.cache_write, record.cache_write_1h) == (date(2026, 8, 1), 30, 10)


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ({"output_tokens": "50"}, "$.data[0].results[0].output_tokens"),
        ({"output_tokens": ...}, "output_tokens"),
        ({"output_tokens": None}, "$.data[0].results[0].output_tokens"),
        ({"cache_read_input_tokens": -1}, "$.data[0].results[0].cache_read_input_tokens"),
        ({"cache_creation": {"ephemeral_1h_input_tokens": -5}}, "ephemeral_1h_input_tokens"),
        ({"cache_creation": [1]}, "$.data[0].results[0].cache_creation"),
        ({"model": 7}, "$.data[0].results[0].model"),
    ],
)
def test_wrong_types_missing_fields_and_negative_counts_are_malformed_with_their_path(row, where):
    with pytest.raises(ConnectorError) as exc:
        usage(anthropic_page(**row))
    assert exc.value.kind == "malformed"
    assert where in exc.value.message
    assert exc.value.message.startswith(f"Unexpected body from GET {PATH}: ")


def test_the_error_names_the_field_never_the_value_received():
    with pytest.raises(ConnectorError) as exc:
        usage(anthropic_page(model={"secret": "sk-ant-admin01-leaked"}))
    assert "leaked" not in exc.value.message


def test_unknown_enum_values_are_kept_as_strings():
    [record] = usage(anthropic_page(service_tier="flex_discount_2027", context_window="1M-10M"))
    assert (record.service_tier, record.context_window) == ("flex_discount_2027", "1M-10M")


def test_unknown_fields_are_ignored_and_null_groups_become_blank():
    [record] = usage(anthropic_page(speed="ludicrous", model=None, cache_creation=None))
    assert (record.model, record.cache_write) == ("", 0)


def test_whole_counts_written_as_floats_are_counts_and_fractions_are_not():
    [record] = usage(anthropic_page(output_tokens=50.0, uncached_input_tokens=1e6))
    assert (record.output, record.uncached_input) == (50, 1_000_000)
    assert isinstance(record.output, int)
    with pytest.raises(ConnectorError) as exc:
        usage(anthropic_page(output_tokens=2.5))
    assert exc.value.kind == "malformed"


def test_an_absurd_count_passes_the_schema_and_is_refused_by_the_bounds():
    [record] = usage(anthropic_page(output_tokens=1e30))
    with pytest.raises(ConnectorError) as exc:
        bounds.check_usage(record, date(2026, 8, 1), date(2026, 8, 2))
    assert exc.value.kind == "out_of_range"
    assert "output tokens in one row for one day" in exc.value.message


def test_openai_batch_flags_stay_readable_whatever_their_type():
    def page(batch):
        row = {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "batch": batch}
        body = {"data": [{"start_time": 1785542400, "results": [row]}], "has_more": False}
        return json.dumps(body).encode()

    assert [usage(page(b), openai)[0].batch for b in (True, False, None, "auto")] == [
        "true",
        "false",
        "",
        "auto",
    ]


def test_money_is_decoded_from_its_printed_digits():
    body = b'{"data": [{"start_time": 1785542400, "results": [{"amount": {"value": 0.1000000000000000055511151231257827, "currency": "usd"}, "quantity": 2.5}]}], "has_more": false}'  # noqa: E501
    page = decode(body, Page[openai.CostBucket], path=PATH)
    [record] = openai.cost_records(page.data)
    assert record.amount_usd == Decimal("0.1000000000000000055511151231257827")
    assert (record.currency, record.dimensions) == ("USD", {"quantity": "2.5"})


def test_not_json_and_a_wrong_envelope_are_told_apart():
    with pytest.raises(ConnectorError, match="is not JSON"):
        decode(b"<html>", Page[int], path=PATH, status=200)
    with pytest.raises(ConnectorError, match=r"Expected `bool`.*\$\.has_more"):
        decode(b'{"data": [], "has_more": "no"}', Page[int], path=PATH)


def test_every_report_schema_is_a_struct():
    for module in (anthropic, openai):
        for name in ("UsageBucket", "CostBucket", "Probe"):
            assert issubclass(getattr(module, name), msgspec.Struct)
