import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from practices.registry import PRACTICES
from tests.factories import incident


def test_the_registry_holds_all_34_itil_practices():
    assert len(PRACTICES) == 34
    groups = {p.group for p in PRACTICES.values()}
    assert len(groups) == 3
    assert PRACTICES["incident"].supported


@pytest.mark.django_db
def test_map_shows_every_practice_and_live_incident_figures(client, agent, alice):
    incident(alice, title="Laptop broken")
    incident(alice, title="VPN down")
    client.force_login(agent)
    response = client.get("/practices/")
    assert response.status_code == 200
    html = response.content.decode()
    for practice in PRACTICES.values():
        assert practice.name in html
    assert 'href="/incidents/"' in html
    # Two open incidents, counted live.
    assert "<dt>Open incidents</dt><dd><b>2</b></dd>" in html


@pytest.mark.django_db
def test_map_is_for_staff_only(client, alice):
    assert client.get("/practices/").status_code == 302  # anonymous: to the login page
    client.force_login(alice)
    assert client.get("/practices/").status_code == 403


@pytest.mark.django_db
def test_map_query_count_does_not_grow_with_incidents(client, agent, alice):
    client.force_login(agent)
    incident(alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/practices/")
    for n in range(10):
        incident(alice, title=f"Issue {n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/practices/")
    assert len(few) == len(many)


@pytest.mark.django_db
def test_map_shows_cmdb_figures(client, agent):
    from cmdb import services
    from cmdb.models import CIClass, RelationshipType

    service = services.create_ci(
        agent, ci_class=CIClass.objects.get(key="business_service"), name="E-mail"
    )
    app = services.create_ci(
        agent, ci_class=CIClass.objects.get(key="application"), name="Exchange"
    )
    services.relate(agent, service, RelationshipType.objects.get(key="depends_on"), app)
    client.force_login(agent)
    html = client.get("/practices/").content.decode()
    assert "<dt>Configuration items (not retired)</dt><dd><b>2</b></dd>" in html
    assert "<dt>Business services</dt><dd><b>1</b></dd>" in html
    assert "<dt>Relationships</dt><dd><b>1</b></dd>" in html


def test_the_practices_the_platform_supports_are_marked_so():
    """Every practice an app supports links to its page, service catalogue management
    (the catalogue app's second practice) and the service desk included."""
    supported = {key for key, practice in PRACTICES.items() if practice.supported}
    assert {
        "incident",
        "problem",
        "service_request",
        "service_catalogue",
        "service_desk",
        "service_level",
        "service_configuration",
        "it_asset",
        "knowledge",
        "change_enablement",
    } <= supported
    assert PRACTICES["service_catalogue"].url_name == "catalogue:catalogue"
    assert PRACTICES["change_enablement"].url_name == "changes:queue"
    assert not PRACTICES["monitoring_event"].supported  # not in the platform yet
