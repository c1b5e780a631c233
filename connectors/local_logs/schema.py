"""The upload a browser sends (`tokenoffset.local-usage/v1`), validated strictly.

Every refusal is one clear sentence naming the offending field, and nothing is stored unless the
whole body passes. The body is plain JSON, read here once and never kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

SCHEMA = "tokenoffset.local-usage/v1"
MAX_BODY_BYTES = 3_000_000  # 5,000 compact rows are ~1.7 MB
MAX_ROWS = 5000
MAX_PAST_DAYS = 400
MAX_TOKENS_PER_ROW = 50_000_000_000
MAX_REQUESTS_PER_ROW = 100_000_000
MAX_COMPUTER_CHARS = 60
MAX_WARNINGS = 20

# The tool → the maker whose models it runs (the source's vendor).
SURFACES = {"claude_code": "anthropic", "codex": "openai"}
SURFACE_NAMES = {"claude_code": "Claude Code", "codex": "Codex"}
VENDORS = ("anthropic", "openai", "google", "cursor")
KNOWN_SURFACES = ("claude_code", "codex", "gemini_cli", "cursor")
BILLING = ("subscription", "api_key", "unknown")
SPEEDS = ("standard", "fast", None)
TOKEN_FIELDS = (
    "input_uncached",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "cache_write_unsplit",
    "output",
    "reasoning",
)
NULLABLE_TOKENS = ("cache_write_5m", "cache_write_1h", "reasoning")
QUALITY_COUNTS = ("partial_output_requests", "fork_parent_missing", "errored_rows")

MODEL_RE = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
WARNING_RE = re.compile(r"[a-z0-9_]{1,40}")
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A computer's name is shown back to the account: letters, digits, spaces and simple
# punctuation, no markup and no path separators (a path would say who the user is).
COMPUTER_RE = re.compile(r"[\w .'()-]{1,60}")

TOP_KEYS = {"schema", "parser", "generated_at", "day_boundary", "computer", "sources", "rows"}
SOURCE_KEYS = {"vendor", "surface", "billing", "files_scanned", "first_day", "last_day", "warnings"}
ROW_KEYS = {"date", "vendor", "surface", "model", "speed", "requests", "tokens", "quality"}


class UploadRefused(ValueError):
    """The body is not a valid upload; ``message`` says why, for the person who sent it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class UploadSource:
    vendor: str
    surface: str
    billing: str
    files_scanned: int
    first_day: date
    last_day: date
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class UploadRow:
    day: date
    surface: str
    model: str
    speed: str | None
    requests: int
    input_uncached: int
    cache_read: int
    cache_write_5m: int | None
    cache_write_1h: int | None
    cache_write_unsplit: int
    output: int
    reasoning: int | None
    partial_output_requests: int
    fork_parent_missing: int
    errored_rows: int


@dataclass(frozen=True)
class Upload:
    parser_version: str
    computer: str
    sources: tuple[UploadSource, ...]
    rows: tuple[UploadRow, ...]

    def rows_of(self, surface: str) -> list[UploadRow]:
        return [row for row in self.rows if row.surface == surface]


def _object(value, where: str, keys: set[str], required: set[str]) -> dict:
    if not isinstance(value, dict):
        raise UploadRefused(f"{where} must be a JSON object.")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise UploadRefused(f"{where} has an unknown field {unknown[0]!r}.")
    missing = sorted(required - set(value))
    if missing:
        raise UploadRefused(f"{where} is missing the field {missing[0]!r}.")
    return value


