"""Who reads the audit log: administrators (the role or a superuser), or whoever was
granted ``audit.view_auditevent`` (an auditors' group). Nobody writes it."""

from itsm.api.permissions import is_administrator

VIEW_PERMISSION = "audit.view_auditevent"


def may_read_audit_log(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (is_administrator(user) or user.has_perm(VIEW_PERMISSION))
    )
