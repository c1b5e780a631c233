"""Validators for text people type that ends up in emails (subjects are mail headers)."""

import unicodedata

from django.core.exceptions import ValidationError

# Control characters (Cc: tabs, line breaks, NUL, DEL, C1) and the Unicode line and paragraph
# separators. In a mail subject a line break is refused by Django's header-injection guard,
# which would silently drop the email; we refuse it here, where the person can fix it.
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in value)


def one_line(value: str) -> str:
    """``value`` with every control character and line break turned into a single space."""
    spaced = "".join(
        " " if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES else ch for ch in value
    )
    return " ".join(spaced.split())


def validate_no_control_characters(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(
            "Use letters, digits, spaces and punctuation only: line breaks, tabs and other "
            "control characters are not allowed.",
            code="control_characters",
        )
