"""Grouping and slicing of synthetic rows, as the vendors' report endpoints do: pure functions.

`aggregate` sums rows that share the requested ``group_by`` dimensions and nulls the fields of
the dimensions not asked for; `portion` takes the exactly-additive share of a day's rows that
falls in a sub-day bucket (1h, 1m, or a partial first/last bucket).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connectors.sandbox.catalogue import ANTHROPIC, OPENAI

DAY_SECONDS = 86_400

# (vendor, kind) -> group_by value -> the result fields it fills (all others are null).
CARRIED: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    (ANTHROPIC, "usage"): {name: (name,) for name in (
        "api_key_id", "workspace_id", "model", "service_tier", "context_window",
        "inference_geo", "speed", "account_id", "service_account_id")},
    (ANTHROPIC, "costs"): {"workspace_id": ("workspace_id",), "description": (
        "description", "cost_type", "model", "token_type", "service_tier", "context_window",
        "inference_geo", "speed")},
    (OPENAI, "usage"): {name: (name,) for name in (
        "project_id", "user_id", "api_key_id", "model", "batch", "service_tier")},
    (OPENAI, "costs"): {"project_id": ("project_id",), "line_item": ("line_item", "quantity_unit"),
                        "api_key_id": ("api_key_id",)},
    # Embeddings and moderations: no batch or service tier dimension.
    (OPENAI, "embeddings"): {name: (name,) for name in (
        "project_id", "user_id", "api_key_id", "model")},
    (OPENAI, "moderations"): {name: (name,) for name in (
        "project_id", "user_id", "api_key_id", "model")},
}  # fmt: skip
FINEST = {vendor_kind: tuple(carried) for vendor_kind, carried in CARRIED.items()}


def aggregate(vendor: str, kind: str, rows: Iterable[dict], group_by: Iterable[str]) -> list[dict]:
    """Sum rows sharing the grouped fields; fields of dimensions not grouped become null."""
    carried = CARRIED[vendor, kind]
    keep = [field for name in group_by for field in carried[name]]
    blank = {field for fields in carried.values() for field in fields} - set(keep)
    out: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[field] for field in keep)
        if key in out:
            _add(out[key], row, skip=set(keep) | blank)
        else:
            out[key] = _copy(row) | dict.fromkeys(blank)
    results = list(out.values())
    if kind == "costs" and vendor == OPENAI and "line_item" not in keep:
        for result in results:  # a quantity only means something per line item
            result["quantity"] = None
    return results


def _copy(value):
    """A deep copy of rows made of dicts, lists and immutable values (copy.deepcopy's
    generality made it most of a heavy page's cost)."""
    if isinstance(value, dict):
        return {name: _copy(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _add(total: dict, row: dict, skip: set[str]) -> None:
    for name, value in row.items():
        if name in skip or isinstance(value, bool):
            continue
        if isinstance(value, dict):
            _add(total[name], value, skip=set())
        elif isinstance(value, int | Decimal) and total[name] is not None:
            total[name] += value


def portion(rows: Iterable[dict], start: int, end: int) -> list[dict]:
    """The share of daily rows falling in seconds [start, end) of the day, exactly additive."""
    out = []
    for row in rows:
        part = _portion(row, start, end)
        if "input_uncached_tokens" in part:  # keep OpenAI's input_tokens = sum of its parts
            part["input_tokens"] = (
                part["input_uncached_tokens"]
                + part["input_cached_tokens"]
                + part["input_cache_write_tokens"]
            )
        if _nonzero(part):
            out.append(part)
    return out


def _portion(value, start: int, end: int):
    if isinstance(value, dict):
        return {name: _portion(item, start, end) for name, item in value.items()}
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return value
    if isinstance(value, Decimal):
        return value * (end - start) / DAY_SECONDS
    return value * end // DAY_SECONDS - value * start // DAY_SECONDS


def _nonzero(value) -> bool:
    if isinstance(value, dict):
        return any(_nonzero(item) for item in value.values())
    return not isinstance(value, bool) and isinstance(value, int | Decimal) and value != 0
