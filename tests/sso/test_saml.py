"""SAML 2.0 sign-in (djangosaml2 / pysaml2) with pysaml2 itself as the identity provider:
it reads our service provider's AuthnRequest, signs a Response with a key made for the
test session by openssl, and the test posts it to our assertion consumer service."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from itsm.accounts.models import Role, Team, User
from itsm.sso.models import BreakGlassAccount, GroupMapping

from .conftest import apply_sso, audited, signed_in_user

pytestmark = pytest.mark.django_db

IDP_ENTITY = "https://idp.example.test/metadata"
IDP_SSO = "https://idp.example.test/sso"
IDP_SLO = "https://idp.example.test/slo"
MFA = "https://refeds.org/profile/mfa"
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def idp_config(keys, key_name, sp_metadata=None):
    key, cert = keys[key_name]
    conf = {
        "entityid": IDP_ENTITY,
        "xmlsec_binary": keys["xmlsec"],
        "key_file": key,
        "cert_file": cert,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(IDP_SSO, BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(IDP_SLO, BINDING_HTTP_REDIRECT)],
                },
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                "want_authn_requests_signed": False,
            }
        },
        "debug": 0,
    }
    if sp_metadata:
        conf["metadata"] = {"local": [sp_metadata]}
    return IdPConfig().load(conf)


@pytest.fixture(scope="session")
def saml_world(saml_keys):
    """The identity provider's metadata (for our settings), our SP's metadata (for the
    identity provider), and two identity providers: the real one and a rogue one that
    signs with a key nobody published."""
    folder = saml_keys["dir"]
    idp_metadata = folder / "idp.xml"
    idp_metadata.write_text(str(entity_descriptor(idp_config(saml_keys, "idp"))))
    env = {
        "SAML_METADATA_FILE": str(idp_metadata),
        "SAML_BASE_URL": "http://testserver",
        "SAML_PROVIDER_NAME": "Example SAML",
        "SAML_GROUPS_ATTRIBUTE": "isMemberOf",
        "SAML_MFA_CONTEXTS": MFA,
        "SAML_XMLSEC_BINARY": saml_keys["xmlsec"],
    }
    from itsm.sso.config import saml_settings

    sp_metadata = folder / "sp.xml"
    sp_conf = SPConfig().load(saml_settings(env)["SAML_CONFIG"])
    sp_metadata.write_text(str(entity_descriptor(sp_conf)))
    return {
        "env": env,
        "idp": Server(config=idp_config(saml_keys, "idp", str(sp_metadata))),
        "rogue": Server(config=idp_config(saml_keys, "rogue", str(sp_metadata))),
    }


@pytest.fixture
def saml_on(settings, saml_world):
    apply_sso(settings, saml_world["env"])
    team = Team.objects.create(name="Field services")
    GroupMapping.objects.create(source="saml", external_group="itsm-agents", role=Role.AGENT)
    GroupMapping.objects.create(source="saml", external_group="itsm-managers", role=Role.MANAGER)
    GroupMapping.objects.create(source="saml", external_group="field", team=team)
    return saml_world


def authn_request(client, next_url="/portal/"):
    answer = client.get("/sso/saml/login/", {"next": next_url})
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == IDP_SSO
    query = parse_qs(location.query)
    return query["SAMLRequest"][0], query.get("RelayState", [""])[0]


def idp_response(
    idp,
    saml_request,
    username,
    *,
    groups=(),
    class_ref=PASSWORD,
    sign=True,
    encrypt=False,
):
    request = idp.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
    args = idp.response_args(request.message, [BINDING_HTTP_POST])
    args.pop("binding", None)
    identity = {
        "uid": [username],
        "mail": [f"{username}@example.test"],
        "givenName": [username.capitalize()],
        "sn": ["Saml"],
        "isMemberOf": list(groups),
    }
    response = idp.create_authn_response(
        identity,
        userid=username,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"id-{username}"),
        authn={"class_ref": class_ref, "authn_auth": IDP_ENTITY},
        sign_response=sign,
        sign_assertion=sign,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        encrypt_assertion=encrypt,
        encrypt_assertion_self_contained=True,
        **args,
    )
    return base64.b64encode(str(response).encode()).decode()


def post_to_acs(client, saml_response, relay_state="/portal/"):
    return client.post("/sso/saml/acs/", {"SAMLResponse": saml_response, "RelayState": relay_state})


def test_signed_response_signs_in_with_mapped_role_and_team(client, saml_on):
    saml_request, relay = authn_request(client)
    answer = post_to_acs(
        client,
        idp_response(saml_on["idp"], saml_request, "sam", groups=["itsm-agents", "field"]),
        relay,
    )
    assert answer.status_code == 302 and answer["Location"] == "/portal/"
    user = signed_in_user(client)
    assert (user.username, user.first_name, user.email) == ("sam", "Sam", "sam@example.test")
    assert user.role == Role.AGENT
    assert list(user.teams.values_list("name", flat=True)) == ["Field services"]
    assert not user.has_usable_password()
    assert "itsm_second_factor" not in client.session
    assert audited("sso.user_created", target_id=str(user.pk))
    assert audited("sso.sign_in", actor=user)


def test_mfa_context_counts_as_second_factor_and_highest_role_wins(client, saml_on):
    saml_request, relay = authn_request(client)
    post_to_acs(
        client,
        idp_response(
            saml_on["idp"],
            saml_request,
            "mia",
            groups=["itsm-agents", "itsm-managers"],
            class_ref=MFA,
        ),
        relay,
    )
    user = signed_in_user(client)
    assert user.role == Role.MANAGER
    assert client.session["itsm_second_factor"] == "idp"


def test_unsigned_response_is_refused(client, saml_on):
    saml_request, relay = authn_request(client)
    answer = post_to_acs(
        client, idp_response(saml_on["idp"], saml_request, "sam", sign=False), relay
    )
    assert answer.status_code == 403
    assert "did not sign you in" in answer.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="sam").exists()
    assert audited("sso.sign_in_refused", details__reason="SignatureError")


def test_response_signed_with_another_key_is_refused(client, saml_on):
    saml_request, relay = authn_request(client)
    answer = post_to_acs(
        client, idp_response(saml_on["rogue"], saml_request, "sam", groups=["itsm-agents"]), relay
    )
    assert answer.status_code == 403
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="sam").exists()


def test_replayed_response_is_refused(client, saml_on):
    saml_request, relay = authn_request(client)
    response = idp_response(saml_on["idp"], saml_request, "sam", groups=["itsm-agents"])
    assert post_to_acs(client, response, relay).status_code == 302

    # Another browser that captured it, and the same browser again: both refused.
    thief = client.__class__()
    authn_request(thief)  # even with a sign-in of its own under way
    assert post_to_acs(thief, response, relay).status_code == 403
    assert signed_in_user(thief) is None
    client.logout()
    assert post_to_acs(client, response, relay).status_code == 403
    assert signed_in_user(client) is None


def test_unsolicited_response_is_refused(client, saml_on):
    """A response to a request another browser made (IdP-initiated or stolen)."""
    saml_request, relay = authn_request(client.__class__())
    answer = post_to_acs(client, idp_response(saml_on["idp"], saml_request, "sam"), relay)
    assert answer.status_code == 403
    assert signed_in_user(client) is None


def test_never_signs_in_as_a_break_glass_account(client, saml_on):
    glass = User.objects.create_user("glass", password="glass-pass-123", role=Role.ADMINISTRATOR)
    BreakGlassAccount.objects.create(user=glass)
    saml_request, relay = authn_request(client)
    answer = post_to_acs(client, idp_response(saml_on["idp"], saml_request, "glass"), relay)
    assert answer.status_code == 403
    assert signed_in_user(client) is None


def test_metadata_is_published_only_when_configured(client, settings, saml_on):
    answer = client.get("/sso/saml/metadata/")
    assert answer.status_code == 200
    assert b"http://testserver/sso/saml/acs/" in answer.content
    settings.SAML_ENABLED = False
    assert client.get("/sso/saml/metadata/").status_code == 404
    assert client.get("/sso/saml/login/").status_code == 404
    assert client.post("/sso/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_garbage_response_is_refused_without_an_error(client, saml_on):
    authn_request(client)
    for junk in ("not base64 at all", base64.b64encode(b"<xml>").decode(), "A" * 5000):
        answer = post_to_acs(client, junk)
        assert answer.status_code in (400, 403)
        assert signed_in_user(client) is None
    assert client.post("/sso/saml/acs/", {}).status_code == 400


def test_hostile_attributes_are_refused_or_cleaned(client, saml_on):
    """A username longer than ours or with control characters is refused (never cut
    short into someone else's); a malformed email is not kept."""
    saml_request, relay = authn_request(client)
    answer = post_to_acs(
        client, idp_response(saml_on["idp"], saml_request, "x" * 151, groups=["itsm-agents"]), relay
    )
    assert answer.status_code == 403 and signed_in_user(client) is None
    assert not User.objects.filter(username__startswith="xxxx").exists()
    assert audited("sso.sign_in_refused", details__reason="unusable_username")


def test_deactivated_account_is_refused(client, saml_on):
    User.objects.create_user("gone", is_active=False)
    saml_request, relay = authn_request(client)
    answer = post_to_acs(client, idp_response(saml_on["idp"], saml_request, "gone"), relay)
    assert answer.status_code == 403 and signed_in_user(client) is None
    assert audited("sso.sign_in_refused", details__reason="inactive")


# --- encrypted assertions ------------------------------------------------------------------


@pytest.fixture(scope="session")
def saml_encrypting_world(saml_keys, saml_world):
    """Our service provider with a key pair, which its metadata publishes for encryption,
    and an identity provider that reads that metadata."""
    from itsm.sso.config import saml_settings

    key, cert = saml_keys["sp"]
    env = {
        **saml_world["env"],
        "SAML_SP_KEY_FILE": key,
        "SAML_SP_CERT_FILE": cert,
        "SAML_WANT_ASSERTIONS_ENCRYPTED": "1",
    }
    sp_metadata = saml_keys["dir"] / "sp-encrypting.xml"
    sp_metadata.write_text(
        str(entity_descriptor(SPConfig().load(saml_settings(env)["SAML_CONFIG"])))
    )
    return {
        "env": env,
        "metadata": sp_metadata.read_text(),
        "idp": Server(config=idp_config(saml_keys, "idp", str(sp_metadata))),
    }


@pytest.fixture
def saml_encrypting(settings, saml_encrypting_world):
    apply_sso(settings, saml_encrypting_world["env"])
    GroupMapping.objects.create(source="saml", external_group="itsm-agents", role=Role.AGENT)
    return saml_encrypting_world


def test_metadata_publishes_the_encryption_key(client, saml_encrypting):
    assert 'use="encryption"' in saml_encrypting["metadata"]
    published = client.get("/sso/saml/metadata/").content.decode()
    assert 'use="encryption"' in published


def test_an_encrypted_assertion_signs_in(client, saml_encrypting):
    saml_request, relay = authn_request(client)
    response = idp_response(
        saml_encrypting["idp"], saml_request, "enzo", groups=["itsm-agents"], encrypt=True
    )
    assert "EncryptedAssertion" in base64.b64decode(response).decode()
    answer = post_to_acs(client, response, relay)
    assert answer.status_code == 302, answer.content.decode()[:500]
    user = signed_in_user(client)
    assert user.username == "enzo" and user.role == Role.AGENT


def test_an_assertion_in_clear_is_refused_when_encryption_is_wanted(client, saml_encrypting):
    saml_request, relay = authn_request(client)
    response = idp_response(saml_encrypting["idp"], saml_request, "enzo", groups=["itsm-agents"])
    answer = post_to_acs(client, response, relay)
    assert answer.status_code == 403
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="enzo").exists()
    assert audited("sso.sign_in_refused", details__reason="UnencryptedAssertion")


