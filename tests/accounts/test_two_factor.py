"""Two-factor sign-in (django-otp: TOTP and recovery codes): the second step after the
password, codes that work once, wrong codes counting toward the lockout, enrolment forced by
TWO_FACTOR_REQUIRED before any other page, the admin only with a verified session, a session
verified by the identity provider, new recovery codes and turning it off."""

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from itsm.audit.models import AuditEvent
from tests.conftest import PASSWORD

LIMIT = 5


@pytest.fixture(autouse=True)
def _policy(settings):
    settings.TWO_FACTOR_REQUIRED = "administrators"
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    # django-otp also delays a device's next check after a wrong code (1 s, 2 s, 4 s…; on in
    # production): off here, so that the lockout counted by axes is what these tests see.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_of(device, offset=0) -> str:
    """What the authenticator app shows now (``offset`` time steps away)."""
    return str(
        totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset)
    ).zfill(device.digits)


def authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def recovery_codes(user, *codes) -> list[str]:
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return list(codes)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def password_step(client, username, next_url=None):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


@pytest.mark.django_db
class TestSecondStep:
    def test_the_password_alone_does_not_sign_in(self, alice):
        device = authenticator(alice)
        client = Client()
        response = password_step(client, "alice", "/me/")
        assert response.status_code == 302 and response["Location"] == "/login/verify/"
        assert not is_signed_in(client)
        assert client.get("/me/").status_code == 302  # to the sign-in page
        assert client.get("/login/verify/").status_code == 200

        signed = client.post("/login/verify/", {"code": code_of(device)})
        assert signed.status_code == 302 and signed["Location"] == "/me/"
        assert is_signed_in(client)
        assert client.session["otp_device_id"] == device.persistent_id
        assert "auth.sign_in" in actions()

    def test_a_wrong_code_is_refused(self, alice):
        device = authenticator(alice)
        client = Client()
        password_step(client, "alice")
        refused = client.post("/login/verify/", {"code": code_of(device, offset=10)})
        assert refused.status_code == 400
        assert "not correct" in refused.content.decode()
        assert not is_signed_in(client)

    def test_a_code_is_accepted_once(self, alice):
        device = authenticator(alice)
        first = Client()
        password_step(first, "alice")
        code = code_of(device)
        assert first.post("/login/verify/", {"code": code}).status_code == 302
        replay = Client()
        password_step(replay, "alice")
        refused = replay.post("/login/verify/", {"code": code})
        assert refused.status_code == 400 and not is_signed_in(replay)

    def test_a_recovery_code_works_once(self, alice):
        authenticator(alice)
        (code,) = recovery_codes(alice, "abcd2345")
        first = Client()
        password_step(first, "alice")
        assert first.post("/login/verify/", {"code": "ABCD 2345"}).status_code == 302
        assert is_signed_in(first)
        assert not StaticToken.objects.filter(token=code).exists()
        again = Client()
        password_step(again, "alice")
        assert again.post("/login/verify/", {"code": code}).status_code == 400
        assert not is_signed_in(again)

    def test_wrong_codes_count_toward_the_lockout(self, alice):
        device = authenticator(alice)
        client = Client()
        password_step(client, "alice")
        answers = [
            client.post("/login/verify/", {"code": code_of(device, offset=10 + n)}).status_code
            for n in range(LIMIT)
        ]
        assert answers == [400] * (LIMIT - 1) + [429]
        refused = client.post("/login/verify/", {"code": code_of(device)})
        assert refused.status_code == 429 and not is_signed_in(client)
        # The right password again does not start over: the account is locked.
        assert password_step(Client(), "alice").status_code == 429
        assert "auth.locked_out" in actions()

    def test_the_waiting_step_expires(self, alice, settings):
        device = authenticator(alice)
        client = Client()
        password_step(client, "alice")
        session = client.session
        session["itsm_pending_sign_in"]["at"] = time.time() - 301
        session.save()
        response = client.post("/login/verify/", {"code": code_of(device)})
        assert response.status_code == 302 and response["Location"] == "/login/"
        assert not is_signed_in(client)

    def test_without_a_device_the_password_signs_in(self, alice):
        client = Client()
        assert password_step(client, "alice").status_code == 302
        assert is_signed_in(client)


