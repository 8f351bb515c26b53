"""Single sign-on settings, built from the environment by ``itsm/settings.py``.

Each provider is on only when its environment names it (``LDAP_SERVER_URI``,
``OIDC_RP_CLIENT_ID``, ``SAML_METADATA_FILE``/``SAML_METADATA_URL``); with none of them the
platform signs people in with local passwords exactly as before. This module is imported
by the settings, so it touches no model and imports a provider's library only when that
provider is configured. Tests build their settings with the same functions.
"""

from collections.abc import Mapping

LOCAL_BACKEND = "itsm.sso.backends.LocalPasswordBackend"
LDAP_BACKEND = "itsm.sso.backends.LDAPBackend"
OIDC_BACKEND = "itsm.sso.backends.OIDCBackend"
SAML_BACKEND = "itsm.sso.backends.SAMLBackend"
SAML_MIDDLEWARE = "djangosaml2.middleware.SamlSessionMiddleware"

#: OpenID Connect ``amr`` values that mean the provider asked for a second factor.
OIDC_MFA_AMR_DEFAULT = "mfa,otp,hwk"


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    return env.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _list(env: Mapping[str, str], name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env.get(name, default).split(",") if item.strip()]


def common_settings(env: Mapping[str, str]) -> dict:
    return {
        # Local password sign-in refused for everyone but the break-glass accounts.
        "SSO_ONLY": _bool(env, "SSO_ONLY"),
    }


def ldap_settings(env: Mapping[str, str]) -> dict:
    """django-auth-ldap's ``AUTH_LDAP_*`` settings from ``LDAP_*``; ``LDAP_ENABLED`` False
    when ``LDAP_SERVER_URI`` is unset."""
    uri = env.get("LDAP_SERVER_URI", "").strip()
    if not uri:
        return {"LDAP_ENABLED": False}
    import ldap
    from django_auth_ldap import config as ldap_config

    out = {
        "LDAP_ENABLED": True,
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": env.get("LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env.get("LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": _bool(env, "LDAP_START_TLS"),
        "AUTH_LDAP_CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: float(env.get("LDAP_TIMEOUT", "5")),
            ldap.OPT_TIMEOUT: float(env.get("LDAP_TIMEOUT", "5")),
            ldap.OPT_REFERRALS: 0,  # Active Directory's referrals need a bind of their own
        },
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": env.get("LDAP_ATTR_FIRST_NAME", "givenName"),
            "last_name": env.get("LDAP_ATTR_LAST_NAME", "sn"),
            "email": env.get("LDAP_ATTR_EMAIL", "mail"),
        },
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
    }
    if env.get("LDAP_CA_CERT_FILE"):
        # Per connection (the global options are applied once per process); a new TLS
        # context must come after the TLS options.
        options = out["AUTH_LDAP_CONNECTION_OPTIONS"]
        options[ldap.OPT_X_TLS_CACERTFILE] = env["LDAP_CA_CERT_FILE"]
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    if env.get("LDAP_USER_DN_TEMPLATE"):
        out["AUTH_LDAP_USER_DN_TEMPLATE"] = env["LDAP_USER_DN_TEMPLATE"]
    else:
        out["AUTH_LDAP_USER_SEARCH"] = ldap_config.LDAPSearch(
            env.get("LDAP_USER_SEARCH_BASE", ""),
            ldap.SCOPE_SUBTREE,
            env.get("LDAP_USER_SEARCH_FILTER", "(uid=%(user)s)"),
        )
    if env.get("LDAP_GROUP_SEARCH_BASE"):
        group_type = env.get("LDAP_GROUP_TYPE", "groupOfNames")
        types = {
            "groupOfNames": ldap_config.GroupOfNamesType,
            "nestedGroupOfNames": ldap_config.NestedGroupOfNamesType,
            "groupOfUniqueNames": ldap_config.GroupOfUniqueNamesType,
            "posixGroup": ldap_config.PosixGroupType,
            "activeDirectory": ldap_config.ActiveDirectoryGroupType,
            "nestedActiveDirectory": ldap_config.NestedActiveDirectoryGroupType,
        }
        if group_type not in types:
            raise ValueError(f"LDAP_GROUP_TYPE must be one of {', '.join(types)}")
        out["AUTH_LDAP_GROUP_SEARCH"] = ldap_config.LDAPSearch(
            env["LDAP_GROUP_SEARCH_BASE"],
            ldap.SCOPE_SUBTREE,
            env.get("LDAP_GROUP_SEARCH_FILTER", "(objectClass=*)"),
        )
        out["AUTH_LDAP_GROUP_TYPE"] = types[group_type]()
    if env.get("LDAP_REQUIRE_GROUP"):
        out["AUTH_LDAP_REQUIRE_GROUP"] = env["LDAP_REQUIRE_GROUP"]
    if env.get("LDAP_DENY_GROUP"):
        out["AUTH_LDAP_DENY_GROUP"] = env["LDAP_DENY_GROUP"]
    return out


