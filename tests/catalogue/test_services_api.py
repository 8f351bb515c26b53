"""The service catalogue for its three audiences."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.models import CatalogueCategory, CatalogueItem, Service, ServiceOffering
from practices.service_level.models import BusinessCalendar, Timer
from tests import factories
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db
SERVICES = "/api/v1/services/"


@pytest.fixture
def standard_sla(db):
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
    return agreement(
        "Standard", calendar, response=timedelta(hours=1), resolution=timedelta(hours=4)
    )


@pytest.fixture
def mail(db, service_desk, network_team, manager, standard_sla):
    service = Service.objects.create(
        name="E-mail",
        description="Exchange Online, two relays, MX at the edge.",
        user_description="Send and receive mail from anywhere.",
        type="business",
        owner=manager,
        owner_team=service_desk,
        support_team=network_team,
    )
    service.agreements.add(standard_sla)
    ServiceOffering.objects.create(service=service, name="Standard mailbox", agreement=standard_sla)
    ServiceOffering.objects.create(service=service, name="Old offering", active=False)
    category = CatalogueCategory.objects.create(name="Mail")
    CatalogueItem.objects.create(name="Shared mailbox", category=category, service=service)
    CatalogueItem.objects.create(
        name="Mail archive", category=category, service=service, audience="roles", roles="manager"
    )
    Service.objects.create(name="Fax", status="retired", user_description="Gone.")
    return service


def test_users_see_live_services_written_for_them(api_as, alice, mail):
    [row] = api_as(alice).get(SERVICES).json()["results"]
    assert row == {
        "id": mail.pk,
        "name": "E-mail",
        "description": "Send and receive mail from anywhere.",
        "offerings": [{"name": "Standard mailbox", "description": "", "agreement": "Standard"}],
        "items": [{"id": row["items"][0]["id"], "name": "Shared mailbox", "short_description": ""}],
    }


def test_customers_see_service_levels_and_how_they_were_met(api_as, alice, agent, mail):
    for met in (True, True, False):
        incident = factories.incident(alice, actor=agent, service=mail)
        factories.resolve(incident, agent)
        if not met:
            Timer.objects.filter(object_id=incident.pk, metric="resolution").update(
                state="breached", breached=True
            )
    old = factories.incident(alice, actor=agent, service=mail)
    factories.resolve(old, agent)
    Timer.objects.filter(object_id=old.pk).update(stopped_at=timezone.now() - timedelta(days=40))
    [row] = api_as(alice).get(SERVICES, {"view": "customer"}).json()["results"]
    assert row["agreements"][0]["name"] == "Standard"
    assert {t["metric"] for t in row["agreements"][0]["targets"]} == {"response", "resolution"}
    # 3 incidents x 2 targets in the last 30 days, one of them breached.
    assert row["stopped_last_30_days"] == 6
    assert row["met_last_30_days"] == pytest.approx(83.3)


def test_it_sees_the_whole_portfolio_with_owners(api_as, agent, mail):
    rows = {r["name"]: r for r in api_as(agent).get(SERVICES, {"view": "it"}).json()["results"]}
    assert set(rows) == {"E-mail", "Fax"}
    assert rows["E-mail"]["it_description"].startswith("Exchange Online")
    assert (rows["E-mail"]["owner"], rows["E-mail"]["support_team"]) == ("manager", "Network")
    assert rows["Fax"]["status"] == "retired"


def test_the_it_view_is_for_staff_and_the_view_must_exist(api_as, alice, mail):
    assert api_as(alice).get(SERVICES, {"view": "it"}).status_code == 403
    bad = api_as(alice).get(SERVICES, {"view": "board"})
    assert bad.status_code == 400
    assert "view" in bad.json()


def test_managers_see_the_items_only_they_may_request(api_as, manager, mail):
    [row] = api_as(manager).get(SERVICES).json()["results"]
    assert {i["name"] for i in row["items"]} == {"Shared mailbox", "Mail archive"}


@pytest.mark.parametrize("view", ["user", "customer", "it"])
def test_service_list_query_count_is_constant(api_as, agent, mail, view):
    client = api_as(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(SERVICES, {"view": view})
    for n in range(6):
        service = Service.objects.create(name=f"Service {n}")
        ServiceOffering.objects.create(service=service, name="Basic")
    with CaptureQueriesContext(connection) as many:
        client.get(SERVICES, {"view": view})
    assert len(few) == len(many)
