"""The SLA timers in the API: the incident's ``sla`` list and /api/v1/sla-timers/."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from practices.service_level import services
from practices.service_level.models import Timer
from tests import factories

pytestmark = pytest.mark.django_db
TIMERS = "/api/v1/sla-timers/"


def test_incident_payload_lists_its_timers(api_as, agent, alice, standard_sla):
    incident = factories.incident(alice, actor=agent)
    body = api_as(alice).get(f"/api/v1/incidents/{incident.number}/").json()
    sla = {entry["target"]: entry for entry in body["sla"]}
    assert set(sla) == {"response", "resolution"}
    resolution = sla["resolution"]
    assert resolution["name"] == "Resolve in 4:00:00"
    assert resolution["state"] == "running"
    assert resolution["breached"] is False
    assert 4 * 3600 - 60 < resolution["business_seconds_left"] <= 4 * 3600
    assert resolution["due_at"].startswith(
        (incident.created_at + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    )


def test_met_and_paused_timers_in_the_payload(api_as, agent, alice, standard_sla):
    incident = factories.incident(alice, actor=agent)
    api_as(agent).patch(
        f"/api/v1/incidents/{incident.number}/",
        {"state": "on_hold", "on_hold_reason": "awaiting_caller"},
    )
    sla = {
        e["target"]: e
        for e in api_as(agent).get(f"/api/v1/incidents/{incident.number}/").json()["sla"]
    }
    assert sla["response"]["state"] == "met"  # moving it out of "new" was the first response
    assert sla["resolution"]["state"] == "paused"
    assert sla["resolution"]["due_at"] is None


def test_incident_list_query_count_does_not_grow_with_timers(
    api_as, agent, alice, standard_sla, critical_sla
):
    client = api_as(agent)
    factories.incident(alice, actor=agent)
    client.get("/api/v1/incidents/")  # warms the per-process calendar cache
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/incidents/")
    for n in range(10):
        factories.incident(alice, actor=agent, impact=1 + n % 3, urgency=1)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/incidents/").json()["results"]) == 11
    assert len(few) == len(many)


def test_timer_list_filters(api_as, agent, alice, service_desk, network_team, standard_sla):
    first = factories.incident(alice, actor=agent, assignment_group=service_desk)
    second = factories.incident(alice, actor=agent, assignment_group=network_team)
    factories.resolve(second, agent)
    Timer.objects.filter(object_id=first.pk, metric="resolution").update(
        state="breached", breached=True, breached_at=timezone.now()
    )
    client = api_as(agent)

    def numbers(**params):
        response = client.get(TIMERS, params)
        assert response.status_code == 200, response.content
        return sorted((row["record_number"], row["target"]) for row in response.json()["results"])

    assert numbers(breached="true") == [(first.number, "resolution")]
    assert numbers(state="met", target="resolution") == [(second.number, "resolution")]
    assert numbers(record_type="incident", team=str(network_team.pk)) == [
        (second.number, "resolution"),
        (second.number, "response"),
    ]
    soon = (timezone.now() + timedelta(hours=2)).isoformat()
    assert numbers(due_before=soon, state="running") == [(first.number, "response")]
    assert numbers(record=second.number, target="response") == [(second.number, "response")]


@pytest.mark.parametrize(
    "params",
    [{"state": "sleeping"}, {"target": "lunch"}, {"due_before": "yesterday"}, {"team": "x"}],
)
def test_bad_timer_filters_are_400_naming_the_field(api_as, agent, params):
    response = api_as(agent).get(TIMERS, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_timer_detail_shows_business_time(api_as, agent, alice, standard_sla):
    incident = factories.incident(alice, actor=agent)
    timer = Timer.objects.get(object_id=incident.pk, metric="resolution")
    body = api_as(agent).get(f"{TIMERS}{timer.pk}/").json()
    assert body["agreement"] == "Standard"
    assert body["kind"] == "sla"
    assert body["record_type"] == "incident"
    assert body["business_seconds_elapsed"] + body["business_seconds_left"] == pytest.approx(
        4 * 3600, abs=1
    )


def test_timers_are_for_staff(api_as, alice, agent, standard_sla, client):
    factories.incident(alice, actor=agent)
    assert api_as(alice).get(TIMERS).status_code == 403
    assert client.get(TIMERS).status_code in (401, 403)
    assert api_as(agent).post(TIMERS, {}).status_code == 405


def test_timer_list_query_count_is_constant(api_as, agent, alice, standard_sla):
    client = api_as(agent)
    factories.incident(alice, actor=agent)
    client.get(TIMERS)
    with CaptureQueriesContext(connection) as few:
        client.get(TIMERS)
    for _ in range(6):
        factories.incident(alice, actor=agent)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(TIMERS).json()["results"]) == 14
    assert len(few) == len(many)


def test_seconds_left_goes_negative_after_the_due_time(agent, alice, standard_sla):
    incident = factories.incident(alice, actor=agent)
    timer = Timer.objects.get(object_id=incident.pk, metric="response")
    later = timer.due_at + timedelta(minutes=30)
    assert services.seconds_left(timer, later) == pytest.approx(-1800, abs=1)
