"""Deleting an account from the admin: the product's deletion, not a bare cascade.

``account_delete`` spans every app (Stripe, keys, the owners' email), so the admin action that
uses it is registered here, at the top layer, over the accounts app's read-only AccountAdmin.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from billing import stripe_client
from tokenoffset.accounts.admin import AccountAdmin
from tokenoffset.accounts.models import Account

from .lifecycle import account_delete

admin.site.unregister(Account)


@admin.register(Account)
class AccountDeletingAdmin(AccountAdmin):
    """Superusers may delete an account, one at a time, exactly as its owner would: the
    subscription cancelled at Stripe, the keys erased, the owners told."""

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time: Stripe may refuse one of them
        return actions

    def delete_model(self, request, obj):
        try:
            account_delete(account=obj, user=request.user)
        except stripe_client.PaymentsError as e:
            request._account_not_deleted = str(e)

    def response_delete(self, request, obj_display, obj_id):
        error = getattr(request, "_account_not_deleted", None)
        if error is None:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(
            request,
            f"Stripe could not cancel the subscription ({error}). Nothing was deleted; "
            "try again in a moment.",
            messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[obj_id]))
