"""Administering group mappings and break-glass accounts."""

import pytest

from itsm.accounts.models import Role, Team, User
from itsm.sso.models import BreakGlassAccount, GroupMapping

from .conftest import audited

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    boss = User.objects.create_superuser("boss", "boss@example.test", "boss-pass-123")
    client.force_login(boss)
    # The admin may ask a second factor of staff (itsm.accounts): count it as done here.
    session = client.session
    session["itsm_second_factor"] = "idp"
    session.save()
    return client


def test_mapping_needs_a_role_or_a_team_and_is_unique(superuser_client):
    url = "/admin/sso/groupmapping/add/"
    assert superuser_client.get(url).status_code == 200
    answer = superuser_client.post(url, {"source": "oidc", "external_group": "staff"})
    assert answer.status_code == 200
    assert "A mapping gives a role, a team or both." in answer.content.decode()
    assert not GroupMapping.objects.exists()

    team = Team.objects.create(name="Network")
    data = {"source": "oidc", "external_group": "staff", "role": Role.AGENT, "team": team.pk}
    assert superuser_client.post(url, data).status_code == 302
    answer = superuser_client.post(url, data)
    assert answer.status_code == 200 and GroupMapping.objects.count() == 1
    assert superuser_client.get("/admin/sso/groupmapping/").status_code == 200


def test_granting_and_taking_back_break_glass_is_audited(superuser_client):
    keeper = User.objects.create_user("keeper", password="keeper-pass-123")
    answer = superuser_client.post(
        "/admin/sso/breakglassaccount/add/", {"user": keeper.pk, "reason": "IdP outage"}
    )
    assert answer.status_code == 302
    grant = BreakGlassAccount.objects.get(user=keeper)
    assert audited("sso.break_glass_granted", target_id=str(keeper.pk))
    answer = superuser_client.post(
        f"/admin/sso/breakglassaccount/{grant.pk}/delete/", {"post": "yes"}
    )
    assert answer.status_code == 302 and not BreakGlassAccount.objects.exists()
    assert audited("sso.break_glass_revoked", target_id=str(keeper.pk))


def test_people_without_admin_rights_cannot_manage_sso(client):
    agent = User.objects.create_user("agent", password="agent-pass-123", role=Role.AGENT)
    client.force_login(agent)
    for url in ("/admin/sso/groupmapping/", "/admin/sso/breakglassaccount/add/"):
        answer = client.get(url)
        assert answer.status_code == 302 and "/login/" in answer["Location"]


def test_sso_only_without_a_provider_is_warned_about(settings):
    from itsm.sso.apps import check_configuration

    assert check_configuration() == []
    settings.SSO_ONLY = True
    assert [w.id for w in check_configuration()] == ["sso.W001"]
