"""The permission group behind the administrator role."""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

ADMINISTRATORS = "Administrators"

#: Apps whose models administrators manage in the admin screens.
ADMINISTERED_APPS = (
    "accounts",
    "core",
    "catalogue",
    "cmdb",
    "incidents",
    "service_level",
    "service_desk",
    "problems",
    "changes",
    "assets",
    "knowledge",
)


def administrators_group() -> Group:
    return Group.objects.get_or_create(name=ADMINISTRATORS)[0]


def sync_administrator_permissions(**kwargs) -> None:
    """post_migrate: the group holds every permission of the administered apps, so models
    added by later migrations are included."""
    if not apps.is_installed("django.contrib.auth"):
        return
    group = administrators_group()
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMINISTERED_APPS))
