"""Coefficient set v2's model classes; each row's footprint takes its model maker's overheads."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from estimates import storage
from estimates.classify import model_class, model_maker, normalise_model_id
from estimates.coefficients import coefficient_set_active
from estimates.coefficients_v1 import MODEL_CLASS_RULES as V1_RULES
from estimates.coefficients_v2 import MODEL_CLASS_RULES as V2_RULES
from estimates.models import DailyUsage, Sample
from tests.estimates.test_classify import TABLE as V1_TABLE
from tests.factories import EstimateSourceFactory

# (reporting source's vendor, model id as reported, class): methodology, coefficient set v2.
V2_TABLE = [
    ("google", "gemini-2.5-flash-lite", "small"),
    ("google", "gemini-2.0-flash-lite-001", "small"),
    ("google", "gemma-3-27b-it", "small"),
    ("google", "text-embedding-004", "small"),
    ("google", "gemini-embedding-001", "small"),
    ("google", "gemini-2.5-flash", "medium"),
    ("google", "gemini-2.0-flash-001", "medium"),
    ("google", "gemini-3-flash-preview", "medium"),
    ("google", "gemini-2.5-pro", "large"),
    ("google", "gemini-3-pro-preview", "large"),
    ("google", "gemini-1.5-pro-002", "large"),
    ("cursor", "claude-4-sonnet", "large"),
    ("cursor", "claude-4.5-sonnet-thinking", "large"),
    ("cursor", "claude-sonnet-4-5", "large"),
    ("cursor", "claude-4.1-opus", "frontier_xl"),
    ("cursor", "claude-opus-4-1-max", "frontier_xl"),
    ("cursor", "claude-4.5-opus-high-thinking", "frontier"),
    ("cursor", "claude-opus-4-6", "frontier"),
    ("cursor", "gpt-5", "large"),
    ("cursor", "gpt-5-codex", "large"),
    ("cursor", "gpt-5.1-codex-high", "large"),
    ("cursor", "gpt-5.2", "large"),
    ("openai", "gpt-5-mini", "medium"),
    ("cursor", "gpt-5-codex-mini", "medium"),
    ("cursor", "gpt-5.1-codex-mini", "medium"),
    ("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", "small"),
    ("cursor", "composer-1", "large"),
    ("cursor", "cursor-small", "large"),
    ("cursor", "grok-code-fast-1", "large"),
    ("cursor", "auto", "large"),
    ("anthropic", "claude-opus-4-latest", "frontier_xl"),
    ("anthropic", "claude-opus-4-1-latest", "frontier_xl"),
    # Also seen: Cursor's 3.x names, a Vertex partner model and a Vertex resource path.
    ("cursor", "claude-3.5-haiku", "small"),
    ("cursor", "claude-3.7-sonnet", "large"),
    ("google", "claude-sonnet-4-5@20250929", "large"),
    ("google", "publishers/google/models/gemini-2.5-flash", "medium"),
]


@pytest.mark.parametrize(("source", "model", "expected"), V2_TABLE, ids=[m for _, m, _ in V2_TABLE])
def test_v2_rules_classify_the_published_google_and_cursor_names(source, model, expected):
    assert model_class(model_maker(model, source), model, V2_RULES) == (expected, True)


@pytest.mark.parametrize(("vendor", "model", "expected"), V1_TABLE, ids=[m for _, m, _ in V1_TABLE])
def test_v2_still_classifies_every_v1_model_alike(vendor, model, expected):
    assert model_maker(model, vendor) == vendor
    assert model_class(vendor, model, V2_RULES) == model_class(vendor, model, V1_RULES)


@pytest.mark.parametrize(
    ("model", "source", "maker"),
    [
        ("claude-4.5-sonnet", "cursor", "anthropic"),
        ("gpt-5", "cursor", "openai"),
        ("o3", "cursor", "openai"),
        ("codex-mini-latest", "cursor", "openai"),
        ("gemini-2.5-pro", "cursor", "google"),
        ("composer-1", "cursor", "unknown"),
        ("auto", "cursor", "unknown"),
        ("grok-code-fast-1", "cursor", "unknown"),
        ("claude-sonnet-4-5@20250929", "google", "anthropic"),
        ("text-embedding-004", "google", "google"),
        ("text-embedding-3-small", "openai", "openai"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "openai", "openai"),
        ("omni-moderation-latest", "openai", "openai"),
        ("mystery-model", "anthropic", "anthropic"),
        ("mystery-model", "cursor", "unknown"),
        ("mystery-model", "", "unknown"),
    ],
)
def test_the_maker_comes_from_the_model_name_with_the_source_vendor_as_fallback(
    model, source, maker
):
    assert model_maker(model, source) == maker


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-4.5-opus-high-thinking", "claude-opus-4-5"),
        ("claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("gpt-5.1-codex-max", "gpt-5.1-codex"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini"),
        ("publishers/google/models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("auto", "auto"),
    ],
)
def test_normalise_model_id_strips_cursor_modes_and_vendor_decorations(model, expected):
    assert normalise_model_id(model) == expected


DAYS = 90
END = date(2026, 11, 21)
START = END - timedelta(days=DAYS)
HORIZON = Decimal("30.4375")


def _projection(source, daily: dict[str, dict[str, int]]):
    sample = Sample(source=source, account=source.account, window_start=START, window_end=END)
    usage = [
        DailyUsage(account=source.account, source=source, date=START + timedelta(i), model=m, **t)
        for i in range(DAYS)
        for m, t in daily.items()
    ]
    return storage.projection_build(
        sample=sample,
        usage=usage,
        costs=[],
        coefficient_set=coefficient_set_active(),
        previous=None,
    )


def _cursor_source():
    return EstimateSourceFactory(vendor="cursor", key="crsr_" + "a" * 64)


def test_a_cursor_claude_row_takes_anthropics_overheads(db):
    # 1M output tokens a day of Claude Sonnet 4.5 through Cursor, flat for 90 days:
    # 30.4375M output tokens a month on `large` = 30.4375 server kWh; Anthropic's PUE 1.14.
    projection = _projection(_cursor_source(), {"claude-4.5-sonnet": {"output": 1_000_000}})

    assert projection.it_kwh == Decimal("30.4375")
    assert projection.kwh == Decimal("34.69875")  # x 1.14, not the unknown vendor's 1.20
    assert projection.co2e_kg == Decimal("15.961425")  # x 0.40 kg/kWh x 1.15
    assert projection.water_l == Decimal("122.784875")  # 30.4375 x 0.5 + 34.69875 x 3.1
    assert set(projection.monthly_tokens_by_class) == {"anthropic|large"}
    assert projection.unclassified_models == []


def test_cursors_own_models_are_vendor_unknown_and_classified(db):
    projection = _projection(
        _cursor_source(), {"composer-1": {"output": 1_000_000}, "auto": {"output": 1_000_000}}
    )

    assert projection.it_kwh == Decimal("60.875")
    assert projection.kwh == Decimal("73.05")  # unknown vendor: PUE 1.20
    assert projection.water_l == Decimal("256.8925")  # 60.875 x 0.5 + 73.05 x 3.1
    assert set(projection.monthly_tokens_by_class) == {"unknown|large"}
    assert projection.unclassified_models == []


def test_one_cursor_source_splits_its_rows_by_maker(db):
    projection = _projection(
        _cursor_source(),
        {
            "claude-4.5-sonnet": {"output": 1_000_000},
            "gpt-5": {"output": 1_000_000},
            "gemini-2.5-pro": {"output": 1_000_000},
            "composer-1": {"output": 1_000_000},
        },
    )

    assert set(projection.monthly_tokens_by_class) == {
        "anthropic|large",
        "openai|large",
        "google|large",
        "unknown|large",
    }
    # 30.4375 server kWh each at PUE 1.14 + 1.20 + 1.09 + 1.20.
    assert projection.kwh == Decimal("30.4375") * Decimal("4.63")


def test_a_google_source_counts_its_vertex_claude_rows_as_anthropics(db):
    source = EstimateSourceFactory(vendor="google", key="service-account-json-" + "a" * 20)
    projection = _projection(
        source,
        {
            "claude-sonnet-4-5@20250929": {"output": 1_000_000},
            "gemini-2.5-flash": {"output": 1_000_000},
        },
    )

    assert set(projection.monthly_tokens_by_class) == {"anthropic|large", "google|medium"}
    # Claude: 30.4375 kWh x 1.14; Gemini Flash (350 Wh/Mtok): 10.653125 kWh x 1.09.
    assert projection.kwh == Decimal("34.69875") + Decimal("10.653125") * Decimal("1.09")


def test_an_unclassified_model_is_listed_for_staff_under_its_maker(db):
    from estimates.models import UnclassifiedModel
    from estimates.sampling.run import _unclassified_record

    _unclassified_record("cursor", ["claude-5-mystery", "kimi-k2"])

    assert set(UnclassifiedModel.objects.values_list("vendor", "model", "times_seen")) == {
        ("anthropic", "claude-5-mystery", 1),
        ("unknown", "kimi-k2", 1),
    }
