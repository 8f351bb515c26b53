"""The providers' sign-in screens, as mozilla-django-oidc and djangosaml2 draw them, each
answering 404 while its provider is not configured. A refusal sends the person back to the
sign-in page with one message that says nothing of why (the audit log says it)."""

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from djangosaml2 import views as saml_views
from mozilla_django_oidc import views as oidc_views

from itsm.audit.services import record

SECOND_FACTOR_SESSION_KEY = "itsm_second_factor"
FAILED = "Single sign-on did not sign you in. Try again, or ask the service desk for help."


def _require(flag: str) -> None:
    if not getattr(settings, flag, False):
        raise Http404("This sign-in method is not configured.")


def _second_factor(request, user) -> None:
    """The identity provider asserted a second factor: our own two-factor step honours it."""
    if getattr(user, "sso_second_factor", False):
        request.session[SECOND_FACTOR_SESSION_KEY] = "idp"


class OIDCLoginView(oidc_views.OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and PKCE's verifier kept in the
    session)."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the library reads its settings here; we do in dispatch

    def dispatch(self, request, *args, **kwargs):
        _require("OIDC_ENABLED")
        self.OIDC_OP_AUTH_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().dispatch(request, *args, **kwargs)


class OIDCCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    """The provider's answer: an unknown or tampered state, a refused token, an
    unreachable provider are refusals (audited), never a server error."""

    @property
    def failure_url(self):
        return reverse("login")

    def get(self, request):
        _require("OIDC_ENABLED")
        try:
            return super().get(request)
        except (SuspiciousOperation, requests.RequestException, ValueError, KeyError) as exc:
            record(
                "sso.sign_in_refused",
                actor=None,
                request=request,
                source="oidc",
                reason=type(exc).__name__,
                detail=str(exc)[:300],
            )
            return self.login_failure()

    def login_failure(self):
        messages.error(self.request, FAILED)
        return super().login_failure()

    def login_success(self):
        response = super().login_success()
        _second_factor(self.request, self.user)
        return response


class SAMLLoginView(saml_views.LoginView):
    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        return super().dispatch(request, *args, **kwargs)


class SAMLACSView(saml_views.AssertionConsumerServiceView):
    """The identity provider's response, checked by pysaml2 (signature, audience,
    lifetime, and that it answers a request of this browser's SAML session: a replay is
    an unsolicited response)."""

    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        return super().dispatch(request, *args, **kwargs)

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        record(
            "sso.sign_in_refused",
            actor=None,
            request=request,
            source="saml",
            reason=type(exception).__name__ if exception else "unknown",
            detail=str(exception)[:300],
        )
        return render(request, "sso/failed.html", {"message": FAILED}, status=status)

    def customize_session(self, user, session_info):
        _second_factor(self.request, user)


class SAMLMetadataView(saml_views.MetadataView):
    """Our service provider metadata, for the identity provider's administrators."""

    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        return super().dispatch(request, *args, **kwargs)
