"""What happens around a person's credentials: their API tokens are revoked when their
password changes, and the address they had is told when their e-mail or password changes."""

from django.utils import timezone

from itsm.core.services import notify


def revoke_api_tokens(user) -> int:
    """Revoke the user's API tokens (clients must sign in again); returns how many."""
    from itsm.api.tokens import revoke_all

    return revoke_all(user, reason="password changed")


def _masked(address: str) -> str:
    """``j***@example.com``: enough for its owner to recognise, not to be harvested."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def tell_of_credential_change(user, old_email: str, email_changed: bool, password_changed: bool):
    """Mail the address the account had before the change (if any): an e-mail change is
    reported to the old mailbox, so that a stolen session cannot quietly move the account."""
    if not old_email or not (email_changed or password_changed):
        return []
    what = []
    if email_changed:
        new = _masked(user.email) if user.email else "no address"
        what.append(f"The e-mail address of your account was changed to {new}.")
    if password_changed:
        what.append(
            "The password of your account was changed; its other sessions were ended and its "
            "API tokens revoked."
        )
    when = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"Hello {user.get_full_name() or user.get_username()},\n\n"
        + "\n".join(what)
        + f"\n\nThis was done on {when} by someone signed in as {user.get_username()} who "
        "knew the password. If it was not you, contact the service desk at once."
    )
    return notify([], "Your account was changed", body, addresses=[old_email])
