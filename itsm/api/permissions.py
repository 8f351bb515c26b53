"""Who may call an endpoint at all; which rows they see is each model's ``visible_to``."""

from rest_framework import permissions

from itsm.accounts.models import Role


def is_administrator(user) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMINISTRATOR)


class IsAgent(permissions.BasePermission):
    """Staff working in the agent workspace."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_agent)


class StaffReadAdministratorWrite(permissions.BasePermission):
    """Staff read; administrators change (definitions: calendars, CI classes…)."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_agent):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_administrator(user)
