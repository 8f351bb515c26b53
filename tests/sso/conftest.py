"""Real identity providers on loopback for the single sign-on tests, one of each per test
session: Debian's slapd, an OpenID Connect provider built with django-oauth-toolkit in a
process of its own, and keys for a SAML identity provider played by pysaml2."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

BASE_DN = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PW = "adminpw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc, check, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited rc={proc.returncode}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("server not ready")


def stop(proc, timeout=10):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- LDAP: slapd ----------------------------------------------------------------------------

SLAPD_CONF = """\
include  /etc/ldap/schema/core.schema
include  /etc/ldap/schema/cosine.schema
include  /etc/ldap/schema/inetorgperson.schema
include  /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile  {tmp}/slapd.pid
argsfile {tmp}/slapd.args
database mdb
maxsize  104857600
suffix   "{base}"
rootdn   "{admin}"
rootpw   {admin_pw}
directory {tmp}/db
index objectClass eq
index uid eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
TLSCertificateFile {tmp}/tls.crt
TLSCertificateKeyFile {tmp}/tls.key
"""


class Directory:
    """A running slapd and an administrator's connection to change its entries."""

    def __init__(self, uri, ca_file):
        import ldap

        self.uri = uri
        self.ca_file = ca_file
        self.conn = ldap.initialize(uri)
        self.conn.simple_bind_s(ADMIN_DN, ADMIN_PW)

    def add_person(self, uid, password, *, given="", sn="Person", mail=""):
        import ldap.modlist

        attrs = {
            "objectClass": [b"inetOrgPerson"],
            "uid": [uid.encode()],
            "cn": [f"{given} {sn}".strip().encode()],
            "sn": [sn.encode()],
            "userPassword": [password.encode()],
        }
        if given:
            attrs["givenName"] = [given.encode()]
        if mail:
            attrs["mail"] = [mail.encode()]
        self.conn.add_s(self.person_dn(uid), ldap.modlist.addModlist(attrs))

    def add_group(self, cn, *members):
        import ldap.modlist

        attrs = {
            "objectClass": [b"groupOfNames"],
            "cn": [cn.encode()],
            # groupOfNames needs a member: the administrator stands in for an empty group.
            "member": [self.person_dn(m).encode() for m in members] or [ADMIN_DN.encode()],
        }
        self.conn.add_s(self.group_dn(cn), ldap.modlist.addModlist(attrs))

    def set_members(self, cn, *members):
        import ldap

        values = [self.person_dn(m).encode() for m in members] or [ADMIN_DN.encode()]
        self.conn.modify_s(self.group_dn(cn), [(ldap.MOD_REPLACE, "member", values)])

    @staticmethod
    def person_dn(uid):
        return f"uid={uid},ou=people,{BASE_DN}"

    @staticmethod
    def group_dn(cn):
        return f"cn={cn},ou=groups,{BASE_DN}"

    def env(self, **extra):
        return {
            "LDAP_SERVER_URI": self.uri,
            "LDAP_BIND_DN": ADMIN_DN,
            "LDAP_BIND_PASSWORD": ADMIN_PW,
            "LDAP_USER_SEARCH_BASE": f"ou=people,{BASE_DN}",
            "LDAP_USER_SEARCH_FILTER": "(uid=%(user)s)",
            "LDAP_GROUP_SEARCH_BASE": f"ou=groups,{BASE_DN}",
            "LDAP_GROUP_SEARCH_FILTER": "(objectClass=groupOfNames)",
            "LDAP_GROUP_TYPE": "groupOfNames",
            **extra,
        }


