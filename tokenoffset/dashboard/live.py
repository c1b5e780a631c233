"""Estimate sources → Live from Claude Code / Codex: create a live source, rotate its token.

The token is shown once, in the response to the POST that made it (never stored, never in a
redirect or the session); every later page shows its last four characters only.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from connectors.live import instructions
from connectors.live.models import LiveBilling, LiveSource, Tool
from connectors.live.services import live_billing_set, live_source_create, live_token_rotate
from connectors.models import EstimateSource, Kind
from estimates.live import live_today
from tokenoffset.accounts.access import account_required, owner_required


class LiveSourceForm(forms.Form):
    tool = forms.ChoiceField(
        choices=Tool.choices, widget=forms.RadioSelect, initial=Tool.CLAUDE_CODE
    )
    billing = forms.ChoiceField(
        label="How is it billed?",
        choices=LiveBilling.choices,
        widget=forms.RadioSelect,
        initial=LiveBilling.UNKNOWN,
    )
    label = forms.CharField(max_length=100, required=False)


class LiveBillingForm(forms.Form):
    billing = forms.ChoiceField(choices=LiveBilling.choices)


def _live(request, source_id) -> EstimateSource:
    return get_object_or_404(
        EstimateSource.objects.select_related("live"),
        account=request.account,
        public_id=source_id,
        kind=Kind.LIVE,
    )


def _shown_once(request, source: EstimateSource, token) -> object:
    context = {
        "source": source,
        "live": source.live,
        "snippets": instructions.snippets(source.live.tool, settings.SITE_URL, token.raw),
        "endpoint": f"{settings.SITE_URL}/otlp",
    }
    response = render(request, "sources/live_token.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@account_required
def live_page(request):
    lives = LiveSource.objects.filter(source__account=request.account).select_related("source")
    return render(
        request,
        "sources/live.html",
        {
            "lives": lives.order_by("source__created_at"),
            "form": LiveSourceForm(),
            "today_tokens": live_today(account=request.account),
            "endpoint": f"{settings.SITE_URL}/otlp",
            "billing_choices": LiveBilling.choices,
        },
    )


@require_POST
@owner_required
def live_add(request):
    form = LiveSourceForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "lives": [], "endpoint": f"{settings.SITE_URL}/otlp"}
        return render(request, "sources/live.html", context, status=400)
    source, token = live_source_create(
        account=request.account,
        user=request.user,
        tool=form.cleaned_data["tool"],
        billing=form.cleaned_data["billing"],
        label=form.cleaned_data["label"],
    )
    return _shown_once(request, source, token)


@require_POST
@owner_required
def live_rotate(request, source_id):
    source = _live(request, source_id)
    token = live_token_rotate(source=source, user=request.user)
    source.live.refresh_from_db()
    return _shown_once(request, source, token)


@require_POST
@owner_required
def live_billing(request, source_id):
    source = _live(request, source_id)
    form = LiveBillingForm(request.POST)
    if form.is_valid():
        live_billing_set(source=source, billing=form.cleaned_data["billing"])
        messages.success(request, "Saved. The estimate follows at the next daily projection.")
    return redirect("sources:live")
