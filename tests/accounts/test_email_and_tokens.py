"""Credentials on the preferences page and API tokens: changing the e-mail address or the
password needs the current password, an address another account uses is refused, the old
address is told; any password change (this page, the admin, ``changepassword``) revokes
the API tokens and ends the other sessions; the admin never lists a token in clear."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from itsm.accounts.models import User
from itsm.api import tokens
from itsm.api.models import ApiToken
from itsm.core.models import Notification
from tests.conftest import PASSWORD

FORM = {"first_name": "Alice", "last_name": "", "phone": "", "time_zone": "UTC"}
NEW_PASSWORD = "a-Much-longer-secret-42"


def signed_in(user) -> Client:
    client = Client()
    # Through the sign-in page: the lockout (django-axes) needs the request.
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def make_token(user) -> str:
    """A new token of ``user``: its clear value."""
    return tokens.issue(user, name=f"t{ApiToken.objects.count()}", scopes=["read"])[1]


def live_tokens(user) -> bool:
    return ApiToken.objects.live().filter(user=user).exists()


def token_works(key: str) -> bool:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/v1/incidents/").status_code == 200


# E-mail ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_changing_the_email_needs_the_current_password(client, alice, password):
    client.force_login(alice)
    response = client.post(
        "/me/", {**FORM, "email": "mallory@evil.example", "current_password": password}
    )
    assert response.status_code == 400
    assert "current_password" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_new_email_with_the_password_waits_for_its_confirmation_and_the_old_address_is_told(
    client, alice
):
    client.force_login(alice)
    response = client.post(
        "/me/", {**FORM, "email": "alice.new@example.org", "current_password": PASSWORD}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # until the link sent to the new one is opened
    told = Notification.objects.get(address="alice@example.com")
    assert told.recipient is None
    assert "change the e-mail address of your account to a***@example.org" in told.body
    assert Notification.objects.filter(address="alice.new@example.org").exists()


@pytest.mark.django_db
def test_other_settings_and_a_change_of_letter_case_need_no_password(client, alice):
    client.force_login(alice)
    response = client.post("/me/", {**FORM, "email": "Alice@Example.com", "first_name": "Al"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.first_name, alice.email.lower()) == ("Al", "alice@example.com")
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_an_address_another_account_uses_is_refused_without_saying_whose(client, alice, agent):
    client.force_login(alice)
    response = client.post(
        "/me/", {**FORM, "email": "AGENT@example.com", "current_password": PASSWORD}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["This address is used by another account."]
    assert "used by another account" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


# Password and tokens ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_change_on_the_page_revokes_tokens_and_ends_the_other_sessions(alice):
    token = make_token(alice)
    assert token_works(token)
    here, elsewhere = signed_in(alice), signed_in(alice)
    data = {**FORM, "email": alice.email, "new_password1": NEW_PASSWORD}
    refused = here.post("/me/", {**data, "new_password2": NEW_PASSWORD})
    assert refused.status_code == 400  # no current password
    assert "current_password" in refused.context["form"].errors
    mismatch = here.post("/me/", {**data, "new_password2": "other", "current_password": PASSWORD})
    assert "new_password2" in mismatch.context["form"].errors
    assert token_works(token)

    response = here.post(
        "/me/", {**data, "new_password2": NEW_PASSWORD, "current_password": PASSWORD}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not live_tokens(alice) and not token_works(token)
    assert here.get("/me/").status_code == 200  # this session stays
    assert elsewhere.get("/me/").status_code == 302  # the other one is signed out
    told = Notification.objects.get(address="alice@example.com")
    assert "password of your account was changed" in told.body


@pytest.mark.django_db
def test_a_weak_new_password_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(
        "/me/",
        {
            **FORM,
            "email": alice.email,
            "current_password": PASSWORD,
            "new_password1": "short",
            "new_password2": "short",
        },
    )
    assert response.status_code == 400
    assert "new_password1" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.django_db
def test_the_admin_and_changepassword_revoke_tokens(alice, monkeypatch):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    token = make_token(alice)
    response = signed_in(admin).post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not live_tokens(alice) and not token_works(token)

    token = make_token(alice)
    answers = iter([PASSWORD, PASSWORD])  # the command reads the password twice from a tty
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": next(answers),
    )
    call_command("changepassword", "alice", stdout=io.StringIO())
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not live_tokens(alice)


@pytest.mark.django_db
def test_a_hash_upgraded_at_sign_in_keeps_the_tokens(alice, settings):
    token = make_token(alice)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # now preferred: MD5 is upgraded
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert alice.password.startswith("md5$")
    assert alice.check_password(PASSWORD)
    alice.refresh_from_db()
    assert alice.password.startswith("pbkdf2_sha256$")
    assert token_works(token)


@pytest.mark.django_db
def test_other_saves_keep_the_tokens(alice):
    token = make_token(alice)
    alice.first_name = "Alicia"
    alice.save()
    assert token_works(token)


# The admin ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_never_shows_a_token_in_clear(alice):
    admin = signed_in(User.objects.create_superuser("root", "root@example.com", PASSWORD))
    token = make_token(alice)
    made = ApiToken.objects.get(user=alice)
    listing = admin.get("/admin/api/apitoken/").content.decode()
    assert made.prefix in listing and token not in listing
    change = admin.get(f"/admin/api/apitoken/{made.pk}/change/").content.decode()
    assert made.prefix in change and token not in change and made.secret_hash not in change
    assert admin.get("/admin/api/apitoken/add/").status_code == 403
