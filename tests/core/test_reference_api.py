"""Read-only reference lists integrations need: teams and incident categories."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.accounts.models import Team
from tests import factories

pytestmark = pytest.mark.django_db


def test_agents_list_teams_with_members_and_manager(api_as, agent, service_desk, network_team):
    response = api_as(agent).get("/api/v1/teams/")
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert rows["Service Desk"]["manager"] == "manager"
    assert sorted(rows["Service Desk"]["members"]) == ["agent", "manager"]
    assert rows["Network"]["members"] == ["agent2"]


def test_team_filters(api_as, agent, service_desk, network_team):
    client = api_as(agent)
    by_member = client.get("/api/v1/teams/", {"member": "agent2"}).json()["results"]
    assert [row["name"] for row in by_member] == ["Network"]
    by_name = client.get("/api/v1/teams/", {"search": "desk"}).json()["results"]
    assert [row["name"] for row in by_name] == ["Service Desk"]
    assert client.get(f"/api/v1/teams/{network_team.pk}/").json()["name"] == "Network"


def test_end_users_and_anonymous_cannot_list_teams(api_as, alice, service_desk, client):
    assert api_as(alice).get("/api/v1/teams/").status_code == 403
    assert client.get("/api/v1/teams/").status_code in (401, 403)


def test_teams_are_read_only(api_as, admin_user):
    assert api_as(admin_user).post("/api/v1/teams/", {"name": "X"}).status_code == 405
    assert not Team.objects.filter(name="X").exists()


def test_team_list_query_count_is_constant(api_as, agent, service_desk):
    client = api_as(agent)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/teams/")
    for n in range(8):
        factories.team(f"Team {n}", members=[agent])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/teams/").json()["results"]) == 9
    assert len(few) == len(many)


def test_everyone_signed_in_reads_categories(api_as, alice):
    hardware = factories.category("Hardware")
    laptop = factories.category("Laptop", parent=hardware)
    rows = api_as(alice).get("/api/v1/incident-categories/").json()["results"]
    assert {(r["name"], r["parent"]) for r in rows} == {("Hardware", None), ("Laptop", hardware.pk)}
    children = api_as(alice).get("/api/v1/incident-categories/", {"parent": hardware.pk}).json()
    assert [r["id"] for r in children["results"]] == [laptop.pk]


def test_idempotency_keys_are_forgotten_after_their_window(api_as, agent, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from itsm.api.models import IdempotencyKey
    from itsm.api.tasks import purge_idempotency_keys

    client = api_as(agent)
    client.post(
        "/api/v1/incidents/", {"title": "Old", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="old"
    )
    client.post(
        "/api/v1/incidents/", {"title": "New", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="new"
    )
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("size", [3 * 1024 * 1024 + 1, 10])
def test_an_upload_over_the_limit_is_refused_with_the_limit(api_as, agent, alice, settings, size):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from itsm.core.models import Attachment

    settings.ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024 if size > 10 else 5
    incident = factories.incident(alice, actor=agent)
    upload = SimpleUploadedFile("dump.bin", b"x" * size, content_type="application/octet-stream")
    response = api_as(agent).post(
        f"/api/v1/incidents/{incident.number}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert f"the limit is {settings.ATTACHMENT_MAX_BYTES} bytes" in response.json()["file"][0]
    assert f"The file is {size} bytes" in response.json()["file"][0]
    assert not Attachment.objects.exists()
