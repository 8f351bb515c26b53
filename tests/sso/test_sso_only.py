"""Under SSO_ONLY only break-glass accounts sign in with a password: only they get a
password reset link, and the sign-in page offers no reset to everyone else."""

import pytest

from itsm.accounts.models import Role, User
from itsm.accounts.tasks import send_password_reset
from itsm.core.models import Notification
from itsm.sso.models import BreakGlassAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    local = User.objects.create_user("local", email="local@example.test", password="local-pass-123")
    glass = User.objects.create_user(
        "glass", email="glass@example.test", password="glass-pass-123", role=Role.ADMINISTRATOR
    )
    BreakGlassAccount.objects.create(user=glass, reason="identity provider down")
    return local, glass


def mails_to(address):
    return Notification.objects.filter(recipient__email=address).count() + (
        Notification.objects.filter(address=address).count()
    )


def test_only_break_glass_accounts_get_a_reset_link(settings, people):
    settings.SSO_ONLY = True
    assert send_password_reset("local@example.test", "http://testserver") == 0
    assert mails_to("local@example.test") == 0
    assert send_password_reset("glass@example.test", "http://testserver") == 1
    assert mails_to("glass@example.test") == 1
    # Without SSO_ONLY, everyone with a password does.
    settings.SSO_ONLY = False
    assert send_password_reset("local@example.test", "http://testserver") == 1


def test_the_sign_in_page_offers_no_reset_under_sso_only(client, settings, people):
    assert "Forgot your password?" in client.get("/login/").content.decode()
    settings.SSO_ONLY = True
    page = client.get("/login/").content.decode()
    assert "Forgot your password?" not in page
    # The same answer as ever for anyone who asks anyway.
    for address in ("local@example.test", "glass@example.test", "nobody@example.test"):
        answer = client.post("/password-reset/", {"email": address})
        assert answer.status_code == 302 and answer["Location"] == "/password-reset/sent/"
