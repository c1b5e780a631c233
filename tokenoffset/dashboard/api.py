"""The current account as JSON: ``GET /api/v1/estimate`` (offset, estimate, sources) and
``GET /api/v1/usage/daily`` (daily token counts per date, source and model)."""

import hashlib
import re
import uuid
from datetime import date, timedelta

from django.http import HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.cache import parse_etags
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing.selectors import offset_json
from connectors.models import EstimateSource
from estimates.footprint import TOKEN_TYPES
from estimates.selectors import account_estimate, sources_with_sampling, usage_daily

DEFAULT_DAYS = 90  # whole UTC days before today; today is included too
MAX_DAYS = 400  # rows are kept for 13 months
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
        # Anthropic server-side web searches: a count of calls, not tokens.
        "monthly_web_search_requests": estimate.monthly_web_search_requests,
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
        "kind": source.kind,
        "vendor": source.vendor,
        "label": source.label,
        "status": source.status,
        "progress": (active.progress or {"reports": {}}) if active else None,
        "last_sampled_at": _iso(source.last_sampled_at),
    }


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _refused(request) -> JsonResponse | None:
    """401 without a session, 403 without an account; members and owners may read."""
    if not request.user.is_authenticated:
        return _error("authentication required", 401)
    if request.account is None:
        return _error("no account", 403)
    return None


def estimate_etag(account) -> str:
    """Changes with the account's data version (every writer of these figures bumps it), its
    name, and the UTC date (the stale flag); the progress poll asks with it."""
    name = hashlib.sha256(account.name.encode()).hexdigest()[:8]
    return f'"{account.pk}.{account.data_version}.{name}.{timezone.now().date().isoformat()}"'


@never_cache
@require_GET
def estimate(request):
    """The account as JSON; 304 without building it when ``If-None-Match`` is still current."""
    if refused := _refused(request):
        return refused
    account = request.account
    etag = estimate_etag(account)
    asked = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in asked or "*" in asked:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse(
            {
                "account": {"id": str(account.public_id), "name": account.name},
                "offset": offset_json(account=account),
                "estimate": estimate_json(account_estimate(account=account)),
                "sources": [source_json(s) for s in sources_with_sampling(account=account)],
            }
        )
    response["ETag"] = etag
    return response


class BadQuery(ValueError):
    pass


def _date_param(request, name: str, default: date) -> date:
    value = request.GET.get(name)
    if value is None:
        return default
    value = value.strip()
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"{name} must be a date as YYYY-MM-DD, e.g. 2026-11-01") from None


def _window(request) -> tuple[date, date]:
    """[start, end): by default the last 90 whole UTC days plus today."""
    today = timezone.now().date()  # USE_TZ: now() is in UTC
    start = _date_param(request, "start", today - timedelta(days=DEFAULT_DAYS))
    end = _date_param(request, "end", today + timedelta(days=1))
    if end <= start:
        raise BadQuery("end must be after start (end is exclusive)")
    if (end - start).days > MAX_DAYS:
        raise BadQuery(f"the range may span at most {MAX_DAYS} days")
    return start, end


@never_cache
@require_GET
def usage_daily_json(request):
    """``GET /api/v1/usage/daily[?source=<uuid>][&start=YYYY-MM-DD&end=YYYY-MM-DD]``."""
    if refused := _refused(request):
        return refused
    account = request.account
    try:
        start, end = _window(request)
    except BadQuery as e:
        return _error(str(e), 400)
    source = None
    if (source_id := request.GET.get("source")) is not None:
        try:
            public_id = uuid.UUID(source_id.strip())
        except ValueError:
            return _error("source must be a source id (a UUID)", 400)
        # Through the account: another account's source is as unknown as a made-up id.
        source = (
            EstimateSource.objects.filter(account=account, public_id=public_id).only("pk").first()
        )
        if source is None:
            return _error("no such source", 404)
    rows = usage_daily(account=account, start=start, end=end, source=source)
    return JsonResponse({"start": start.isoformat(), "end": end.isoformat(), "rows": rows})
