"""A service request's PATCH honours If-Match like every other record: a stale ETag is a
412 that changes nothing; the current one is applied."""

import pytest

from catalogue import services
from catalogue.models import ServiceRequest
from itsm.core.models import JournalEntry
from tests import factories

pytestmark = pytest.mark.django_db
REQUESTS = "/api/v1/requests/"


@pytest.fixture
def ordered(alice, service_desk):
    item = factories.laptop_item()
    return services.submit_request(alice, item, {"model": "mac"})


def url(request):
    return f"{REQUESTS}{request.number}/"


def fresh(request):
    return ServiceRequest.objects.get(pk=request.pk)


def test_staff_patch_with_a_stale_etag_is_412_and_changes_nothing(
    api_as, agent, service_desk, ordered
):
    client = api_as(agent)
    read = client.get(url(ordered))
    assert read.status_code == 200
    old = read["ETag"]
    first = client.patch(
        url(ordered), {"assigned_to": agent.username}, format="json", HTTP_IF_MATCH=old
    )
    assert first.status_code == 200, first.content
    before = fresh(ordered)
    entries = JournalEntry.objects.for_record(before).count()
    stale = client.patch(url(ordered), {"assigned_to": None}, format="json", HTTP_IF_MATCH=old)
    assert stale.status_code == 412, stale.content
    after = fresh(ordered)
    assert after.version == before.version
    assert after.assigned_to_id == agent.pk
    assert JournalEntry.objects.for_record(after).count() == entries


def test_requester_cancel_with_a_stale_etag_is_412(api_as, alice, agent, service_desk, ordered):
    old = api_as(alice).get(url(ordered))["ETag"]
    moved = api_as(agent).patch(url(ordered), {"assigned_to": agent.username}, format="json")
    assert moved.status_code == 200, moved.content
    before = fresh(ordered)
    stale = api_as(alice).patch(
        url(ordered), {"state": "cancelled"}, format="json", HTTP_IF_MATCH=old
    )
    assert stale.status_code == 412, stale.content
    assert fresh(ordered).state == before.state
    assert fresh(ordered).version == before.version


def test_an_approval_recorded_makes_an_etag_read_before_stale(
    api_as, agent, agent2, alice, manager, service_desk
):
    """One approval of an "every member" level does not finish it, but it changes what the
    request shows: an ETag read before it is stale."""
    from catalogue.models import ApprovalLevel

    service_desk.members.add(agent2)
    item = factories.laptop_item()
    ApprovalLevel.objects.create(item=item, order=1, kind="team_all", team=service_desk)
    request = services.submit_request(alice, item, {"model": "mac"})
    client = api_as(agent)
    old = client.get(url(request))["ETag"]
    services.decide(request.approvals.get(approver=manager), manager, approve=True)
    assert fresh(request).state == "awaiting_approval"  # the others still approve
    stale = client.patch(
        url(request), {"assigned_to": agent.username}, format="json", HTTP_IF_MATCH=old
    )
    assert stale.status_code == 412
    assert fresh(request).assigned_to is None
