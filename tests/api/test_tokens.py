"""API tokens: hashed at rest and shown once, named, scoped (read/write, per practice),
expiring, revocable by their owner and administrators, last use recorded at most once a
minute; the token endpoint, the owner's API and screens, service accounts, the conversion
of DRF's clear-text tokens, and the audit events."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from itsm.accounts.models import Role, User
from itsm.api import tokens
from itsm.api.models import ApiToken, ServiceAccount
from itsm.audit.models import AuditEvent
from tests.conftest import PASSWORD, client_for
from tests.factories import incident

TOKENS = "/api/v1/tokens/"


def with_token(clear) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    return client


def make(user, scopes=("write",), name="script", days=None):
    return tokens.issue(user, name=name, scopes=list(scopes), days=days)


def events(action) -> int:
    return AuditEvent.objects.filter(action=action).count()


# At rest and once ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_is_kept_hashed_and_shown_only_when_made(alice):
    made = with_token(make(alice, ["write"], name="bootstrap")[1])
    response = made.post(
        TOKENS, {"name": "laptop", "scopes": ["incidents:read"], "days": 30}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    clear = body["token"]
    assert clear.startswith("itsm_") and body["prefix"] == clear[:13]
    assert body["scopes"] == ["incidents:read"] and body["status"] == "active"
    token = ApiToken.objects.get(name="laptop")
    assert token.secret_hash == hashlib.sha256(clear.encode()).hexdigest()
    with connection.cursor() as cursor:  # nowhere in the row, in any column
        cursor.execute("SELECT * FROM api_apitoken WHERE id = %s", [token.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert clear not in row and clear[14:] not in row
    # never again: not in the list, not in the detail
    listed = made.get(TOKENS)
    assert clear not in listed.content.decode() and "token" not in listed.json()[0]
    assert clear not in made.get(f"{TOKENS}{token.pk}/").content.decode()
    assert with_token(clear).get("/api/v1/incidents/").status_code == 200
    assert events("token.created") == 2


@pytest.mark.django_db
def test_the_token_endpoint_issues_a_named_expiring_token(alice, settings):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD, "name": "cli", "days": 7},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    token = ApiToken.objects.get(user=alice, name="cli")
    assert body["prefix"] == token.prefix and body["scopes"] == ["write"]
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert with_token(body["token"]).get("/api/v1/incidents/").status_code == 200
    # without a name: one is made; an expiry beyond the maximum is refused, nothing made
    assert (
        client.post(
            "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
        )
        .json()["name"]
        .startswith("API sign-in")
    )
    settings.API_TOKEN_MAX_DAYS = 30
    refused = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD, "name": "long", "days": 31},
        format="json",
    )
    assert refused.status_code == 400 and "days" in refused.json()
    assert not ApiToken.objects.filter(name="long").exists()


@pytest.mark.django_db
def test_with_two_factor_on_the_token_endpoint_needs_a_code_too(alice, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.AXES_FAILURE_LIMIT = 20  # wrong codes count toward the lockout: tested there
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client = APIClient()
    sign_in = {"username": "alice", "password": PASSWORD, "name": "cli"}
    for code in (None, "", "000000", "not-a-code"):
        data = sign_in if code is None else {**sign_in, "otp": code}
        refused = client.post("/api/v1/auth/token/", data, format="json")
        assert refused.status_code == 400 and "otp" in refused.json(), code
        assert "token" not in refused.json()
    assert not ApiToken.objects.exists()
    code = str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift))
    response = client.post(
        "/api/v1/auth/token/", {**sign_in, "otp": code.zfill(device.digits)}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"].startswith("itsm_")


@pytest.mark.django_db
def test_a_wrong_password_gets_no_token(alice):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 400 and "token" not in response.json()
    assert not ApiToken.objects.exists()


# Refusals: expired, revoked, unknown ---------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_token_is_refused_with_401_and_audited(alice):
    token, clear = make(alice)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = with_token(clear).get("/api/v1/incidents/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert with_token(clear).get("/api/v1/incidents/").status_code == 401
    event = AuditEvent.objects.get(action="token.expired_use_refused")  # once a minute
    assert event.target_id == str(token.pk) and event.details["reason"] == "expired"


@pytest.mark.django_db
def test_a_revoked_token_is_refused_with_401(alice):
    token, clear = make(alice)
    assert with_token(clear).get("/api/v1/incidents/").status_code == 200
    assert tokens.revoke(token, by=alice)
    response = with_token(clear).get("/api/v1/incidents/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert events("token.revoked") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", ["Bearer itsm_AAAAAAAA_nope", "Token 0123456789abcdef", "Bearer"]
)
def test_a_made_up_token_is_refused(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/incidents/").status_code == 401


@pytest.mark.django_db
def test_a_right_prefix_with_a_wrong_secret_is_refused(alice):
    _token, clear = make(alice)
    assert with_token(clear[:14] + "x" * 43).get("/api/v1/incidents/").status_code == 401


@pytest.mark.django_db
def test_a_deactivated_service_accounts_tokens_stop(db):
    account = tokens.service_account("monitoring")
    _token, clear = make(account.user, ["incidents:read"])
    assert with_token(clear).get("/api/v1/incidents/").status_code == 200
    ServiceAccount.objects.filter(pk=account.pk).update(active=False)
    assert with_token(clear).get("/api/v1/incidents/").status_code == 401


# Scopes ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_read_token_cannot_write(agent, alice, priority_matrix):
    record = incident(alice, title="Mail is down")
    _token, clear = make(agent, ["read"])
    client = with_token(clear)
    assert client.get("/api/v1/incidents/").status_code == 200
    assert client.get(f"/api/v1/incidents/{record.number}/").status_code == 200
    created = client.post("/api/v1/incidents/", {"title": "x", "caller": alice.pk}, format="json")
    assert created.status_code == 403 and "incidents:write" in created.json()["detail"]
    changed = client.patch(f"/api/v1/incidents/{record.number}/", {"title": "Hacked"})
    assert changed.status_code == 403
    record.refresh_from_db()
    assert record.title == "Mail is down"
    own = ApiToken.objects.get(user=agent)
    deleted = client.delete(f"{TOKENS}{own.pk}/")
    assert deleted.status_code == 403 and "write" in deleted.json()["detail"]
    assert ApiToken.objects.live().filter(pk=own.pk).exists()
    assert client.post(TOKENS, {"name": "more", "scopes": ["write"]}).status_code == 403
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_a_practice_scope_reaches_that_practice_only(agent):
    _token, clear = make(agent, ["incidents:write"])
    client = with_token(clear)
    assert client.get("/api/v1/incidents/").status_code == 200
    for url, scope in [
        ("/api/v1/problems/", "problems:read"),
        ("/api/v1/changes/", "changes:read"),
        ("/api/v1/search/?q=mail", "read"),
        ("/api/v1/teams/", "read"),
        (TOKENS, "read"),
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert f"scope {scope}" in response.json()["detail"], url
    # a write scope implies read, and a global read reaches every practice's reads
    _token, reader = make(agent, ["read"], name="reader")
    for url in ["/api/v1/problems/", "/api/v1/changes/", "/api/v1/teams/", TOKENS]:
        assert with_token(reader).get(url).status_code == 200, url


@pytest.mark.django_db
def test_an_attachment_download_needs_a_read_scope(agent):
    _token, clear = make(agent, ["incidents:read"])
    response = with_token(clear).get("/api/v1/attachments/1/download/")
    assert response.status_code == 403 and "scope read" in response.json()["detail"]


def test_the_scopes_come_from_the_practice_registry():
    scopes = tokens.available_scopes()
    assert scopes[:2] == ["read", "write"]
    for practice in ("incidents", "problems", "changes", "deployments", "catalogue"):
        assert f"{practice}:read" in scopes and f"{practice}:write" in scopes
    assert "accounts:read" not in scopes and "api:read" not in scopes
    assert "practices:read" not in scopes  # the practices' overview has no API


# Bad input ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scopes": ["read"]}, "name"),
        ({"name": "  ", "scopes": ["read"]}, "name"),
        ({"name": "a\nb", "scopes": ["read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"] * 101}, "scopes"),
        ({"name": "x", "scopes": ["read"], "days": 366}, "days"),
        ({"name": "x", "scopes": ["read"], "days": 0}, "days"),
        ({"name": "x", "scopes": ["read"], "days": "soon"}, "days"),
        ({"name": "x", "scopes": ["incidents:admin"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["accounts:write"]}, "scopes"),
        ({"name": "x"}, "scopes"),
        ({"name": "script", "scopes": ["read"]}, "name"),  # taken by a live token
    ],
)
def test_bad_input_on_create_is_a_400_naming_the_field_and_saves_nothing(alice, data, field):
    _token, clear = make(alice, ["write"], name="script")
    response = with_token(clear).post(TOKENS, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_a_token_made_with_a_token_gets_no_more_time_nor_scopes(alice):
    creator, clear = make(alice, ["write"], days=10)
    client = with_token(clear)
    longer = client.post(TOKENS, {"name": "x", "scopes": ["read"], "days": 30}, format="json")
    assert longer.status_code == 400 and "outlive" in longer.json()["days"][0]
    made = client.post(TOKENS, {"name": "x", "scopes": ["read"]}, format="json")
    assert made.status_code == 201
    assert ApiToken.objects.get(name="x").expires_at <= creator.expires_at
    reader, _ = make(alice, ["incidents:read"], name="reader")
    with pytest.raises(ValidationError) as refused:
        tokens.issue(alice, name="y", scopes=["incidents:write"], made_with=reader)
    assert "scopes" in refused.value.message_dict
    assert tokens.issue(alice, name="y", scopes=["incidents:read"], made_with=reader)


@pytest.mark.django_db
def test_a_revoked_tokens_name_may_be_used_again(alice):
    token, _clear = make(alice, name="ci")
    tokens.revoke(token)
    assert make(alice, name="ci")[0].name == "ci"


# Revoking ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_revokes_through_the_api_and_not_another_persons(alice, bob):
    _mine, clear = make(alice)
    theirs, their_clear = make(bob)
    client = with_token(clear)
    assert client.delete(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert client.get(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert [t["name"] for t in client.get(TOKENS).json()] == ["script"]
    assert with_token(their_clear).get("/api/v1/incidents/").status_code == 200
    own = ApiToken.objects.get(user=alice)
    assert client.delete(f"{TOKENS}{own.pk}/").status_code == 204
    assert client.get("/api/v1/incidents/").status_code == 401


@pytest.mark.django_db
def test_a_password_change_revokes_every_token(alice):
    _one, first = make(alice, name="one")
    _two, second = make(alice, name="two")
    alice.set_password("a-Much-longer-secret-42")
    alice.save()
    assert not ApiToken.objects.live().filter(user=alice).exists()
    for clear in (first, second):
        assert with_token(clear).get("/api/v1/incidents/").status_code == 401
    assert ApiToken.objects.filter(user=alice).count() == 2  # revoked, kept
    assert events("token.revoked") == 2


@pytest.mark.django_db
def test_the_admin_lists_by_prefix_and_revokes_never_showing_the_secret(alice):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    token, clear = make(alice)
    admin = Client()
    admin.force_login(root)
    listing = admin.get("/admin/api/apitoken/").content.decode()
    assert token.prefix in listing and clear not in listing and token.secret_hash not in listing
    detail = admin.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert clear not in detail and token.secret_hash not in detail
    assert admin.post(f"/admin/api/apitoken/{token.pk}/delete/").status_code == 403
    assert "delete_selected" not in admin.get("/admin/api/apitoken/").content.decode()
    response = admin.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == root and token.revoked_at is not None
    assert with_token(clear).get("/api/v1/incidents/").status_code == 401


# Last use and queries ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_last_use_is_written_at_most_once_a_minute(alice):
    token, clear = make(alice)
    client = with_token(clear)
    for _ in range(3):
        assert client.get("/api/v1/incidents/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and token.last_used_from == "127.0.0.1"
    assert events("token.used") == 1
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/incidents/")
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    client.get("/api/v1/incidents/")
    token.refresh_from_db()
    assert token.last_used_at > first and events("token.used") == 2


@pytest.mark.django_db
def test_a_token_costs_one_query_like_a_session(alice):
    """The list authenticated by a token spends one query more than the same list with the
    user already known (the token and its user, joined): what DRF's token cost too."""
    _token, clear = make(alice)
    client = with_token(clear)
    client.get("/api/v1/incidents/")  # the first use writes last_used
    with CaptureQueriesContext(connection) as by_token:
        assert client.get("/api/v1/incidents/").status_code == 200
    with CaptureQueriesContext(connection) as known:
        assert client_for(alice).get("/api/v1/incidents/").status_code == 200
    assert len(by_token) == len(known) + 1


