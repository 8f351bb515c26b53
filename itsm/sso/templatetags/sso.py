from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

register = template.Library()


@register.simple_tag(takes_context=True)
def sso_providers(context):
    """The sign-in buttons of the configured browser providers (OpenID Connect, SAML), each
    carrying the page's ``next`` when it is one of ours. LDAP signs in through the form."""
    request = context.get("request")
    next_url = context.get("next") or (request.GET.get("next", "") if request else "")
    if next_url and not url_has_allowed_host_and_scheme(
        next_url,
        allowed_hosts={request.get_host()} if request else set(),
        require_https=request.is_secure() if request else False,
    ):
        next_url = ""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    providers = []
    if getattr(settings, "OIDC_ENABLED", False):
        providers.append(
            {
                "name": settings.OIDC_PROVIDER_NAME,
                "url": reverse("oidc_authentication_init") + query,
            }
        )
    if getattr(settings, "SAML_ENABLED", False):
        providers.append(
            {"name": settings.SAML_PROVIDER_NAME, "url": reverse("saml2_login") + query}
        )
    return providers


@register.simple_tag
def local_passwords() -> bool:
    """Whether people sign in with local passwords (off under ``SSO_ONLY``, where only
    break-glass accounts do: the sign-in page then offers no password reset)."""
    return not getattr(settings, "SSO_ONLY", False)
