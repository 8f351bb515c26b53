"""The providers' sign-in screens, as mozilla-django-oidc and djangosaml2 draw them, each
answering 404 while its provider is not configured. A refusal sends the person back to the
sign-in page with one message that says nothing of why (the audit log says it)."""

from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from djangosaml2 import views as saml_views
from mozilla_django_oidc import views as oidc_views

from itsm.audit.services import record

SECOND_FACTOR_SESSION_KEY = "itsm_second_factor"
FAILED = _("Single sign-on did not sign you in. Try again, or ask the service desk for help.")
FAILED_LOGOUT = _("The identity provider's sign-out message could not be read.")


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


class UnencryptedAssertion(Exception):
    """``SAML_WANT_ASSERTIONS_ENCRYPTED``: a response carried an assertion in clear (or
    none encrypted)."""


SAML_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
SAML_ENCRYPTED_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion"


def _assertions_encrypted(saml_response: str) -> bool:
    """The response holds encrypted assertions only (anything unreadable is left to
    pysaml2, which refuses it)."""
    import base64
    import binascii

    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(base64.b64decode(saml_response, validate=False))
    except (binascii.Error, ValueError, ElementTree.ParseError):
        return True
    except Exception:  # defusedxml refuses entities and the like: pysaml2 refuses it too
        return True
    tags = [child.tag for child in root]
    return SAML_ASSERTION not in tags and SAML_ENCRYPTED_ASSERTION in tags


class SAMLACSView(saml_views.AssertionConsumerServiceView):
    """The identity provider's response, checked by pysaml2 (signature, audience,
    lifetime, and that it answers a request of this browser's SAML session: a replay is
    an unsolicited response)."""

    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        if request.method == "POST" and getattr(settings, "SAML_WANT_ASSERTIONS_ENCRYPTED", False):
            if not _assertions_encrypted(request.POST.get("SAMLResponse", "")):
                return self.handle_acs_failure(request, exception=UnencryptedAssertion())
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


class SAMLLogoutServiceView(saml_views.LogoutView):
    """Single logout: the identity provider's answer to our logout request (the person
    is signed out here already), or its request to sign out someone who signed out
    elsewhere (signed out here, and told so)."""

    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        return super().dispatch(request, *args, **kwargs)

    def do_logout_service(self, request, data, binding, *args, **kwargs):
        if "SAMLResponse" not in data and "SAMLRequest" not in data:
            return self._refused(request, ValueError("no SAML message"))
        try:
            return super().do_logout_service(request, data, binding, *args, **kwargs)
        except Exception as exc:  # a hostile or broken message, however pysaml2 fails on it
            return self._refused(request, exc)

    def _refused(self, request, exc):
        record(
            "sso.logout_refused",
            actor=request.user if request.user.is_authenticated else None,
            request=request,
            source="saml",
            reason=type(exc).__name__,
            detail=str(exc)[:300],
        )
        return render(request, "sso/failed.html", {"message": FAILED_LOGOUT}, status=400)


def _saml_single_logout(request):
    """Someone who signed in through SAML signs out at the identity provider too: our
    session ends now and the browser carries a logout request there (none when the
    provider offers no single logout: signed out here only)."""
    from djangosaml2.views import _get_subject_id

    saml_session = getattr(request, "saml_session", None)
    if not (getattr(settings, "SAML_ENABLED", False) and saml_session is not None):
        return None
    if _get_subject_id(saml_session) is None:
        return None
    view = saml_views.LogoutInitView()
    view.setup(request)
    response = view.get(request)  # ends our session whatever the provider answers
    if response.status_code >= 400:
        # The provider offers no single logout for this session (or djangosaml2 could
        # not build the request): signed out here only, sent to the sign-in page.
        return None
    return response


class SAMLMetadataView(saml_views.MetadataView):
    """Our service provider metadata, for the identity provider's administrators."""

    def dispatch(self, request, *args, **kwargs):
        _require("SAML_ENABLED")
        return super().dispatch(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    """Signing out (POST /logout/). Someone who signed in through SAML is signed out at
    the identity provider too (single logout, when it offers it); through OpenID Connect,
    at the provider when its end-session endpoint is configured
    (``OIDC_OP_LOGOUT_ENDPOINT``): the browser goes there with the ID token as the hint
    and comes back to our sign-in page."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and (single := _saml_single_logout(request)):
            return single
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        endpoint = getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", "")
        if not (getattr(settings, "OIDC_ENABLED", False) and endpoint and id_token):
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
                "client_id": settings.OIDC_RP_CLIENT_ID,
            }
        )
        return HttpResponseRedirect(f"{endpoint}?{query}")
