"""Pipelines: the kernel's service accounts (``itsm.api.tokens.service_account``) with a
token scoped ``deployments:write``: they may call the DevOps API and, as end users, nothing
else of the workspace or the portal."""

from django.utils import timezone

from itsm.api import tokens

PIPELINE_SCOPES = ["deployments:write"]


def service_account(username: str, description: str = "", *, name: str = "", days=None):
    """The service account ``username`` (made when missing) and a new token for the
    DevOps API: ``(account, token's clear value)``."""
    account = tokens.service_account(username, description=description)
    _token, clear = tokens.issue(
        account.user,
        name=name or f"pipeline {timezone.now():%Y-%m-%d %H:%M:%S.%f}",
        scopes=PIPELINE_SCOPES,
        days=days,
    )
    return account, clear
