"""The public footprint calculator page and its JSON API (POST /api/v1/footprint)."""

import json
from decimal import Decimal

from csp.decorators import csp_update
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from estimates.calculator import FootprintQuote, QuoteError, footprint_quote
from estimates.coefficients import NoActiveCoefficientSet
from estimates.footprint import TOKEN_TYPES
from tokenoffset.accounts.client_address import client_bucket
from tokenoffset.accounts.ratelimits import limit_exceeded

MAX_BODY_BYTES = 4096
QUOTES_PER_MINUTE = 60
# The page counts a pasted prompt's tokens with Anthropic's free endpoint, from the browser, with
# the visitor's own key: this page alone may connect there.
ANTHROPIC_API = "https://api.anthropic.com"
VENDOR_CHOICES = (
    ("anthropic", "Anthropic"),
    ("openai", "OpenAI"),
    ("google", "Google"),
    ("unknown", "Unknown"),
)
# Model ids to pick from, by class (any other id can be typed: the same rules classify it).
EXAMPLE_MODELS = (
    "claude-3-5-haiku", "gpt-4o-mini", "gpt-5-nano", "gemini-2.5-flash-lite",
    "claude-haiku-4-5", "gpt-5-mini", "o4-mini", "gemini-2.5-flash",
    "claude-sonnet-4-5", "gpt-5", "gpt-4.1", "o3", "gemini-2.5-pro",
    "claude-opus-4-5", "claude-opus-4-6",
    "claude-opus-4-1", "o3-pro", "gpt-5-pro",
)  # fmt: skip


def quote_json(quote: FootprintQuote) -> dict:
    return {
        "model": quote.model,
        "model_class": quote.model_class,
        "classified": quote.classified,
        "vendor": quote.vendor,
        "coefficient_set": quote.coefficient_set,
        "tokens": quote.tokens,
        "energy_kwh": float(quote.footprint.kwh),
        "co2e_kg": float(quote.footprint.co2e_kg),
        "water_l": float(quote.footprint.water_l),
        "price_usd": f"{quote.price_usd:.2f}",
    }


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt  # public and stateless: no session, nothing to forge
@require_POST
def footprint_api(request):
    if limit_exceeded(
        f"footprint-api:{client_bucket(request)}", limit=QUOTES_PER_MINUTE, window_seconds=60
    ):
        response = _error("Too many requests: at most 60 a minute; try again shortly.", 429)
        response["Retry-After"] = "60"
        return response
    if len(request.body) > MAX_BODY_BYTES:
        return _error(f"The body is larger than {MAX_BODY_BYTES} bytes.", 413)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error("The body is not JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("tokens"), dict):
        return _error('Send {"model": "...", "tokens": {"output": 1000, ...}}.')
    if not isinstance(body.get("model"), str) or not isinstance(body.get("vendor", ""), str):
        return _error("model and vendor must be strings.")
    try:
        quote = footprint_quote(
            model=body["model"], vendor=body.get("vendor") or None, tokens=body["tokens"]
        )
    except QuoteError as e:
        return _error(str(e))
    except NoActiveCoefficientSet:
        return _error("Our coefficients are being updated; try again shortly.", 503)
    return JsonResponse(quote_json(quote))


@csp_update({"connect-src": ANTHROPIC_API})
def page(request):
    """The calculator; without JavaScript the form posts here and the result is rendered."""
    context = {
        "examples": EXAMPLE_MODELS,
        "values": request.POST,
        "vendor_choices": VENDOR_CHOICES,
    }
    if request.method == "POST":
        try:
            tokens = {t: _whole(request.POST.get(t, "")) for t in TOKEN_TYPES}
            context["quote"] = footprint_quote(
                model=request.POST.get("model", ""),
                vendor=request.POST.get("vendor") or None,
                tokens=tokens,
            )
        except (QuoteError, NoActiveCoefficientSet) as e:
            context["error"] = str(e) or "Our coefficients are being updated."
    return render(request, "public/calculator.html", context)


def _whole(text: str) -> int:
    text = text.replace(",", "").replace("_", "").strip() or "0"
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise QuoteError(f"{text!r} is not a number of tokens.") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise QuoteError(f"{text!r} is not a whole number of tokens.")
    return int(value)
