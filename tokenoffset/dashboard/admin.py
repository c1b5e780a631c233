"""Deleting an account from the admin: the product's deletion, not a bare cascade.

``account_delete`` spans every app (Stripe, keys, the owners' email), so the admin action that
uses it is registered here, at the top layer, over the accounts app's read-only AccountAdmin.
"""

from django.contrib import admin

from tokenoffset.accounts.admin import AccountAdmin
from tokenoffset.accounts.models import Account

from .lifecycle import account_delete

admin.site.unregister(Account)


@admin.register(Account)
class AccountDeletingAdmin(AccountAdmin):
    """Superusers may delete an account, one at a time, exactly as its owner would: open
    checkouts expired and the Stripe customer deleted (retried until Stripe confirms), the keys
    erased, the owners told."""

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass account_delete
        return actions

    def delete_model(self, request, obj):
        account_delete(account=obj, user=request.user)
