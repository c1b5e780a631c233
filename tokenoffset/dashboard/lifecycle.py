"""Account settings → Your data: export everything the account holds, or delete the account.

Both span every app (sources, samples, projections, the offset, the subscription), so they live
here, above all of them. Exports list their fields explicitly: a new column (a key, a secret)
never reaches an export by accident.
"""

import csv
import io
import json
import logging
import zipfile

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.models import Offset, OffsetChange, Subscription
from billing.proof import removal_json
from billing.stripe_cleanup import stripe_account_closed
from connectors.models import EstimateSource, KeyEvent
from estimates.models import DailyCost, DailyUsage, Projection, Sample
from tokenoffset.accounts.access import owner_required, switch_account
from tokenoffset.accounts.emails import email_send
from tokenoffset.accounts.models import Account, Membership, Role, User
from tokenoffset.accounts.spreadsheets import spreadsheet_cell

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
SOURCE = {"source_public_id": F("source__public_id")}

# The columns of each section, and nothing else. Sources: the hint, never the key.
SOURCE_FIELDS = [
    "public_id", "kind", "vendor", "label", "key_hint", "status", "last_error", "is_sandbox",
]  # fmt: skip
SAMPLE_FIELDS = ["public_id", "trigger", "status", "window_start", "window_end", "error"]
USAGE_FIELDS = [
    "date", "model", "service_tier", "context_window", "batch", "uncached_input",
    "cache_read", "cache_write", "cache_write_1h", "output", "requests",
]  # fmt: skip
COST_FIELDS = ["date", "description", "dimensions", "amount_usd", "currency"]
PROJECTION_FIELDS = [
    "method_version", "window_start", "window_end", "first_usage", "last_usage", "active_days",
    "preliminary",
    "monthly_tokens", "monthly_tokens_by_class", "monthly_tokens_low", "monthly_tokens_high",
    "provider_spend_usd", "provider_spend_low_usd", "provider_spend_high_usd", "it_kwh", "kwh",
    "co2e_kg", "water_l", "footprint_low", "footprint_high", "trend_pct", "unclassified_models",
    "created_at",
]  # fmt: skip
OFFSET_FIELDS = [
    "kind", "price_cents", "band_slug", "band_name", "figures", "coefficient_set_version",
    "chosen_at",
]  # fmt: skip
CHANGE_FIELDS = [
    "public_id", "from_kind", "from_price_cents", "from_band_slug", "to_kind", "to_price_cents",
    "to_band_slug", "to_band_name", "figures", "coefficient_set_version", "reason", "created_at",
    "effective_from",
]  # fmt: skip
KEY_EVENT_FIELDS = ["kind", "source_public_id", "source_label", "vendor", "key_hint", "detail"]


def account_export(*, account: Account) -> dict:
    """Everything the account holds, as plain data; keys are never part of it."""

    def rows(queryset, fields, **extra):
        return list(queryset.filter(account=account).values(*fields, **extra))

    sources = EstimateSource.objects.order_by("created_at")
    offset = rows(Offset.objects, OFFSET_FIELDS, chosen_by_email=F("chosen_by__email"))
    subscription = rows(Subscription.objects, ["status", "unit_amount_cents", "current_period_end"])
    return {
        "format": "tokenoffset-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        "account": {
            "id": account.public_id,
            "name": account.name,
            "created_at": account.created_at,
        },
        "members": rows(
            Membership.objects.order_by("created_at"),
            ["role", "created_at"],
            email=F("user__email"),
        ),
        "sources": rows(sources, [*SOURCE_FIELDS, "created_at"]),
        "samples": rows(
            Sample.objects.order_by("created_at"),
            [*SAMPLE_FIELDS, "created_at", "started_at", "finished_at"],
            **SOURCE,
        ),
        "daily_usage": rows(DailyUsage.objects.order_by("date", "id"), USAGE_FIELDS, **SOURCE),
        "daily_costs": rows(DailyCost.objects.order_by("date", "id"), COST_FIELDS, **SOURCE),
        "projections": rows(
            Projection.objects.order_by("created_at"),
            PROJECTION_FIELDS,
            sample_public_id=F("sample__public_id"),
            **SOURCE,
        ),
        "offset": offset[0] if offset else None,
        "offset_history": rows(
            OffsetChange.objects.order_by("created_at", "id"),
            CHANGE_FIELDS,
            chosen_by_email=F("chosen_by__email"),
        ),
        "subscription": subscription[0] if subscription else None,
        # The tonnes of removal (and their orders) the account's payments funded.
        "removal_allocations": removal_json(account=account),
        "key_events": rows(
            KeyEvent.objects.order_by("created_at"),
            [*KEY_EVENT_FIELDS, "created_at"],
            actor_email=F("actor__email"),
        ),
    }


