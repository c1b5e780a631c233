"""Settings → Estimate sources: list, add, replace key, rename, remove.

These pages show sample status and progress (estimates) beside the key operations (connectors),
so they live here, above both.
"""

from contextlib import suppress

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from connectors import services as connector_services
from connectors.keys import KeyRejected
from connectors.models import EstimateSource, KeyEvent, Kind
from connectors.sandbox.google_catalogue import google_sandbox_context
from estimates import sampling
from estimates.models import SampleTrigger
from estimates.selectors import sources_with_sampling
from tokenoffset.accounts.access import account_required, owner_required
from tokenoffset.accounts.client_address import client_bucket

from .forms import (
    GoogleCredentialForm,
    GoogleSourceAddForm,
    KeyReplaceForm,
    SourceAddForm,
    SourceRenameForm,
)


def _source(request, source_id) -> EstimateSource:
    return get_object_or_404(EstimateSource, account=request.account, public_id=source_id)


@account_required
def source_list(request):
    sources = sources_with_sampling(account=request.account)
    events = KeyEvent.objects.filter(account=request.account).select_related("actor")[:50]
    return render(
        request,
        "sources/list.html",
        {"sources": sources, "key_events": events if request.membership.is_owner else []},
    )


@sensitive_post_parameters("api_key")
@sensitive_variables("form")
@owner_required
def source_add(request):
    form = SourceAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = connector_services.source_create(
                account=request.account,
                user=request.user,
                vendor=form.cleaned_data["vendor"],
                raw_key=form.cleaned_data["api_key"],
                is_sandbox=form.cleaned_data.get("sandbox", False),
                client=client_bucket(request),
            )
        except KeyRejected as e:
            form.add_error("api_key", e.message)
        else:
            sampling.sample_request(source=source, trigger=SampleTrigger.FIRST, user=request.user)
            messages.success(
                request, f"Connected {source.label}. The first sample runs in the background."
            )
            return redirect("sources:list")
    return render(request, "sources/add.html", {"form": form}, status=200)


@sensitive_post_parameters("key_json")
@sensitive_variables("form")
@owner_required
def source_add_google(request):
    """Google: a service-account key file (uploaded or pasted) and the projects to read."""
    form = GoogleSourceAddForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = connector_services.source_create(
                account=request.account,
                user=request.user,
                vendor="google",
                raw_key=form.cleaned_data["credential"],
                is_sandbox=form.cleaned_data.get("sandbox", False),
                client=client_bucket(request),
            )
        except KeyRejected as e:
            form.add_error("key_json", e.message)
        else:
            sampling.sample_request(source=source, trigger=SampleTrigger.FIRST, user=request.user)
            messages.success(
                request, f"Connected {source.label}. The first sample runs in the background."
            )
            return redirect("sources:list")
    return render(request, "sources/add_google.html", {"form": form, **google_sandbox_context()})


@sensitive_post_parameters("key_json")
@sensitive_variables("form")
def _replace_google(request, source):
    form = GoogleCredentialForm(request.POST or None, request.FILES or None)
    posted = request.method == "POST" and form.is_valid()
    if posted and _key_replaced(request, source, form, raw_key=form.cleaned_data["credential"]):
        return redirect("sources:list")
    context = {"form": form, "source": source, **google_sandbox_context()}
    return render(request, "sources/add_google.html", context)


@sensitive_post_parameters("api_key")
@sensitive_variables("form")
@owner_required
def source_replace(request, source_id):
    source = _source(request, source_id)
    if source.kind == Kind.SERVICE_ACCOUNT:
        return _replace_google(request, source)
    form = KeyReplaceForm(request.POST or None)
    posted = request.method == "POST" and form.is_valid()
    if posted and _key_replaced(request, source, form, raw_key=form.cleaned_data["api_key"]):
        return redirect("sources:list")
    return render(request, "sources/replace.html", {"form": form, "source": source})


@sensitive_variables("raw_key")
def _key_replaced(request, source, form, *, raw_key: str) -> bool:
    """Check and store the new credential; on refusal the form says why, under its key field."""
    try:
        connector_services.source_replace_key(
            source=source, user=request.user, raw_key=raw_key, client=client_bucket(request)
        )
    except KeyRejected as e:
        form.add_error("key_json" if "key_json" in form.fields else "api_key", e.message)
        return False
    messages.success(request, f"Replaced the key for {source.label}.")
    _sample_after_new_key(request, source)
    return True


@owner_required
def source_rename(request, source_id):
    source = _source(request, source_id)
    form = SourceRenameForm(request.POST or None, initial={"label": source.label})
    if request.method == "POST" and form.is_valid():
        connector_services.source_rename(source=source, label=form.cleaned_data["label"])
        messages.success(request, "Renamed.")
        return redirect("sources:list")
    return render(request, "sources/rename.html", {"form": form, "source": source})


@owner_required
def source_remove(request, source_id):
    source = _source(request, source_id)
    if request.method != "POST":
        return render(request, "sources/remove.html", {"source": source})
    connector_services.source_remove(source=source, user=request.user)
    messages.success(request, f"Removed {source.label}. Its key was deleted.")
    return redirect("sources:list")


def _sample_after_new_key(request, source: EstimateSource) -> None:
    # If a sample is on its way already, it samples again with the new key when it ends. A new
    # key is sampled even within the 5 minutes after a Re-sample.
    with suppress(sampling.AlreadySampling):
        sampling.sample_request(
            source=source, trigger=SampleTrigger.MANUAL, user=request.user, enforce_interval=False
        )


@require_POST
@owner_required
def source_sample(request, source_id):
    source = _source(request, source_id)
    try:
        sampling.sample_request(source=source, trigger=SampleTrigger.MANUAL, user=request.user)
    except (sampling.AlreadySampling, sampling.TooSoon) as e:
        messages.warning(request, str(e))
    else:
        messages.success(request, f"Sampling {source.label} now.")
    return redirect("sources:list")
