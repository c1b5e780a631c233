from allauth.account.adapter import DefaultAccountAdapter

from .client_address import client_address
from .services import account_create_for_user


class AccountAdapter(DefaultAccountAdapter):
    """Every new user gets an Account of their own, in the same transaction as the user."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            account_create_for_user(user=user)
        return user

    def get_client_ip(self, request):
        # One definition of "the client" for allauth's limits and ours (see client_address).
        return client_address(request)
