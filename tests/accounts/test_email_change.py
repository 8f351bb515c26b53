"""Changing the e-mail address: the current password, then a signed link to the new
address that changes it when its owner opens it, once, before it expires; the old address
is told of the request and of the change."""

import re

import pytest
from django.test import Client

from itsm.audit.models import AuditEvent
from itsm.core.models import Notification
from tests.conftest import PASSWORD

FORM = {"first_name": "Alice", "last_name": "", "phone": "", "time_zone": "UTC"}
NEW = "alice.new@example.org"


def ask_for(client, email=NEW):
    response = client.post("/me/", {**FORM, "email": email, "current_password": PASSWORD})
    assert response.status_code == 302
    mail = Notification.objects.filter(address=email).latest("pk")
    assert mail.subject == "Confirm your new e-mail address"
    return re.search(r"http://testserver(/me/email/confirm/\S+/)", mail.body).group(1)


@pytest.fixture
def signed_in(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.django_db
class TestEmailChange:
    def test_the_address_changes_only_when_the_link_is_opened(self, signed_in, alice):
        link = ask_for(signed_in)
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"
        asked = Notification.objects.get(address="alice@example.com")
        assert "a***@example.org" in asked.body and NEW not in asked.body

        opened = signed_in.get(link)
        assert opened.status_code == 302 and opened["Location"] == "/me/"
        alice.refresh_from_db()
        assert alice.email == NEW
        told = Notification.objects.filter(
            address="alice@example.com", subject="Your account was changed"
        ).get()
        assert "changed to a***@example.org" in told.body
        done = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"auth.email_change_requested", "auth.email_changed"} <= done

    def test_a_link_works_once(self, signed_in, alice):
        link = ask_for(signed_in)
        assert signed_in.get(link).status_code == 302
        again = signed_in.get(link)
        assert again.status_code == 400
        assert "used already" in again.content.decode()

    def test_of_two_links_only_the_first_opened_works(self, signed_in, alice):
        first = ask_for(signed_in, "first@example.org")
        second = ask_for(signed_in, "second@example.org")
        assert signed_in.get(second).status_code == 302
        assert signed_in.get(first).status_code == 400
        alice.refresh_from_db()
        assert alice.email == "second@example.org"

    def test_another_signed_in_person_cannot_use_it(self, signed_in, alice, bob):
        link = ask_for(signed_in)
        thief = Client()
        thief.force_login(bob)
        refused = thief.get(link)
        assert refused.status_code == 400
        assert "another account" in refused.content.decode()
        alice.refresh_from_db()
        bob.refresh_from_db()
        assert (alice.email, bob.email) == ("alice@example.com", "bob@example.com")

    def test_without_signing_in_it_asks_to_sign_in(self, signed_in, alice):
        link = ask_for(signed_in)
        response = Client().get(link)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"

    def test_an_expired_link_is_refused(self, signed_in, alice, settings):
        link = ask_for(signed_in)
        settings.EMAIL_CHANGE_TIMEOUT = -1  # any age is past it
        refused = signed_in.get(link)
        assert refused.status_code == 400
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"

    def test_an_altered_link_is_refused(self, signed_in, alice):
        link = ask_for(signed_in)
        token = link.rstrip("/").rsplit("/", 1)[1]
        altered = link.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        assert signed_in.get(altered).status_code == 400
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"

    def test_an_address_taken_meanwhile_is_refused(self, signed_in, alice, bob):
        link = ask_for(signed_in)
        bob.email = NEW.upper()
        bob.save()
        refused = signed_in.get(link)
        assert refused.status_code == 400
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"


@pytest.mark.django_db
def test_a_password_change_on_the_page_is_audited(signed_in, alice):
    new = "a-Much-longer-secret-42"
    response = signed_in.post(
        "/me/",
        {
            **FORM,
            "email": alice.email,
            "current_password": PASSWORD,
            "new_password1": new,
            "new_password2": new,
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor_id == alice.pk
