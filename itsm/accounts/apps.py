from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "itsm.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_administrator_permissions

        post_migrate.connect(sync_administrator_permissions, dispatch_uid="accounts.admin_group")
