"""Background work of the sign-in: the password reset's mail, looked up and sent here so
that asking for a reset takes the same path whether the address has an account or not."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from itsm.core.services import notify


@shared_task
def send_password_reset(email: str, base_url: str) -> int:
    """Mail a reset link to each active account with this address and a usable password
    (none: nothing is sent, and nothing tells the asker). Returns how many were queued."""
    from .models import User

    users = [
        user
        for user in User.objects.filter(email__iexact=email, is_active=True)
        if user.has_usable_password()
    ]
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    for user in users:
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        notify(
            [],
            "Reset your password",
            f"Hello {user.get_full_name() or user.get_username()},\n\n"
            f"Someone asked to reset the password of the service desk account "
            f"{user.get_username()}. To choose a new one, open this link (it works once, for "
            f"{minutes} minutes):\n\n{base_url}{path}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.",
            addresses=[user.email],
        )
    return len(users)
