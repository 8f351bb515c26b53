"""Service request management in the agent workspace, beyond the task queue: the approver's
inbox (what they decide on, deciding, refusals, query counts), the service request list,
"Assign to me" on tasks and requests, the service levels on the task page, the demo's
fulfilment queue and the answers' pattern messages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import services, variables
from catalogue.demo import OLD_TAG_PATTERN
from catalogue.forms import OrderForm
from catalogue.models import (
    Approval,
    ApprovalLevel,
    CatalogueCategory,
    CatalogueItem,
    FulfilmentTask,
    ServiceRequest,
    TaskTemplate,
    Variable,
)
from catalogue.workflows import RequestState, TaskState
from practices.service_level.models import BusinessCalendar
from tests.conftest import make_user
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db

INBOX = "/fulfilment/approvals/"
COUNT = "/fulfilment/approvals/count/"
REQUESTS = "/fulfilment/requests/"


def decide_url(approval):
    return f"/fulfilment/approvals/{approval.pk}/decide/"


def task_url(task):
    return f"/fulfilment/tasks/{task.number}/"


def request_url(service_request):
    return f"/fulfilment/requests/{service_request.number}/"


def signed_in(client, user):
    client.force_login(user)
    return client


def decide(client, approval, decision, comment=""):
    prefix = f"a{approval.pk}"
    return client.post(
        decide_url(approval), {f"{prefix}-decision": decision, f"{prefix}-comment": comment}
    )


@pytest.fixture
def laptop(db, manager, service_desk, network_team):
    category = CatalogueCategory.objects.create(name="Hardware")
    item = CatalogueItem.objects.create(
        name="New laptop", category=category, cost=Decimal("1400.00")
    )
    Variable.objects.create(
        item=item,
        name="model",
        label="Laptop model",
        type="choice",
        required=True,
        order=1,
        choices=[{"value": "mac", "label": "MacBook Air"}, {"value": "thinkpad"}],
    )
    Variable.objects.create(
        item=item, name="why", label="What is it for?", type="text", order=2, max_length=200
    )
    ApprovalLevel.objects.create(item=item, order=1, kind="manager")
    TaskTemplate.objects.create(item=item, stage=1, title="Order the laptop", team=service_desk)
    TaskTemplate.objects.create(item=item, stage=1, title="Open the VPN", team=network_team)
    return item


@pytest.fixture
def staff_of_alice(alice, manager):
    alice.manager = manager
    alice.save()
    return alice


def order(user, item, **answers):
    return services.submit_request(user, item, {"model": "mac", **answers})


@pytest.fixture
def waiting(staff_of_alice, laptop):
    """Alice's laptop request, waiting for her manager."""
    return order(staff_of_alice, laptop, why="Mine broke <b>today</b>")


def pending_of(service_request):
    return service_request.approvals.get(decision=Approval.Decision.PENDING)


# The inbox ---------------------------------------------------------------------------------


def test_the_workspace_navigation_links_the_inbox_with_its_count(client, manager, waiting):
    signed_in(client, manager)
    page = client.get("/fulfilment/").content.decode()
    assert f'href="{INBOX}"' in page and "Approvals" in page
    assert f'hx-get="{COUNT}"' in page  # the number comes after the page, with htmx
    assert 'href="/fulfilment/requests/?view=open"' in page
    response = client.get(COUNT)
    assert response.status_code == 200
    assert ">1</span>" in response.content.decode()


def test_the_count_is_empty_when_nothing_waits(client, agent, alice, waiting):
    signed_in(client, agent)
    assert client.get(COUNT).content == b""
    signed_in(client, alice)  # an end user decides on the portal
    assert client.get(COUNT).content == b""


def test_the_inbox_shows_what_the_approver_decides_on(client, manager, waiting):
    ServiceRequest.objects.filter(pk=waiting.pk).update(description="For the Berlin office move.")
    signed_in(client, manager)
    response = client.get(INBOX)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="{request_url(waiting)}"' in page  # the request's workspace page
    assert waiting.number in page and "New laptop" in page
    assert "Alice" in page  # the requester
    # The answers as the request page shows them: labels, choice labels, escaped text.
    assert "Laptop model" in page and "MacBook Air" in page
    assert "What is it for?" in page and "Mine broke &lt;b&gt;today&lt;/b&gt;" in page
    assert "<b>today</b>" not in page
    assert "1400.00" in page  # the cost
    assert "For the Berlin office move." in page  # the reason given
    assert "level 1" in page and "manager" in page  # the level and its rule
    assert "1 waiting for you" in page


