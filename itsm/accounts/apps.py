from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "itsm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.db.models.signals import post_migrate, post_save

        from . import permissions as granted
        from .roles import sync_role_permissions
        from .signals import revoke_tokens_on_password_change

        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.admin_group")
        self.connect_granted_permissions(granted)
        post_save.connect(
            revoke_tokens_on_password_change,
            sender=self.get_model("User"),
            dispatch_uid="accounts.revoke_tokens_on_password_change",
        )

    def connect_granted_permissions(self, granted):
        """Keep ``User.granted_permissions`` in step with groups and permissions."""
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, pre_delete

        User = self.get_model("User")
        m2m_changed.connect(
            granted.on_group_permissions_changed,
            sender=Group.permissions.through,
            dispatch_uid="accounts.granted.group_permissions",
        )
        for through in (User.groups.through, User.user_permissions.through):
            m2m_changed.connect(
                granted.on_user_groups_changed,
                sender=through,
                dispatch_uid=f"accounts.granted.{through._meta.model_name}",
            )
        pre_delete.connect(granted.on_group_deleted, sender=Group, dispatch_uid="accounts.g1")
        post_delete.connect(granted.after_group_deleted, sender=Group, dispatch_uid="accounts.g2")
        pre_delete.connect(
            granted.on_permission_deleted, sender=Permission, dispatch_uid="accounts.g3"
        )
