"""The API's token authentication: ``Authorization: Bearer <token>`` (or ``Token
<token>``). The token found is ``request.auth``; its scopes are checked here too, against
the endpoint the request reaches, so that one place covers every view (viewsets, plain API
views and function views alike)."""

from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import tokens

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                gettext("Invalid token header: 'Authorization: Bearer <token>'.")
            )
        try:
            clear = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(gettext("Invalid token.")) from None
        try:
            token = tokens.authenticate(clear, request._request)
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        practice = tokens.practice_of(view) if view is not None else None
        missing = tokens.missing_scope(token.scopes, request.method, practice)
        if missing:
            raise exceptions.PermissionDenied(
                gettext("This token lacks the scope %(missing)s: it has %(scopes)s.")
                % {"missing": missing, "scopes": ", ".join(token.scopes)}
            )
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`Authorization: Bearer itsm_…`; `Token` works too), "
            "made on /me/tokens/, by POST /api/v1/auth/token/ or `manage.py service_account`.",
        }
