"""Model id -> model class, by an ordered, staff-editable list of (vendor, regex, class) rules."""

import re
from collections.abc import Iterable
from typing import Any

FALLBACK_CLASS = "large"

_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def normalise_model_id(model: str) -> str:
    """Lowercase and drop a release-date suffix: ``claude-opus-4-20250514`` -> ``claude-opus-4``."""
    return _DATE_SUFFIX.sub("", model.strip().lower())


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


_MAKERS = (
    (re.compile(r"claude"), "anthropic"),
    (re.compile(r"(ft:)?(gpt|o[1-4]\b|o[1-4]-|codex|text-embedding-3|omni-moderation)"), "openai"),
    (re.compile(r"(gemini|gemma|text-embedding-0|textembedding)"), "google"),
)


def model_maker(model: str) -> str:
    """Whose model this is, from its id: its maker's overheads apply, whoever reported it."""
    model_id = normalise_model_id(model)
    for pattern, maker in _MAKERS:
        if pattern.match(model_id):
            return maker
    return "unknown"
