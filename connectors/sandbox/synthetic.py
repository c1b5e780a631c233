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
import hashlib
from collections.abc import Mapping
from decimal import Decimal

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
ANTHROPIC_TOKEN_TYPES = {  # our count name -> (cost-report token_type, description suffix)
    "uncached": ("uncached_input_tokens", "Input Tokens"),
    "output": ("output_tokens", "Output Tokens"),
    "cache_read": ("cache_read_input_tokens", "Prompt Caching Read"),
    "write_5m": ("cache_creation.ephemeral_5m_input_tokens", "Prompt Caching Write (5m)"),
    "write_1h": ("cache_creation.ephemeral_1h_input_tokens", "Prompt Caching Write (1h)"),
}
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
    return [_usage_row(vendor, dims, counts) for dims, counts in _groups(
        vendor, behaviour, day, params, today)]  # fmt: skip


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
        return [_heavy_cost_row(vendor, day, j) for j in range(count)]
    rows: list[dict] = []
    for dims, counts in _groups(vendor, behaviour, day, params, today):
        rows += _cost_rows(vendor, dims, counts)
    return aggregate(vendor, "costs", rows, FINEST[vendor, "costs"])


def _groups(vendor, behaviour, day, params, today) -> list[tuple[dict, dict]]:
    age = ((today or utc_today()) - day).days
    if not 0 <= age < HISTORY_DAYS:
        return []
    if behaviour == "heavy":
        count = effective_params(behaviour, params)["g"]
        return [_heavy_group(vendor, day, i) for i in range(count)]
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


def _usage_row(vendor: str, dims: dict, counts: dict) -> dict:
    if vendor == ANTHROPIC:
        return {
            "uncached_input_tokens": counts["uncached"],
            "cache_creation": {
                "ephemeral_5m_input_tokens": counts["write_5m"],
                "ephemeral_1h_input_tokens": counts["write_1h"],
            },
            "cache_read_input_tokens": counts["cache_read"],
            "output_tokens": counts["output"],
            "server_tool_use": {"web_search_requests": counts["web_search"]},
            "model": dims["model"],
            "service_tier": dims.get("service_tier", "standard"),
            "context_window": dims.get("context_window", "0-200k"),
            "inference_geo": "not_available",  # models released before Feb 2026
            "workspace_id": dims["workspace_id"],
            "api_key_id": dims["api_key_id"],
            "account_id": None,
            "service_account_id": None,
            "speed": "standard",
        }
    writes = counts["write_5m"] + counts["write_1h"]
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": counts["uncached"] + counts["cache_read"] + writes,  # includes cached
        "output_tokens": counts["output"],
        "input_cached_tokens": counts["cache_read"],
        "input_cache_write_tokens": writes,
        "input_uncached_tokens": counts["uncached"],
        "input_text_tokens": counts["uncached"],
        "output_text_tokens": counts["output"],
        "input_cached_text_tokens": counts["cache_read"],
        "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 0,
        "input_cached_image_tokens": 0,
        "output_image_tokens": 0,
        "num_model_requests": counts["requests"],
        "project_id": dims["project_id"],
        "user_id": dims["user_id"],
        "api_key_id": dims["api_key_id"],
        "model": dims["model"],
        "batch": dims.get("batch", False),
        "service_tier": dims.get("service_tier", "default"),
    }


def _cost_rows(vendor: str, dims: dict, counts: dict) -> list[dict]:
    model = dims["model"]
    if vendor == OPENAI:
        return [
            _openai_cost(dims["project_id"], dims["api_key_id"], f"{model}, {suffix}",
                         counts[count], counts[count] * OPENAI_MODELS[model][suffix] / _MILLION)
            for suffix, count in _OPENAI_LINES.items()
            if counts[count]
        ]  # fmt: skip
    name, prices = ANTHROPIC_MODELS[model]
    rows = [
        _anthropic_cost(dims["workspace_id"], f"{name} Usage - {suffix}", "tokens", model,
                        token_type, Decimal(counts[count] * prices[count]) / _MILLION)
        for count, (token_type, suffix) in ANTHROPIC_TOKEN_TYPES.items()
        if counts[count]
    ]  # fmt: skip
    if counts["web_search"]:
        cents = Decimal(counts["web_search"] * ANTHROPIC_WEB_SEARCH_CENTS)
        rows.append(_anthropic_cost(dims["workspace_id"], "Web Search Usage", "web_search", None,
                                    None, cents))  # fmt: skip
    return rows


def _anthropic_cost(workspace_id, description, cost_type, model, token_type, cents) -> dict:
    token_cost = cost_type == "tokens"
    return {
        "amount": cents,
        "currency": "USD",
        "workspace_id": workspace_id,
        "description": description,
        "cost_type": cost_type,
        "model": model,
        "token_type": token_type,
        "service_tier": "standard" if token_cost else None,
        "context_window": "0-200k" if token_cost else None,
        "inference_geo": "not_available" if token_cost else None,
        "speed": "standard" if token_cost else None,
    }