@pytest.fixture(scope="session")
def slapd():
    binary = shutil.which("slapd") or (
        "/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None
    )
    if binary is None:
        pytest.skip("Debian's slapd is not installed (apt-get install slapd ldap-utils)")
    import ldap

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="slapd-"))
    (tmp / "db").mkdir()
    # A certificate for StartTLS on 127.0.0.1 (its own CA: clients trust tls.crt).
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(tmp / "tls.key"), "-out", str(tmp / "tls.crt"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    conf = tmp / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(tmp=tmp, base=BASE_DN, admin=ADMIN_DN, admin_pw=ADMIN_PW))
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [binary, "-d", "0", "-h", f"{uri}/", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ready():
        c = ldap.initialize(uri)
        try:
            c.simple_bind_s(ADMIN_DN, ADMIN_PW)
            return True
        except ldap.SERVER_DOWN:
            return False

    try:
        wait_ready(proc, ready)
        directory = Directory(uri, str(tmp / "tls.crt"))
        import ldap.modlist

        directory.conn.add_s(
            BASE_DN,
            ldap.modlist.addModlist(
                {
                    "objectClass": [b"dcObject", b"organization"],
                    "dc": [b"example"],
                    "o": [b"Example"],
                }
            ),
        )
        for ou in ("people", "groups"):
            directory.conn.add_s(
                f"ou={ou},{BASE_DN}",
                ldap.modlist.addModlist(
                    {"objectClass": [b"organizationalUnit"], "ou": [ou.encode()]}
                ),
            )
        yield directory
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


# --- OpenID Connect provider: django-oauth-toolkit ------------------------------------------

OIDCP_SETTINGS = """\
SECRET_KEY = "oidc-provider-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "oidcp_urls"
STATIC_URL = "/static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}
LOGIN_URL = "/admin/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tables made straight from the models (migrate --run-syncdb): seconds faster than migrations.
MIGRATION_MODULES = {
    app: None
    for app in ["admin", "auth", "contenttypes", "sessions", "messages", "oauth2_provider"]
}
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": open({key!r}).read(),
    "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "Email"},
    "OAUTH2_VALIDATOR_CLASS": "oidcp_validator.Validator",
    "PKCE_REQUIRED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
}
"""

OIDCP_URLS = """\
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
"""

# The provider's claims: the person's groups, and "amr" with "mfa" for members of the
# group "mfa-used" (as if they had used a second factor). A member of "wrong-audience"
# gets an ID token for another client, of "two-audiences" one for us and another client
# with no azp: real, well signed tokens a client must refuse.
OIDCP_VALIDATOR = """\
from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below, whatever the scopes (groups and amr have none)

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        claims = {
            "preferred_username": user.username,
            "email": user.email,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": groups,
        }
        if "mfa-used" in groups:
            claims["amr"] = ["pwd", "mfa"]
        return claims

    def finalize_id_token(self, id_token, token, token_handler, request):
        if request.user.groups.filter(name="wrong-audience").exists():
            id_token["aud"] = "another-client"
        if request.user.groups.filter(name="two-audiences").exists():
            id_token["aud"] = [id_token["aud"], "another-client"]
        return super().finalize_id_token(id_token, token, token_handler, request)
"""

OIDCP_SERVE = """\
import sys

import django
django.setup()
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from oauth2_provider.models import Application

call_command("migrate", run_syncdb=True, verbosity=0)
people = {
    "olivia": ("Olivia", "Oidc", ["itsm-agents", "network-team"]),
    "oscar": ("Oscar", "Admin", ["itsm-admins", "itsm-agents", "mfa-used"]),
    "ozzy": ("Ozzy", "Plain", []),
    "eve": ("Eve", "Elsewhere", ["itsm-admins", "wrong-audience"]),
    "tess": ("Tess", "Two", ["itsm-admins", "two-audiences"]),
    "breakglass": ("Break", "Glass", ["itsm-admins"]),
}
for username, (first, last, groups) in people.items():
    user = User.objects.create_user(
        username, f"{username}@example.test", "providerpw",
        first_name=first, last_name=last, is_staff=True,
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
Application.objects.create(
    client_id="itsm-client", client_secret="itsm-secret", name="itsm", user=None,
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris="http://testserver/sso/oidc/callback/",
    post_logout_redirect_uris="http://testserver/login/",
    algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
)
call_command("runserver", sys.argv[1], use_reloader=False)
"""


class OIDCProvider:
    def __init__(self, base):
        self.base = base

    def env(self, **extra):
        return {
            "OIDC_PROVIDER_NAME": "Example ID",
            "OIDC_RP_CLIENT_ID": "itsm-client",
            "OIDC_RP_CLIENT_SECRET": "itsm-secret",
            "OIDC_OP_ISSUER": self.base,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.base}/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.base}/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.base}/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.base}/.well-known/jwks.json",
            "OIDC_GROUPS_CLAIM": "groups",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.base}/logout/",
            **extra,
        }

    def browser(self, username, password="providerpw"):  # noqa: S107
        """A browser signed in at the provider (its admin sign-in form)."""
        import requests

        session = requests.Session()
        session.get(f"{self.base}/admin/login/", timeout=10)
        answer = session.post(
            f"{self.base}/admin/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": f"{self.base}/admin/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text[:500]
        return session


@pytest.fixture(scope="session")
def oidc_provider():
    try:
        import oauth2_provider  # noqa: F401
    except ImportError:
        pytest.skip("django-oauth-toolkit is not installed (a dev dependency)")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="oidcp-"))
    key = tmp / "oidc.key"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    (tmp / "oidcp_settings.py").write_text(
        OIDCP_SETTINGS.replace("{db!r}", repr(str(tmp / "db.sqlite3"))).replace(
            "{key!r}", repr(str(key))
        )
    )
    (tmp / "oidcp_urls.py").write_text(OIDCP_URLS)
    (tmp / "oidcp_validator.py").write_text(OIDCP_VALIDATOR)
    (tmp / "oidcp_serve.py").write_text(OIDCP_SERVE)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "PYTHONPATH": str(tmp),
        "DJANGO_SETTINGS_MODULE": "oidcp_settings",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One process: tables and people made, then runserver (no reloader: the pid is the
    # server's).
    proc = subprocess.Popen(
        [sys.executable, str(tmp / "oidcp_serve.py"), f"127.0.0.1:{port}"],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import requests

        wait_ready(
            proc,
            lambda: requests.get(f"{base}/.well-known/openid-configuration", timeout=1).ok,
            timeout=90,
        )
        yield OIDCProvider(base)
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


# --- SAML: keys for an identity provider played by pysaml2 ----------------------------------


@pytest.fixture(scope="session")
def saml_keys():
    openssl = shutil.which("openssl")
    xmlsec = shutil.which("xmlsec1")
    if openssl is None or xmlsec is None:
        pytest.skip("openssl and xmlsec1 are needed for SAML (apt-get install xmlsec1)")
    tmp = Path(tempfile.mkdtemp(prefix="saml-"))
    keys = {}
    for name in ("idp", "rogue", "sp"):
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                f"/CN={name}.example.test",
                "-keyout",
                str(tmp / f"{name}.key"),
                "-out",
                str(tmp / f"{name}.crt"),
            ],
            check=True,
            capture_output=True,
        )
        keys[name] = (str(tmp / f"{name}.key"), str(tmp / f"{name}.crt"))
    yield {"dir": tmp, "xmlsec": xmlsec, **keys}
    shutil.rmtree(tmp, ignore_errors=True)


def apply_sso(settings, env):
    """Settings as the environment ``env`` would make them (itsm/sso/config.py)."""
    from itsm.sso import config

    values = config.sso_settings(env)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = config.backends(
        list(settings.AUTHENTICATION_BACKENDS), values
    )
    settings.MIDDLEWARE = config.middleware(list(settings.MIDDLEWARE), values)
    return values


def signed_in_user(client):
    from django.contrib.auth import get_user_model

    pk = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=pk) if pk else None


def audited(action, **filters):
    """The audit log holds this event (itsm.audit)."""
    from itsm.audit.models import AuditEvent

    return AuditEvent.objects.filter(action=action, **filters).exists()
