"""Query validation for the sandbox's report endpoints, the way each vendor documents it.

References:
https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
https://platform.claude.com/docs/en/api/admin/cost_report/retrieve
https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.sandbox import aggregation
from connectors.sandbox.catalogue import ANTHROPIC, OPENAI

WIDTHS = {"1m": 60, "1h": 3_600, "1d": 86_400}
# (vendor, kind) -> bucket_width -> (default limit, max limit)
LIMITS = {
    (ANTHROPIC, "usage"): {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
    (ANTHROPIC, "costs"): {"1d": (7, 31)},
    (OPENAI, "usage"): {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
    (OPENAI, "costs"): {"1d": (7, 180)},
    (OPENAI, "embeddings"): {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
    (OPENAI, "moderations"): {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
}
ANTHROPIC_FILTERS = {  # wire name -> (result field, allowed values or None)
    "models[]": ("model", None),
    "api_key_ids[]": ("api_key_id", None),
    "workspace_ids[]": ("workspace_id", None),
    "service_tiers[]": (
        "service_tier",
        {"standard", "batch", "priority", "priority_on_demand", "flex", "flex_discount"},
    ),
    "context_window[]": ("context_window", {"0-200k", "200k-1M"}),
    "inference_geos[]": ("inference_geo", {"global", "us", "not_available"}),
    "speeds[]": ("speed", {"standard", "fast"}),
    "account_ids[]": ("account_id", None),
    "service_account_ids[]": ("service_account_id", None),
}
OPENAI_FILTERS = {
    "usage": {"project_ids": "project_id", "user_ids": "user_id", "api_key_ids": "api_key_id",
              "models": "model"},
    "costs": {"project_ids": "project_id", "api_key_ids": "api_key_id"},
}  # fmt: skip
OPENAI_FILTERS["embeddings"] = OPENAI_FILTERS["moderations"] = OPENAI_FILTERS["usage"]
FAST_MODE_BETA = "fast-mode-2026-02-01"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class InvalidRequest(Exception):
    """A 400 in the vendor's format; ``param`` names the offending parameter."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message, self.param = message, param


@dataclass
class Query:
    vendor: str
    kind: str  # "usage" or "costs"
    start: int  # unix seconds: first bucket start
    end: int  # unix seconds: exclusive end of the last bucket
    width: int
    limit: int
    cursor: int
    group_by: list[str]
    filters: dict[str, set] = field(default_factory=dict)
    with_speed: bool = False


def parse_query(
    vendor: str, kind: str, qs: Mapping[str, list[str]], beta: str, now: dt.datetime
) -> Query:
    """Validate the query string the way the vendor documents it; raise InvalidRequest."""
    if vendor == ANTHROPIC:
        return _parse_anthropic(kind, qs, beta, int(now.timestamp()))
    return _parse_openai(kind, qs, int(now.timestamp()))


def _parse_anthropic(kind: str, qs: Mapping[str, list[str]], beta: str, now: int) -> Query:
    allowed = {"starting_at", "ending_at", "bucket_width", "limit", "page", "group_by[]", "beta"}
    if kind == "usage":
        allowed |= set(ANTHROPIC_FILTERS)
    _reject_unknown(qs, allowed)
    _, width, limit = _width_and_limit(ANTHROPIC, kind, qs)
    if "starting_at" not in qs:
        raise InvalidRequest("starting_at: Field required", "starting_at")
    # The bucket grid is snapped to the start of the UTC minute, hour or day.
    start = floor(_rfc3339(_one(qs, "starting_at"), "starting_at"), width)
    if "ending_at" in qs:  # buckets that end at or before ending_at
        end = floor(_rfc3339(_one(qs, "ending_at"), "ending_at"), width)
    else:  # undocumented: run to the end of the current (partial) bucket
        end = floor(now, width) + width
    if end <= start:
        raise InvalidRequest("ending_at: must be at least one bucket after starting_at")
    with_speed = FAST_MODE_BETA in {part.strip() for part in beta.split(",")}
    choices = aggregation.CARRIED[ANTHROPIC, kind]
    group_by = _enum_list(qs.get("group_by[]", []), choices, "group_by[]")
    filters = {}
    for name, (result_field, values) in ANTHROPIC_FILTERS.items():
        if name in qs and kind == "usage":
            filters[result_field] = set(_enum_list(qs[name], values, name))
    if ("speed" in group_by or "speed" in filters) and not with_speed:
        raise InvalidRequest(f"speed requires the anthropic-beta header {FAST_MODE_BETA}")
    cursor = _cursor(ANTHROPIC, qs, start, end, width)
    return Query(ANTHROPIC, kind, start, end, width, limit, cursor, group_by, filters, with_speed)


