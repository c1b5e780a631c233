"""Coefficient set v2 as plain data: v1's numbers, with model-class rules for Google, Cursor and
the other tools that report models by name.

v2 changes no coefficient, band or price: it only teaches the classifier more model ids
(Gemini and Gemma, embeddings, Cursor's names and its own models, ``-latest`` Opus aliases,
Vertex's partner-model ids). Rules are scoped to the model's *maker* (see
:func:`estimates.classify.model_maker`): a Cursor row for ``claude-4.5-sonnet`` is matched by
the Anthropic rules, after :func:`estimates.classify.normalise_model_id` has turned it into
``claude-sonnet-4-5``. Models of no known maker (Cursor's ``composer-1``, ``auto``…) are
matched by the ``unknown`` rules and take the unknown vendor's overheads.

Like v1, nothing here imports Django, and nothing here may change once a data migration has
seeded it: a later set is a new module and a new migration.
"""

from dataclasses import replace

from estimates import coefficients_v1 as _v1
from estimates.footprint import BandSpec, CoefficientValues

VERSION = "v2"

CLASS_ENERGY_WH_PER_MTOK = _v1.CLASS_ENERGY_WH_PER_MTOK
TOKEN_WEIGHTS = _v1.TOKEN_WEIGHTS
VENDORS = _v1.VENDORS
PRICE_PER_TONNE_USD = _v1.PRICE_PER_TONNE_USD
PRICE_PER_M3_USD = _v1.PRICE_PER_M3_USD
FLOOR_USD = _v1.FLOOR_USD
BANDS = _v1.BANDS

NOTES = (
    "Model classes for Google (Gemini, Gemma, embeddings), Cursor's model names and its own "
    "models (vendor unknown), -latest Opus aliases and Vertex partner-model ids. Each row takes "
    "the overheads of the model's maker. No coefficient, band or price changed."
)

# Ordered (vendor, regex, class) rules, matched with re.fullmatch on the normalised model id
# (lowercased; date, ``@version``, path prefix and Cursor's tool suffixes stripped; Cursor's
# ``claude-4.5-sonnet`` word order turned into Anthropic's). First match within the vendor wins.
MODEL_CLASS_RULES = (
    # Anthropic
    ("anthropic", r"claude-3(-5)?-haiku(-latest)?", "small"),
    ("anthropic", r"claude-haiku-\d+(-\d+)?(-latest)?", "medium"),
    ("anthropic", r"claude-3(-[57])?-sonnet(-v\d+)?(-latest)?", "large"),
    ("anthropic", r"claude-sonnet-\d+(-\d+)?(-latest)?", "large"),
    ("anthropic", r"claude-3-opus(-latest)?", "frontier_xl"),
    ("anthropic", r"claude-opus-4(-[01])?(-latest)?", "frontier_xl"),
    ("anthropic", r"claude-opus-\d+(-\d+)?(-latest)?", "frontier"),
    # OpenAI: nano/mini/pro variants before the bare family names.
    ("openai", r"gpt-4o-mini(-[a-z0-9-]+)?", "small"),
    ("openai", r"gpt-4\.1-nano", "small"),
    ("openai", r"gpt-5(\.\d+)?-nano", "small"),
    ("openai", r"gpt-3\.5-turbo(-[a-z0-9-]+)?", "small"),
    ("openai", r"text-embedding-[a-z0-9-]+", "small"),
    ("openai", r"gpt-5(\.\d+)?-mini", "medium"),
    ("openai", r"gpt-5(\.\d+)?-codex-mini", "medium"),
    ("openai", r"gpt-4\.1-mini", "medium"),
    ("openai", r"o[134]-mini(-[a-z0-9-]+)?", "medium"),
    ("openai", r"codex-mini(-latest)?", "medium"),
    ("openai", r"gpt-4\.5(-preview)?", "frontier_xl"),
    ("openai", r"o[13]-pro", "frontier_xl"),
    ("openai", r"gpt-5(\.\d+)?-pro", "frontier_xl"),
    ("openai", r"(chatgpt-)?gpt-4o(-[a-z0-9-]+)?|chatgpt-4o-latest", "large"),
    ("openai", r"gpt-4\.1", "large"),
    ("openai", r"gpt-5(\.\d+)?(-chat(-latest)?|-codex)?", "large"),
    ("openai", r"o1(-preview)?|o3(-deep-research)?", "large"),
    # Older GPT-4 by list price per output Mtok: turbo $30 (frontier), original $60+ (XL).
    ("openai", r"gpt-4-turbo(-preview)?|gpt-4-\d{4}-preview", "frontier"),
    ("openai", r"gpt-4(-32k)?(-\d{4})?", "frontier_xl"),
    # Google: lite and embeddings before flash, flash before pro.
    ("google", r"gemini(-[0-9.]+)?-flash-lite(-[a-z0-9.-]+)?", "small"),
    ("google", r"gemma(-[a-z0-9.-]+)?", "small"),
    ("google", r"text-(multilingual-)?embedding(-[a-z0-9.-]+)?", "small"),
    ("google", r"gemini-embedding(-[a-z0-9.-]+)?", "small"),
    ("google", r"gemini(-[0-9.]+)?-flash(-[a-z0-9.-]+)?", "medium"),
    ("google", r"gemini(-[0-9.]+)?-pro(-[a-z0-9.-]+)?", "large"),
    # Maker unknown (Cursor's own models, Cursor's router, xAI): counted as large on purpose,
    # and classified, so staff are not asked about them on every sample.
    ("unknown", r"composer(-\d+(\.\d+)?)?", "large"),
    ("unknown", r"cursor-small", "large"),
    ("unknown", r"grok-code-fast(-\d+)?", "large"),
    ("unknown", r"auto", "large"),
)


def coefficient_values() -> CoefficientValues:
    """The v2 set as the math consumes it: v1's values under v2's name."""
    return replace(_v1.coefficient_values(), version=VERSION)


def band_specs() -> tuple[BandSpec, ...]:
    """The v2 bands (v1's) as ``BandSpec`` objects."""
    return _v1.band_specs()
