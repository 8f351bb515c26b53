"""OpenID Connect sign-in against a real provider (django-oauth-toolkit in its own process
on loopback): the whole authorization code flow with PKCE, state and nonce, the ID token
checked against the provider's JWKS; the browser is played by the test client on our side
and by ``requests`` on the provider's side."""

import logging
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from itsm.accounts.models import Role, Team, User
from itsm.sso.models import BreakGlassAccount, GroupMapping

from .conftest import apply_sso, audited, signed_in_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc_on(settings, oidc_provider):
    apply_sso(settings, oidc_provider.env())
    network = Team.objects.create(name="Network")
    GroupMapping.objects.create(source="oidc", external_group="itsm-agents", role=Role.AGENT)
    GroupMapping.objects.create(
        source="oidc", external_group="itsm-admins", role=Role.ADMINISTRATOR
    )
    GroupMapping.objects.create(source="oidc", external_group="network-team", team=network)
    # An LDAP mapping of the same group name gives nothing through OpenID Connect.
    GroupMapping.objects.create(source="ldap", external_group="ITSM-Users", role=Role.MANAGER)
    return oidc_provider


def replace_query(url, **changes):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def start(client, next_url="/portal/"):
    answer = client.get("/sso/oidc/authenticate/", {"next": next_url})
    assert answer.status_code == 302
    return answer["Location"]


def at_provider(provider, username, authorize_url):
    """The provider signs the person in and sends the browser back with a code."""
    answer = provider.browser(username).get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["Location"])
    assert (back.netloc, back.path) == ("testserver", "/sso/oidc/callback/")
    return f"{back.path}?{back.query}"


def sign_in(client, provider, username):
    return client.get(at_provider(provider, username, start(client)))


def test_code_flow_creates_the_account_with_mapped_role_and_team(client, oidc_on):
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["client_id"] == ["itsm-client"]

    answer = client.get(at_provider(oidc_on, "olivia", authorize))
    assert answer.status_code == 302 and answer["Location"] == "/portal/"
    user = signed_in_user(client)
    assert (user.username, user.first_name, user.last_name, user.email) == (
        "olivia",
        "Olivia",
        "Oidc",
        "olivia@example.test",
    )
    assert user.role == Role.AGENT
    assert list(user.teams.values_list("name", flat=True)) == ["Network"]
    assert not user.has_usable_password()
    assert "itsm_second_factor" not in client.session


def test_highest_mapped_role_wins_and_provider_mfa_counts_as_second_factor(client, oidc_on):
    sign_in(client, oidc_on, "oscar")
    user = signed_in_user(client)
    assert user.role == Role.ADMINISTRATOR and user.is_staff
    assert client.session["itsm_second_factor"] == "idp"


def test_existing_account_is_updated_and_role_follows_the_groups(client, oidc_on):
    ozzy = User.objects.create_user("Ozzy", email="old@example.test", role=Role.MANAGER)
    sign_in(client, oidc_on, "ozzy")
    assert signed_in_user(client) == ozzy
    ozzy.refresh_from_db()
    assert ozzy.email == "ozzy@example.test"
    assert ozzy.role == Role.END_USER  # in no mapped group
    assert User.objects.filter(username__iexact="ozzy").count() == 1


def test_tampered_state_is_refused(client, oidc_on):
    callback = at_provider(oidc_on, "olivia", start(client))
    answer = client.get(replace_query(callback, state="forged-state"))
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="olivia").exists()


def test_callback_without_a_started_sign_in_is_refused(client, oidc_on):
    """Another browser's callback (code and state) does not sign this one in."""
    other = client.__class__()
    callback = at_provider(oidc_on, "olivia", start(other))
    answer = client.get(callback)
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None


def test_wrong_nonce_is_refused(client, oidc_on):
    authorize = replace_query(start(client), nonce="a-nonce-we-never-sent")
    answer = client.get(at_provider(oidc_on, "olivia", authorize))
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="olivia").exists()


def test_id_token_for_another_audience_is_refused(client, oidc_on):
    answer = sign_in(client, oidc_on, "eve")
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="eve").exists()
    assert audited("sso.sign_in_refused", details__source="oidc")


def test_id_token_for_several_audiences_without_azp_is_refused(client, oidc_on):
    answer = sign_in(client, oidc_on, "tess")
    assert answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="tess").exists()


def test_wrong_issuer_is_refused(client, settings, oidc_on):
    settings.OIDC_OP_ISSUER = "https://id.example.test"
    answer = sign_in(client, oidc_on, "olivia")
    assert answer["Location"] == "/login/"
    assert signed_in_user(client) is None


def test_provider_never_signs_in_as_a_break_glass_account(client, oidc_on):
    local = User.objects.create_user("breakglass", password="glass-pass-123")
    BreakGlassAccount.objects.create(user=local)
    answer = sign_in(client, oidc_on, "breakglass")
    assert answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    local.refresh_from_db()
    assert local.role == Role.END_USER


