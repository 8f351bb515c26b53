"""Password reset by e-mail: the same answer, by the same path, for known and unknown
addresses; links that work once and expire; a reset ends the other sessions, revokes the
API tokens, tells the address and lifts a lockout; requests are throttled per address and
per client address in the database."""

import re
from datetime import datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.test import Client

from itsm.api import tokens
from itsm.api.models import ApiToken
from itsm.audit.models import AuditEvent
from itsm.core.models import Notification
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-Much-longer-secret-42"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_RESET_LIMIT = 5
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def ask(client, email, capture):
    """Ask for a link; returns the answer and what the request queued after its commit (the
    mail's own delivery, queued by the task, comes after)."""
    with capture(execute=True) as callbacks:
        response = client.post("/password-reset/", {"email": email})
    return response, [callback.__qualname__ for callback in callbacks]


def reset_link(address) -> str:
    mail = Notification.objects.filter(address=address, subject="Reset your password").latest("pk")
    return re.search(r"http://testserver(/password-reset/\S+/)", mail.body).group(1)


@pytest.mark.django_db
class TestAsking:
    def test_known_and_unknown_addresses_get_the_same_answer_by_the_same_path(
        self, alice, django_capture_on_commit_callbacks
    ):
        known, known_tasks = ask(Client(), "ALICE@example.com", django_capture_on_commit_callbacks)
        unknown, unknown_tasks = ask(
            Client(), "nobody@example.com", django_capture_on_commit_callbacks
        )
        assert known.status_code == unknown.status_code == 302
        assert known["Location"] == unknown["Location"] == "/password-reset/sent/"
        # The request queues one task either way; the lookup and the mail are the task's.
        assert unknown_tasks == ["PasswordResetView.form_valid.<locals>.<lambda>"]
        assert known_tasks[:1] == unknown_tasks
        assert Notification.objects.filter(address="alice@example.com").count() == 1
        assert not Notification.objects.filter(address="nobody@example.com").exists()
        page = Client().get("/password-reset/sent/").content.decode()
        assert "If an account uses that address" in page

    def test_requests_are_throttled_per_address(self, alice, django_capture_on_commit_callbacks):
        for number in range(7):
            client = Client(REMOTE_ADDR=f"10.0.0.{number}")
            response, _ = ask(client, "alice@example.com", django_capture_on_commit_callbacks)
            assert response.status_code == 302  # the same answer throughout
        assert Notification.objects.filter(address="alice@example.com").count() == 5

    def test_requests_are_throttled_per_client_address(
        self, alice, django_capture_on_commit_callbacks
    ):
        client = Client(REMOTE_ADDR="10.9.0.1")
        for number in range(20):
            ask(client, f"someone{number}@example.com", django_capture_on_commit_callbacks)
        response, queued = ask(client, "alice@example.com", django_capture_on_commit_callbacks)
        assert response.status_code == 302
        assert queued == []
        assert not Notification.objects.filter(address="alice@example.com").exists()

    def test_links_use_the_configured_site_address(
        self, alice, settings, django_capture_on_commit_callbacks
    ):
        settings.SITE_URL = "https://itsm.example.com"
        ask(Client(), "alice@example.com", django_capture_on_commit_callbacks)
        mail = Notification.objects.get(address="alice@example.com")
        assert "https://itsm.example.com/password-reset/" in mail.body
        assert "testserver" not in mail.body

    def test_an_invalid_address_is_refused_on_the_field(self, db):
        response = Client().post("/password-reset/", {"email": "not an address"})
        assert response.status_code == 200
        assert "email" in response.context["form"].errors


@pytest.mark.django_db
class TestTheLink:
    def test_a_reset_ends_sessions_revokes_tokens_tells_the_address(
        self, alice, django_capture_on_commit_callbacks
    ):
        token = tokens.issue(alice, name="laptop", scopes=["read"])[1]
        elsewhere = Client()
        elsewhere.force_login(alice)
        ask(Client(), "alice@example.com", django_capture_on_commit_callbacks)
        client = Client()
        form = client.get(reset_link("alice@example.com"), follow=True)
        assert form.status_code == 200 and form.context["validlink"]
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
        alice.refresh_from_db()
        assert alice.check_password(NEW_PASSWORD)
        assert not ApiToken.objects.live().filter(user=alice).exists()
        api = Client(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.get("/api/v1/incidents/").status_code == 401
        assert elsewhere.get("/me/").status_code == 302  # signed out
        told = Notification.objects.filter(
            address="alice@example.com", subject="Your account was changed"
        ).get()
        assert "password of your account was changed" in told.body
        assert AuditEvent.objects.filter(action="auth.password_reset").exists()

    def test_a_link_works_once(self, alice, django_capture_on_commit_callbacks):
        ask(Client(), "alice@example.com", django_capture_on_commit_callbacks)
        link = reset_link("alice@example.com")
        client = Client()
        form = client.get(link, follow=True)
        client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        again = Client().get(link, follow=True)
        assert not again.context["validlink"]
        assert "This link does not work" in again.content.decode()

    def test_an_expired_link_is_refused(self, alice, monkeypatch, settings):
        settings.PASSWORD_RESET_TIMEOUT = 3600
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        uid = urlsafe_base64_encode(force_bytes(alice.pk))
        token = default_token_generator.make_token(alice)
        later = datetime.now() + timedelta(hours=1, minutes=1)
        monkeypatch.setattr(default_token_generator, "_now", lambda: later)
        response = Client().get(f"/password-reset/{uid}/{token}/", follow=True)
        assert not response.context["validlink"]
        attempt = Client().post(
            f"/password-reset/{uid}/set-password/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert attempt.status_code == 200
        alice.refresh_from_db()
        assert alice.check_password(PASSWORD)

    def test_a_made_up_token_is_refused(self, alice):
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        uid = urlsafe_base64_encode(force_bytes(alice.pk))
        response = Client().get(f"/password-reset/{uid}/abc-0123456789abcdef/", follow=True)
        assert not response.context["validlink"]

    def test_a_reset_lifts_a_lockout(self, alice, django_capture_on_commit_callbacks):
        locked = Client()
        for _ in range(5):
            locked.post("/login/", {"username": "alice", "password": "wrong"})
        assert AccessAttempt.objects.exists()
        ask(Client(), "alice@example.com", django_capture_on_commit_callbacks)
        client = Client()
        form = client.get(reset_link("alice@example.com"), follow=True)
        client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        response = Client().post("/login/", {"username": "alice", "password": NEW_PASSWORD})
        assert response.status_code == 302