def test_an_end_user_is_sent_to_the_portal_inbox(client, alice):
    signed_in(client, alice)
    response = client.get(INBOX)
    assert response.status_code == 302 and response.url == "/portal/approvals/"


def test_anonymous_is_sent_to_sign_in(client, waiting):
    for url in (INBOX, COUNT):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url
    response = decide(client, pending_of(waiting), "approve")
    assert response.status_code == 302 and "login" in response.url
    assert pending_of(waiting).decision == "pending"


def test_approving_starts_fulfilment(client, manager, waiting):
    approval = pending_of(waiting)
    signed_in(client, manager)
    response = decide(client, approval, "approve", "Go ahead")
    assert response.status_code == 302 and response.url == INBOX
    waiting.refresh_from_db()
    assert waiting.state == RequestState.IN_FULFILMENT
    assert FulfilmentTask.objects.filter(request=waiting).count() == 2
    approval.refresh_from_db()
    assert (approval.decision, approval.comment) == ("approved", "Go ahead")
    page = client.get(INBOX).content.decode()
    assert f"{waiting.number} approved." in page
    assert "Nothing waits for your approval." in page
    decided = page[page.index("Decided by you recently") :]
    assert waiting.number in decided and "Approved" in decided and "Go ahead" in decided


def test_a_rejection_needs_a_reason(client, manager, waiting):
    approval = pending_of(waiting)
    signed_in(client, manager)
    response = decide(client, approval, "reject", "   ")
    assert response.status_code == 400
    assert "Say why, for the requester." in response.content.decode()
    approval.refresh_from_db()
    assert approval.decision == "pending"
    assert ServiceRequest.objects.get(pk=waiting.pk).state == RequestState.AWAITING_APPROVAL
    response = decide(client, approval, "reject", "No budget this quarter.")
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == RequestState.REJECTED
    assert waiting.rejection_reason == "No budget this quarter."
    assert not FulfilmentTask.objects.filter(request=waiting).exists()


def test_a_bad_decision_is_a_400_and_nothing_changes(client, manager, waiting):
    approval = pending_of(waiting)
    signed_in(client, manager)
    response = decide(client, approval, "maybe")
    assert response.status_code == 400
    assert "Decision:" in response.content.decode()
    approval.refresh_from_db()
    assert approval.decision == "pending"


def test_someone_elses_approval_is_a_404(client, agent, manager, waiting):
    approval = pending_of(waiting)
    signed_in(client, agent)  # staff, but not the approver
    assert decide(client, approval, "approve").status_code == 404
    assert client.post("/fulfilment/approvals/999999/decide/").status_code == 404
    approval.refresh_from_db()
    assert approval.decision == "pending"
    assert waiting.number not in client.get(INBOX).content.decode()


def test_an_end_user_may_not_decide_through_the_workspace(client, manager, alice, waiting):
    # Even their own approval (bob approves as a team member on the portal): 403 here.
    approval = pending_of(waiting)
    Approval.objects.filter(pk=approval.pk).update(approver=alice)
    signed_in(client, alice)
    assert decide(client, approval, "approve").status_code == 403
    approval.refresh_from_db()
    assert approval.decision == "pending"


def test_a_second_click_is_a_409_that_says_so(client, manager, waiting):
    approval = pending_of(waiting)
    signed_in(client, manager)
    assert decide(client, approval, "approve").status_code == 302
    tasks = FulfilmentTask.objects.filter(request=waiting).count()
    response = decide(client, approval, "reject", "Changed my mind")  # the stale page's form
    assert response.status_code == 409
    page = response.content.decode()
    assert f"{waiting.number}: This approval is already approved. Nothing was changed." in page
    approval.refresh_from_db()
    assert approval.decision == "approved" and approval.comment == ""
    assert ServiceRequest.objects.get(pk=waiting.pk).state == RequestState.IN_FULFILMENT
    assert FulfilmentTask.objects.filter(request=waiting).count() == tasks