def oidc_settings(env: Mapping[str, str]) -> dict:
    """mozilla-django-oidc's settings from ``OIDC_*``: the authorization code flow with
    PKCE (S256), state and nonce, the ID token signed with RS256 and checked against the
    provider's JWKS, its issuer and our client id (the audience)."""
    client_id = env.get("OIDC_RP_CLIENT_ID", "").strip()
    if not client_id:
        return {"OIDC_ENABLED": False}
    needed = [
        "OIDC_OP_ISSUER",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
    ]
    missing = [name for name in needed if not env.get(name, "").strip()]
    if missing:
        raise ValueError(f"OIDC_RP_CLIENT_ID is set: {', '.join(missing)} needed too")
    return {
        "OIDC_ENABLED": True,
        "OIDC_PROVIDER_NAME": env.get("OIDC_PROVIDER_NAME", "single sign-on"),
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": env.get("OIDC_RP_CLIENT_SECRET", ""),
        "OIDC_OP_ISSUER": env.get("OIDC_OP_ISSUER", ""),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": env.get("OIDC_OP_AUTHORIZATION_ENDPOINT", ""),
        "OIDC_OP_TOKEN_ENDPOINT": env.get("OIDC_OP_TOKEN_ENDPOINT", ""),
        "OIDC_OP_USER_ENDPOINT": env.get("OIDC_OP_USER_ENDPOINT", ""),
        "OIDC_OP_JWKS_ENDPOINT": env.get("OIDC_OP_JWKS_ENDPOINT", ""),
        "OIDC_RP_SIGN_ALGO": env.get("OIDC_RP_SIGN_ALGO", "RS256"),
        "OIDC_RP_SCOPES": env.get("OIDC_RP_SCOPES", "openid profile email"),
        "OIDC_USE_PKCE": True,
        "OIDC_USE_NONCE": True,
        "OIDC_TOKEN_USE_BASIC_AUTH": _bool(env, "OIDC_TOKEN_USE_BASIC_AUTH", True),
        "OIDC_TIMEOUT": float(env.get("OIDC_TIMEOUT", "10")),
        "OIDC_USERNAME_CLAIM": env.get("OIDC_USERNAME_CLAIM", "preferred_username"),
        "OIDC_EMAIL_CLAIM": env.get("OIDC_EMAIL_CLAIM", "email"),
        "OIDC_FIRST_NAME_CLAIM": env.get("OIDC_FIRST_NAME_CLAIM", "given_name"),
        "OIDC_LAST_NAME_CLAIM": env.get("OIDC_LAST_NAME_CLAIM", "family_name"),
        "OIDC_GROUPS_CLAIM": env.get("OIDC_GROUPS_CLAIM", "groups"),
        "OIDC_MFA_AMR": _list(env, "OIDC_MFA_AMR", OIDC_MFA_AMR_DEFAULT),
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
        # Signing out here signs out at the provider too (RP-initiated logout), when its
        # end-session endpoint is given: the ID token is kept in the session as its hint.
        "OIDC_OP_LOGOUT_ENDPOINT": env.get("OIDC_OP_LOGOUT_ENDPOINT", "").strip(),
        "OIDC_STORE_ID_TOKEN": True,
    }


