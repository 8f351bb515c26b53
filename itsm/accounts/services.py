"""What happens around a person's credentials: their API tokens are revoked when their
password changes, and the address they had is told when their e-mail or password changes;
two-factor sign-in (TOTP and recovery codes), the e-mail change's confirmation link and the
password reset's throttle."""

import hmac
from base64 import b32encode
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from itsm.audit.services import record
from itsm.core.i18n import in_language, user_language
from itsm.core.services import notify


def revoke_api_tokens(user) -> int:
    """Revoke the user's API tokens (clients must sign in again); returns how many."""
    from itsm.api.tokens import revoke_all

    return revoke_all(user, reason="password changed")


def _masked(address: str) -> str:
    """``j***@example.com``: enough for its owner to recognise, not to be harvested."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _theirs(user, text) -> str:
    """``text`` (a function of no arguments) worded in this person's language: mail sent to
    an address of theirs, which ``notify`` would word in the site's."""
    return in_language(text, user_language(user))


def _hello(user) -> str:
    return gettext("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()}


def tell_of_credential_change(user, old_email: str, email_changed: bool, password_changed: bool):
    """Mail the address the account had before the change (if any): an e-mail change is
    reported to the old mailbox, so that a stolen session cannot quietly move the account."""
    if not old_email or not (email_changed or password_changed):
        return []
    when = timezone.now().strftime("%Y-%m-%d %H:%M UTC")

    def body():
        what = []
        if email_changed:
            new = _masked(user.email) if user.email else gettext("no address")
            what.append(
                gettext("The e-mail address of your account was changed to %(address)s.")
                % {"address": new}
            )
        if password_changed:
            what.append(
                gettext(
                    "The password of your account was changed; its other sessions were ended "
                    "and its API tokens revoked."
                )
            )
        done = gettext(
            "This was done on %(when)s by someone signed in as %(username)s who knew the "
            "password. If it was not you, contact the service desk at once."
        ) % {"when": when, "username": user.get_username()}
        return _hello(user) + "\n\n" + "\n".join(what) + "\n\n" + done

    return notify(
        [],
        _theirs(user, lambda: gettext("Your account was changed")),
        _theirs(user, body),
        addresses=[old_email],
    )


# --- two-factor sign-in -------------------------------------------------------------------------

#: How many recovery codes a person gets; each works once.
RECOVERY_CODES = 10
#: The session key helper 2's single sign-on sets when the identity provider did the MFA.
IDP_SECOND_FACTOR = "idp"


def two_factor_policy() -> str:
    policy = (getattr(settings, "TWO_FACTOR_REQUIRED", "administrators") or "none").lower()
    return policy if policy in {"administrators", "staff", "none"} else "administrators"


def two_factor_required(user) -> bool:
    """Whether the setting requires a second factor of this person."""
    policy = two_factor_policy()
    if policy == "administrators":
        return bool(user.is_superuser or getattr(user, "role", None) == "administrator")
    if policy == "staff":
        return bool(user.is_superuser or user.is_staff or getattr(user, "is_agent", False))
    return False


def second_factor_verified(request) -> bool:
    """This session was confirmed by a second factor: ours, or the identity provider's."""
    if request.session.get("itsm_second_factor") == IDP_SECOND_FACTOR:
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def confirmed_totp(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user, fresh=False):
    """The authenticator being set up (not yet confirmed): one per person, made on demand.
    ``fresh``: with a new secret (each time the set-up page is opened, so that a secret seen
    earlier, by someone else at an open session, is not the one confirmed later)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    elif fresh:
        device.key = default_key()
        device.last_t = -1
        device.save(update_fields=["key", "last_t"])
    return device


def secret_for_manual_entry(device) -> str:
    """The TOTP secret in base32, in groups of four (what authenticator apps ask for)."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_code_svg(device) -> str:
    import segno

    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)


