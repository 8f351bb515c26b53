"""One place for what a password change means, whichever path set it (the preferences
page, the admin, ``manage.py changepassword``, a password reset): every one of them calls
``user.set_password`` and saves, and the save revokes the user's API tokens. Their other
sessions end by themselves: Django checks each session's hash of the password."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from itsm.audit.services import record

from .services import revoke_api_tokens


def revoke_tokens_on_password_change(sender, instance, created, **kwargs):
    # ``_password`` holds the raw password between set_password() and the end of save();
    # Django's own rehash on sign-in (a new hasher or more iterations) clears it before
    # saving, so upgrading a hash is not a change of password and keeps the tokens.
    if not created and getattr(instance, "_password", None) is not None:
        revoke_api_tokens(instance)


# --- the audit log of signing in ----------------------------------------------------------------


def _username(credentials) -> str:
    return str((credentials or {}).get("username") or "")[:150]


@receiver(user_logged_in, dispatch_uid="accounts.audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs):
    record("auth.sign_in", actor=user, target=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit_sign_in_failed")
def audit_sign_in_failed(sender, credentials, request=None, **kwargs):
    record("auth.sign_in_failed", request=request, username=_username(credentials))


@receiver(user_locked_out, dispatch_uid="accounts.audit_locked_out")
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record("auth.locked_out", request=request, username=str(username or "")[:150])
