"""The `heavy` behaviour's data: many distinct groups after the vendors' grouping, for benchmarks.

Real model ids across every class, crossed with service tiers and context windows (Anthropic) or
service tiers and batch (OpenAI). Prices are flat demo prices per token type.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from connectors.sandbox.catalogue import ANTHROPIC, OPENAI
from connectors.sandbox.wire import ANTHROPIC_TOKEN_TYPES, anthropic_cost, openai_cost

_MILLION = Decimal(1_000_000)


def _h(*parts: object) -> int:
    """A stable pseudo-random integer (no process-salted hash(), no global RNG)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


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


def group(vendor: str, day: dt.date, i: int) -> tuple[dict, dict]:
    """The i-th usage group of a heavy day: (dimensions, counts)."""
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


def cost_row(vendor: str, day: dt.date, j: int) -> dict:
    """The j-th cost line of a heavy day."""
    tokens = 1 + _h(vendor, "heavy-cost", day, j) % 5_000_000
    if vendor == ANTHROPIC:
        models, types = HEAVY_ANTHROPIC_MODELS, list(ANTHROPIC_TOKEN_TYPES)
        model, count = models[(j // len(types)) % len(models)], types[j % len(types)]
        batch = (j // (len(types) * len(models))) % 2 == 1
        token_type, suffix = ANTHROPIC_TOKEN_TYPES[count]
        row = anthropic_cost(
            None, f"{model} Usage - {suffix}{' (Batch)' if batch else ''}", "tokens", model,
            token_type, Decimal(tokens * HEAVY_CENTS_PER_MTOK[count]) / _MILLION,
        )  # fmt: skip
        row["service_tier"] = "batch" if batch else "standard"
        return row
    models, lines = HEAVY_OPENAI_MODELS, HEAVY_OPENAI_LINES
    model, line = models[(j // len(lines)) % len(models)], lines[j % len(lines)]
    return openai_cost("proj_SandboxHeavy", f"key_SandboxHeavy{j:06d}", f"{model}, {line}",
                        tokens, Decimal(tokens) * Decimal("2.5") / _MILLION)  # fmt: skip
