"""Billing: the offset in force, explicit adoption (confirm, then POST), Stripe pages, webhook."""

import logging
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from estimates.selectors import account_estimate
from tokenoffset.accounts.access import account_required, owner_required

from . import alerts, selectors, services, stripe_client, subscriptions, webhooks
from .forms import (
    BandChooseForm,
    BandSelectForm,
    CustomAmountForm,
    CustomConfirmForm,
    EstimateAdoptForm,
)
from .models import OffsetChange

log = logging.getLogger(__name__)


def _absolute(name: str) -> str:
    return settings.SITE_URL + reverse(name)


def _confirm(request, *, title: str, new_cents: int, form, action: str, detail: str = ""):
    """The confirmation page every choice goes through: old → new price, when, then POST."""
    return render(
        request,
        "billing/confirm.html",
        {
            "title": title,
            "detail": detail,
            "offset": selectors.offset_in_force(account=request.account),
            "new_price_usd": Decimal(new_cents) / 100,
            "takes_effect": selectors.takes_effect_words(
                subscription=selectors.subscription_of(account=request.account)
            ),
            "form": form,
            "action": action,
        },
    )


def _chosen(request, change: OffsetChange):
    reason = change.reason[:1].lower() + change.reason[1:]  # keep "Nov" as it is
    messages.success(request, f"Your offset is now ${change.to_price_usd:.2f} a month ({reason}).")
    if change.stripe_error:
        messages.warning(request, "Stripe has not been updated yet; we will keep trying.")
    return redirect("billing:home")


def _home(request, *, custom_form, status=200):
    overview = selectors.billing_overview(account=request.account)
    context = {
        "o": overview,
        "payments_configured": selectors.payments_configured(),
        "custom_form": custom_form,
        "takes_effect": selectors.takes_effect_words(subscription=overview.subscription),
        "usage_alert_enabled": alerts.usage_alert_enabled(account=request.account),
    }
    return render(request, "billing/home.html", context, status=status)


@account_required
@require_GET
def billing_home(request):
    return _home(request, custom_form=CustomAmountForm())


@owner_required
@require_GET
def band_confirm(request):
    form = BandSelectForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Choose one of the bands.")
        return redirect("billing:home")
    offer = selectors.band_offer(slug=form.cleaned_data["band"])
    confirm = BandChooseForm(
        initial={"band": offer.band.slug, "expected_price_cents": offer.price_cents}
    )
    return _confirm(
        request,
        title=f"Switch to the {offer.band.name} band",
        detail=f"{offer.band.name}: {offer.range_words} (coefficient set "
        f"{offer.band.coefficient_set.version}).",
        new_cents=offer.price_cents,
        form=confirm,
        action="billing:band_choose",
    )


@owner_required
@require_POST
def band_choose(request):
    form = BandChooseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the bands.")
        return redirect("billing:home")
    band = form.cleaned_data["band"]
    try:
        change = services.offset_choose_band(
            account=request.account,
            user=request.user,
            band_slug=band,
            expected_price_cents=form.cleaned_data["expected_price_cents"],
        )
    except services.PriceChanged as e:
        messages.warning(request, e.message)
        return redirect(f"{reverse('billing:band_confirm')}?band={band}")
    except services.OffsetError as e:
        messages.error(request, e.message)
        return redirect("billing:home")
    return _chosen(request, change)


@owner_required
@require_GET
def custom_confirm(request):
    form = CustomAmountForm(request.GET)
    if not form.is_valid():
        return _home(request, custom_form=form, status=400)
    confirm = CustomConfirmForm(initial={"amount_usd": form.cleaned_data["amount_usd"]})
    return _confirm(
        request,
        title="Set a custom monthly amount",
        new_cents=form.amount_cents,
        form=confirm,
        action="billing:custom_set",
    )


@owner_required
@require_POST
def custom_set(request):
    form = CustomConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("amount_usd", ["Enter an amount."])))
        return redirect("billing:home")
    try:
        change = services.offset_set_custom(
            account=request.account, user=request.user, amount_cents=form.amount_cents
        )
    except services.OffsetError as e:
        messages.error(request, e.message)
        return redirect("billing:home")
    return _chosen(request, change)


