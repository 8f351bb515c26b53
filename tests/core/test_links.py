"""Links between records, through the API and the incident page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.core.models import JournalEntry, RecordLink
from tests import factories

pytestmark = pytest.mark.django_db


def url(number, sub="links/"):
    return f"/api/v1/incidents/{number}/{sub}"


@pytest.fixture
def pair(alice, bob, agent):
    return factories.incident(alice, actor=agent), factories.incident(bob, actor=agent)


def test_agent_links_two_incidents_and_both_sides_show_it(api_as, agent, pair):
    first, second = pair
    client = api_as(agent)
    response = client.post(url(first.number), {"target": second.number, "kind": "duplicate_of"})
    assert response.status_code == 201
    assert response.json() == {
        "id": RecordLink.objects.get().pk,
        "kind": "duplicate_of",
        "direction": "outgoing",
        "number": second.number,
        "title": second.title,
        "state": "new",
    }
    incoming = client.get(url(second.number)).json()
    assert [(i["number"], i["direction"]) for i in incoming] == [(first.number, "incoming")]
    # Written to both journals, as internal entries.
    for record in pair:
        entry = JournalEntry.objects.for_record(record).get(kind="link")
        assert entry.internal


def test_relates_to_is_one_link_whichever_way_it_is_made(api_as, agent, pair):
    first, second = pair
    client = api_as(agent)
    client.post(url(first.number), {"target": second.number})
    again = client.post(url(second.number), {"target": first.number})
    assert again.status_code == 201
    assert RecordLink.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target": "INC9999999"}, "target"),
        ({"target": "nonsense"}, "target"),
        ({"target": ""}, "target"),
        ({"kind": "relates_to"}, "target"),
        ({"target": "SELF", "kind": "relates_to"}, "target"),
        ({"target": "OTHER", "kind": "blocks"}, "kind"),
    ],
)
def test_bad_links_are_400_naming_the_field_and_save_nothing(api_as, agent, pair, payload, field):
    first, second = pair
    payload = {
        k: {"SELF": first.number, "OTHER": second.number}.get(v, v) for k, v in payload.items()
    }
    response = api_as(agent).post(url(first.number), payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not RecordLink.objects.exists()


def test_end_users_cannot_link_or_unlink(api_as, agent, alice, pair):
    first, second = pair
    response = api_as(alice).post(url(first.number), {"target": second.number})
    assert response.status_code == 403
    link = api_as(agent).post(url(first.number), {"target": second.number}).json()
    assert api_as(alice).delete(url(first.number, f"links/{link['id']}/")).status_code == 403
    assert RecordLink.objects.count() == 1


def test_end_user_cannot_link_to_what_they_cannot_see(api_as, agent, alice, bob):
    # Even an agent-created target must be visible to whoever links; here an end user's view
    # of another's incident is a 404 before anything else.
    mine = factories.incident(alice)
    theirs = factories.incident(bob)
    response = api_as(alice).get(url(theirs.number))
    assert response.status_code == 404
    assert api_as(alice).get(url(mine.number)).json() == []


def test_unlink(api_as, agent, pair):
    first, second = pair
    client = api_as(agent)
    link = client.post(url(first.number), {"target": second.number}).json()
    assert client.delete(url(second.number, f"links/{link['id']}/")).status_code == 204
    assert not RecordLink.objects.exists()
    assert client.delete(url(second.number, f"links/{link['id']}/")).status_code == 404


def test_links_query_count_is_constant(api_as, agent, alice):
    client = api_as(agent)
    hub = factories.incident(alice, actor=agent)
    client.post(url(hub.number), {"target": factories.incident(alice, actor=agent).number})
    with CaptureQueriesContext(connection) as few:
        client.get(url(hub.number))
    for _ in range(8):
        client.post(url(hub.number), {"target": factories.incident(alice, actor=agent).number})
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url(hub.number)).json()) == 9
    assert len(few) == len(many)


def test_incident_page_links_and_unlinks(client, agent, pair):
    first, second = pair
    client.force_login(agent)
    response = client.post(
        f"/incidents/{first.number}/link/", {"target": second.number, "kind": "caused_by"}
    )
    assert response.status_code == 302
    page = client.get(f"/incidents/{first.number}/").content.decode()
    assert "caused by" in page
    assert f'href="/incidents/{second.number}/"' in page
    bad = client.post(f"/incidents/{first.number}/link/", {"target": "INC0000000"}, follow=True)
    assert "There is no record INC0000000" in bad.content.decode()
    link = RecordLink.objects.get()
    client.post(f"/incidents/{first.number}/unlink/{link.pk}/")
    assert not RecordLink.objects.exists()


def test_end_users_cannot_use_the_link_screens(client, alice, pair):
    first, second = pair
    client.force_login(alice)
    assert (
        client.post(f"/incidents/{first.number}/link/", {"target": second.number}).status_code
        == 403
    )
    assert not RecordLink.objects.exists()
