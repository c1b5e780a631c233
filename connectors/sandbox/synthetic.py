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
            "context_window": "0-200k",
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
        "service_tier": "default",
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


def _heavy_group(vendor: str, day: dt.date, i: int) -> tuple[dict, dict]:
    models = list(ANTHROPIC_MODELS if vendor == ANTHROPIC else OPENAI_MODELS)
    bucket = (i // len(models)) % 8
    if vendor == ANTHROPIC:
        dims = {"model": models[i % len(models)],
                "workspace_id": f"wrkspc_01SandboxHeavy{bucket:04d}" if bucket else None,
                "api_key_id": f"apikey_01SandboxHeavy{i:06d}",
                "service_tier": "batch" if i % 5 == 4 else "standard"}  # fmt: skip
    else:
        dims = {"model": models[i % len(models)], "project_id": f"proj_SandboxHeavy{bucket:02d}",
                "user_id": f"user-SandboxHeavy{i % 7}", "api_key_id": f"key_SandboxHeavy{i:06d}",
                "batch": i % 5 == 4}  # fmt: skip
    limits = {"uncached": 3_000_000, "cache_read": 9_000_000, "write_5m": 500_000,
              "write_1h": 200_000, "output": 800_000, "web_search": 30,
              "requests": 5_000}  # fmt: skip
    counts = {name: 1 + _h(vendor, "heavy", day, i, name) % top for name, top in limits.items()}
    if vendor == OPENAI:
        counts.update(write_5m=0, write_1h=0, web_search=0)
    return dims, counts


def _heavy_cost_row(vendor: str, day: dt.date, j: int) -> dict:
    if vendor == ANTHROPIC:
        models, types = list(ANTHROPIC_MODELS), list(ANTHROPIC_TOKEN_TYPES)
        model, count = models[(j // len(types)) % len(models)], types[j % len(types)]
        bucket = j // (len(types) * len(models))
        name, prices = ANTHROPIC_MODELS[model]
        tokens = 1 + _h(vendor, "heavy-cost", day, j) % 5_000_000
        token_type, suffix = ANTHROPIC_TOKEN_TYPES[count]
        return _anthropic_cost(
            f"wrkspc_01SandboxHeavy{bucket:04d}" if bucket else None,
            f"{name} Usage - {suffix}", "tokens", model, token_type,
            Decimal(tokens * prices[count]) / _MILLION,
        )  # fmt: skip
    models, suffixes = list(OPENAI_MODELS), list(_OPENAI_LINES)
    model, suffix = models[(j // len(suffixes)) % len(models)], suffixes[j % len(suffixes)]
    bucket = j // (len(suffixes) * len(models))
    tokens = 1 + _h(vendor, "heavy-cost", day, j) % 5_000_000
    return _openai_cost(f"proj_SandboxHeavy{bucket % 8:02d}", f"key_SandboxHeavy{bucket:06d}",
                        f"{model}, {suffix}", tokens,
                        tokens * OPENAI_MODELS[model][suffix] / _MILLION)  # fmt: skip