@owner_required
@require_GET
def estimate_confirm(request):
    estimate = account_estimate(account=request.account)
    if estimate is None:
        messages.error(request, "There is no estimate to adopt yet.")
        return redirect("billing:home")
    price_cents = selectors.cents(estimate.price_usd)
    return _confirm(
        request,
        title="Adopt the estimate",
        detail=f"{estimate.monthly_tokens_total:,} tokens a month, "
        f"{estimate.footprint.co2e_kg:.2f} kg CO2e, sampled {estimate.sampled_at:%d %b %Y}.",
        new_cents=price_cents,
        form=EstimateAdoptForm(initial={"expected_price_cents": price_cents}),
        action="billing:estimate_adopt",
    )


@owner_required
@require_POST
def estimate_adopt(request):
    form = EstimateAdoptForm(request.POST)
    if not form.is_valid():
        return redirect("billing:home")
    try:
        change = services.offset_adopt_estimate(
            account=request.account,
            user=request.user,
            expected_price_cents=form.cleaned_data["expected_price_cents"],
        )
    except services.PriceChanged as e:
        messages.warning(request, e.message)
        return redirect("billing:estimate_confirm")
    except services.OffsetError as e:
        messages.error(request, e.message)
        return redirect("billing:home")
    return _chosen(request, change)


@account_required
@require_GET
def change_detail(request, change_id):
    change = get_object_or_404(
        OffsetChange.objects.select_related("chosen_by"),
        account=request.account,
        public_id=change_id,
    )
    return render(request, "billing/change_detail.html", {"change": change})


@owner_required
@require_POST
def checkout_start(request):
    if not selectors.payments_configured():
        messages.error(request, "Payments are not configured on this server.")
        return redirect("billing:home")
    try:
        url = subscriptions.subscription_checkout_start(
            account=request.account,
            user=request.user,
            success_url=_absolute("billing:checkout_success"),
            cancel_url=_absolute("billing:checkout_cancel"),
        )
    except (services.OffsetError, stripe_client.PaymentsError) as e:
        messages.error(request, str(e))
        return redirect("billing:home")
    return redirect(url)


@account_required
@require_GET
def checkout_success(request):
    return render(request, "billing/checkout_done.html", {"success": True})


@account_required
@require_GET
def checkout_cancel(request):
    return render(request, "billing/checkout_done.html", {"success": False})


@owner_required
@require_POST
def portal_start(request):
    if not selectors.payments_configured():
        messages.error(request, "Payments are not configured on this server.")
        return redirect("billing:home")
    try:
        url = subscriptions.subscription_portal_start(
            account=request.account, return_url=_absolute("billing:home")
        )
    except (services.OffsetError, stripe_client.PaymentsError) as e:
        messages.error(request, str(e))
        return redirect("billing:home")
    return redirect(url)


class UsageAlertForm(forms.Form):
    enabled = forms.BooleanField(required=False, widget=forms.HiddenInput)


@owner_required
@require_POST
def usage_alert_toggle(request):
    form = UsageAlertForm(request.POST)
    enabled = form.is_valid() and form.cleaned_data["enabled"]
    alerts.usage_alert_set(account=request.account, enabled=enabled)
    if enabled:
        messages.success(request, "Owners will get an email when the estimate moves by over 10%.")
    else:
        messages.success(request, "Usage alerts are off.")
    return redirect("billing:home")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's webhook endpoint: 400 on a bad signature; 2xx once the event is recorded."""
    try:
        outcome = webhooks.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe_client.BadSignature:
        return HttpResponseBadRequest("Invalid signature.")
    except stripe_client.PaymentsError:
        # Stored, but it or a Stripe call it needs failed: Stripe retries the event, and the
        # retry finishes it (a failed call is also retried by the worker).
        log.exception("Stripe webhook processing failed")
        return JsonResponse({"received": True, "processed": False}, status=503)
    return JsonResponse({"received": True, "outcome": outcome})
