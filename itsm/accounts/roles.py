"""Roles as permission groups.

Each role is a group (created by the migration ``0007_roles_and_language``) whose
permissions are declared here and set at every ``migrate`` (post_migrate), so that models
added later are included and a right taken out of the declaration is taken back: the
groups of the roles are the platform's; an administrator who wants other combinations
makes groups of their own.

A person's primary role is ``User.role`` (kept in its group on every save); the
additional roles (problem manager, knowledge reviewer) are plain memberships of their
groups. Every check names a permission (``user.has_perm("incidents.…")``); what a person
holds is kept on their row (``User.granted_permissions``), so a check costs no query, and
is refreshed whenever a group's permissions or a person's groups change.
"""

from django.apps import apps
from django.db.models import Q

ADMINISTRATORS = "Administrators"
END_USERS = "End users"
AGENTS = "Agents"
MANAGERS = "Managers"
CHANGE_MANAGERS = "Change managers"
PROBLEM_MANAGERS = "Problem managers"
KNOWLEDGE_REVIEWERS = "Knowledge reviewers"

#: The group of each primary role (``User.role``).
ROLE_GROUPS = {
    "end_user": END_USERS,
    "agent": AGENTS,
    "manager": MANAGERS,
    "change_manager": CHANGE_MANAGERS,
    "administrator": ADMINISTRATORS,
}
#: Roles held in addition to the primary one: plain group memberships.
ADDITIONAL_ROLE_GROUPS = (PROBLEM_MANAGERS, KNOWLEDGE_REVIEWERS)
ROLE_GROUP_NAMES = (*ROLE_GROUPS.values(), *ADDITIONAL_ROLE_GROUPS)

#: The practices' apps: agents view everything in them and add and change their records.
PRACTICE_APPS = (
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
    "releases",
    "deployments",
)

#: Apps whose models administrators manage in the admin screens (with every other app
#: that has a model in the admin site): people and groups, and the practices'.
ADMINISTERED_APPS = ("auth", "accounts", *PRACTICE_APPS)

#: Rights nobody holds, administrators included: the audit trail (timeline entries) is
#: written only by the platform and never edited or removed, and attachments are part of
#: it (who added which file to which record); record links are made and removed on the
#: records' pages (which journal them) and the outbox is what the platform sends. The
#: admin refuses these to superusers too.
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

#: Rights for actions that are not a model's add, change, delete or view:
#: ``(app_label, model_name, codename, name)``. They are made at every migrate.
ACTIONS = (
    ("accounts", "user", "administer_platform", "Can administer the platform"),
    ("core", "journalentry", "work_in_workspace", "Can work in the agent workspace"),
    (
        "core",
        "journalentry",
        "see_every_record",
        "Can see every record, whatever the data separation",
    ),
    ("core", "journalentry", "lead_teams", "Can see the backlog of the teams they are in"),
    ("incidents", "incident", "declare_major_incident", "Can declare a major incident"),
    (
        "changes",
        "change",
        "authorise_change",
        "Can authorise changes and manage standard changes and blackouts",
    ),
    ("changes", "change", "manage_maintenance", "Can manage maintenance windows"),
    ("problems", "problem", "rate_any_workaround", "Can rate anyone's use of a workaround"),
    ("knowledge", "article", "review_article", "Can review any article"),
)


#: Tracked models that are definitions (administrators write them, staff read them by the
#: workspace's right), not work.
TRACKED_DEFINITIONS = ("service_level.businesscalendar", "service_level.agreement")


def _perm_q(names) -> Q:
    q = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        q |= Q(content_type__app_label=app_label, codename=codename)
    return q


