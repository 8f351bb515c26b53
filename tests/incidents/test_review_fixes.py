"""Behaviour fixed after the foundation review: each test names the situation it guards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from itsm.core import services as core
from itsm.core.models import Notification
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


def test_links_never_show_an_end_user_records_they_cannot_see(api_as, agent, alice, bob):
    mine = factories.incident(alice)
    secret = factories.incident(bob, title="BOB SECRET salary spreadsheet")
    api_as(agent).post(f"/api/v1/incidents/{mine.number}/links/", {"target": secret.number})
    response = api_as(alice).get(f"/api/v1/incidents/{mine.number}/links/")
    assert response.status_code == 200
    assert response.json() == []
    assert "SECRET" not in response.content.decode()
    # Staff still see the link.
    assert len(api_as(agent).get(f"/api/v1/incidents/{mine.number}/links/").json()) == 1


def test_caller_confirms_after_the_assignee_left_the_team(api_as, alice, agent, service_desk):
    incident = factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent
    )
    factories.resolve(incident, agent)
    service_desk.members.remove(agent)
    response = api_as(alice).patch(f"/api/v1/incidents/{incident.number}/", {"state": "closed"})
    assert response.status_code == 200
    assert Incident.objects.get(pk=incident.pk).state == "closed"


def test_auto_close_pages_through_every_due_incident_in_one_run(alice, agent):
    old = timezone.now() - timedelta(days=30)
    due = [factories.incident(alice, actor=agent, title=f"Old {n}") for n in range(3)]
    recent = factories.incident(alice, actor=agent, title="Recent")
    for incident in [*due, recent]:
        factories.resolve(incident, agent)
    for n, incident in enumerate(due):
        Incident.objects.filter(pk=incident.pk).update(resolved_at=old + timedelta(minutes=n))
    # A batch of one still reaches all three (keyset paging, not "the first N again").
    assert services.close_resolved(batch=1) == 3
    states = dict(Incident.objects.values_list("title", "state"))
    assert states == {"Old 0": "closed", "Old 1": "closed", "Old 2": "closed", "Recent": "resolved"}


def test_closed_incidents_cannot_be_edited(api_as, agent, alice):
    incident = factories.incident(alice, actor=agent)
    factories.resolve(incident, agent)
    services.update_incident(incident, agent, {"state": "closed"})
    response = api_as(agent).patch(
        f"/api/v1/incidents/{incident.number}/", {"title": "Rewritten", "major": True}
    )
    assert response.status_code == 400
    assert "can no longer be changed" in response.json()["state"][0]
    incident.refresh_from_db()
    assert (incident.title, incident.major) == ("Cannot send e-mail", False)
    assert not Notification.objects.filter(subject__startswith="MAJOR").exists()


def test_edit_form_accepts_unchanged_values_that_left_the_choices(agent, alice):
    parent = factories.incident(alice, actor=agent, title="Parent")
    child = factories.incident(alice, actor=agent, title="Child", parent=parent)
    factories.resolve(parent, agent)  # resolves the child too
    services.update_incident(child, agent, {"state": "in_progress"})  # the child comes back
    alice.is_active = False
    alice.save()
    client = web(agent)
    form = factories.html_form(
        page(client.get(f"/incidents/{child.number}/")), f"/incidents/{child.number}/edit/"
    )
    form["title"] = "Child, renamed"
    response = client.post(f"/incidents/{child.number}/edit/", form)
    assert response.status_code == 302
    assert Incident.objects.get(pk=child.pk).title == "Child, renamed"


def test_a_closed_parent_is_refused_by_the_api_too(api_as, agent, alice):
    parent = factories.incident(alice, actor=agent)
    factories.resolve(parent, agent)
    child = factories.incident(alice, actor=agent)
    response = api_as(agent).patch(f"/api/v1/incidents/{child.number}/", {"parent": parent.number})
    assert response.status_code == 400
    assert "choose an open incident" in response.json()["parent"][0]


def test_a_notification_is_sent_once_even_if_two_workers_hold_its_id(alice, mailoutbox):
    [notification] = core.notify([alice], "Hello", "Body")
    assert core.deliver([notification.pk]) == 1
    assert core.deliver([notification.pk]) == 0
    assert len(mailoutbox) == 1


def test_a_claim_left_by_a_dead_worker_is_released(alice, mailoutbox):
    from itsm.core.tasks import deliver_pending_notifications

    [notification] = core.notify([alice], "Hello", "Body")
    long_ago = timezone.now() - timedelta(minutes=20)
    Notification.objects.filter(pk=notification.pk).update(
        status="sending", claimed_at=long_ago, created_at=long_ago
    )
    deliver_pending_notifications()  # releases the claim …
    deliver_pending_notifications()  # … and sends it
    assert Notification.objects.get(pk=notification.pk).status == "sent"
    assert len(mailoutbox) == 1


def test_end_users_cannot_pick_the_channel(api_as, alice):
    response = api_as(alice).post("/api/v1/incidents/", {"title": "VPN", "channel": "event"})
    assert response.status_code == 201
    assert response.json()["channel"] == "api"


def test_a_reply_moves_updated_at(alice, agent):
    incident = factories.incident(alice, actor=agent)
    Incident.objects.filter(pk=incident.pk).update(updated_at=timezone.now() - timedelta(days=1))
    services.comment(incident, alice, "Still broken")
    assert Incident.objects.get(pk=incident.pk).updated_at > timezone.now() - timedelta(minutes=1)


def test_bulk_resolving_a_parent_and_its_child_keeps_the_cascade(agent, alice):
    parent = factories.incident(alice, actor=agent, title="Parent")
    child = factories.incident(alice, actor=agent, title="Child", parent=parent)
    services.bulk_update(
        agent,
        [parent.number, child.number],
        {"state": "resolved", "resolution_code": "solved_permanently", "resolution_notes": "bulk"},
    )
    child.refresh_from_db()
    assert child.state == "resolved"
    assert child.resolution_notes.startswith(f"Resolved with parent {parent.number}")