def _count(value, where: str, limit: int, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    # bool is an int in Python; a JSON true is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise UploadRefused(f"{where} must be a whole number, not {json.dumps(value)[:40]}.")
    if value < 0:
        raise UploadRefused(f"{where} must not be negative.")
    if value > limit:
        raise UploadRefused(f"{where} is {value:,}, more than the {limit:,} allowed.")
    return value


def _choice(value, where: str, allowed) -> str:
    if value not in allowed:
        shown = ", ".join(str(a) for a in allowed if a is not None)
        raise UploadRefused(f"{where} must be one of {shown}; got {json.dumps(value)[:40]}.")
    return value


def _day(value, where: str, *, oldest: date, newest: date) -> date:
    if not isinstance(value, str) or not DAY_RE.fullmatch(value):
        raise UploadRefused(f"{where} must be a date like 2026-11-20.")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UploadRefused(f"{where} is not a real date ({value}).") from None
    if day > newest:
        raise UploadRefused(
            f"{where} is {value}: only finished UTC days are accepted, up to {newest}."
        )
    if day < oldest:
        raise UploadRefused(f"{where} is {value}: days before {oldest} (400 days ago) are refused.")
    return day


def upload_parse(raw: bytes, *, today: date) -> Upload:
    """The validated upload, or UploadRefused with the first problem found."""
    if len(raw) > MAX_BODY_BYTES:
        raise UploadRefused(
            f"The upload is {len(raw):,} bytes; at most {MAX_BODY_BYTES:,} are accepted.", 413
        )
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise UploadRefused("The upload is not valid JSON.") from None
    body = _object(body, "The upload", TOP_KEYS, TOP_KEYS - {"generated_at", "computer"})
    if body["schema"] != SCHEMA:
        raise UploadRefused(
            f"Unknown schema {json.dumps(body['schema'])[:60]}: this server reads {SCHEMA}."
        )
    if body["day_boundary"] != "UTC":
        raise UploadRefused("day_boundary must be UTC: daily rows are per UTC day.")
    parser = _object(body["parser"], "parser", {"name", "version"}, {"name", "version"})
    version = parser["version"]
    if not isinstance(version, str) or not re.fullmatch(r"[0-9A-Za-z.+-]{1,40}", version):
        raise UploadRefused("parser.version must be a short version string like 1.0.0.")
    computer = body.get("computer", "this computer")
    if not isinstance(computer, str) or not COMPUTER_RE.fullmatch(computer.strip() or "-"):
        raise UploadRefused(
            f"The computer's name must be 1 to {MAX_COMPUTER_CHARS} letters, digits, spaces or "
            "simple punctuation (no slashes)."
        )
    newest = today - timedelta(days=1)
    oldest = today - timedelta(days=MAX_PAST_DAYS)

    if not isinstance(body["sources"], list) or not body["sources"]:
        raise UploadRefused("sources must list at least one tool.")
    sources: dict[str, UploadSource] = {}
    for i, item in enumerate(body["sources"]):
        where = f"sources[{i}]"
        item = _object(item, where, SOURCE_KEYS, SOURCE_KEYS)
        surface = _choice(item["surface"], f"{where}.surface", KNOWN_SURFACES)
        vendor = _choice(item["vendor"], f"{where}.vendor", VENDORS)
        if surface not in SURFACES:
            raise UploadRefused(
                f"{where}.surface {surface} is not accepted yet (claude_code, codex)."
            )
        if vendor != SURFACES[surface]:
            raise UploadRefused(f"{where}.vendor must be {SURFACES[surface]} for {surface}.")
        if surface in sources:
            raise UploadRefused(f"{where} lists {surface} a second time.")
        first = _day(item["first_day"], f"{where}.first_day", oldest=oldest, newest=newest)
        last = _day(item["last_day"], f"{where}.last_day", oldest=oldest, newest=newest)
        if first > last:
            raise UploadRefused(f"{where}.first_day is after its last_day.")
        warnings = item["warnings"]
        if (
            not isinstance(warnings, list)
            or len(warnings) > MAX_WARNINGS
            or not all(isinstance(w, str) and WARNING_RE.fullmatch(w) for w in warnings)
        ):
            raise UploadRefused(f"{where}.warnings must be a short list of warning codes.")
        sources[surface] = UploadSource(
            vendor=vendor,
            surface=surface,
            billing=_choice(item["billing"], f"{where}.billing", BILLING),
            files_scanned=_count(item["files_scanned"], f"{where}.files_scanned", 10**7),
            first_day=first,
            last_day=last,
            warnings=tuple(warnings),
        )

    if not isinstance(body["rows"], list):
        raise UploadRefused("rows must be a list.")
    if len(body["rows"]) > MAX_ROWS:
        raise UploadRefused(
            f"The upload has {len(body['rows']):,} rows; at most {MAX_ROWS:,} are accepted."
        )
    rows = []
    seen: dict[tuple, int] = {}
    for i, item in enumerate(body["rows"]):
        rows.append(_row(item, f"rows[{i}]", sources, oldest=oldest, newest=newest))
        key = (rows[-1].day, rows[-1].surface, rows[-1].model, rows[-1].speed)
        if key in seen:
            raise UploadRefused(
                f"rows[{i}] repeats the day, tool, model and speed of rows[{seen[key]}]."
            )
        seen[key] = i
    return Upload(
        parser_version=version,
        computer=computer.strip(),
        sources=tuple(sources.values()),
        rows=tuple(rows),
    )


def _row(item, where: str, sources: dict[str, UploadSource], *, oldest: date, newest: date):
    item = _object(item, where, ROW_KEYS, ROW_KEYS)
    surface = _choice(item["surface"], f"{where}.surface", KNOWN_SURFACES)
    source = sources.get(surface)
    if source is None:
        raise UploadRefused(f"{where} is for {surface}, which sources does not list.")
    if item["vendor"] != source.vendor:
        raise UploadRefused(f"{where}.vendor must be {source.vendor} for {surface}.")
    day = _day(item["date"], f"{where}.date", oldest=oldest, newest=newest)
    if not source.first_day <= day <= source.last_day:
        raise UploadRefused(
            f"{where}.date {day} is outside {surface}'s first_day…last_day "
            f"({source.first_day}…{source.last_day})."
        )
    model = item["model"]
    if not isinstance(model, str) or not MODEL_RE.fullmatch(model):
        raise UploadRefused(
            f"{where}.model must be a model id of 1 to 100 letters, digits or . _ : / -."
        )
    speed = _choice(item["speed"], f"{where}.speed", SPEEDS)
    tokens = _object(item["tokens"], f"{where}.tokens", set(TOKEN_FIELDS), set(TOKEN_FIELDS))
    counts = {
        name: _count(
            tokens[name],
            f"{where}.tokens.{name}",
            MAX_TOKENS_PER_ROW,
            nullable=name in NULLABLE_TOKENS,
        )
        for name in TOKEN_FIELDS
    }
    total = sum(counts[name] or 0 for name in TOKEN_FIELDS if name != "reasoning")
    if total > MAX_TOKENS_PER_ROW:
        raise UploadRefused(
            f"{where} adds up to {total:,} tokens, more than the {MAX_TOKENS_PER_ROW:,} allowed "
            "for one day."
        )
    if counts["reasoning"] is not None and counts["reasoning"] > counts["output"]:
        raise UploadRefused(f"{where}.tokens.reasoning is part of output and cannot exceed it.")
    quality = _object(
        item["quality"], f"{where}.quality", {*QUALITY_COUNTS, "estimated"}, set(QUALITY_COUNTS)
    )
    if quality.get("estimated", False) not in (True, False):
        raise UploadRefused(f"{where}.quality.estimated must be true or false.")
    q = {name: _count(quality[name], f"{where}.quality.{name}", 10**9) for name in QUALITY_COUNTS}
    return UploadRow(
        day=day,
        surface=surface,
        model=model,
        speed=speed,
        requests=_count(item["requests"], f"{where}.requests", MAX_REQUESTS_PER_ROW),
        **counts,
        **q,
    )