def _normalise_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def verify_second_factor(user, code: str, *, confirmed=True):
    """The device that accepts ``code`` (a TOTP code or a recovery code), or None. The
    device's row is locked while it checks, so a code is accepted once even by concurrent
    requests (TOTP remembers the last time step used; a recovery code is deleted)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    token = _normalise_code(code)
    if not token or len(token) > 16:
        return None
    with transaction.atomic():
        if token.isdigit() and len(token) == 6:  # an app code; recovery codes are 8 long
            devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=confirmed)
        else:
            devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices:
            if device.verify_token(token):
                return device
    return None


def confirm_totp(request, device, code: str) -> list[str] | None:
    """Turn on two-factor sign-in: the pending authenticator is confirmed by a code from
    it; returns the new recovery codes (shown once), or None if the code is wrong."""
    import django_otp

    user = request.user
    if device.user_id != user.pk or device.confirmed:
        return None
    if verify_second_factor(user, code, confirmed=False) is None:
        return None
    with transaction.atomic():
        device.refresh_from_db()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
    django_otp.login(request, device)
    record("auth.2fa_enabled", actor=user, target=user, request=request)
    return codes


def _new_recovery_codes(user) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def regenerate_recovery_codes(request) -> list[str]:
    """New recovery codes; the old ones stop working."""
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
    record(
        "auth.recovery_codes_regenerated", actor=request.user, target=request.user, request=request
    )
    return codes


def recovery_codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user).count()


def disable_two_factor(request) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    request.session.pop("otp_device_id", None)
    record("auth.2fa_disabled", actor=user, target=user, request=request)


# --- e-mail change, confirmed from the new address ------------------------------------------------

EMAIL_CHANGE_SALT = "itsm.accounts.email-change"


def _email_token(user, new_email: str) -> str:
    return signing.dumps(
        {"u": user.pk, "old": (user.email or "").lower(), "new": new_email},
        salt=EMAIL_CHANGE_SALT,
        compress=True,
    )


def request_email_change(request, user, new_email: str, confirm_url) -> None:
    """Mail the new address a signed link (expiring, ``EMAIL_CHANGE_TIMEOUT``) that changes
    the account's address when its owner opens it; the old address is told of the request.
    The account's address stays as it is until then."""
    token = _email_token(user, new_email)
    link = confirm_url(token)
    hours = max(1, settings.EMAIL_CHANGE_TIMEOUT // 3600)
    name = user.get_full_name() or user.get_username()
    values = {"name": name, "username": user.get_username(), "hours": hours, "link": link}
    notify(
        [],
        _theirs(user, lambda: gettext("Confirm your new e-mail address")),
        _theirs(
            user,
            lambda: (
                ngettext(
                    "Hello %(name)s,\n\nSomeone signed in as %(username)s asked to use this address "
                    "for their service desk account. To confirm, open this link while signed in (it "
                    "works once, for %(hours)s hour):\n\n%(link)s\n\n"
                    "If you did not ask for this, ignore this message: nothing changes.",
                    "Hello %(name)s,\n\nSomeone signed in as %(username)s asked to use this address "
                    "for their service desk account. To confirm, open this link while signed in (it "
                    "works once, for %(hours)s hours):\n\n%(link)s\n\n"
                    "If you did not ask for this, ignore this message: nothing changes.",
                    hours,
                )
                % values
            ),
        ),
        addresses=[new_email],
    )
    if user.email:
        notify(
            [],
            _theirs(user, lambda: gettext("A change of your e-mail address was requested")),
            _theirs(
                user,
                lambda: (
                    gettext(
                        "Hello %(name)s,\n\nSomeone signed in as %(username)s who knew the password "
                        "asked to change the e-mail address of your account to %(address)s. It "
                        "changes only when the link sent to that address is opened. If it was not "
                        "you, change your password and contact the service desk."
                    )
                    % {"name": name, "username": user.get_username(), "address": _masked(new_email)}
                ),
            ),
            addresses=[user.email],
        )
    record(
        "auth.email_change_requested",
        actor=user,
        target=user,
        request=request,
        new_email=_masked(new_email),
    )


class EmailChangeRefused(Exception):
    """The link is expired, used, altered, or not this person's."""


def confirm_email_change(request, token: str) -> str:
    """Apply a confirmation link for the signed-in user; returns the new address."""
    from .models import User

    user = request.user
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT)
    except signing.BadSignature:
        raise EmailChangeRefused(gettext("This link is not valid any more.")) from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise EmailChangeRefused(gettext("This link was sent for another account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old = user.email or ""
        # Single use: the link names the address it replaces; once used, that has changed.
        if not hmac.compare_digest(old.lower(), str(data.get("old", ""))):
            raise EmailChangeRefused(
                gettext("This link was used already or a newer change was made.")
            )
        new = str(data.get("new", ""))
        if User.objects.filter(email__iexact=new).exclude(pk=user.pk).exists():
            raise EmailChangeRefused(gettext("This address is used by another account."))
        user.email = new
        user.save(update_fields=["email"])
        tell_of_credential_change(user, old, email_changed=True, password_changed=False)
    request.user.email = new
    record(
        "auth.email_changed",
        actor=user,
        target=user,
        request=request,
        before={"email": _masked(old)},
        after={"email": _masked(new)},
    )
    return new


# --- password reset's throttle -----------------------------------------------------------------------

RESET_MARK = "password-reset:"


def password_reset_allowed(request, email: str) -> bool:
    """At most ``PASSWORD_RESET_LIMIT`` reset requests an hour per e-mail address and per
    client address, counted in the database (every worker sees them). Each request is
    written first and then counted, so concurrent ones cannot all slip under the limit."""
    from axes.helpers import get_client_ip_address
    from axes.models import AccessFailureLog

    ip = get_client_ip_address(request)
    name = (RESET_MARK + (email or "").strip().lower())[:255]
    now = timezone.now()
    AccessFailureLog.objects.create(
        username=name,
        ip_address=ip,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
        http_accept=request.META.get("HTTP_ACCEPT", "")[:1025],
        path_info=request.path[:255],
        attempt_time=now,
        locked_out=False,
    )
    since = now - timedelta(hours=1)
    AccessFailureLog.objects.filter(
        username__startswith=RESET_MARK, attempt_time__lt=since
    ).delete()
    recent = AccessFailureLog.objects.filter(
        username__startswith=RESET_MARK, attempt_time__gte=since
    )
    limit = settings.PASSWORD_RESET_LIMIT
    return (
        recent.filter(username=name).count() <= limit
        and recent.filter(ip_address=ip).count() <= limit * 4
    )
