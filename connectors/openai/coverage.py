"""What an OpenAI source's footprint counts, and which cost line items are in its spend only.

The footprint reads the completions, embeddings and moderations usage reports: text (and the
image and audio tokens of chat models, inside completions' input and output). Everything else
OpenAI bills is in the costs report only. A line item reads like "gpt-5-mini-2026-03-01, input"
or "web search tool calls"; its model is the part before the first comma.

Reference: https://developers.openai.com/api/docs/api-reference/usage
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from connectors.interface import Coverage

IMAGES, AUDIO = "images", "audio"
WEB_SEARCH, FILE_SEARCH = "web search", "file search"
VECTOR_STORES, CODE_INTERPRETER = "vector stores", "code interpreter"
FINE_TUNING, OTHER = "fine-tuning", "other"

# Checked on the whole line item, in order: tools and storage first, then the model families
# whose usage is not in the three token reports we read.
_LINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), usage_type)
    for pattern, usage_type in (
        (r"web[ _-]?search", WEB_SEARCH),
        (r"file[ _-]?search", FILE_SEARCH),
        (r"vector[ _-]?stor", VECTOR_STORES),
        (r"code[ _-]?interpreter|container", CODE_INTERPRETER),
        (r"fine[ _-]?tun|training", FINE_TUNING),
    )
)
_MODEL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), usage_type)
    for pattern, usage_type in (
        (r"dall-e.*|gpt-image.*|.*image-gen.*|sora.*", IMAGES),
        (r"whisper.*|tts.*|.*-tts.*|.*transcribe.*|.*speech.*", AUDIO),
    )
)
# A token line: "<model>, <what>" where <what> names input, output or cached tokens.
_TOKEN_LINE = re.compile(r"[^,]+,\s*.*\b(input|output|cached|tokens?)\b.*")
# Units of a line that is not paid per token (quantity_unit, when OpenAI sends it).
_NOT_TOKENS = {
    "images": IMAGES,
    "characters": AUDIO,
    "duration_seconds": AUDIO,
    "duration_minutes": AUDIO,
    "gibibyte_hours": VECTOR_STORES,
}


def left_out(line_item: str, fields: Mapping[str, str]) -> str | None:
    """The usage type a costs line item pays for that the footprint leaves out, or None."""
    text = line_item.strip().lower()
    for pattern, usage_type in _LINE_RULES:
        if pattern.search(text):
            return usage_type
    model = text.split(",", 1)[0].strip()
    for pattern, usage_type in _MODEL_RULES:
        if pattern.fullmatch(model):
            return usage_type
    unit = fields.get("quantity_unit", "").lower()
    if unit in _NOT_TOKENS:
        return _NOT_TOKENS[unit]
    if _TOKEN_LINE.fullmatch(text):
        return None
    return OTHER


COVERAGE = Coverage(
    counted=("text generation (completions)", "embeddings", "moderations"),
    spend_only=(
        IMAGES,
        "audio (speech, transcription)",
        "web and file search calls",
        VECTOR_STORES,
        CODE_INTERPRETER,
    ),
    left_out=left_out,
)
