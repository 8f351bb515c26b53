from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class SsoConfig(AppConfig):
    name = "itsm.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        checks.register(check_configuration, checks.Tags.security)


def check_configuration(app_configs=None, **kwargs):
    """SSO_ONLY with no provider leaves only the break-glass accounts able to sign in."""
    providers = [
        flag
        for flag in ("LDAP_ENABLED", "OIDC_ENABLED", "SAML_ENABLED")
        if getattr(settings, flag, False)
    ]
    if getattr(settings, "SSO_ONLY", False) and not providers:
        return [
            checks.Warning(
                "SSO_ONLY is on but no single sign-on provider is configured: only "
                "break-glass accounts can sign in.",
                hint="Set LDAP_SERVER_URI, OIDC_RP_CLIENT_ID or SAML_METADATA_FILE/URL, "
                "or turn SSO_ONLY off.",
                id="sso.W001",
            )
        ]
    return []