# Screens -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tokens_page_makes_one_showing_the_secret_once_and_revokes(alice, bob):
    theirs, _ = make(bob)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    page = browser.get("/me/tokens/")
    assert page.status_code == 200 and "You have no API tokens" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    csrf = page.cookies["csrftoken"].value
    made = browser.post(
        "/me/tokens/",
        {"name": "laptop", "scopes": ["incidents:read", "read"], "days": 10},
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert made.status_code == 201
    token = ApiToken.objects.get(user=alice)
    html = made.content.decode()
    clear = html.split('aria-label="The new token">')[1].split("<")[0]
    assert clear.startswith(token.prefix) and tokens.hash_secret(clear) == token.secret_hash
    again = browser.get("/me/tokens/").content.decode()
    assert token.prefix in again and clear not in again
    assert "style=" not in again and "<script>" not in again
    # revoking: POST with CSRF only; another person's token is a 404
    assert browser.post(f"/me/tokens/{token.pk}/revoke/").status_code == 403
    assert browser.post(f"/me/tokens/{theirs.pk}/revoke/", HTTP_X_CSRFTOKEN=csrf).status_code == 404
    assert browser.get(f"/me/tokens/{token.pk}/revoke/").status_code == 405
    assert browser.post(f"/me/tokens/{token.pk}/revoke/", HTTP_X_CSRFTOKEN=csrf).status_code == 302
    token.refresh_from_db()
    theirs.refresh_from_db()
    assert token.revoked_at is not None and theirs.revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scopes": ["read"], "days": 10}, "name"),
        ({"name": "x", "scopes": ["read"], "days": 400}, "days"),
        ({"name": "x", "scopes": ["nope"], "days": 10}, "scopes"),
    ],
)
def test_the_tokens_page_refuses_bad_input(alice, data, field):
    browser = Client()
    browser.force_login(alice)
    response = browser.post("/me/tokens/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_tokens_page_needs_a_sign_in_and_serves_agents_too(agent):
    assert Client().get("/me/tokens/").status_code == 302
    make(agent, ["incidents:write"], name="monitoring")
    browser = Client()
    browser.force_login(agent)
    page = browser.get("/me/tokens/")
    assert page.status_code == 200 and "monitoring" in page.content.decode()
    assert "workspace/base.html" in [t.name for t in page.templates]


# Service accounts ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_manage_service_account_prints_a_scoped_token_once(agent):
    out = io.StringIO()
    call_command(
        "service_account",
        "monitoring",
        "--scopes",
        "incidents:write,problems:read",
        "--days",
        "30",
        "--owner",
        agent.username,
        stdout=out,
    )
    clear = out.getvalue().strip()
    account = ServiceAccount.objects.get(user__username="monitoring")
    assert account.owner == agent and not account.user.has_usable_password()
    token = ApiToken.objects.get(user=account.user)
    assert token.scopes == ["incidents:write", "problems:read"]
    assert tokens.hash_secret(clear) == token.secret_hash
    account.user.role = Role.AGENT  # a monitoring agent (its role group follows the save)
    account.user.save()
    client = with_token(clear)
    assert client.get("/api/v1/problems/").status_code == 200
    assert client.post("/api/v1/incidents/", {}).status_code == 400  # validated, not refused
    refused = client.post("/api/v1/problems/", {})
    assert refused.status_code == 403 and "problems:write" in refused.json()["detail"]
    assert client.get("/api/v1/changes/").status_code == 403
    with pytest.raises(CommandError, match="person"):
        call_command("service_account", agent.username, "--scopes", "read", stdout=io.StringIO())
    with pytest.raises(CommandError, match="scopes"):
        call_command("service_account", "other", "--scopes", "root", stdout=io.StringIO())
    with pytest.raises(CommandError, match="days"):
        call_command(
            "service_account", "other", "--scopes", "read", "--days", "9999", stdout=io.StringIO()
        )


@pytest.mark.django_db
def test_a_pipeline_token_reaches_the_devops_api_only(db):
    out = io.StringIO()
    call_command("devops_account", "gitlab-ci", stdout=out)
    client = with_token(out.getvalue().strip())
    assert client.get("/api/v1/devops/deployments/DPL0000001/gate/").status_code == 404
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 403 and "incidents:read" in response.json()["detail"]


# Conversion of DRF's tokens ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_drf_clear_text_tokens_are_converted_and_keep_working(alice, bob):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("itsm.api.migrations.0002_service_accounts_and_tokens")
    keys = {alice.pk: "a" * 8 + "0" * 32, bob.pk: "a" * 8 + "1" * 32}  # same first 8
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL)"
        )
        for user_id, key in keys.items():
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, user_id])
    with connection.schema_editor() as editor:
        migration.convert_drf_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    for user_id, key in keys.items():
        token = ApiToken.objects.get(user_id=user_id)
        assert token.name == "migrated" and key not in json.dumps(
            list(token.__dict__.values()), default=str
        )
        assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
        response = APIClient()
        response.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert response.get("/api/v1/incidents/").status_code == 200


