"""What share of a source's spend pays for usage the footprint leaves out, from its cost lines;
and Anthropic's web searches, stored and projected as a count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from connectors.anthropic.coverage import COVERAGE as ANTHROPIC
from connectors.anthropic.coverage import left_out as anthropic_left_out
from connectors.interface import Coverage
from connectors.openai.coverage import COVERAGE as OPENAI
from connectors.openai.coverage import left_out as openai_left_out
from connectors.records import CostRecord, UsageRecord
from estimates import storage
from estimates.coefficients import coefficient_set_active
from estimates.coverage import spend_left_out
from estimates.models import Sample
from tests.factories import EstimateSourceFactory

DAY = date(2026, 8, 1)


def cost(description, amount, **fields):
    return CostRecord(DAY, description, fields, Decimal(amount), "USD")


@pytest.mark.parametrize(
    ("line_item", "fields", "expected"),
    [
        ("gpt-5-mini-2026-03-01, input", {"quantity_unit": "tokens"}, None),
        ("gpt-5-mini-2026-03-01, cached input", {}, None),
        ("gpt-4o-2024-08-06, output", {}, None),
        ("text-embedding-3-small, input", {}, None),
        ("gpt-4o-audio-preview, audio input", {}, None),  # chat audio tokens: in completions
        ("gpt-image-1, image generation", {"quantity_unit": "images"}, "images"),
        ("dall-e-3, hd 1024x1024", {}, "images"),
        ("whisper-1, transcription", {"quantity_unit": "duration_seconds"}, "audio"),
        ("tts-1-hd, characters", {"quantity_unit": "characters"}, "audio"),
        ("gpt-4o-mini-transcribe, input", {}, "audio"),
        ("web search tool calls", {}, "web search"),
        ("file search tool calls", {}, "file search"),
        ("vector store storage", {"quantity_unit": "gibibyte_hours"}, "vector stores"),
        ("code interpreter sessions", {}, "code interpreter"),
        ("something new", {}, "other"),
    ],
)
def test_openai_line_items_are_classified_counted_or_left_out(line_item, fields, expected):
    assert openai_left_out(line_item, fields) == expected


@pytest.mark.parametrize(
    ("description", "fields", "expected"),
    [
        ("Claude Sonnet 4.6 Usage - Input Tokens", {"cost_type": "tokens"}, None),
        ("Web Search Usage", {"cost_type": "web_search"}, "web search"),
        ("Code Execution Usage", {"cost_type": "code_execution"}, "code execution"),
        ("Claude sessions", {"cost_type": "session_usage"}, "session usage"),
        ("Claude Opus 5 Usage - Input Tokens", {}, None),  # no cost_type: read the text
        ("Code Execution Usage", {}, "code execution"),
    ],
)
def test_anthropic_cost_lines_are_classified_counted_or_left_out(description, fields, expected):
    assert anthropic_left_out(description, fields) == expected


def test_the_openai_left_out_share_comes_from_the_line_items():
    costs = [
        cost("gpt-5, input", "60"),
        cost("gpt-5, output", "33"),
        cost("gpt-image-1, image generation", "5", quantity_unit="images"),
        cost("whisper-1, transcription", "2", quantity_unit="duration_seconds"),
        CostRecord(DAY, "gpt-image-1, image generation", {}, Decimal(900), "EUR"),  # not dollars
    ]
    assert spend_left_out(OPENAI, costs) == {
        "share": "0.0700",
        "by_type": {"images": "0.0500", "audio": "0.0200"},
    }


def test_the_anthropic_share_counts_web_search_and_code_execution_and_priority_tokens():
    costs = [
        cost("Claude Sonnet 4.6 Usage - Output Tokens", "90", cost_type="tokens"),
        cost("Web Search Usage", "6", cost_type="web_search"),
        cost("Code Execution Usage", "4", cost_type="code_execution"),
    ]
    usage = [
        UsageRecord(DAY, "claude-sonnet-4-6", "standard", "", "", 600, 0, 0, 0, 300, None),
        UsageRecord(DAY, "claude-sonnet-4-6", "priority", "", "", 50, 0, 0, 0, 50, None),
    ]
    assert spend_left_out(ANTHROPIC, costs, usage) == {
        "share": "0.1000",
        "by_type": {"web search": "0.0600", "code execution": "0.0400"},
        "tiers_without_spend_share": "0.1000",
    }


def test_a_kind_that_declares_nothing_says_nothing():
    assert spend_left_out(Coverage(), [cost("anything", "5")]) == {}


def test_everything_counted_is_a_zero_share():
    assert spend_left_out(OPENAI, [cost("gpt-5, input", "5")]) == {"share": "0.0000", "by_type": {}}


def _projection(source, usage, costs):
    end = DAY + timedelta(days=90)
    sample = Sample(source=source, account=source.account, window_start=DAY, window_end=end)
    return storage.projection_build(
        sample=sample,
        usage=storage.usage_rows(usage),
        costs=storage.cost_rows(costs),
        coefficient_set=coefficient_set_active(),
        previous=None,
    )


def test_a_projection_stores_the_left_out_share_and_the_web_searches(db):
    source = EstimateSourceFactory(vendor="anthropic")
    usage, costs = [], []
    for i in range(90):
        day = DAY + timedelta(days=i)
        usage.append(
            UsageRecord(day, "claude-sonnet-4-6", "standard", "0-200k", "", 1000, 0, 0, 0, 500,
                        None, web_search_requests=10)
        )  # fmt: skip
        costs += [
            CostRecord(day, "Claude Sonnet 4.6 Usage - Output Tokens", {"cost_type": "tokens"},
                       Decimal("0.95"), "USD"),
            CostRecord(day, "Web Search Usage", {"cost_type": "web_search"}, Decimal("0.05"),
                       "USD"),
        ]  # fmt: skip
    rows = storage.usage_rows(usage)
    assert {row.web_search_requests for row in rows} == {10}
    projection = _projection(source, usage, costs)
    assert projection.monthly_web_search_requests == 304  # 10 a day × 30.4375
    assert projection.spend_left_out["share"] == "0.0500"
    assert projection.spend_left_out["by_type"] == {"web search": "0.0500"}
    assert projection.spend_left_out["tiers_without_spend_share"] == "0.0000"
