"""The record screens' refusals are the same for every type (itsm/api/screens.py)."""

import pytest
from django.test import Client

from itsm.core.models import JournalEntry
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(alice, agent):
    return factories.incident(alice, agent)


def comments(record):
    return JournalEntry.objects.for_record(record).filter(kind="comment").count()


def test_a_post_without_the_csrf_token_is_refused(agent, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(f"/incidents/{incident.number}/comment/", {"body": "Hi"})
    assert response.status_code == 403
    assert comments(incident) == 0


def test_the_csrf_token_of_the_page_is_accepted(agent, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    client.get(f"/incidents/{incident.number}/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/incidents/{incident.number}/comment/", {"body": "Hi", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert comments(incident) == 1


def test_anonymous_is_sent_to_sign_in(client, incident):
    for url in (f"/incidents/{incident.number}/", "/problems/PRB0000001/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/login/?next=")
    response = client.post(f"/incidents/{incident.number}/comment/", {"body": "Hi"})
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert comments(incident) == 0


def test_an_end_user_gets_the_403_page_for_staff_actions(alice, incident):
    client = web(alice)
    for sub, data in (("", None), ("comment/", {"body": "x"}), ("link/", {"target": "x"})):
        url = f"/incidents/{incident.number}/{sub}"
        response = client.post(url, data) if data else client.get(url)
        assert response.status_code == 403, url
    assert comments(incident) == 0


def test_an_unknown_number_is_the_404_page(agent):
    response = web(agent).get("/incidents/INC9999999/")
    assert response.status_code == 404
    assert "<html" in page(response)


def test_post_only_actions_refuse_get(agent, incident):
    assert web(agent).get(f"/incidents/{incident.number}/comment/").status_code == 405


def test_next_may_not_leave_the_site(agent, incident):
    response = web(agent).post(
        f"/incidents/{incident.number}/comment/",
        {"body": "Hi", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.url == f"/incidents/{incident.number}/"


def test_screens_are_not_in_the_api_schema(agent):
    schema = web(agent).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert not [p for p in schema["paths"] if p.startswith("/incidents/")]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/incidents/", "incidents:queue"),
        ("/incidents/new/", "incidents:create"),
        ("/incidents/INC0001234/", "incidents:detail"),
        ("/portal/issues/new/", "incidents:portal-report"),
        ("/problems/known-errors/", "problems:known-errors"),
        ("/fulfilment/", "fulfilment:queue"),
        ("/fulfilment/tasks/TASK0001234/", "fulfilment:task"),
        ("/assets/contracts/", "assets:contracts"),
        ("/assets/contracts/7/", "assets:contract"),
        ("/assets/LT-0001/", "assets:detail"),
    ],
)
def test_screens_resolve_to_the_names_they_are_reversed_by(path, name):
    """Pages that mark where you are (tabs, navigation) read the resolved name."""
    from django.urls import resolve, reverse

    match = resolve(path)
    assert match.view_name == name
    assert reverse(name, kwargs=match.kwargs) == path


def test_the_contracts_tab_is_marked_on_the_contracts_list(agent):
    body = page(web(agent).get("/assets/contracts/"))
    assert 'href="/assets/contracts/" class="active"' in body


# Found in review ------------------------------------------------------------------------------


def test_the_portal_has_no_incident_queue(alice, agent):
    """The portal mount inherits the workspace's screens but not its queue."""
    assert web(alice).get("/portal/issues/").status_code == 404
    assert web(agent).get("/portal/issues/").status_code == 404


def test_a_nul_in_an_incident_number_is_refused(agent, service_desk):
    """A 400 from the request guard (itsm.core.middleware), as every control character."""
    from problems import services as problem_services

    problem = problem_services.open_problem(
        agent, {"title": "Mail relay drops connections", "assignment_group": service_desk}
    )
    client = web(agent)
    assert client.post(f"/problems/{problem.number}/incidents/%00/remove/").status_code == 400
    response = client.post(f"/problems/{problem.number}/use-workaround/", {"incident": "\x00"})
    assert response.status_code == 400


def test_a_reopening_comment_is_checked_like_every_comment(alice, agent, incident):
    factories.resolve(incident, agent)
    client = web(alice)
    response = client.post(
        f"/portal/issues/{incident.number}/state/", {"state": "in_progress", "body": "x" * 20001}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "resolved"  # nothing changed: the comment was refused
    assert not JournalEntry.objects.for_record(incident).filter(actor=alice).exists()
    assert "no more than 20000 characters" in page(client.get(response.url))


@pytest.mark.parametrize("version", ["abc", "", "1x"])
def test_a_version_that_is_not_a_number_never_overwrites(agent, agent2, incident, version):
    from incidents import services as incident_services

    seen = incident.version
    incident_services.update_incident(incident, agent2, {"title": "Changed meanwhile"})
    data = {"title": "Mine", "initial-title": incident.title, "version": version}
    if version == "":
        data["version"] = ["1", "x"]  # sent twice, the last unreadable
    response = web(agent).post(f"/incidents/{incident.number}/edit/", data)
    incident.refresh_from_db()
    assert response.status_code == 409, (version, seen)
    assert incident.title == "Changed meanwhile"


def test_ids_in_screen_urls_are_ascii_digits(agent):
    assert web(agent).get("/cmdb/\u0661/").status_code == 404