def saml_settings(env: Mapping[str, str]) -> dict:
    """djangosaml2's ``SAML_CONFIG`` from ``SAML_*``: one identity provider from its
    metadata (a file or a URL), responses over HTTP-POST to our assertion consumer service,
    assertions signed, no unsolicited responses (each must answer a request of this
    browser's session, so a replayed response is refused)."""
    metadata_file = env.get("SAML_METADATA_FILE", "").strip()
    metadata_url = env.get("SAML_METADATA_URL", "").strip()
    if not (metadata_file or metadata_url):
        return {"SAML_ENABLED": False}
    import saml2
    import saml2.saml

    base_url = env.get("SAML_BASE_URL", "").rstrip("/")
    if not base_url:
        raise ValueError("SAML_BASE_URL (the site's address, https://itsm.example.com) is needed")
    metadata: dict = {}
    if metadata_file:
        metadata["local"] = [metadata_file]
    if metadata_url:
        remote = {"url": metadata_url}
        if env.get("SAML_METADATA_CERT_FILE"):
            remote["cert"] = env["SAML_METADATA_CERT_FILE"]
        metadata["remote"] = [remote]
    sp = {
        "name": env.get("SAML_SP_NAME", "ITSM"),
        "endpoints": {
            "assertion_consumer_service": [(f"{base_url}/sso/saml/acs/", saml2.BINDING_HTTP_POST)],
            # Single logout: the provider's answer to our logout request, or its own
            # request when someone signs out elsewhere.
            "single_logout_service": [
                (f"{base_url}/sso/saml/ls/", saml2.BINDING_HTTP_REDIRECT),
                (f"{base_url}/sso/saml/ls/post/", saml2.BINDING_HTTP_POST),
            ],
        },
        "allow_unsolicited": False,
        "want_assertions_signed": _bool(env, "SAML_WANT_ASSERTIONS_SIGNED", True),
        "want_response_signed": _bool(env, "SAML_WANT_RESPONSE_SIGNED", False),
        "authn_requests_signed": bool(env.get("SAML_SP_KEY_FILE")),
        "logout_requests_signed": bool(env.get("SAML_SP_KEY_FILE")),
        "name_id_format": env.get("SAML_NAME_ID_FORMAT", saml2.saml.NAMEID_FORMAT_UNSPECIFIED),
        "allow_unknown_attributes": True,
    }
    config: dict = {
        "xmlsec_binary": env.get("SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1"),
        "entityid": env.get("SAML_ENTITY_ID", f"{base_url}/sso/saml/metadata/"),
        "service": {"sp": sp},
        "metadata": metadata,
        "debug": 0,
        "accepted_time_diff": int(env.get("SAML_ACCEPTED_TIME_DIFF", "60")),
    }
    want_encrypted = _bool(env, "SAML_WANT_ASSERTIONS_ENCRYPTED")
    if env.get("SAML_SP_KEY_FILE"):
        config["key_file"] = env["SAML_SP_KEY_FILE"]
        config["cert_file"] = env.get("SAML_SP_CERT_FILE", "")
        # The same pair decrypts assertions; the metadata publishes it for encryption.
        config["encryption_keypairs"] = [
            {"key_file": config["key_file"], "cert_file": config["cert_file"]}
        ]
    elif want_encrypted:
        raise ValueError(
            "SAML_WANT_ASSERTIONS_ENCRYPTED needs SAML_SP_KEY_FILE and SAML_SP_CERT_FILE "
            "(the key assertions are encrypted to)"
        )
    return {
        "SAML_WANT_ASSERTIONS_ENCRYPTED": want_encrypted,
        "SAML_ENABLED": True,
        "SAML_PROVIDER_NAME": env.get("SAML_PROVIDER_NAME", "SAML single sign-on"),
        "SAML_CONFIG": config,
        "SAML_DEFAULT_BINDING": saml2.BINDING_HTTP_REDIRECT,
        "SAML_CSP_HANDLER": "",
        "SAML_SESSION_COOKIE_NAME": "saml_session",
        "SAML_ATTR_USERNAME": env.get("SAML_ATTR_USERNAME", "uid"),
        "SAML_ATTR_EMAIL": env.get("SAML_ATTR_EMAIL", "mail"),
        "SAML_ATTR_FIRST_NAME": env.get("SAML_ATTR_FIRST_NAME", "givenName"),
        "SAML_ATTR_LAST_NAME": env.get("SAML_ATTR_LAST_NAME", "sn"),
        "SAML_GROUPS_ATTRIBUTE": env.get("SAML_GROUPS_ATTRIBUTE", "groups"),
        "SAML_USE_NAME_ID_AS_USERNAME": _bool(env, "SAML_USE_NAME_ID_AS_USERNAME"),
        "SAML_MFA_CONTEXTS": _list(env, "SAML_MFA_CONTEXTS"),
    }


def backends(base: list[str], sso: Mapping) -> list[str]:
    """The sign-in's backends with Django's ModelBackend replaced by ours (which refuses
    local passwords under ``SSO_ONLY`` but for break-glass accounts) and each configured
    provider's backend appended."""
    out = [
        LOCAL_BACKEND if path == "django.contrib.auth.backends.ModelBackend" else path
        for path in base
    ]
    if LOCAL_BACKEND not in out:
        out.append(LOCAL_BACKEND)
    for flag, path in (
        ("LDAP_ENABLED", LDAP_BACKEND),
        ("OIDC_ENABLED", OIDC_BACKEND),
        ("SAML_ENABLED", SAML_BACKEND),
    ):
        if sso.get(flag) and path not in out:
            out.append(path)
    return out


def middleware(base: list[str], sso: Mapping) -> list[str]:
    """SAML keeps its request state in a session cookie of its own (SameSite=None, so the
    identity provider's cross-site POST carries it), right after Django's sessions."""
    out = list(base)
    if sso.get("SAML_ENABLED") and SAML_MIDDLEWARE not in out:
        anchor = "django.contrib.sessions.middleware.SessionMiddleware"
        out.insert(out.index(anchor) + 1 if anchor in out else 0, SAML_MIDDLEWARE)
    return out


def sso_settings(env: Mapping[str, str]) -> dict:
    return {
        **common_settings(env),
        **ldap_settings(env),
        **oidc_settings(env),
        **saml_settings(env),
    }
