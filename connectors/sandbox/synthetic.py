"""Deterministic synthetic usage and costs: pure functions, no I/O.

Every function returns rows at the finest grouping a vendor offers, in that vendor's result
shape, with money as `Decimal` (Anthropic: cents in ``amount``; OpenAI: dollars in
``amount.value``). The server filters, slices and `aggregate`s these rows; tests elsewhere call
the same functions to compute expected figures independently of any HTTP client.

Data depends on (vendor, behaviour, data params, day, today) and never on a key's nonce. Days are
dated relative to ``today`` (UTC): the ``HISTORY_DAYS`` days up to and including today have
data, later and earlier days are empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from connectors.sandbox import heavy, wire
from connectors.sandbox.aggregation import FINEST, aggregate
from connectors.sandbox.catalogue import ANTHROPIC, FLAT_DATA, OPENAI, effective_params

HISTORY_DAYS = 400
NEWCO_FIRST_AGE = 20
SPIKE_AGE = 7
SPIKE_FACTOR = 20
_MILLION = Decimal(1_000_000)

# Synthetic prices shaped like the vendors' public list prices (they are demo data, not a price
# list). Anthropic: cents per million tokens, by our count name.
ANTHROPIC_MODELS: dict[str, tuple[str, dict[str, int]]] = {
    "claude-sonnet-4-5-20250929": ("Claude Sonnet 4.5", dict(zip(
        ("uncached", "cache_read", "write_5m", "write_1h", "output"), (300, 30, 375, 600, 1500),
        strict=True))),
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", dict(zip(
        ("uncached", "cache_read", "write_5m", "write_1h", "output"), (100, 10, 125, 200, 500),
        strict=True))),
    "claude-opus-4-1-20250805": ("Claude Opus 4.1", dict(zip(
        ("uncached", "cache_read", "write_5m", "write_1h", "output"),
        (1500, 150, 1875, 3000, 7500), strict=True))),
}  # fmt: skip
ANTHROPIC_WEB_SEARCH_CENTS = 1  # $10 per 1,000 searches
# OpenAI: dollars per million tokens, by line-item suffix.
OPENAI_MODELS: dict[str, dict[str, Decimal]] = {
    "gpt-5-2025-08-07": {"input": Decimal("1.25"), "cached input": Decimal("0.125"),
                         "output": Decimal("10")},
    "gpt-4o-mini-2024-07-18": {"input": Decimal("0.15"), "cached input": Decimal("0.075"),
                               "output": Decimal("0.60")},
    "gpt-4.1-2025-04-14": {"input": Decimal("2"), "cached input": Decimal("0.50"),
                           "output": Decimal("8")},
}  # fmt: skip
_OPENAI_LINES = {"input": "uncached", "cached input": "cache_read", "output": "output"}

# `flat`: (dimensions, daily counts). Counts: uncached input, cache reads, 5m/1h cache writes,
# output, web searches, requests. OpenAI input_tokens = uncached + cache_read (+ writes: 0).
FLAT_GROUPS = {
    ANTHROPIC: [
        ({"model": "claude-sonnet-4-5-20250929", "workspace_id": "wrkspc_01SandboxProduction00",
          "api_key_id": "apikey_01SandboxProduction00"},
         {"uncached": 2_000_000, "cache_read": 8_000_000, "write_5m": 400_000,
          "write_1h": 100_000, "output": 500_000, "web_search": 20, "requests": 1_000}),
        # workspace_id None: the default workspace, as the vendor reports it.
        ({"model": "claude-haiku-4-5-20251001", "workspace_id": None,
          "api_key_id": "apikey_01SandboxDefault000000"},
         {"uncached": 5_000_000, "cache_read": 3_000_000, "write_5m": 200_000,
          "write_1h": 50_000, "output": 1_000_000, "web_search": 0, "requests": 4_000}),
    ],
    OPENAI: [
        ({"model": "gpt-5-2025-08-07", "project_id": "proj_SandboxProduction",
          "user_id": "user-SandboxAlice", "api_key_id": "key_SandboxProduction"},
         {"uncached": 2_000_000, "cache_read": 1_000_000, "write_5m": 0, "write_1h": 0,
          "output": 400_000, "web_search": 0, "requests": 1_200}),
        ({"model": "gpt-4o-mini-2024-07-18", "project_id": "proj_SandboxDefault",
          "user_id": "user-SandboxBob", "api_key_id": "key_SandboxDefault"},
         {"uncached": 6_000_000, "cache_read": 4_000_000, "write_5m": 0, "write_1h": 0,
          "output": 2_000_000, "web_search": 0, "requests": 9_000}),
    ],
}  # fmt: skip

# OpenAI's embeddings and moderations reports: (dimensions, daily input tokens and requests),
# and what the costs report bills for them (moderations are free: no line).
INPUT_ONLY = {
    "embeddings": [({"model": "text-embedding-3-small", "project_id": "proj_SandboxProduction",
                     "user_id": "user-SandboxAlice", "api_key_id": "key_SandboxProduction"},
                    {"input": 3_000_000, "requests": 600})],
    "moderations": [({"model": "omni-moderation-latest", "project_id": "proj_SandboxDefault",
                      "user_id": "user-SandboxBob", "api_key_id": "key_SandboxDefault"},
                     {"input": 200_000, "requests": 2_000})],
}  # fmt: skip
OPENAI_EMBEDDING_DOLLARS_PER_M = Decimal("0.02")
# Spend the footprint does not count: images generated per day (about 7% of the flat
# organisation's spend), billed on the production project.
OPENAI_IMAGES_PER_DAY, OPENAI_IMAGE_DOLLARS = 20, Decimal("0.035")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def daily_usage(
    vendor: str,
    behaviour: str,
    day: dt.date,
    params: Mapping[str, int] | None = None,
    *,
    today: dt.date | None = None,
) -> list[dict]:
    """Finest-grained usage result rows for one UTC day (empty list: a quiet day)."""
    return [wire.usage_row(vendor, dims, counts) for dims, counts in _groups(
        vendor, behaviour, day, params, today)]  # fmt: skip


def daily_input_only(
    kind: str, behaviour: str, day: dt.date, *, today: dt.date | None = None
) -> list[dict]:
    """OpenAI embeddings or moderations result rows for one UTC day (finest grouping)."""
    return [wire.input_only_row(kind, dims, counts)
            for dims, counts in _input_only_groups(kind, behaviour, day, today)]  # fmt: skip


def _input_only_groups(kind, behaviour, day, today) -> list[tuple[dict, dict]]:
    age = ((today or utc_today()) - day).days
    if not 0 <= age < HISTORY_DAYS:
        return []
    num, den = (1, 1) if behaviour == "heavy" else _factor(behaviour, day, age)
    groups = []
    for dims, counts in INPUT_ONLY[kind]:
        scaled = {name: value * num // den for name, value in counts.items()}
        if any(scaled.values()):
            groups.append((dims, scaled))
    return groups


def _openai_other_costs(behaviour, day, today) -> list[dict]:
    """Embeddings' token lines and the image lines the footprint leaves out."""
    rows = []
    per_million = OPENAI_EMBEDDING_DOLLARS_PER_M / _MILLION
    flat_input = INPUT_ONLY["embeddings"][0][1]["input"]
    for dims, counts in _input_only_groups("embeddings", behaviour, day, today):
        project, key, tokens = dims["project_id"], dims["api_key_id"], counts["input"]
        rows.append(wire.openai_cost(project, key, f"{dims['model']}, input", tokens,
                                     tokens * per_million))  # fmt: skip
        images = OPENAI_IMAGES_PER_DAY * tokens // flat_input
        if images:
            rows.append(wire.openai_cost(project, key, "gpt-image-1, image generation", images,
                                         images * OPENAI_IMAGE_DOLLARS, unit="images"))  # fmt: skip
    return rows