def account_export_csv_zip(*, export: dict) -> bytes:
    """One CSV per list in the export (nested values as JSON), zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in export.items():
            if not isinstance(value, list) or not value:
                continue
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(value[0]))
            writer.writeheader()
            for row in value:
                writer.writerow({k: _cell(v) for k, v in row.items()})
            archive.writestr(f"{name}.csv", out.getvalue())
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, dict | list):
        value = json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)
    return "" if value is None else spreadsheet_cell(value)


def account_delete(*, account: Account, user: User) -> None:
    """Stop Stripe charging, erase keys and usage, then the account. Users are kept.

    Stripe never blocks the deletion: billing records what Stripe must still do (ids only) in
    the same transaction and retries it until Stripe confirms.
    """
    owners = list(account.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True))
    name = account.name
    with transaction.atomic():
        stripe_account_closed(account=account)
        # Keys first, with samples, daily rows and projections cascading from their source.
        EstimateSource.objects.filter(account=account).delete()
        account.delete()
    email_send(
        subject=f"{name} was deleted",
        body=(
            f"{user.email} deleted the account “{name}” on {timezone.now():%Y-%m-%d %H:%M} UTC.\n\n"
            "Its subscription was cancelled, and its keys, samples, daily usage, projections and "
            "offset history were erased. Revoke the admin keys in the vendors' consoles too."
        ),
        recipients=owners,
    )


# --- Views --------------------------------------------------------------------------------


class AccountDeleteForm(forms.Form):
    name = forms.CharField(label="Type the account's name to confirm", max_length=100)

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_name(self):
        if self.cleaned_data["name"].strip() != self.account.name.strip():
            raise forms.ValidationError("That is not this account's name; nothing was deleted.")
        return self.cleaned_data["name"]


def _account(request, account_id) -> Account:
    # The URL names the account the owner was looking at: it must be the request's account.
    return get_object_or_404(Account, pk=request.account.pk, public_id=account_id)


def _attachment(content, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@owner_required
def export_json(request, account_id):
    export = account_export(account=_account(request, account_id))
    body = json.dumps(export, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    filename = f"tokenoffset-export-{timezone.now():%Y-%m-%d}.json"
    return _attachment(body, content_type="application/json", filename=filename)


@require_GET
@owner_required
def export_csv(request, account_id):
    export = account_export(account=_account(request, account_id))
    filename = f"tokenoffset-export-{timezone.now():%Y-%m-%d}.zip"
    return _attachment(
        account_export_csv_zip(export=export), content_type="application/zip", filename=filename
    )


@owner_required
def account_delete_view(request, account_id):
    account = _account(request, account_id)
    form = AccountDeleteForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        account_delete(account=account, user=request.user)
        return _after_delete(request, name=account.name)
    status = 400 if form.is_bound else 200
    return render(request, "accounts/delete.html", {"form": form}, status=status)


def _after_delete(request, *, name: str):
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("account")
        .order_by("-role", "created_at")
        .first()
    )
    if membership is None:
        logout(request)
        return redirect("lifecycle:goodbye")
    switch_account(request, membership)
    messages.success(request, f"{name} was deleted. You are now in {membership.account.name}.")
    return redirect("dashboard:home")


@require_GET
def goodbye(request):
    return render(request, "accounts/goodbye.html")
