from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tokenoffset.accounts"
    label = "accounts"
    verbose_name = "Accounts"
