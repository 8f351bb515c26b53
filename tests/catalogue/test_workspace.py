"""The fulfilment screens of the agent workspace: the task queue, the task page and the
read-only request page, through the Django test client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import services
from catalogue.models import (
    CatalogueCategory,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
    TaskTemplate,
    Variable,
)
from catalogue.workflows import RequestState, TaskState

pytestmark = pytest.mark.django_db

QUEUE = "/fulfilment/"


def task_url(task):
    return f"/fulfilment/tasks/{task.number}/"


def request_url(service_request):
    return f"/fulfilment/requests/{service_request.number}/"


@pytest.fixture
def item(db, service_desk, network_team):
    category = CatalogueCategory.objects.create(name="Hardware")
    laptop = CatalogueItem.objects.create(name="New laptop", category=category)
    Variable.objects.create(
        item=laptop,
        name="model",
        label="Laptop model",
        type="choice",
        required=True,
        choices=[{"value": "mac", "label": "MacBook Pro"}, {"value": "thinkpad"}],
    )
    Variable.objects.create(item=laptop, name="rush", label="Needed urgently", type="boolean")
    TaskTemplate.objects.create(item=laptop, stage=1, title="Order the laptop", team=service_desk)
    TaskTemplate.objects.create(item=laptop, stage=1, title="Open the VPN", team=network_team)
    TaskTemplate.objects.create(item=laptop, stage=2, title="Hand it over", team=service_desk)
    return laptop


def order(user, item, **answers):
    return services.submit_request(user, item, {"model": "mac", "rush": True, **answers})


@pytest.fixture
def req(alice, item):
    return order(alice, item)


def signed_in(client, user):
    client.force_login(user)
    return client


def tasks_of(service_request, stage=None):
    tasks = FulfilmentTask.objects.filter(request=service_request).order_by("stage", "pk")
    return list(tasks.filter(stage=stage) if stage else tasks)


def post_state(client, task, state, version=None):
    return client.post(
        task_url(task) + "state/",
        {"state": state, "version": task.version if version is None else version},
    )


# Permissions ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, req):
    task = tasks_of(req)[0]
    for url in (QUEUE, task_url(task), request_url(req)):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_end_users_get_403(client, alice, req):
    signed_in(client, alice)
    task = tasks_of(req)[0]
    for url in (QUEUE, task_url(task), request_url(req)):
        assert client.get(url).status_code == 403
    response = post_state(client, task, TaskState.CLOSED)
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.state == TaskState.OPEN


def test_agents_see_the_pages(client, agent, req):
    signed_in(client, agent)
    task = tasks_of(req)[0]
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert task.number in response.content.decode()
    response = client.get(task_url(task))
    assert response.status_code == 200
    page = response.content.decode()
    assert req.number in page
    assert "New laptop" in page
    assert "Alice" in page
    # The answers, by their labels and choice labels.
    assert "Laptop model" in page and "MacBook Pro" in page
    assert "Needed urgently" in page and "Yes" in page
    for sibling in tasks_of(req):
        assert sibling.number in page
    for label in ("Start work", "Close", "Cancel"):
        assert label in page
    response = client.get(request_url(req))
    assert response.status_code == 200
    assert "MacBook Pro" in response.content.decode()


def test_the_workspace_links_to_the_queue(client, agent, req):
    signed_in(client, agent)
    page = client.get("/incidents/").content.decode()
    assert "Fulfilment tasks" in page
    assert 'href="/fulfilment/"' in page


def test_unknown_numbers_are_404(client, agent):
    signed_in(client, agent)
    assert client.get("/fulfilment/tasks/TASK9999999/").status_code == 404
    assert client.get("/fulfilment/requests/REQ9999999/").status_code == 404


# Queue filters and saved views ------------------------------------------------------------


def numbers(response):
    assert response.status_code == 200
    return {t.number for t in response.context["tasks"]}


def test_filters(client, agent, agent2, service_desk, network_team, req):
    signed_in(client, agent)
    desk_task, network_task = tasks_of(req, stage=1)
    services.update_task(network_task, agent2, {"assigned_to": agent2})
    services.update_task(desk_task, agent, {"state": TaskState.IN_PROGRESS})

    assert numbers(client.get(QUEUE)) == {desk_task.number, network_task.number}
    assert numbers(client.get(QUEUE, {"assignment_group": "mine"})) == {desk_task.number}
    assert numbers(client.get(QUEUE, {"assignment_group": network_team.pk})) == {
        network_task.number
    }
    assert numbers(client.get(QUEUE, {"assigned_to": "agent2"})) == {network_task.number}
    assert numbers(client.get(QUEUE, {"assigned_to": "me"})) == set()
    assert numbers(client.get(QUEUE, {"state": "in_progress"})) == {desk_task.number}
    assert numbers(client.get(QUEUE, {"search": desk_task.number.lower()})) == {desk_task.number}
    assert numbers(client.get(QUEUE, {"search": "vpn"})) == {network_task.number}
    assert numbers(client.get(QUEUE, {"search": req.number})) == {
        desk_task.number,
        network_task.number,
    }
    signed_in(client, agent2)
    assert numbers(client.get(QUEUE, {"assigned_to": "me"})) == {network_task.number}


def test_a_bad_filter_shows_the_error(client, agent, req):
    signed_in(client, agent)
    response = client.get(QUEUE, {"assignment_group": "everyone"})
    assert numbers(response) == set()
    assert "assignment_group" in response.content.decode()


def test_saved_views(client, agent, agent2, req, alice, item):
    signed_in(client, agent)
    desk_task, network_task = tasks_of(req, stage=1)
    other = order(alice, item)
    other_desk, _ = tasks_of(other, stage=1)
    services.update_task(desk_task, agent, {"assigned_to": agent})
    services.update_task(other_desk, agent, {"assigned_to": agent, "state": TaskState.CLOSED})

    response = client.get(QUEUE, {"view": "my_open"})
    assert numbers(response) == {desk_task.number}
    assert "My open tasks" in response.content.decode()
    # Unassigned in my teams: the service desk's unassigned, open tasks (none left here),
    # never the network team's.
    assert numbers(client.get(QUEUE, {"view": "unassigned_in_my_teams"})) == set()
    signed_in(client, agent2)
    assert numbers(client.get(QUEUE, {"view": "unassigned_in_my_teams"})) == {
        network_task.number,
        tasks_of(other, stage=1)[1].number,
    }


def test_sorting_and_load_more(client, agent, alice, item, monkeypatch):
    from catalogue import workspace_views

    monkeypatch.setattr(workspace_views.TaskScreens, "page_size", 2)
    for _ in range(2):
        order(alice, item)
    signed_in(client, agent)
    all_numbers = sorted(FulfilmentTask.objects.values_list("number", flat=True))
    assert len(all_numbers) == 4
    response = client.get(QUEUE, {"ordering": "number"})
    assert [t.number for t in response.context["tasks"]] == all_numbers[:2]
    assert "Load more" in response.content.decode()
    next_query = response.context["next_query"]
    more = client.get(f"{QUEUE}?{next_query}", headers={"HX-Request": "true"})
    assert [t.number for t in more.context["tasks"]] == all_numbers[2:]
    # Only the next rows (the kernel's rows fragment around the queue's rows), no table.
    names = [t.name for t in more.templates]
    assert names[:2] == ["workspace/_rows.html", "catalogue/workspace_queue_rows.html"]
    assert "<table" not in more.content.decode()
    assert "Load more" not in more.content.decode()
    response = client.get(QUEUE, {"ordering": "-number"})
    assert [t.number for t in response.context["tasks"]] == all_numbers[::-1][:2]
    # A broken cursor or ordering falls back to the first page, never a 500.
    assert client.get(QUEUE, {"cursor": "garbage", "ordering": "title;drop"}).status_code == 200


# Working tasks ------------------------------------------------------------------------------


def test_closing_stage_one_opens_stage_two_and_the_last_fulfils(client, agent, agent2, req):
    desk_task, network_task = tasks_of(req, stage=1)
    signed_in(client, agent)
    response = post_state(client, desk_task, TaskState.IN_PROGRESS)
    assert response.status_code == 302
    desk_task.refresh_from_db()
    response = post_state(client, desk_task, TaskState.CLOSED)
    assert response.status_code == 302
    assert tasks_of(req, stage=2) == []  # the network team's task is still open

    signed_in(client, agent2)
    assert post_state(client, network_task, TaskState.CLOSED).status_code == 302
    (handover,) = tasks_of(req, stage=2)
    page = client.get(request_url(req)).content.decode()
    assert handover.number in page
    assert "In fulfilment" in page
    page = client.get(task_url(network_task)).content.decode()
    assert handover.number in page

    signed_in(client, agent)
    assert post_state(client, handover, TaskState.CLOSED).status_code == 302
    req.refresh_from_db()
    assert req.state == RequestState.FULFILLED
    page = client.get(request_url(req)).content.decode()
    assert "Fulfilled" in page
    page = client.get(task_url(handover)).content.decode()
    assert "Fulfilled" in page
    assert "Start work" not in page  # a closed task offers no transitions


def test_a_stale_version_is_a_409_and_nothing_changes(client, agent, req):
    task = tasks_of(req)[0]
    stale = task.version
    services.update_task(task, agent, {"description": "Changed meanwhile"})
    signed_in(client, agent)
    response = post_state(client, task, TaskState.CLOSED, version=stale)
    assert response.status_code == 409
    assert "changed" in response.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    response = client.post(
        task_url(task) + "assign/",
        {"assignment_group": task.assignment_group_id, "assigned_to": "agent", "version": stale},
    )
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.assigned_to is None
    assert ServiceRequest.objects.get(pk=req.pk).state == RequestState.IN_FULFILMENT


def test_assignment(client, agent, req):
    task = tasks_of(req)[0]
    signed_in(client, agent)
    response = client.post(
        task_url(task) + "assign/",
        {"assignment_group": task.assignment_group_id, "assigned_to": "agent", "version": 1},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assigned_to == agent
    assert task.version == 2


def test_an_assignee_outside_the_group_is_a_400(client, agent, agent2, req):
    task = tasks_of(req)[0]  # the service desk's
    signed_in(client, agent)
    response = client.post(
        task_url(task) + "assign/",
        {"assignment_group": task.assignment_group_id, "assigned_to": "agent2", "version": 1},
    )
    assert response.status_code == 400
    assert "is not a member of" in response.content.decode()
    task.refresh_from_db()
    assert task.assigned_to is None
    assert task.version == 1


def test_a_bad_state_is_a_400(client, agent, req):
    task = tasks_of(req)[0]
    signed_in(client, agent)
    assert post_state(client, task, "resolved").status_code == 400
    services.update_task(task, agent, {"state": TaskState.CLOSED})
    task.refresh_from_db()
    response = post_state(client, task, TaskState.IN_PROGRESS)
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.state == TaskState.CLOSED


def test_replies_and_work_notes(client, agent, req):
    task = tasks_of(req)[0]
    signed_in(client, agent)
    response = client.post(task_url(task) + "comment/", {"body": "Ordered from the vendor"})
    assert response.status_code == 302
    response = client.post(
        task_url(task) + "comment/", {"body": "Vendor ticket 42", "internal": "on"}
    )
    assert response.status_code == 302
    page = client.get(task_url(task)).content.decode()
    assert "Ordered from the vendor" in page
    assert "Vendor ticket 42" in page
    assert client.post(task_url(task) + "comment/", {"body": ""}).status_code == 400


# Query counts ------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_queue_and_task_page_queries_do_not_grow(client, agent, alice, item):
    signed_in(client, agent)
    order(alice, item)
    assert FulfilmentTask.objects.count() == 2
    first = FulfilmentTask.objects.order_by("pk").first()
    services.update_task(first, agent, {"assigned_to": agent})
    few_queue = count_queries(client, QUEUE)
    few_task = count_queries(client, task_url(first))
    few_request = count_queries(client, request_url(first.request))

    for _ in range(6):
        order(alice, item)
    for task in FulfilmentTask.objects.filter(assignment_group__name="Service Desk"):
        services.update_task(task, agent, {"assigned_to": agent})
    many_request = order(alice, item)
    for task in tasks_of(many_request):
        services.comment(task, agent, "note")
    services.comment(many_request, agent, "note")
    assert FulfilmentTask.objects.count() == 16
    target = tasks_of(many_request)[0]
    assert count_queries(client, QUEUE) == few_queue
    assert count_queries(client, task_url(target)) == few_task
    assert count_queries(client, request_url(many_request)) == few_request
