"""``GET /api/v1/estimate``: the current account's offset, estimate and sources as JSON."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing.selectors import offset_json
from estimates.footprint import TOKEN_TYPES
from estimates.selectors import account_estimate, sources_with_sampling


def _money(value) -> str:
    return f"{value:.2f}"


def _iso(value):
    return value.isoformat() if value else None


def estimate_json(estimate) -> dict | None:
    if estimate is None:
        return None
    tokens = {k: estimate.monthly_tokens.get(k, 0) for k in TOKEN_TYPES}
    return {
        "sampled_at": _iso(estimate.sampled_at),
        "window": {
            "start": estimate.window_start.isoformat(),
            # The window is [start, end): the last day sampled is the day before ``end``.
            "end": estimate.window_end.isoformat(),
        },
        "preliminary": estimate.preliminary,
        "stale": estimate.stale,
        "monthly_tokens": {**tokens, "total": sum(tokens.values())},
        "monthly_tokens_low": estimate.monthly_tokens_low,
        "monthly_tokens_high": estimate.monthly_tokens_high,
        "monthly_provider_spend_usd": _money(estimate.provider_spend_usd),
        "energy_kwh": float(estimate.footprint.kwh),
        "co2e_kg": float(estimate.footprint.co2e_kg),
        "water_l": float(estimate.footprint.water_l),
        "monthly_price_usd": _money(estimate.price_usd),
        "monthly_price_usd_low": _money(estimate.price_low_usd),
        "monthly_price_usd_high": _money(estimate.price_high_usd),
        "coefficient_set": estimate.coefficient_set.version,
        "trend_pct": estimate.trend_pct,
    }


def source_json(source) -> dict:
    active = source.active_sample
    return {
        "id": str(source.public_id),
        "vendor": source.vendor,
        "label": source.label,
        "status": source.status,
        "progress": (active.progress or {"reports": {}}) if active else None,
        "last_sampled_at": _iso(source.last_sampled_at),
    }


@never_cache
@require_GET
def estimate(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "authentication required"}, status=401)
    account = request.account
    if account is None:
        return JsonResponse({"error": "no account"}, status=403)
    return JsonResponse(
        {
            "account": {"id": str(account.public_id), "name": account.name},
            "offset": offset_json(account=account),
            "estimate": estimate_json(account_estimate(account=account)),
            "sources": [source_json(s) for s in sources_with_sampling(account=account)],
        }
    )