def _worked_models() -> list[str]:
    """``app.view_x``, ``app.add_x`` and ``app.change_x`` of every tracked model of the
    practices (records, CIs, assets…): what staff work on. Definitions (priority rules,
    catalogue items, CI classes…) are read in the workspace by its right and changed by
    whoever holds their model's permissions (administrators)."""
    from itsm.core.models import Tracked

    names = []
    for model in apps.get_models():
        if model._meta.label_lower in TRACKED_DEFINITIONS:
            continue
        if model._meta.app_label in PRACTICE_APPS and issubclass(model, Tracked):
            label, name = model._meta.app_label, model._meta.model_name
            names += [f"{label}.view_{name}", f"{label}.add_{name}", f"{label}.change_{name}"]
    return names


def declared_permissions():
    """Each role group's permissions, as querysets of ``Permission`` (withheld excluded)."""
    from django.contrib.admin import site
    from django.contrib.auth.models import Permission

    withheld = _perm_q(f"{a}.{c}" for a, c in WITHHELD)
    everything = Permission.objects.exclude(withheld)
    administered = {*ADMINISTERED_APPS, *(m._meta.app_label for m in site._registry)}

    workspace = _perm_q(["core.work_in_workspace", "accounts.view_user", *_worked_models()])
    workspace |= _perm_q(["accounts.view_team", "accounts.view_organization"])
    workspace |= _perm_q(["accounts.view_location", "incidents.declare_major_incident"])
    manager = workspace | _perm_q(
        ["core.lead_teams", "problems.rate_any_workaround", "knowledge.review_article"]
    )
    change_manager = workspace | _perm_q(["changes.authorise_change"])
    problems = Q(content_type__app_label="problems") & ~Q(codename__startswith="delete_")
    problem_manager = problems | _perm_q(["core.work_in_workspace", "problems.rate_any_workaround"])
    reviewer = _perm_q(["core.work_in_workspace", "knowledge.review_article"])
    return {
        END_USERS: everything.none(),
        AGENTS: everything.filter(workspace),
        MANAGERS: everything.filter(manager),
        CHANGE_MANAGERS: everything.filter(change_manager),
        PROBLEM_MANAGERS: everything.filter(problem_manager),
        KNOWLEDGE_REVIEWERS: everything.filter(reviewer),
        ADMINISTRATORS: everything.filter(content_type__app_label__in=administered),
    }


def administered_permissions():
    """The administrators' permissions: every permission of the administered apps (and of
    any app in the admin site) except the withheld ones."""
    return declared_permissions()[ADMINISTRATORS]


def role_group(name: str):
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=name)[0]


def administrators_group():
    return role_group(ADMINISTRATORS)


def make_action_permissions() -> None:
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    for app_label, model_name, codename, name in ACTIONS:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:  # an app that is not installed
            continue
        ct = ContentType.objects.get_for_model(model)
        Permission.objects.update_or_create(
            content_type=ct, codename=codename, defaults={"name": name}
        )


def _last_app_with_models():
    configs = [c for c in apps.get_app_configs() if c.models_module is not None]
    return configs[-1] if configs else None


def sync_role_permissions(sender=None, **kwargs) -> None:
    """post_migrate (once, after the last app's permissions exist): every role group holds
    exactly its declared permissions, withheld rights are taken back from every group, and
    what each person holds is recomputed."""
    if not apps.is_installed("django.contrib.auth"):
        return
    last = _last_app_with_models()
    if sender is not None and last is not None and sender.label != last.label:
        return
    from django.contrib.auth.models import Group

    from .permissions import refresh_granted_permissions

    make_action_permissions()
    for name, permissions in declared_permissions().items():
        role_group(name).permissions.set(permissions)
    withheld = _perm_q(f"{a}.{c}" for a, c in WITHHELD)
    for group in Group.objects.filter(permissions__in=_withheld_permissions(withheld)).distinct():
        group.permissions.remove(*_withheld_permissions(withheld))
    from .models import User

    refresh_granted_permissions(User.objects.only("pk", "granted_permissions"))


def _withheld_permissions(q):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(q)


# Kept for the name the app's ready() connected before roles were groups.
sync_administrator_permissions = sync_role_permissions