def daily_costs(
    vendor: str,
    behaviour: str,
    day: dt.date,
    params: Mapping[str, int] | None = None,
    *,
    today: dt.date | None = None,
) -> list[dict]:
    """Finest-grained cost result rows for one UTC day; money as Decimal."""
    age = ((today or utc_today()) - day).days
    if behaviour == "heavy" and 0 <= age < HISTORY_DAYS:
        count = effective_params(behaviour, params)["c"]
        return [heavy.cost_row(vendor, day, j) for j in range(count)]
    rows: list[dict] = []
    for dims, counts in _groups(vendor, behaviour, day, params, today):
        rows += _cost_rows(vendor, dims, counts)
    if vendor == OPENAI:
        rows += _openai_other_costs(behaviour, day, today)
    return aggregate(vendor, "costs", rows, FINEST[vendor, "costs"])


def _groups(vendor, behaviour, day, params, today) -> list[tuple[dict, dict]]:
    age = ((today or utc_today()) - day).days
    if not 0 <= age < HISTORY_DAYS:
        return []
    if behaviour == "heavy":
        count = effective_params(behaviour, params)["g"]
        return [heavy.group(vendor, day, i) for i in range(count)]
    num, den = _factor(behaviour, day, age)
    groups = []
    for dims, counts in FLAT_GROUPS[vendor]:
        scaled = {name: value * num // den for name, value in counts.items()}
        if any(scaled.values()):
            groups.append((dims, scaled))
    return groups


def _factor(behaviour: str, day: dt.date, age: int) -> tuple[int, int]:
    if behaviour in FLAT_DATA:
        return 1, 1
    if behaviour == "trend":  # linear: zero HISTORY_DAYS ago, 2x flat today
        return HISTORY_DAYS - age, HISTORY_DAYS // 2
    if behaviour == "newco":
        return (1, 1) if age <= NEWCO_FIRST_AGE else (0, 1)
    if behaviour == "weekly":
        return (1, 10) if day.weekday() >= 5 else (1, 1)
    if behaviour == "spike":
        return (SPIKE_FACTOR, 1) if age == SPIKE_AGE else (1, 1)
    raise ValueError(f"unknown behaviour {behaviour!r}")


def _cost_rows(vendor: str, dims: dict, counts: dict) -> list[dict]:
    model = dims["model"]
    if vendor == OPENAI:
        return [
            wire.openai_cost(dims["project_id"], dims["api_key_id"], f"{model}, {suffix}",
                         counts[count], counts[count] * OPENAI_MODELS[model][suffix] / _MILLION)
            for suffix, count in _OPENAI_LINES.items()
            if counts[count]
        ]  # fmt: skip
    name, prices = ANTHROPIC_MODELS[model]
    rows = [
        wire.anthropic_cost(dims["workspace_id"], f"{name} Usage - {suffix}", "tokens", model,
                        token_type, Decimal(counts[count] * prices[count]) / _MILLION)
        for count, (token_type, suffix) in wire.ANTHROPIC_TOKEN_TYPES.items()
        if counts[count]
    ]  # fmt: skip
    if counts["web_search"]:
        cents = Decimal(counts["web_search"] * ANTHROPIC_WEB_SEARCH_CENTS)
        rows.append(wire.anthropic_cost(dims["workspace_id"], "Web Search Usage", "web_search",
                                        None, None, cents))  # fmt: skip
    return rows