@pytest.mark.django_db
class TestRequiredEnrolment:
    def test_an_administrator_without_a_device_is_sent_to_set_it_up_first(self, admin_user):
        client = Client()
        client.force_login(admin_user)
        for page in ("/work/", "/me/", "/admin/", "/portal/"):
            response = client.get(page)
            assert response.status_code == 302, page
            assert response["Location"].startswith("/me/two-factor/?next="), page
        api = client.get("/api/v1/incidents/")
        assert api.status_code == 403 and "two-factor" in api.json()["detail"]

        setup = client.get("/me/two-factor/?next=/work/")
        assert setup.status_code == 200
        page = setup.content.decode()
        secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)
        device = TOTPDevice.objects.get(user=admin_user)
        assert not device.confirmed
        assert secret.replace(" ", "") in device.config_url
        qr = client.get("/me/two-factor/qr.svg")
        assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
        assert qr["Cache-Control"].startswith("no-store") or "no-store" in qr["Cache-Control"]

        # Opening the page again shows a new secret: one seen before is never the one confirmed.
        again = client.get("/me/two-factor/")
        assert secret not in again.content.decode()
        device.refresh_from_db()
        assert secret.replace(" ", "") not in device.config_url
        wrong = client.post(
            "/me/two-factor/", {"action": "confirm", "code": code_of(device, offset=10)}
        )
        assert wrong.status_code == 400
        device.refresh_from_db()
        assert not device.confirmed
        assert client.get("/work/").status_code == 302  # still not set up

        done = client.post(
            "/me/two-factor/", {"action": "confirm", "code": code_of(device), "next": "/work/"}
        )
        assert done.status_code == 200
        codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
        assert len(codes) == 10 and len(set(codes)) == 10
        assert StaticToken.objects.filter(device__user=admin_user).count() == 10
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/work/").status_code == 200  # this session was verified by the code
        assert client.get("/me/two-factor/qr.svg").status_code == 404  # no secret shown again
        assert "auth.2fa_enabled" in actions()

    def test_the_token_endpoint_is_not_held_up(self, admin_user):
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": "admin", "password": PASSWORD, "name": "ci"},
            format="json",
        )
        assert response.status_code == 200

    def test_staff_policy_covers_agents_not_end_users(self, settings, agent, alice):
        settings.TWO_FACTOR_REQUIRED = "staff"
        client = Client()
        client.force_login(agent)
        assert client.get("/work/").status_code == 302
        client.force_login(alice)
        assert client.get("/portal/").status_code == 200

    def test_none_requires_nobody(self, settings, admin_user):
        settings.TWO_FACTOR_REQUIRED = "none"
        client = Client()
        client.force_login(admin_user)
        assert client.get("/work/").status_code == 200
        assert client.get("/admin/").status_code == 200

    def test_a_session_the_identity_provider_verified_counts(self, admin_user):
        client = Client()
        client.force_login(admin_user)
        session = client.session
        session["itsm_second_factor"] = "idp"
        session.save()
        assert client.get("/admin/").status_code == 200
        assert client.get("/work/").status_code == 200


@pytest.mark.django_db
class TestAdminSite:
    def test_staff_need_a_verified_session_even_when_not_required(self, agent, settings):
        agent.is_staff = True
        agent.save()
        device = authenticator(agent)
        client = Client()
        client.force_login(agent)  # signed in without the second factor
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/me/two-factor/")
        form = client.get(response["Location"])
        assert "Confirm this session" in form.content.decode()
        verified = client.post(
            "/me/two-factor/", {"action": "verify", "code": code_of(device), "next": "/admin/"}
        )
        assert verified.status_code == 302 and verified["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
class TestManaging:
    def signed_in_with_device(self, user):
        device = authenticator(user)
        client = Client()
        password_step(client, user.username)
        client.post("/login/verify/", {"code": code_of(device)})
        assert is_signed_in(client)
        return client, device

    def test_new_recovery_codes_replace_the_old_ones(self, alice):
        client, device = self.signed_in_with_device(alice)
        old = recovery_codes(alice, "aaaa2222", "bbbb3333")
        no_password = client.post(
            "/me/two-factor/", {"action": "regenerate", "password": "wrong", "code": "123456"}
        )
        assert no_password.status_code == 400
        assert StaticToken.objects.filter(token__in=old).count() == 2
        made = client.post(
            "/me/two-factor/",
            {"action": "regenerate", "password": PASSWORD, "code": code_of(device, offset=1)},
        )
        assert made.status_code == 200
        codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", made.content.decode())
        assert len(codes) == 10
        assert not StaticToken.objects.filter(token__in=old).exists()
        assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)
        assert "auth.recovery_codes_regenerated" in actions()

    def test_turning_it_off_needs_the_password_and_a_code(self, alice):
        client, device = self.signed_in_with_device(alice)
        wrong_password = client.post(
            "/me/two-factor/",
            {"action": "disable", "password": "wrong", "code": code_of(device, offset=1)},
        )
        assert wrong_password.status_code == 400
        wrong_code = client.post(
            "/me/two-factor/",
            {"action": "disable", "password": PASSWORD, "code": code_of(device, offset=9)},
        )
        assert wrong_code.status_code == 400
        assert TOTPDevice.objects.filter(user=alice).exists()
        off = client.post(
            "/me/two-factor/",
            {"action": "disable", "password": PASSWORD, "code": code_of(device, offset=1)},
        )
        assert off.status_code == 302
        assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
        assert not StaticDevice.objects.filter(user=alice).exists()
        assert "auth.2fa_disabled" in actions()
        # The next sign-in is the password alone.
        again = Client()
        assert password_step(again, "alice").status_code == 302 and is_signed_in(again)

    def test_someone_required_to_have_it_cannot_turn_it_off(self, admin_user):
        client, device = self.signed_in_with_device(admin_user)
        page = client.get("/me/two-factor/").content.decode()
        assert 'value="disable"' not in page
        refused = client.post(
            "/me/two-factor/",
            {"action": "disable", "password": PASSWORD, "code": code_of(device, offset=1)},
        )
        assert refused.status_code == 400
        assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()


@pytest.mark.django_db
def test_the_admin_never_shows_a_secret_or_a_recovery_code(admin_user, alice):
    device = authenticator(alice)
    recovery_codes(alice, "zzzz7777")
    static = StaticDevice.objects.get(user=alice)
    client = Client()
    client.force_login(admin_user)
    session = client.session
    session["itsm_second_factor"] = "idp"
    session.save()
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    listing = client.get("/admin/otp_static/staticdevice/")
    change = client.get(f"/admin/otp_static/staticdevice/{static.pk}/change/")
    assert listing.status_code == change.status_code == 200
    assert "zzzz7777" not in listing.content.decode() + change.content.decode()