def test_a_request_cancelled_meanwhile_is_a_409(client, manager, waiting, staff_of_alice):
    approval = pending_of(waiting)
    services.cancel_request(waiting, staff_of_alice, "Not needed any more")
    signed_in(client, manager)
    response = decide(client, approval, "approve")
    assert response.status_code == 409
    assert (
        f"This approval is no longer needed: {waiting.number} is cancelled. Nothing was changed."
        in response.content.decode()
    )
    assert ServiceRequest.objects.get(pk=waiting.pk).state == RequestState.CANCELLED
    assert not FulfilmentTask.objects.filter(request=waiting).exists()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_inbox_spends_the_same_queries_for_one_or_many(client, manager, laptop, bob):
    people = [make_user(f"person{i}", manager=manager) for i in range(6)]
    order(people[0], laptop, why="first")
    signed_in(client, manager)
    client.get(INBOX)  # the first view (session)
    one = count_queries(client, INBOX)
    other = CatalogueItem.objects.create(
        name="Monitor", category=laptop.category, cost=Decimal("300")
    )
    Variable.objects.create(item=other, name="size", label="Size", type="text")
    ApprovalLevel.objects.create(item=other, order=1, kind="manager")
    for person in people[1:]:
        order(person, laptop, why="more")
        services.submit_request(person, other, {"size": "27 inch"})
    assert services.pending_approvals(manager).count() == 11
    assert count_queries(client, INBOX) == one
    for approval in list(services.pending_approvals(manager))[:4]:
        services.decide(approval, manager, True)
    assert count_queries(client, INBOX) == one  # the decided ones too
    assert count_queries(client, COUNT) <= 3  # session, user, the count


# The service request list ------------------------------------------------------------------


def listed(response):
    assert response.status_code == 200
    return {r.number for r in response.context["service_requests"]}


def test_the_request_list_is_for_staff(client, alice, agent, waiting):
    response = client.get(REQUESTS)
    assert response.status_code == 302 and "login" in response.url
    signed_in(client, alice)
    assert client.get(REQUESTS).status_code == 403
    signed_in(client, agent)
    page = client.get(REQUESTS).content.decode()
    assert waiting.number in page and "Awaiting approval" in page


def test_the_request_list_filters_and_saved_views(client, agent, manager, laptop, waiting, bob):
    bob.manager = manager
    bob.save()
    other = order(bob, laptop, model="thinkpad")
    services.decide(pending_of(other), manager, True)
    signed_in(client, agent)
    assert listed(client.get(REQUESTS)) == {waiting.number, other.number}
    assert listed(client.get(REQUESTS, {"state": "awaiting_approval"})) == {waiting.number}
    assert listed(client.get(REQUESTS, {"view": "in_fulfilment"})) == {other.number}
    assert listed(client.get(REQUESTS, {"view": "awaiting_approval"})) == {waiting.number}
    assert listed(client.get(REQUESTS, {"search": other.number.lower()})) == {other.number}
    assert listed(client.get(REQUESTS, {"search": "laptop"})) == {waiting.number, other.number}
    assert listed(client.get(REQUESTS, {"requested_for": "bob"})) == {other.number}
    services.cancel_request(waiting, waiting.requester)
    assert listed(client.get(REQUESTS, {"view": "open"})) == {other.number}
    assert listed(client.get(REQUESTS, {"open": "false"})) == {waiting.number}


def test_a_bad_request_filter_names_the_field(client, agent, waiting):
    signed_in(client, agent)
    response = client.get(REQUESTS, {"state": "lost", "item": "x"})
    assert listed(response) == set()
    errors = response.context["filter_errors"]
    assert "state" in errors and "item" in errors


def test_the_request_list_pages_by_keyset(client, agent, laptop, staff_of_alice, monkeypatch):
    from catalogue import workspace_views

    monkeypatch.setattr(workspace_views.RequestWorkspaceScreens, "page_size", 2)
    made = sorted(order(staff_of_alice, laptop).number for _ in range(3))
    signed_in(client, agent)
    response = client.get(REQUESTS, {"ordering": "number"})
    assert [r.number for r in response.context["service_requests"]] == made[:2]
    more = client.get(
        f"{REQUESTS}?{response.context['next_query']}", headers={"HX-Request": "true"}
    )
    assert [r.number for r in more.context["service_requests"]] == made[2:]
    assert "<table" not in more.content.decode()


def test_the_request_list_spends_the_same_queries(client, agent, laptop, staff_of_alice):
    order(staff_of_alice, laptop)
    signed_in(client, agent)
    client.get(REQUESTS)
    one = count_queries(client, REQUESTS)
    for _ in range(5):
        order(staff_of_alice, laptop)
    assert count_queries(client, REQUESTS) == one