@pytest.mark.django_db
def test_wrong_codes_at_the_token_endpoint_lock_the_account_out(alice, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.AXES_FAILURE_LIMIT = 3
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client = APIClient()
    sign_in = {"username": "alice", "password": PASSWORD}
    for _ in range(3):
        client.post("/api/v1/auth/token/", {**sign_in, "otp": "000000"}, format="json")
    code = str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift))
    response = client.post(
        "/api/v1/auth/token/", {**sign_in, "otp": code.zfill(device.digits)}, format="json"
    )
    assert response.status_code == 429 and "token" not in response.json()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_session_waiting_for_its_second_factor_makes_no_token(admin_user, settings):
    settings.TWO_FACTOR_REQUIRED = "administrators"
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get("/me/tokens/").status_code == 302  # to the two-factor set-up first
    assert (
        browser.post("/me/tokens/", {"name": "x", "scopes": ["write"], "days": 5}).status_code
        == 302
    )
    api = APIClient()
    api.force_login(admin_user)
    assert api.post(TOKENS, {"name": "x", "scopes": ["write"]}, format="json").status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_admin_does_not_make_a_persons_account_a_service_account(alice):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    admin = Client()
    admin.force_login(root)
    response = admin.post(
        "/admin/api/serviceaccount/add/", {"user": alice.pk, "description": "", "active": "on"}
    )
    assert response.status_code == 200 and "service account has none" in response.content.decode()
    assert not ServiceAccount.objects.exists()
    program = User.objects.create_user("nagios")  # no password
    response = admin.post(
        "/admin/api/serviceaccount/add/", {"user": program.pk, "description": "", "active": "on"}
    )
    assert response.status_code == 302 and ServiceAccount.objects.get().user == program


@pytest.mark.django_db
def test_the_person_answering_for_a_service_account_sees_and_revokes_its_tokens(agent, agent2):
    account = tokens.service_account("monitoring", owner=agent)
    token, clear = make(account.user, ["incidents:read"], name="nagios")
    owner, other = Client(), Client()
    owner.force_login(agent)
    other.force_login(agent2)
    page = owner.get("/me/tokens/").content.decode()
    assert "monitoring" in page and token.prefix in page and clear not in page
    assert token.prefix not in other.get("/me/tokens/").content.decode()
    assert other.post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    assert with_token(clear).get("/api/v1/incidents/").status_code == 200
    assert owner.post(f"/me/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == agent
    assert with_token(clear).get("/api/v1/incidents/").status_code == 401


@pytest.mark.django_db
def test_deleting_a_person_in_the_admin_takes_their_tokens(bob):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    make(bob)
    admin = Client()
    admin.force_login(root)
    response = admin.post(f"/admin/accounts/user/{bob.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not User.objects.filter(pk=bob.pk).exists() and not ApiToken.objects.exists()
