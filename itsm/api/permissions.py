"""Who may call an endpoint at all; which rows they see is each model's ``visible_to``.

Every check names a permission (``itsm.accounts.roles`` says which role's group holds it).
"""

from rest_framework import permissions

#: The right to work in the agent workspace (every staff role's group holds it).
WORKSPACE = "core.work_in_workspace"


def may_work_in_workspace(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(WORKSPACE))


#: The right to administer the platform (the administrator role's group holds it).
ADMINISTER = "accounts.administer_platform"


def is_administrator(user) -> bool:
    """Administers the platform: holds ``accounts.administer_platform``."""
    return bool(user and user.is_authenticated and user.has_perm(ADMINISTER))


def model_permission(model, method: str) -> str:
    """The model permission a write of this HTTP method needs (``cmdb.change_ciclass``)."""
    action = {"POST": "add", "DELETE": "delete"}.get(method, "change")
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class IsAgent(permissions.BasePermission):
    """Staff working in the agent workspace."""

    def has_permission(self, request, view):
        return may_work_in_workspace(request.user)


class StaffReadAdministratorWrite(permissions.BasePermission):
    """Staff read; a write needs the model's add, change or delete permission (the
    administrators' group holds them: definitions such as calendars, CI classes…)."""

    def has_permission(self, request, view):
        user = request.user
        if not may_work_in_workspace(user):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        model = view.get_queryset().model
        return user.has_perm(model_permission(model, request.method))
