"""Service accounts: users that are pipelines. They hold an API token (DRF's token
authentication), have no usable password, work nowhere in the workspace or the portal
(their role is the end user's and they open no ticket), and are allowed the DevOps API
only."""

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from .models import ServiceAccount


@transaction.atomic
def service_account(username: str, description: str = "") -> tuple[ServiceAccount, Token]:
    """The service account ``username`` (made when missing) and its token."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": username, "is_active": True}
    )
    if not created and not ServiceAccount.objects.filter(user=user).exists():
        if user.has_usable_password() or user.is_agent:
            raise ValueError(f"{username} is a person's account, not a pipeline's.")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    account, _ = ServiceAccount.objects.get_or_create(
        user=user, defaults={"description": description}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return account, token