# Assign to me -----------------------------------------------------------------------------


@pytest.fixture
def tasks(client, manager, waiting):
    services.decide(pending_of(waiting), manager, True)
    return list(FulfilmentTask.objects.filter(request=waiting).order_by("pk"))


def test_assign_to_me_takes_a_task_in_one_click(client, agent, tasks):
    desk_task = tasks[0]  # the service desk's
    signed_in(client, agent)
    page = client.get(task_url(desk_task)).content.decode()
    assert "Assign to me" in page
    response = client.post(task_url(desk_task) + "assign-to-me/", {"version": desk_task.version})
    assert response.status_code == 302
    desk_task.refresh_from_db()
    assert desk_task.assigned_to == agent
    assert desk_task.version == 2
    page = client.get(task_url(desk_task)).content.decode()
    assert f"{desk_task.number} is assigned to you." in page
    assert "Assign to me" not in page  # already theirs


def test_assign_to_me_outside_the_group_is_refused(client, agent2, tasks):
    desk_task = tasks[0]  # agent2 is in the network team only
    signed_in(client, agent2)
    assert "Assign to me" not in client.get(task_url(desk_task)).content.decode()
    response = client.post(task_url(desk_task) + "assign-to-me/", {"version": desk_task.version})
    assert response.status_code == 400
    assert "is not a member of Service Desk" in response.content.decode()
    desk_task.refresh_from_db()
    assert desk_task.assigned_to is None and desk_task.version == 1


def test_assign_to_me_on_a_stale_page_is_a_409(client, agent, tasks):
    desk_task = tasks[0]
    services.update_task(desk_task, agent, {"description": "Changed meanwhile"})
    signed_in(client, agent)
    response = client.post(task_url(desk_task) + "assign-to-me/", {"version": 1})
    assert response.status_code == 409
    desk_task.refresh_from_db()
    assert desk_task.assigned_to is None


def test_assign_to_me_is_for_staff(client, alice, tasks, waiting):
    signed_in(client, alice)
    assert client.post(task_url(tasks[0]) + "assign-to-me/").status_code == 403
    assert client.post(request_url(waiting) + "assign-to-me/").status_code == 403
    assert FulfilmentTask.objects.filter(assigned_to__isnull=False).count() == 0
    assert ServiceRequest.objects.get(pk=waiting.pk).assigned_to is None


def test_assign_to_me_takes_a_request(client, agent, waiting):
    signed_in(client, agent)
    assert "Assign to me" in client.get(request_url(waiting)).content.decode()
    response = client.post(request_url(waiting) + "assign-to-me/", {"version": waiting.version})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.assigned_to == agent
    assert agent.username in {r.assigned_to.username for r in ServiceRequest.objects.all()}
    signed_in(client, agent)
    assert listed(client.get(REQUESTS, {"view": "mine"})) == {waiting.number}


def test_the_api_assigns_requests_to_staff_only(api_as, agent, alice, waiting):
    url = f"/api/v1/requests/{waiting.number}/"
    response = api_as(agent).patch(url, {"assigned_to": "alice"}, format="json")
    assert response.status_code == 400
    assert "assigned_to" in response.json()
    response = api_as(alice).patch(url, {"assigned_to": "agent"}, format="json")
    assert response.status_code == 400  # the requester may only cancel
    assert ServiceRequest.objects.get(pk=waiting.pk).assigned_to is None
    response = api_as(agent).patch(url, {"assigned_to": "agent"}, format="json")
    assert response.status_code == 200
    assert response.json()["assigned_to"] == "agent"


# Service levels on the task page -----------------------------------------------------------


def test_the_task_page_shows_the_requests_service_levels(client, agent, manager, laptop, alice):
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
    agreement(
        "Requests: fulfil in 3 days",
        calendar,
        resolution=timedelta(days=3),
        record_type=ContentType.objects.get_for_model(ServiceRequest),
    )
    alice.manager = manager
    alice.save()
    request = order(alice, laptop)
    services.decide(pending_of(request), manager, True)
    task = FulfilmentTask.objects.filter(request=request).first()
    signed_in(client, agent)
    for url in (task_url(task), request_url(request)):
        page = client.get(url).content.decode()
        panel = page[page.index('class="panel sla-panel"') :]
        assert "Service levels" in panel and "Resolve in 3 days" in panel, url
        assert "data-sla-due" in panel, url  # the running countdown