def _parse_openai(kind: str, qs: Mapping[str, list[str]], now: int) -> Query:
    arrays = {"group_by", *OPENAI_FILTERS[kind]}
    qs = _openai_arrays(qs, arrays)
    allowed = {"start_time", "end_time", "bucket_width", "limit", "page", *arrays}
    if kind == "usage":
        allowed.add("batch")
    _reject_unknown(qs, allowed)
    _, width, limit = _width_and_limit(OPENAI, kind, qs)
    if "start_time" not in qs:
        raise InvalidRequest("Missing required parameter: 'start_time'.", "start_time")
    start = _unix(_one(qs, "start_time"), "start_time")
    end = _unix(_one(qs, "end_time"), "end_time") if "end_time" in qs else None
    end = end if end is not None else floor(now, width) + width
    if end <= start:
        raise InvalidRequest("'end_time' must be greater than 'start_time'.", "end_time")
    group_by = _enum_list(qs.get("group_by", []), aggregation.CARRIED[OPENAI, kind], "group_by")
    filters: dict[str, set] = {
        result_field: set(qs[name]) for name, result_field in OPENAI_FILTERS[kind].items()
        if name in qs
    }  # fmt: skip
    if "batch" in qs:
        value = _one(qs, "batch").lower()
        if value not in ("true", "false"):
            raise InvalidRequest(f"Invalid value for 'batch': {value!r}.", "batch")
        filters["batch"] = {value == "true"}
    cursor = _cursor(OPENAI, qs, start, end, width)
    return Query(OPENAI, kind, start, end, width, limit, cursor, group_by, filters)


def _openai_arrays(qs: Mapping[str, list[str]], arrays: set[str]) -> dict[str, list[str]]:
    """Accept the three array encodings seen in working clients: repeated, `[]`, comma-joined."""
    out: dict[str, list[str]] = {}
    for name, values in qs.items():
        base = name[:-2] if name.endswith("[]") and name[:-2] in arrays else name
        if base in arrays:
            values = [part for value in values for part in value.split(",") if part]
        out.setdefault(base, []).extend(values)
    return out


def _reject_unknown(qs: Mapping[str, list[str]], allowed: set[str]) -> None:
    for name in qs:
        if name not in allowed:
            hint = " (array parameters take a [] suffix)" if f"{name}[]" in allowed else ""
            raise InvalidRequest(f"{name}: Extra inputs are not permitted{hint}", name)


def _width_and_limit(vendor: str, kind: str, qs: Mapping[str, list[str]]) -> tuple[str, int, int]:
    limits = LIMITS[vendor, kind]
    width_name = _one(qs, "bucket_width") if "bucket_width" in qs else "1d"
    if width_name not in limits:
        choices = ", ".join(repr(name) for name in limits)
        raise InvalidRequest(
            f"bucket_width: Input should be {choices}; got {width_name!r}", "bucket_width"
        )
    default, maximum = limits[width_name]
    if "limit" not in qs:
        return width_name, WIDTHS[width_name], default
    raw = _one(qs, "limit")
    if not raw.isdigit():
        raise InvalidRequest(f"limit: Input should be a valid integer; got {raw!r}", "limit")
    if not 1 <= int(raw) <= maximum:
        raise InvalidRequest(
            f"limit: Input should be between 1 and {maximum} for bucket_width "
            f"{width_name}; got {raw}",
            "limit",
        )
    return width_name, WIDTHS[width_name], int(raw)


def _one(qs: Mapping[str, list[str]], name: str) -> str:
    values = qs[name]
    if len(values) != 1:
        raise InvalidRequest(f"{name}: expected a single value", name)
    return values[0]


def _enum_list(values: list[str], allowed, name: str) -> list[str]:
    for value in values:
        if allowed is not None and value not in allowed:
            choices = ", ".join(repr(choice) for choice in allowed)
            raise InvalidRequest(f"{name}: Input should be {choices}; got {value!r}", name)
    return list(dict.fromkeys(values))


def _rfc3339(value: str, name: str) -> int:
    if not _RFC3339.match(value):
        raise InvalidRequest(f"{name}: Input should be an RFC 3339 datetime; got {value!r}", name)
    return int(dt.datetime.fromisoformat(value.upper().replace(" ", "T")).timestamp())


def _unix(value: str, name: str) -> int:
    if not value.isdigit():
        raise InvalidRequest(f"Invalid '{name}': expected unix seconds, got {value!r}.", name)
    return int(value)


def floor(moment: int, width: int) -> int:
    """The start of the bucket of `width` seconds that `moment` falls in."""
    return moment - moment % width


def encode_cursor(vendor: str, moment: int) -> str:
    """Opaque to clients; encodes the next bucket start like the vendors' documented examples."""
    raw = iso(moment).encode() if vendor == ANTHROPIC else moment.to_bytes(8, "big")
    return "page_" + base64.urlsafe_b64encode(raw).decode()


def _cursor(vendor: str, qs: Mapping[str, list[str]], start: int, end: int, width: int) -> int:
    if "page" not in qs:
        return start
    token = _one(qs, "page")
    try:
        raw = base64.urlsafe_b64decode(token.removeprefix("page_").encode())
        if vendor == ANTHROPIC:
            moment = int(dt.datetime.fromisoformat(raw.decode()).timestamp())
        else:
            moment = int.from_bytes(raw, "big") if len(raw) == 8 else -1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        moment = -1
    if not token.startswith("page_") or not start <= moment < end:
        raise InvalidRequest("page: invalid page token for this query", "page")
    if moment != start and moment % width:
        raise InvalidRequest("page: invalid page token for this query", "page")
    return moment


def iso(moment: int) -> str:
    """Unix seconds as the RFC 3339 UTC text Anthropic writes."""
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
