"""The public footprint calculator: one model's monthly tokens → kWh, kg CO2e, litres and price,
from the coefficient set in force, by the same functions as every estimate."""

from dataclasses import dataclass
from decimal import Decimal

from .classify import model_class, model_maker
from .coefficients import coefficient_set_active, coefficient_values, model_class_rules
from .footprint import TOKEN_TYPES, Footprint, footprint, footprint_cost

MAX_MODEL_CHARS = 200
MAX_TOKENS = 10**15  # a million billion tokens of one type a month: far past any real account


class QuoteError(ValueError):
    """Bad input, with a message for the person who sent it."""


@dataclass(frozen=True)
class FootprintQuote:
    model: str
    model_class: str
    classified: bool  # False: no rule matched and the model counted as the fallback class
    vendor: str
    coefficient_set: str
    tokens: dict[str, int]
    footprint: Footprint
    price_usd: Decimal  # removal plus water, rounded up to the cent, before the plan minimum


def footprint_quote(*, model: str, tokens: dict[str, int], vendor: str | None = None):
    """Price ``tokens`` (by token type) of ``model``; ``vendor`` defaults to the model's maker."""
    model = (model or "").strip()
    if not model or len(model) > MAX_MODEL_CHARS or not model.isprintable():
        raise QuoteError(f"Give a model id of 1 to {MAX_MODEL_CHARS} printable characters.")
    unknown = sorted(set(tokens) - set(TOKEN_TYPES))
    if unknown:
        raise QuoteError(f"Unknown token type {unknown[0]!r}: use {', '.join(TOKEN_TYPES)}.")
    counts = {}
    for token_type in TOKEN_TYPES:
        value = tokens.get(token_type, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
            raise QuoteError(f"{token_type} must be a whole number from 0 to {MAX_TOKENS:,}.")
        counts[token_type] = value
    coefficient_set = coefficient_set_active()
    values = coefficient_values(coefficient_set)
    vendor = (vendor or model_maker(model)).strip().lower()
    if vendor not in values.vendors:
        known = ", ".join(sorted(values.vendors))
        raise QuoteError(f"Unknown vendor {vendor!r}: use one of {known}.")
    rules = model_class_rules(coefficient_set)
    klass, classified = model_class(vendor, model, rules)
    usage = {(vendor, klass): {t: Decimal(n) for t, n in counts.items()}}
    fp = footprint(usage, values)
    return FootprintQuote(
        model=model,
        model_class=klass,
        classified=classified,
        vendor=vendor,
        coefficient_set=coefficient_set.version,
        tokens=counts,
        footprint=fp,
        price_usd=footprint_cost(fp, values),
    )