def test_wanting_encryption_without_a_key_is_a_configuration_error(saml_world):
    from itsm.sso.config import saml_settings

    with pytest.raises(ValueError, match="SAML_SP_KEY_FILE"):
        saml_settings({**saml_world["env"], "SAML_WANT_ASSERTIONS_ENCRYPTED": "1"})


# --- single logout -------------------------------------------------------------------------


def signed_in_through_saml(client, saml_on, username="sam"):
    saml_request, relay = authn_request(client)
    response = idp_response(saml_on["idp"], saml_request, username, groups=["itsm-agents"])
    assert post_to_acs(client, response, relay).status_code == 302
    assert signed_in_user(client).username == username


def test_signing_out_signs_out_at_the_identity_provider(client, saml_on):
    """SP-initiated single logout: our session ends at once, the browser carries a logout
    request to the provider, whose answer lands on our logout service and on the sign-in
    page."""
    signed_in_through_saml(client, saml_on)
    answer = client.post("/logout/")
    assert signed_in_user(client) is None
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == IDP_SLO
    query = parse_qs(location.query)
    idp = saml_on["idp"]
    request = idp.parse_logout_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
    assert request.message.name_id.text == "id-sam"
    response = idp.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
    http = idp.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        response.destination,
        query.get("RelayState", [""])[0],
        response=True,
    )
    back = urlsplit(dict(http["headers"])["Location"])
    assert back.path == "/sso/saml/ls/"
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert signed_in_user(client) is None


