"""What each source's footprint counts and leaves out, in words: from the kind's declared
coverage (connectors.registry) and its latest projection's left-out spend."""

from dataclasses import dataclass
from decimal import Decimal

from connectors import registry

_HALF_PERCENT = Decimal("0.005")


@dataclass(frozen=True)
class SourceCoverage:
    counted: tuple[str, ...]
    spend_only: tuple[str, ...]
    left_out: str  # "About 7% of what you paid OpenAI is for images and audio, …"; may be ""
    note: str  # what the spend report itself lacks; may be ""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _pct(share: Decimal) -> str:
    if share < _HALF_PERCENT:
        return "Under 1%"
    return f"About {share * 100:.0f}%"


def left_out_sentence(name: str, left_out: dict | None) -> str:
    """The share of spend the footprint does not count, from a projection's spend_left_out."""
    if not left_out or "share" not in left_out:
        return ""
    share = Decimal(left_out["share"])
    # Largest first (a jsonb column does not keep the stored order).
    by_type = (left_out.get("by_type") or {}).items()
    types = [t for t, _ in sorted(by_type, key=lambda kv: (-Decimal(kv[1]), kv[0]))]
    if share <= 0 or not types:
        return (
            f"Everything you paid {name} in the sampled window is for usage the footprint counts."
        )
    return (
        f"{_pct(share)} of what you paid {name} is for {_and(types)}, which the footprint does "
        "not count yet."
    )


def tiers_sentence(left_out: dict | None) -> str:
    share = Decimal((left_out or {}).get("tiers_without_spend_share") or 0)
    if share <= 0:
        return ""
    return f"{_pct(share)} of its tokens are on Priority Tier, whose spend is not reported."


def source_coverage(source) -> SourceCoverage | None:
    """None when the source's kind declares nothing (or is no longer registered)."""
    try:
        connector = registry.for_source(source)
    except registry.UnknownSourceKind:
        return None
    coverage = connector.coverage
    if not coverage.declared:
        return None
    left_out = getattr(source, "latest_left_out", None)
    note = " ".join(s for s in (coverage.note, tiers_sentence(left_out)) if s)
    return SourceCoverage(
        counted=coverage.counted,
        spend_only=coverage.spend_only,
        left_out=left_out_sentence(connector.name, left_out),
        note=note,
    )


def account_left_out(projections) -> tuple[Decimal, list[str]]:
    """The share of the account's projected spend that pays for left-out usage, and its types."""
    spend = left = Decimal(0)
    types: dict[str, Decimal] = {}
    for p in projections:
        spend += p.provider_spend_usd
        data = p.spend_left_out or {}
        left += p.provider_spend_usd * Decimal(data.get("share") or 0)
        for usage_type, share in (data.get("by_type") or {}).items():
            types[usage_type] = types.get(usage_type, Decimal(0)) + p.provider_spend_usd * Decimal(
                share
            )
    if spend <= 0:
        return Decimal(0), []
    ordered = [
        t for t, amount in sorted(types.items(), key=lambda kv: (-kv[1], kv[0])) if amount > 0
    ]
    return left / spend, ordered
