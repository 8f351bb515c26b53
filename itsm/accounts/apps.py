from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "itsm.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.db.models.signals import post_migrate, post_save

        from .roles import sync_administrator_permissions
        from .signals import revoke_tokens_on_password_change

        post_migrate.connect(sync_administrator_permissions, dispatch_uid="accounts.admin_group")
        post_save.connect(
            revoke_tokens_on_password_change,
            sender=self.get_model("User"),
            dispatch_uid="accounts.revoke_tokens_on_password_change",
        )
