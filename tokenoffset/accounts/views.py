from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services
from .access import account_required, owner_required, switch_account
from .client_address import client_bucket
from .forms import AccountRenameForm, InvitationForm
from .models import Invitation, Membership


@account_required
def settings_page(request):
    account = request.account
    context = {
        "memberships": account.memberships.select_related("user").order_by("-role", "created_at"),
        "invitations": account.invitations.order_by("-created_at"),
        "invite_form": InvitationForm(),
        "rename_form": AccountRenameForm(initial={"name": account.name}),
    }
    return render(request, "accounts/settings.html", context)


@require_POST
@owner_required
def invitation_create(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(
                account=request.account,
                email=form.cleaned_data["email"],
                invited_by=request.user,
                client=client_bucket(request),
            )
        except services.InvitationError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    else:
        messages.error(request, "Enter a valid email address to invite.")
    return redirect("accounts:settings")


@require_POST
@owner_required
def invitation_revoke(request, invitation_id):
    invitation = get_object_or_404(Invitation, account=request.account, public_id=invitation_id)
    invitation.delete()
    messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("accounts:settings")


@login_required
def invitation_accept(request, token):
    if request.method != "POST":
        invitation = services.invitation_by_token(token)
        return render(request, "accounts/invitation_accept.html", {"invitation": invitation})
    try:
        membership = services.invitation_accept(token=token, user=request.user)
    except services.InvitationError as e:
        messages.error(request, str(e))
        return redirect("dashboard:home")
    switch_account(request, membership)
    messages.success(request, f"You joined {membership.account.name}.")
    return redirect("dashboard:home")


@require_POST
@owner_required
def member_remove(request, membership_id):
    membership = get_object_or_404(Membership, account=request.account, public_id=membership_id)
    try:
        services.membership_remove(membership=membership)
    except services.InvitationError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"{membership.user.email} no longer has access.")
    return redirect("accounts:settings")


@require_POST
@owner_required
def account_rename(request):
    form = AccountRenameForm(request.POST)
    if form.is_valid():
        request.account.name = form.cleaned_data["name"]
        request.account.save(update_fields=["name"])
        messages.success(request, "Account renamed.")
    else:
        messages.error(request, f"The name was not changed: {' '.join(form.errors['name'])}")
    return redirect("accounts:settings")


@require_POST
@login_required
def account_switch(request, account_id):
    membership = get_object_or_404(Membership, user=request.user, account__public_id=account_id)
    switch_account(request, membership)
    messages.info(request, f"You are now looking at {membership.account.name}.")
    return redirect("dashboard:home")


def admin_login(request):
    """The admin's sign-in is the product's, with the same rate limits on failed logins."""
    wanted = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        wanted = ""
    wanted = wanted or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(wanted, login_url=reverse("account_login"))
    if not request.user.is_staff:
        raise PermissionDenied("This login has no access to the admin.")
    return redirect(wanted)
