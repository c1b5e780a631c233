"""What share of a source's spend pays for usage the footprint leaves out, from its cost lines.

Each cost line is classified by its connector (connectors.interface.Coverage.left_out) from its
description or line item and its other fields; the share is of the window's US-dollar spend, the
same lines the projected provider spend is made of. Pure: rows in, a JSON-ready dict out.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from connectors.interface import Coverage

from .footprint import TOKEN_TYPES

_PLACES = Decimal("0.0001")


def spend_left_out(coverage: Coverage, costs: Iterable, usage: Iterable = ()) -> dict:
    """{"share": …, "by_type": {type: share}, "tiers_without_spend_share": …} as strings.

    ``share`` is what the left-out types cost over everything the window's cost lines add up to;
    ``tiers_without_spend_share`` the part of the tokens on service tiers whose spend the cost
    report lacks (Anthropic's Priority Tier). Empty when the connector declares nothing.
    """
    if not coverage.declared:
        return {}
    total, by_type = Decimal(0), defaultdict(Decimal)
    for row in costs:
        if row.currency not in ("USD", ""):
            continue  # as the projected spend: dollars only
        total += row.amount_usd
        usage_type = coverage.left_out(row.description, row.dimensions or {})
        if usage_type is not None:
            by_type[usage_type] += row.amount_usd
    result: dict = {}
    if total > 0:
        left = sum(by_type.values(), Decimal(0))
        result["share"] = str((left / total).quantize(_PLACES))
        result["by_type"] = {
            usage_type: str((amount / total).quantize(_PLACES))
            for usage_type, amount in sorted(by_type.items(), key=lambda kv: -kv[1])
            if amount
        }
    if coverage.tiers_without_spend:
        tokens = unpriced = 0
        for row in usage:
            count = sum(getattr(row, t) for t in TOKEN_TYPES)
            tokens += count
            if row.service_tier in coverage.tiers_without_spend:
                unpriced += count
        if tokens:
            result["tiers_without_spend_share"] = str(
                (Decimal(unpriced) / tokens).quantize(_PLACES)
            )
    return result