def _openai_cost(project_id, api_key_id, line_item, quantity, dollars) -> dict:
    return {
        "object": "organization.costs.result",
        "amount": {"value": dollars, "currency": "usd"},
        "line_item": line_item,
        "project_id": project_id,
        "api_key_id": api_key_id,
        "quantity": quantity,
        "quantity_unit": "tokens",
    }


def _h(*parts: object) -> int:
    """A stable pseudo-random integer (no process-salted hash(), no global RNG)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


# `heavy`: many distinct groups *after* the vendors' grouping, for benchmarks. Real model ids
# across every class, crossed with service tiers and context windows (Anthropic) or service
# tiers and batch (OpenAI). Prices are flat demo prices per token type.
HEAVY_ANTHROPIC_MODELS = (
    "claude-3-haiku-20240307",
    "claude-3-5-haiku-20241022",
    "claude-haiku-4-5-20251001",
    "claude-3-7-sonnet-20250219",
    "claude-sonnet-4-20250514",
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-6",
    "claude-opus-4-5-20251101",
    "claude-opus-4-6",
    "claude-opus-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-3-opus-20240229",
)
HEAVY_OPENAI_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4.1-nano",
    "gpt-5-nano",
    "gpt-5-mini-2025-08-07",
    "gpt-4.1-mini",
    "o4-mini",
    "o3-mini",
    "codex-mini-latest",
    "gpt-4o-2024-08-06",
    "gpt-4.1",
    "gpt-5-2025-08-07",
    "gpt-5.5",
    "o1",
    "o3-2025-04-16",
    "gpt-4.5-preview",
    "o1-pro",
    "o3-pro",
    "gpt-5-pro",
    "gpt-5-mini-2026-03-01",
    "gpt-4o-2024-11-20",
)
HEAVY_CENTS_PER_MTOK = {"uncached": 300, "cache_read": 30, "write_5m": 375, "write_1h": 600,
                        "output": 1500}  # fmt: skip
HEAVY_OPENAI_LINES = ("input", "cached input", "output", "batch input", "batch output")


def _heavy_group(vendor: str, day: dt.date, i: int) -> tuple[dict, dict]:
    if vendor == ANTHROPIC:
        models = HEAVY_ANTHROPIC_MODELS
        dims = {"model": models[i % len(models)],
                "workspace_id": None,
                "api_key_id": f"apikey_01SandboxHeavy{i:06d}",
                "service_tier": ("standard", "batch", "priority")[(i // len(models)) % 3],
                "context_window": ("0-200k", "200k-1M")[(i // (3 * len(models))) % 2]}  # fmt: skip
    else:
        models = HEAVY_OPENAI_MODELS
        dims = {"model": models[i % len(models)], "project_id": "proj_SandboxHeavy",
                "user_id": f"user-SandboxHeavy{i % 7}", "api_key_id": f"key_SandboxHeavy{i:06d}",
                "service_tier": ("default", "flex", "priority", "scale")[(i // len(models)) % 4],
                "batch": (i // (4 * len(models))) % 2 == 1}  # fmt: skip
    limits = {"uncached": 3_000_000, "cache_read": 9_000_000, "write_5m": 500_000,
              "write_1h": 200_000, "output": 800_000, "web_search": 30,
              "requests": 5_000}  # fmt: skip
    counts = {name: 1 + _h(vendor, "heavy", day, i, name) % top for name, top in limits.items()}
    if vendor == OPENAI:
        counts.update(write_5m=0, write_1h=0, web_search=0)
    return dims, counts


def _heavy_cost_row(vendor: str, day: dt.date, j: int) -> dict:
    tokens = 1 + _h(vendor, "heavy-cost", day, j) % 5_000_000
    if vendor == ANTHROPIC:
        models, types = HEAVY_ANTHROPIC_MODELS, list(ANTHROPIC_TOKEN_TYPES)
        model, count = models[(j // len(types)) % len(models)], types[j % len(types)]
        batch = (j // (len(types) * len(models))) % 2 == 1
        token_type, suffix = ANTHROPIC_TOKEN_TYPES[count]
        row = _anthropic_cost(
            None, f"{model} Usage - {suffix}{' (Batch)' if batch else ''}", "tokens", model,
            token_type, Decimal(tokens * HEAVY_CENTS_PER_MTOK[count]) / _MILLION,
        )  # fmt: skip
        row["service_tier"] = "batch" if batch else "standard"
        return row
    models, lines = HEAVY_OPENAI_MODELS, HEAVY_OPENAI_LINES
    model, line = models[(j // len(lines)) % len(models)], lines[j % len(lines)]
    return _openai_cost("proj_SandboxHeavy", f"key_SandboxHeavy{j:06d}", f"{model}, {line}",
                        tokens, Decimal(tokens) * Decimal("2.5") / _MILLION)  # fmt: skip
