"""The permission group behind the administrator role."""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

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


#: Rights nobody holds, administrators included: the audit trail (timeline entries) is
#: written only by the platform and never edited or removed, and attachments are part of
#: it (who added which file to which record). The admin refuses these to superusers too.
WITHHELD = (
    ("core", "add_journalentry"),
    ("core", "change_journalentry"),
    ("core", "delete_journalentry"),
    ("core", "add_attachment"),
    ("core", "change_attachment"),
    ("core", "delete_attachment"),
    ("core", "add_recordlink"),
    ("core", "change_recordlink"),
    ("core", "delete_recordlink"),
    ("core", "add_notification"),
    ("core", "change_notification"),
    ("core", "delete_notification"),
)


def administered_permissions():
    """The administrators' permissions: every permission of the administered apps except
    the withheld ones."""
    withheld = Q()
    for app_label, codename in WITHHELD:
        withheld |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(content_type__app_label__in=ADMINISTERED_APPS).exclude(
        withheld
    )


def administrators_group() -> Group:
    return Group.objects.get_or_create(name=ADMINISTRATORS)[0]


def sync_administrator_permissions(**kwargs) -> None:
    """post_migrate: the group holds every permission of the administered apps (bar the
    withheld ones), so models added by later migrations are included and a withheld right
    granted before is taken back."""
    if not apps.is_installed("django.contrib.auth"):
        return
    group = administrators_group()
    group.permissions.set(administered_permissions())