def test_no_service_level_panel_without_an_agreement(client, agent, tasks):
    signed_in(client, agent)
    assert "sla-panel" not in client.get(task_url(tasks[0])).content.decode()


# The demo -----------------------------------------------------------------------------------


def test_a_fresh_demo_has_fulfilment_work_and_approvals_waiting(priority_matrix):
    call_command("load_demo", verbosity=0)
    tasks = FulfilmentTask.objects.filter(state=TaskState.OPEN)
    assert tasks.filter(assignment_group__name="Service Desk").exists()
    manager = ServiceRequest.objects.first().requested_for.manager
    assert manager.username == "manager"
    assert services.pending_approvals(manager).count() >= 2
    # Requests run an SLA, so the task pages show a real timer.
    in_fulfilment = ServiceRequest.objects.get(state=RequestState.IN_FULFILMENT)
    assert in_fulfilment.sla_timers.filter(state="running").exists()
    # The laptop form takes the asset tags the platform issues (My devices: AT-1001…).
    laptop = CatalogueItem.objects.get(name="New laptop")
    answers = {"model": "mac", "replace": True, "old_tag": "AT-1001"}
    assert variables.validate(laptop, answers)["old_tag"] == "AT-1001"


# Pattern messages ---------------------------------------------------------------------------


@pytest.fixture
def tagged(db):
    item = CatalogueItem.objects.create(
        name="Swap", category=CatalogueCategory.objects.create(name="Hardware")
    )
    Variable.objects.create(
        item=item,
        name="old_tag",
        label="Asset tag of the old laptop",
        type="text",
        regex=OLD_TAG_PATTERN,
        help_text="AT- and 4 or 5 digits (e.g. AT-1001)",
    )
    Variable.objects.create(item=item, name="code", label="Cost centre", regex=r"CC\d{3}")
    return item


@pytest.mark.parametrize("tag", ["AT-1001", "AT-1015", "AT-00042"])
def test_the_demo_pattern_takes_the_platforms_tags(tagged, tag):
    assert variables.validate(tagged, {"old_tag": tag}) == {"old_tag": tag}


def test_a_pattern_mismatch_names_the_field_and_the_form(tagged, alice):
    with pytest.raises(ValidationError) as caught:
        variables.validate(tagged, {"old_tag": "1001", "code": "cc12"})
    errors = caught.value.message_dict
    assert errors["variables.old_tag"] == [
        "Asset tag of the old laptop is not in the expected form: AT- and 4 or 5 digits "
        "(e.g. AT-1001)."
    ]
    assert errors["variables.code"] == [
        r"Cost centre is not in the expected form: text matching CC\d{3}."
    ]
    with pytest.raises(ValidationError):
        services.submit_request(alice, tagged, {"old_tag": "AT-1"})
    assert not ServiceRequest.objects.exists()
    # The browser's own message says the same (the input's title).
    html = str(OrderForm(tagged, list(tagged.variables.all()), user=alice)["old_tag"])
    assert 'title="Asset tag of the old laptop is not in the expected form' in html


# The API's inbox ----------------------------------------------------------------------------


def test_the_api_inbox_carries_the_answers_and_cost(api_as, manager, waiting, laptop, bob):
    response = api_as(manager).get("/api/v1/approvals/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["request"] == waiting.number
    assert row["cost"] == "1400.00"
    assert row["answers"] == [
        {"label": "Laptop model", "value": "MacBook Air"},
        {"label": "What is it for?", "value": "Mine broke <b>today</b>"},
    ]
    # Someone else sees none of it.
    assert api_as(bob).get("/api/v1/approvals/").json()["results"] == []


def test_the_api_inbox_spends_the_same_queries_for_one_or_many(api_as, manager, laptop):
    people = [make_user(f"person{i}", manager=manager) for i in range(5)]
    order(people[0], laptop)
    client = api_as(manager)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/approvals/").status_code == 200
    other = CatalogueItem.objects.create(name="Monitor", category=laptop.category)
    Variable.objects.create(item=other, name="size", label="Size", type="text")
    ApprovalLevel.objects.create(item=other, order=1, kind="manager")
    for person in people[1:]:
        order(person, laptop)
        services.submit_request(person, other, {"size": "27 inch"})
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/approvals/")
    assert len(response.json()["results"]) == 9
    assert len(many) == len(one)