def test_sso_only_refuses_local_passwords_except_break_glass(client, settings, oidc_on, caplog):
    settings.SSO_ONLY = True
    User.objects.create_user("local", password="local-pass-123")
    glass = User.objects.create_user("glass", password="glass-pass-123", role=Role.ADMINISTRATOR)
    BreakGlassAccount.objects.create(user=glass, reason="identity provider down")

    answer = client.post("/login/", {"username": "local", "password": "local-pass-123"})
    assert answer.status_code == 200 and signed_in_user(client) is None
    # The same answer as a wrong password (nothing says the account exists).
    wrong = client.post("/login/", {"username": "local", "password": "not-it"})
    assert wrong.status_code == 200
    assert answer.context["form"].errors == wrong.context["form"].errors

    with caplog.at_level(logging.WARNING, logger="itsm.sso"):
        answer = client.post("/login/", {"username": "glass", "password": "glass-pass-123"})
    assert answer.status_code == 302 and signed_in_user(client) == glass
    assert any("BREAK-GLASS" in r.getMessage() for r in caplog.records)
    glass.break_glass.refresh_from_db()
    assert glass.break_glass.last_used_at is not None
    assert audited("auth.break_glass_sign_in", actor=glass)
    assert audited("sso.sign_in_refused", details__reason="sso_only", details__source="local")

    # Single sign-on still signs people in.
    client.logout()
    sign_in(client, oidc_on, "olivia")
    assert signed_in_user(client).username == "olivia"


def test_sign_in_page_offers_the_provider(client, oidc_on):
    page = client.get("/login/", {"next": "/portal/"}).content.decode()
    assert "Sign in with Example ID" in page
    assert 'href="/sso/oidc/authenticate/?next=%2Fportal%2F"' in page


def test_incomplete_configuration_is_an_error_at_start():
    from itsm.sso.config import oidc_settings

    with pytest.raises(ValueError, match="OIDC_OP_ISSUER"):
        oidc_settings({"OIDC_RP_CLIENT_ID": "x", "OIDC_OP_TOKEN_ENDPOINT": "https://id/t"})


def test_sign_in_button_only_when_configured(client, settings, oidc_on):
    request = RequestFactory().get("/login/", {"next": "/portal/"})
    html = render_to_string("registration/_sso_buttons.html", {"next": "/portal/"}, request)
    assert "Sign in with Example ID" in html
    assert "/sso/oidc/authenticate/?next=%2Fportal%2F" in html
    assert "<script" not in html and "style=" not in html
    # A foreign next is not carried.
    html = render_to_string(
        "registration/_sso_buttons.html", {"next": "https://evil.example/"}, request
    )
    assert "evil" not in html

    settings.OIDC_ENABLED = False
    assert "Sign in with" not in render_to_string("registration/_sso_buttons.html", {}, request)
    assert client.get("/sso/oidc/authenticate/").status_code == 404
    assert client.get("/sso/oidc/callback/?code=x&state=y").status_code == 404


def test_nothing_configured_leaves_the_platform_as_before(client):
    from django.conf import settings as live

    assert not live.OIDC_ENABLED and not live.SAML_ENABLED and not live.LDAP_ENABLED
    assert not live.SSO_ONLY
    assert "itsm.sso.backends.LocalPasswordBackend" in live.AUTHENTICATION_BACKENDS
    assert not any("LDAP" in b or "OIDC" in b or "SAML" in b for b in live.AUTHENTICATION_BACKENDS)
    assert client.get("/sso/saml/login/").status_code == 404
    User.objects.create_user("plain", password="plain-pass-123")
    assert (
        client.post("/login/", {"username": "plain", "password": "plain-pass-123"}).status_code
        == 302
    )


def test_provider_error_answer_signs_nobody_in(client, oidc_on):
    authorize = start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    answer = client.get("/sso/oidc/callback/", {"error": "access_denied", "state": state})
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
    # The state is spent: the same state with a code is refused too.
    answer = client.get("/sso/oidc/callback/", {"code": "x", "state": state})
    assert answer["Location"] == "/login/" and signed_in_user(client) is None


def test_forged_code_is_refused_without_an_error(client, oidc_on):
    callback = at_provider(oidc_on, "olivia", start(client))
    answer = client.get(replace_query(callback, code="forged-code"))
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None


def test_signing_out_signs_out_at_the_provider_too(client, oidc_on):
    """RP-initiated logout: our sign-out sends the browser to the provider's end-session
    endpoint with the ID token as the hint; the provider ends its session and sends the
    browser back to our sign-in page."""
    browser = oidc_on.browser("olivia")
    answer = browser.get(start(client), allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    client.get(f"{back.path}?{back.query}")
    assert signed_in_user(client).username == "olivia"

    answer = client.post("/logout/")
    assert signed_in_user(client) is None
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_on.base}/logout/"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["client_id"] == ["itsm-client"] and query["id_token_hint"][0].count(".") == 2

    at_provider_end = browser.get(answer["Location"], allow_redirects=False, timeout=10)
    assert at_provider_end.status_code == 302
    assert at_provider_end.headers["Location"] == "http://testserver/login/"
    # The provider's own session is over: its pages ask to sign in again.
    again = browser.get(f"{oidc_on.base}/admin/", allow_redirects=False, timeout=10)
    assert again.status_code == 302 and "/admin/login/" in again.headers["Location"]


def test_a_local_sign_out_stays_here(client, oidc_on, agent):
    """Someone who signed in with a password is signed out here only."""
    client.force_login(agent)
    answer = client.post("/logout/")
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
