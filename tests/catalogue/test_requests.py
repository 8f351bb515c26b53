"""Service requests: ordering, approvals level by level, fulfilment stage by stage, and who
may see and do what. Through the API, as integrations and the portal use it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import (
    ApprovalLevel,
    FulfilmentTask,
    ServiceRequest,
    TaskTemplate,
)
from tests import factories

pytestmark = pytest.mark.django_db
REQUESTS = "/api/v1/requests/"


@pytest.fixture
def item(db):
    return factories.laptop_item()


@pytest.fixture
def alice_with_manager(alice, manager):
    alice.manager = manager
    alice.save()
    return alice


def order(client, item, variables=None, **extra):
    return client.post(
        REQUESTS,
        {"item": item.pk, "variables": variables or {"model": "mac"}, **extra},
        format="json",
    )


def state(number):
    return ServiceRequest.objects.get(number=number).state


def approvals_for(api_as, user):
    response = api_as(user).get("/api/v1/approvals/")
    assert response.status_code == 200
    return response.json()["results"]


def test_bad_answers_are_named_and_nothing_is_ordered(api_as, alice, item):
    response = order(api_as(alice), item, {"model": "amiga", "colour": "red"})
    assert response.status_code == 400
    assert set(response.json()) == {"variables.model", "variables.colour"}
    assert not ServiceRequest.objects.exists()


def test_an_item_you_may_not_order_is_refused(api_as, alice, item):
    item.audience = "roles"
    item.roles = "manager"
    item.save()
    response = order(api_as(alice), item)
    assert response.status_code == 400
    assert "item" in response.json()
    assert not ServiceRequest.objects.exists()


def test_without_approvals_or_tasks_a_request_is_fulfilled_at_once(api_as, alice, item):
    response = order(api_as(alice), item)
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("REQ")
    assert body["state"] == "fulfilled"
    assert body["requester"] == body["requested_for"] == "alice"


def test_manager_approval_then_parallel_then_sequential_tasks(
    api_as, alice_with_manager, manager, agent, agent2, service_desk, network_team, item
):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    TaskTemplate.objects.create(item=item, stage=1, title="Order the laptop", team=service_desk)
    TaskTemplate.objects.create(
        item=item, stage=1, title="Create the VPN profile", team=network_team
    )
    TaskTemplate.objects.create(item=item, stage=2, title="Hand it over", team=service_desk)
    number = order(api_as(alice_with_manager), item).json()["number"]
    assert state(number) == "awaiting_approval"
    [pending] = approvals_for(api_as, manager)
    assert pending["request"] == number
    assert approvals_for(api_as, alice_with_manager) == []
    approved = api_as(manager).post(
        f"/api/v1/approvals/{pending['id']}/approve/", {"comment": "OK"}, format="json"
    )
    assert approved.status_code == 200
    assert approved.json()["decision"] == "approved"
    assert state(number) == "in_fulfilment"
    stage1 = list(FulfilmentTask.objects.filter(request__number=number).order_by("pk"))
    assert [t.stage for t in stage1] == [1, 1]  # both at once: parallel
    api_as(agent).patch(f"/api/v1/tasks/{stage1[0].number}/", {"state": "closed"}, format="json")
    assert FulfilmentTask.objects.filter(request__number=number).count() == 2  # stage 2 waits
    response = api_as(agent2).patch(
        f"/api/v1/tasks/{stage1[1].number}/", {"state": "closed"}, format="json"
    )
    assert response.status_code == 200
    [handover] = FulfilmentTask.objects.filter(request__number=number, stage=2)
    assert state(number) == "in_fulfilment"
    api_as(agent).patch(f"/api/v1/tasks/{handover.number}/", {"state": "closed"}, format="json")
    assert state(number) == "fulfilled"
    detail = api_as(alice_with_manager).get(f"{REQUESTS}{number}/").json()
    assert [t["state"] for t in detail["tasks"]] == ["closed", "closed", "closed"]
    assert (
        api_as(alice_with_manager)
        .patch(f"{REQUESTS}{number}/", {"state": "closed"}, format="json")
        .status_code
        == 200
    )
    assert state(number) == "closed"


def test_rejection_needs_a_reason_and_ends_the_request(api_as, alice_with_manager, manager, item):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    number = order(api_as(alice_with_manager), item).json()["number"]
    [pending] = approvals_for(api_as, manager)
    without = api_as(manager).post(f"/api/v1/approvals/{pending['id']}/reject/", {}, format="json")
    assert without.status_code == 400
    assert "comment" in without.json()
    assert state(number) == "awaiting_approval"
    api_as(manager).post(
        f"/api/v1/approvals/{pending['id']}/reject/",
        {"comment": "Budget is frozen."},
        format="json",
    )
    body = api_as(alice_with_manager).get(f"{REQUESTS}{number}/").json()
    assert (body["state"], body["rejection_reason"]) == ("rejected", "Budget is frozen.")
    assert not FulfilmentTask.objects.exists()


def test_any_member_of_a_team_decides_for_the_team(
    api_as, alice, agent, manager, service_desk, item
):
    ApprovalLevel.objects.create(item=item, order=1, kind="team_any", team=service_desk)
    number = order(api_as(alice), item).json()["number"]
    [mine] = approvals_for(api_as, agent)
    assert len(approvals_for(api_as, manager)) == 1
    api_as(agent).post(f"/api/v1/approvals/{mine['id']}/approve/", {}, format="json")
    assert state(number) == "fulfilled"
    assert approvals_for(api_as, manager) == []  # no longer needed


def test_every_member_must_approve_for_team_all(api_as, alice, agent, manager, service_desk, item):
    ApprovalLevel.objects.create(item=item, order=1, kind="team_all", team=service_desk)
    number = order(api_as(alice), item).json()["number"]
    [first] = approvals_for(api_as, agent)
    api_as(agent).post(f"/api/v1/approvals/{first['id']}/approve/", {}, format="json")
    assert state(number) == "awaiting_approval"
    [second] = approvals_for(api_as, manager)
    api_as(manager).post(f"/api/v1/approvals/{second['id']}/approve/", {}, format="json")
    assert state(number) == "fulfilled"


def test_levels_are_decided_in_order(
    api_as, alice_with_manager, manager, agent2, network_team, item
):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    ApprovalLevel.objects.create(item=item, order=2, kind="team_any", team=network_team)
    number = order(api_as(alice_with_manager), item).json()["number"]
    assert approvals_for(api_as, agent2) == []  # level 2 waits for level 1
    [first] = approvals_for(api_as, manager)
    api_as(manager).post(f"/api/v1/approvals/{first['id']}/approve/", {}, format="json")
    [second] = approvals_for(api_as, agent2)
    assert second["level"] == 2
    api_as(agent2).post(f"/api/v1/approvals/{second['id']}/approve/", {}, format="json")
    assert state(number) == "fulfilled"


def test_only_the_approver_decides_and_only_once(api_as, alice_with_manager, manager, agent, item):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    order(api_as(alice_with_manager), item)
    [pending] = approvals_for(api_as, manager)
    assert (
        api_as(agent)
        .post(f"/api/v1/approvals/{pending['id']}/approve/", {}, format="json")
        .status_code
        == 404
    )
    assert (
        api_as(manager)
        .post(f"/api/v1/approvals/{pending['id']}/approve/", {}, format="json")
        .status_code
        == 200
    )
    again = api_as(manager).post(f"/api/v1/approvals/{pending['id']}/approve/", {}, format="json")
    assert again.status_code == 404  # no longer pending: gone from the inbox


def test_a_manager_policy_without_a_manager_is_refused(api_as, alice, item):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    response = order(api_as(alice), item)
    assert response.status_code == 400
    assert "no manager on record" in response.json()["requested_for"][0]
    assert not ServiceRequest.objects.exists()


def test_ordering_on_behalf_of_someone(api_as, agent, bob, item):
    number = order(api_as(agent), item, requested_for="bob").json()["number"]
    body = api_as(bob).get(f"{REQUESTS}{number}/").json()
    assert (body["requester"], body["requested_for"]) == ("agent", "bob")


def test_who_sees_what(api_as, alice, bob, agent, service_desk, item):
    TaskTemplate.objects.create(item=item, stage=1, title="Order it", team=service_desk)
    number = order(api_as(alice), item).json()["number"]
    assert api_as(bob).get(f"{REQUESTS}{number}/").status_code == 404
    assert api_as(bob).get(REQUESTS).json()["results"] == []
    task = FulfilmentTask.objects.get()
    assert api_as(alice).get(f"/api/v1/tasks/{task.number}/").status_code == 404
    assert (
        api_as(alice)
        .patch(f"/api/v1/tasks/{task.number}/", {"state": "closed"}, format="json")
        .status_code
        == 404
    )
    assert api_as(agent).get(f"/api/v1/tasks/{task.number}/").status_code == 200
    assert api_as(agent).post("/api/v1/tasks/", {}, format="json").status_code == 405


def test_requester_cancels_before_fulfilment(api_as, alice_with_manager, manager, item):
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    number = order(api_as(alice_with_manager), item).json()["number"]
    response = api_as(alice_with_manager).patch(
        f"{REQUESTS}{number}/", {"state": "cancelled"}, format="json"
    )
    assert response.status_code == 200
    assert state(number) == "cancelled"
    assert approvals_for(api_as, manager) == []
    bad = api_as(alice_with_manager).patch(
        f"{REQUESTS}{number}/", {"variables": {"model": "mac"}}, format="json"
    )
    assert bad.status_code == 400


def test_request_list_query_count_is_constant(api_as, alice, agent, service_desk, item):
    TaskTemplate.objects.create(item=item, stage=1, title="Order it", team=service_desk)
    client = api_as(agent)
    order(api_as(alice), item)
    with CaptureQueriesContext(connection) as few:
        client.get(REQUESTS)
    for _ in range(6):
        order(api_as(alice), item)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(REQUESTS).json()["results"]) == 7
    assert len(few) == len(many)


def test_numbers_have_their_own_prefixes(api_as, alice, service_desk, item):
    TaskTemplate.objects.create(item=item, stage=1, title="Order it", team=service_desk)
    number = order(api_as(alice), item).json()["number"]
    assert number.startswith("REQ") and len(number) == 10
    assert FulfilmentTask.objects.get().number.startswith("TASK")
    assert factories.incident(alice).number.startswith("INC")
