import re
from types import SimpleNamespace

import pytest

from estimates.classify import classify, model_class, normalise_model_id
from estimates.coefficients_v1 import MODEL_CLASS_RULES
from estimates.footprint import MODEL_CLASSES

TABLE = [
    ("anthropic", "claude-3-haiku-20240307", "small"),
    ("anthropic", "claude-3-5-haiku-20241022", "small"),
    ("anthropic", "claude-haiku-4-5-20251001", "medium"),
    ("anthropic", "claude-3-7-sonnet-20250219", "large"),
    ("anthropic", "claude-sonnet-4-20250514", "large"),
    ("anthropic", "claude-sonnet-4-5-20250929", "large"),
    ("anthropic", "claude-sonnet-4-6", "large"),
    ("anthropic", "claude-opus-4-5-20251101", "frontier"),
    ("anthropic", "claude-opus-4-6", "frontier"),
    ("anthropic", "claude-opus-4-20250514", "frontier_xl"),
    ("anthropic", "claude-opus-4-1-20250805", "frontier_xl"),
    ("anthropic", "claude-3-opus-20240229", "frontier_xl"),
    ("openai", "gpt-4o-mini-2024-07-18", "small"),
    ("openai", "gpt-4.1-nano", "small"),
    ("openai", "gpt-5-nano", "small"),
    ("openai", "gpt-5-mini-2025-08-07", "medium"),
    ("openai", "gpt-5-mini-2026-03-01", "medium"),
    ("openai", "gpt-4.1-mini", "medium"),
    ("openai", "o4-mini", "medium"),
    ("openai", "o3-mini", "medium"),
    ("openai", "codex-mini-latest", "medium"),
    ("openai", "gpt-4o-2024-08-06", "large"),
    ("openai", "gpt-4.1", "large"),
    ("openai", "gpt-5-2025-08-07", "large"),
    ("openai", "gpt-5.5", "large"),
    ("openai", "o1", "large"),
    ("openai", "o3-2025-04-16", "large"),
    ("openai", "gpt-4.5-preview", "frontier_xl"),
    ("openai", "o1-pro", "frontier_xl"),
    ("openai", "o3-pro", "frontier_xl"),
    ("openai", "gpt-5-pro", "frontier_xl"),
]


@pytest.mark.parametrize(("vendor", "model", "expected"), TABLE, ids=[m for _, m, _ in TABLE])
def test_seeded_rules_classify_the_published_table(vendor, model, expected):
    assert classify(vendor, model, MODEL_CLASS_RULES) == expected
    assert model_class(vendor, model, MODEL_CLASS_RULES) == (expected, True)


@pytest.mark.parametrize(
    ("model", "expected"),
    [("o3", "large"), ("o3-mini", "medium"), ("o3-pro", "frontier_xl")],
)
def test_o3_does_not_catch_its_mini_or_pro(model, expected):
    assert classify("openai", model, MODEL_CLASS_RULES) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5", "large"),
        ("gpt-5-mini", "medium"),
        ("gpt-5-nano", "small"),
        ("gpt-5-pro", "frontier_xl"),
    ],
)
def test_gpt_5_does_not_catch_its_smaller_or_larger_siblings(model, expected):
    assert classify("openai", model, MODEL_CLASS_RULES) == expected


def test_an_unknown_model_is_unclassified_and_falls_back_to_large():
    assert classify("openai", "some-new-model-9000", MODEL_CLASS_RULES) is None
    assert model_class("openai", "some-new-model-9000", MODEL_CLASS_RULES) == ("large", False)
    assert model_class("mistral", "mistral-large-2411", MODEL_CLASS_RULES) == ("large", False)
    assert classify("openai", "", MODEL_CLASS_RULES) is None


def test_rules_are_scoped_to_their_vendor():
    assert classify("openai", "claude-opus-4-6", MODEL_CLASS_RULES) is None
    assert classify("anthropic", "gpt-5", MODEL_CLASS_RULES) is None


def test_vendor_and_model_case_do_not_matter():
    assert classify("Anthropic", "Claude-Opus-4-6", MODEL_CLASS_RULES) == "frontier"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("GPT-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-realtime-preview-2024-12-17", "gpt-4o-mini-realtime-preview"),
        ("gpt-4.1", "gpt-4.1"),
        ("gpt-4-0613", "gpt-4-0613"),
        ("codex-mini-latest", "codex-mini-latest"),
    ],
)
def test_normalise_model_id_lowercases_and_strips_a_date_suffix(model, expected):
    assert normalise_model_id(model) == expected


def test_the_first_matching_rule_wins():
    rules = [("openai", r"gpt-.*", "small"), ("openai", r"gpt-5", "frontier")]

    assert classify("openai", "gpt-5", rules) == "small"


def test_rules_may_be_objects_with_named_fields():
    rules = [SimpleNamespace(vendor="openai", pattern=r"gpt-5", model_class="large")]

    assert classify("openai", "gpt-5-2025-08-07", rules) == "large"


def test_a_malformed_rule_never_crashes_classification():
    rules = [("openai", r"gpt-(5", "large"), ("openai", r"gpt-5", "medium")]

    assert classify("openai", "gpt-5", rules) == "medium"


def test_seeded_rules_are_valid_and_name_known_classes():
    for _vendor, pattern, cls in MODEL_CLASS_RULES:
        re.compile(pattern)
        assert cls in MODEL_CLASSES