def test_the_identity_provider_may_sign_someone_out(client, saml_on):
    """IdP-initiated single logout (the person signed out at another service): their
    session here ends and the provider gets its answer."""
    signed_in_through_saml(client, saml_on)
    idp = saml_on["idp"]
    _request_id, logout_request = idp.create_logout_request(
        "http://testserver/sso/saml/ls/",
        IDP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="id-sam"),
    )
    http = idp.apply_binding(
        BINDING_HTTP_REDIRECT, str(logout_request), "http://testserver/sso/saml/ls/"
    )
    there = urlsplit(dict(http["headers"])["Location"])
    answer = client.get(f"{there.path}?{there.query}")
    assert signed_in_user(client) is None
    assert answer.status_code == 302
    assert answer["Location"].startswith(IDP_SLO + "?SAMLResponse=")


def test_a_local_sign_out_of_a_password_user_stays_here(client, saml_on, agent):
    client.force_login(agent)
    answer = client.post("/logout/")
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None


@pytest.mark.parametrize(
    "query",
    [
        {"SAMLResponse": "not base64 at all"},
        {"SAMLRequest": "bm90IHhtbA=="},
        {"SAMLResponse": base64.b64encode(b"<x/>").decode()},
        {},
    ],
)
def test_a_malformed_logout_message_is_a_400(client, saml_on, query):
    signed_in_through_saml(client, saml_on)
    answer = client.get("/sso/saml/ls/", query)
    assert answer.status_code == 400
    assert audited("sso.logout_refused")


def test_a_provider_without_single_logout_for_the_session_signs_out_here(
    client, saml_on, monkeypatch
):
    """When pysaml2 finds no identity provider session to end (no single logout service,
    or the SAML session is gone), the person is signed out here and sent to sign in."""
    from saml2.client import Saml2Client

    signed_in_through_saml(client, saml_on)
    monkeypatch.setattr(Saml2Client, "global_logout", lambda self, *args, **kwargs: {})
    answer = client.post("/logout/")
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert signed_in_user(client) is None
