"""Authentication backends: local passwords (refused under ``SSO_ONLY`` but for
break-glass accounts), LDAP / Active Directory, OpenID Connect and SAML 2.0. The three
providers go through ``services`` for accounts, mappings and the audit."""

import logging

import jwt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django_auth_ldap.backend import LDAPBackend as _LDAPBackend
from djangosaml2.backends import Saml2Backend as _SAMLBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend as _OIDCBackend

from itsm.audit.services import record

from . import services

logger = logging.getLogger("itsm.sso")


class LocalPasswordBackend(ModelBackend):
    """Django's username and password check. With ``SSO_ONLY`` on, only break-glass
    accounts may use it; everyone else is refused with the same answer as a wrong
    password (nothing tells whether the account exists)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        break_glass = services.is_break_glass(user)
        if getattr(settings, "SSO_ONLY", False) and not break_glass:
            record(
                "sso.sign_in_refused",
                actor=None,
                target=user,
                request=request,
                source="local",
                reason="sso_only",
                username=user.username,
            )
            return None
        if break_glass:
            services.break_glass_signed_in(user, request=request)
        return user


class LDAPBackend(_LDAPBackend):
    """django-auth-ldap: the password is checked by a bind as the person; the account is
    created just in time from the directory's attributes; roles and teams come from the
    person's LDAP groups (by cn or DN). Never signs in as a break-glass account."""

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        try:
            services.check_may_sign_in("ldap", user, request=ldap_user._request)
        except services.SignInRefused as exc:
            raise ldap_user.AuthenticationFailed(exc.reason) from exc
        ldap_user.itsm_built = built
        return user, built

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        groups: set[str] = set()
        if self.settings.GROUP_SEARCH is not None and self.settings.GROUP_TYPE is not None:
            groups = set(ldap_user.group_names) | set(ldap_user.group_dns)
        services.signed_in(
            "ldap",
            user,
            groups=groups,
            created=getattr(ldap_user, "itsm_built", False),
            request=ldap_user._request,
        )
        return user


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class OIDCBackend(_OIDCBackend):
    """mozilla-django-oidc's code flow, with the ID token's signature (the provider's
    JWKS), algorithm, audience (our client id), issuer, expiry and nonce checked; the
    person found by the username claim (never by email) and provisioned like every other
    provider; the provider's ``amr`` says whether it asked for a second factor."""

    def get_payload_data(self, token, key):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token unreadable: {exc}") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("ID token signed with an unexpected algorithm")
        issuer = getattr(settings, "OIDC_OP_ISSUER", "") or None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=issuer,
                leeway=30,
                options={"require": ["exp", "iat", "aud", "sub"] + (["iss"] if issuer else [])},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences not authorised for us")
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") not in (None, payload.get("sub")):
            raise SuspiciousOperation("userinfo is about someone else than the ID token")
        claims = {**payload, **userinfo}
        try:
            user = services.provision(
                "oidc",
                username=claims.get(settings.OIDC_USERNAME_CLAIM, ""),
                email=claims.get(settings.OIDC_EMAIL_CLAIM, ""),
                first_name=claims.get(settings.OIDC_FIRST_NAME_CLAIM, ""),
                last_name=claims.get(settings.OIDC_LAST_NAME_CLAIM, ""),
                groups=_as_list(claims.get(settings.OIDC_GROUPS_CLAIM)),
                request=self.request,
            )
        except services.SignInRefused as exc:
            raise SuspiciousOperation(f"sign-in refused: {exc.reason}") from exc
        amr = {str(v).lower() for v in _as_list(payload.get("amr"))}
        user.sso_second_factor = bool(amr & {v.lower() for v in settings.OIDC_MFA_AMR})
        return user


class SAMLBackend(_SAMLBackend):
    """djangosaml2 checks the response (signature against the provider's metadata,
    audience, lifetime, that it answers a request of this browser); this provisions the
    person from its attributes like every other provider."""

    def authenticate(
        self,
        request,
        session_info=None,
        attribute_mapping=None,
        create_unknown_user=True,
        assertion_info=None,
        **kwargs,
    ):
        if session_info is None or "ava" not in session_info:
            return None
        ava = session_info["ava"]

        def first(name):
            values = ava.get(name) or []
            return values[0] if values else ""

        if settings.SAML_USE_NAME_ID_AS_USERNAME and session_info.get("name_id") is not None:
            username = session_info["name_id"].text
        else:
            username = first(settings.SAML_ATTR_USERNAME)
        try:
            user = services.provision(
                "saml",
                username=username,
                email=first(settings.SAML_ATTR_EMAIL),
                first_name=first(settings.SAML_ATTR_FIRST_NAME),
                last_name=first(settings.SAML_ATTR_LAST_NAME),
                groups=ava.get(settings.SAML_GROUPS_ATTRIBUTE) or [],
                request=request,
            )
        except services.SignInRefused:
            return None
        contexts = {ref for ref, *_ in session_info.get("authn_info") or [] if ref}
        user.sso_second_factor = bool(contexts & set(settings.SAML_MFA_CONTEXTS))
        return user
