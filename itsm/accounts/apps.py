from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "itsm.accounts"
    label = "accounts"
    verbose_name = "Accounts"
