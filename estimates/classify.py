"""Model id -> model class, by an ordered, staff-editable list of (vendor, regex, class) rules.

The vendor of a rule is the model's *maker* (:func:`model_maker`), not the tool that reported
the usage: a Cursor row for ``claude-4.5-sonnet`` is Anthropic's model, with Anthropic's
overheads.
"""

import re
from collections.abc import Iterable
from typing import Any

FALLBACK_CLASS = "large"

UNKNOWN_MAKER = "unknown"
# Vendors whose sources report their own models: the fallback maker of a name no prefix claims.
MODEL_MAKERS = ("anthropic", "openai", "google")

_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
# Cursor appends the mode it ran a model in: claude-4.5-opus-high-thinking, gpt-5.1-codex-max.
_TOOL_SUFFIX = re.compile(r"(-(thinking|high|medium|low|max|fast))+$")
# Cursor writes claude-4.5-sonnet; Anthropic writes claude-3-5-sonnet before 4, claude-sonnet-4-5
# from 4 on.
_VERSION_FIRST = re.compile(r"claude-(\d+)(?:[.-](\d))?-(opus|sonnet|haiku)(-.*)?")
_FAMILY_FIRST_DOTTED = re.compile(r"claude-(opus|sonnet|haiku)-(\d+)\.(\d+)(-.*)?")
_MAKER_PREFIXES = (
    (re.compile(r"claude"), "anthropic"),
    (re.compile(r"gpt|o[1-4](?![0-9])|codex"), "openai"),
    (re.compile(r"gemini|gemma"), "google"),
)


def _claude_word_order(model_id: str) -> str:
    if m := _FAMILY_FIRST_DOTTED.fullmatch(model_id):
        family, major, minor, rest = m.groups()
        return f"claude-{family}-{major}-{minor}{rest or ''}"
    if m := _VERSION_FIRST.fullmatch(model_id):
        major, minor, family, rest = m.groups()
        version = f"{major}-{minor}" if minor else major
        if int(major) <= 3:
            return f"claude-{version}-{family}{rest or ''}"
        return f"claude-{family}-{version}{rest or ''}"
    return model_id


def normalise_model_id(model: str) -> str:
    """The id the rules match: ``claude-opus-4-20250514`` -> ``claude-opus-4``.

    Lowercased; a fine-tuned OpenAI id (``ft:<base>:<org>::<id>``) becomes its base; a path
    prefix (``publishers/google/models/``, ``models/``) and a Vertex ``@version`` are dropped;
    then a release-date suffix and Cursor's mode suffixes (``-thinking``, ``-high``, ``-max``…),
    and Cursor's ``claude-4.5-sonnet`` becomes ``claude-sonnet-4-5``.
    """
    model_id = model.strip().lower()
    if model_id.startswith("ft:"):
        model_id = model_id[3:].split(":", 1)[0]
    model_id = model_id.rsplit("/", 1)[-1].split("@", 1)[0]
    model_id = _DATE_SUFFIX.sub("", model_id)
    stripped = _TOOL_SUFFIX.sub("", model_id)
    if stripped:
        model_id = _DATE_SUFFIX.sub("", stripped)
    return _claude_word_order(model_id)


def model_maker(model: str, source_vendor: str = "") -> str:
    """Who made the model, which decides whose overheads apply.

    ``claude*`` is Anthropic's, ``gpt*`` / ``o1``–``o4*`` / ``codex*`` OpenAI's, ``gemini*`` /
    ``gemma*`` Google's. Any other name is the reporting vendor's own model when that vendor
    makes models (an OpenAI source's ``text-embedding-3-small``, a Google source's
    ``text-embedding-004``), else unknown (Cursor's ``composer-1`` and ``auto``).
    """
    model_id = normalise_model_id(model)
    for prefix, maker in _MAKER_PREFIXES:
        if prefix.match(model_id):
            return maker
    source_vendor = (source_vendor or "").strip().lower()
    return source_vendor if source_vendor in MODEL_MAKERS else UNKNOWN_MAKER


def _rule_fields(rule: Any) -> tuple[str, str, str]:
    # Rules come as plain tuples (seed data) or as model instances (staff-edited rows).
    if isinstance(rule, tuple | list):
        vendor, pattern, model_class = rule
        return vendor, pattern, model_class
    return rule.vendor, rule.pattern, rule.model_class


def classify(vendor: str, model: str, rules: Iterable[Any]) -> str | None:
    """The class of the first of the vendor's rules that fully matches, or None if none does."""
    vendor = vendor.strip().lower()
    model_id = normalise_model_id(model)
    for rule in rules:
        rule_vendor, pattern, model_class = _rule_fields(rule)
        if rule_vendor.lower() != vendor:
            continue
        try:
            matched = re.fullmatch(pattern, model_id)
        except re.error:
            # A malformed staff-edited pattern must not stop a sample; it just never matches.
            continue
        if matched:
            return model_class
    return None


def model_class(vendor: str, model: str, rules: Iterable[Any]) -> tuple[str, bool]:
    """(class, was_classified): an unclassified model counts as ``large`` and is flagged."""
    found = classify(vendor, model, rules)
    if found is None:
        return FALLBACK_CLASS, False
    return found, True
