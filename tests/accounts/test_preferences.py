import zoneinfo

import pytest
from django.utils import timezone

from tests.factories import incident


@pytest.mark.django_db
def test_user_sets_time_zone_and_times_are_shown_in_it(client, agent, alice):
    client.force_login(agent)
    response = client.post(
        "/me/",
        {
            "first_name": "Ann",
            "last_name": "Agent",
            "email": "agent@example.com",
            "phone": "",
            "time_zone": "Asia/Tokyo",
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.time_zone == "Asia/Tokyo"
    record = incident(alice)
    page = client.get(f"/incidents/{record.number}/").content.decode()
    tokyo = timezone.localtime(record.created_at, timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert tokyo.strftime("%Y-%m-%d %H:%M") in page


@pytest.mark.django_db
def test_unknown_time_zone_is_refused_and_nothing_saved(client, alice):
    client.force_login(alice)
    response = client.post("/me/", {"email": "x@example.com", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "time_zone" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"
    assert alice.email == "alice@example.com"


def test_preferences_need_sign_in(client, db):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_the_administrator_role_opens_the_admin_with_rights_and_leaving_it_closes_it(client, agent):
    from itsm.accounts.models import Role
    from itsm.accounts.roles import ADMINISTRATORS, sync_administrator_permissions

    sync_administrator_permissions()  # as after migrate
    agent.role = Role.ADMINISTRATOR
    agent.save()
    agent.refresh_from_db()
    assert agent.is_staff and agent.groups.filter(name=ADMINISTRATORS).exists()
    client.force_login(agent)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Business calendars" in page.content.decode()
    assert client.get("/admin/service_level/agreement/add/").status_code == 200
    agent.role = Role.AGENT
    agent.save()
    agent.refresh_from_db()
    assert not agent.is_staff
    assert not agent.groups.filter(name=ADMINISTRATORS).exists()
    assert set(agent.groups.values_list("name", flat=True)) == {"Agents"}
    assert client.get("/admin/").status_code == 302


def test_the_preferences_lead_to_tokens_two_factor_and_my_data(client, alice):
    client.force_login(alice)
    page = client.get("/me/").content.decode()
    for url in ("/me/tokens/", "/me/two-factor/", "/me/privacy/"):
        assert f'href="{url}"' in page, url
        assert client.get(url).status_code == 200, url
