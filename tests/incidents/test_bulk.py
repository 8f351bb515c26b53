"""Bulk changes from the queue: one change for many incidents, all or none."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.models import Incident
from itsm.core.models import JournalEntry
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(alice, agent):
    return [factories.incident(alice, actor=agent, title=f"Printer {n}") for n in range(3)]


def post(client, numbers, **fields):
    data = {"numbers": numbers, "next": "/incidents/?open=true", **fields}
    return client.post("/incidents/bulk/", data)


def test_assign_several_at_once(agent, service_desk, three):
    response = post(
        web(agent),
        [i.number for i in three],
        assignment_group=service_desk.pk,
        assigned_to=agent.username,  # as the API and the incident form take it
    )
    assert response.status_code == 302
    assert response["Location"] == "/incidents/?open=true"
    for incident in Incident.objects.filter(pk__in=[i.pk for i in three]):
        assert (incident.assignment_group, incident.assigned_to) == (service_desk, agent)
        assert JournalEntry.objects.for_record(incident).filter(kind="fields").exists()


def test_resolve_several_with_one_resolution(agent, service_desk, three):
    post(
        web(agent),
        [i.number for i in three],
        state="resolved",
        resolution_code="solved_permanently",
        resolution_notes="New toner for all.",
    )
    assert set(Incident.objects.values_list("state", "resolution_notes")) == {
        ("resolved", "New toner for all.")
    }


def test_one_refusal_changes_nothing_and_names_the_incident(agent, three):
    services.update_incident(three[1], agent, {"state": "cancelled"})
    client = web(agent)
    response = post(client, [i.number for i in three], state="in_progress")
    assert response.status_code == 302
    states = dict(Incident.objects.values_list("number", "state"))
    assert states == {three[0].number: "new", three[1].number: "cancelled", three[2].number: "new"}
    shown = page(client.get("/incidents/"))
    assert "Nothing was changed." in shown
    assert f"{three[1].number}: state: Cannot move from cancelled to in_progress" in shown


def test_missing_required_fields_refuse_the_whole_batch(agent, three):
    client = web(agent)
    post(client, [i.number for i in three], state="resolved")
    assert set(Incident.objects.values_list("state", flat=True)) == {"new"}
    shown = page(client.get("/incidents/"))
    # Each refusal names the field it is about.
    number = three[0].number
    assert f"{number}: resolution code: Required to move to resolved." in shown
    assert "resolution notes: Required to move to resolved." in shown


@pytest.mark.parametrize(
    ("numbers", "fields", "message"),
    [
        ([], {"state": "in_progress"}, "Select the incidents to change."),
        (["INC9999999"], {"state": "in_progress"}, "No such incidents: INC9999999."),
        ("three", {}, "Choose what to change."),
        ("three", {"state": "teleported"}, "Check the bulk change"),
    ],
)
def test_bad_bulk_requests_change_nothing(agent, three, numbers, fields, message):
    client = web(agent)
    numbers = [i.number for i in three] if numbers == "three" else numbers
    before = JournalEntry.objects.count()
    post(client, numbers, **fields)
    assert JournalEntry.objects.count() == before
    assert message in page(client.get("/incidents/"))


def test_end_users_cannot_bulk_change(alice, three):
    response = post(web(alice), [i.number for i in three], state="cancelled")
    assert response.status_code == 403
    assert set(Incident.objects.values_list("state", flat=True)) == {"new"}


def test_the_bulk_bar_is_a_fragment_with_fixed_queries(agent, agent2, service_desk, network_team):
    client = web(agent)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/incidents/bulk/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = page(response)
    assert "<html" not in body
    assert 'name="assignment_group"' in body and 'name="state"' in body
    assert len(queries) <= 6


def test_an_offsite_next_is_not_followed(agent, three):
    response = web(agent).post(
        "/incidents/bulk/",
        {"numbers": [three[0].number], "state": "in_progress", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/incidents/"


def test_queue_rows_have_checkboxes_inside_the_bulk_form(agent, three):
    body = page(web(agent).get("/incidents/"))
    assert 'id="bulk-form"' in body
    for incident in three:
        assert f'name="numbers" value="{incident.number}"' in body
