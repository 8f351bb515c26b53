"""Background work of the sign-in: the password reset's mail, looked up and sent here so
that asking for a reset takes the same path whether the address has an account or not."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, ngettext

from itsm.core.i18n import in_language, user_language
from itsm.core.services import notify


@shared_task
def send_password_reset(email: str, base_url: str) -> int:
    """Mail a reset link to each active account with this address and a usable password
    (none: nothing is sent, and nothing tells the asker). Under ``SSO_ONLY`` only
    break-glass accounts sign in with a password: only they get a link. Returns how many
    were queued."""
    from .models import User

    accounts = User.objects.filter(email__iexact=email, is_active=True)
    if getattr(settings, "SSO_ONLY", False):
        accounts = accounts.filter(break_glass__isnull=False)
    users = [user for user in accounts if user.has_usable_password()]
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    for user in users:
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        values = {
            "name": user.get_full_name() or user.get_username(),
            "username": user.get_username(),
            "minutes": minutes,
            "link": f"{base_url}{path}",
        }
        language = user_language(user)  # mailed to an address: worded in its owner's language
        notify(
            [],
            in_language(lambda: gettext("Reset your password"), language),
            in_language(
                lambda values=values: (
                    ngettext(
                        "Hello %(name)s,\n\nSomeone asked to reset the password of the service desk "
                        "account %(username)s. To choose a new one, open this link (it works once, "
                        "for %(minutes)s minute):\n\n%(link)s\n\n"
                        "If you did not ask for this, ignore this message: your password stays as "
                        "it is.",
                        "Hello %(name)s,\n\nSomeone asked to reset the password of the service desk "
                        "account %(username)s. To choose a new one, open this link (it works once, "
                        "for %(minutes)s minutes):\n\n%(link)s\n\n"
                        "If you did not ask for this, ignore this message: your password stays as "
                        "it is.",
                        values["minutes"],
                    )
                    % values
                ),
                language,
            ),
            addresses=[user.email],
        )
    return len(users)
