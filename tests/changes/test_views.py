"""The change screens: raising a change (from a template too), its page and its actions,
the task screens; who may, bad input, and the saved views."""

import re

import pytest

from changes import services, templates
from changes.models import Change, ChangeTask, ChangeTemplate
from tests.factories import ci, html_form, page, web

ROW = re.compile(r'<td class="num"><a href="/changes/(CHG\d{7})/">')


@pytest.fixture
def change(make_change):
    return make_change()


def test_end_users_cannot_open_or_post_to_change_screens(alice, change):
    client = web(alice)
    for path in ("/changes/", "/changes/new/", f"/changes/{change.number}/", "/changes/tasks/"):
        assert client.get(path).status_code == 403, path
    for path in (
        f"/changes/{change.number}/edit/",
        f"/changes/{change.number}/state/",
        f"/changes/{change.number}/tasks/",
        f"/changes/{change.number}/follow-up-problem/",
    ):
        assert client.post(path, {"title": "x", "state": "assess"}).status_code == 403, path
    change.refresh_from_db()
    assert (change.version, change.state, change.tasks.count()) == (1, "new", 0)


def test_anonymous_is_sent_to_sign_in(client, change):
    response = client.get(f"/changes/{change.number}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_agent_raises_a_change_from_the_form(agent, normal_model, service_desk):
    client = web(agent)
    assert client.get("/changes/new/").status_code == 200
    response = client.post(
        "/changes/new/",
        {
            "title": "Rotate the TLS certificates",
            "model": normal_model.pk,
            "category": "security",
            "assignment_group": service_desk.pk,
            "planned_start": "2031-03-01T02:00",
            "planned_end": "2031-03-01T03:00",
        },
    )
    change = Change.objects.get(title="Rotate the TLS certificates")
    assert response.status_code == 302 and response["Location"] == f"/changes/{change.number}/"
    assert change.opened_by == agent and change.requested_by == agent
    assert change.planned_end.hour - change.planned_start.hour == 1


def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(agent, normal_model):
    response = web(agent).post(
        "/changes/new/",
        {
            "title": "Backwards",
            "model": normal_model.pk,
            "planned_start": "2031-03-01T03:00",
            "planned_end": "2031-03-01T02:00",
        },
    )
    assert response.status_code == 400
    assert "The planned end is after the planned start." in page(response)
    assert not Change.objects.exists()


def test_a_template_prefills_the_form(agent, change_manager, standard_model, network_team):
    template = templates.propose(
        agent,
        {
            "name": "Replace a failed access point",
            "model": standard_model,
            "backout_plan": "Put the old one back",
            "assignment_group": network_team,
        },
    )
    response = web(agent).get(f"/changes/new/?template={template.pk}")
    assert "That template is not active." in page(response)
    templates.review(template, change_manager, approve=True)
    html = page(web(agent).get(f"/changes/new/?template={template.pk}"))
    assert "Put the old one back" in html
    data = html_form(html, "/changes/new/")
    response = web(agent).post("/changes/new/", data)
    change = Change.objects.get()
    assert response.status_code == 302
    assert change.template == template and change.approval_state == "not_needed"
    assert ChangeTemplate.objects.get().changes.count() == 1


def test_the_page_offers_the_models_next_step_and_takes_it(agent, change):
    client = web(agent)
    html = page(client.get(f"/changes/{change.number}/"))
    assert ">Assess</button>" in html and "Schedule" not in html
    data = html_form(html, f"/changes/{change.number}/state/", state="assess")
    response = client.post(f"/changes/{change.number}/state/", data)
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == "assess"
    # The guard names the missing plans, on the page.
    response = client.post(
        f"/changes/{change.number}/state/", {"state": "authorise", "version": change.version}
    )
    assert response.status_code == 400
    assert "Needs an implementation plan, a backout plan, a test plan" in page(response)


def test_tasks_are_added_from_the_change_page(agent, change, network_team):
    client = web(agent)
    response = client.post(
        f"/changes/{change.number}/tasks/",
        {"title": "Drain the first switch", "stage": "2", "assignment_group": network_team.pk},
    )
    assert response.status_code == 302
    task = ChangeTask.objects.get()
    assert (task.stage, task.assignment_group, task.change) == (2, network_team, change)
    html = page(client.get(f"/changes/{change.number}/"))
    assert task.number in html
    response = client.post(f"/changes/{change.number}/tasks/", {"title": "", "stage": "x"})
    assert response.status_code == 400 and ChangeTask.objects.count() == 1
    task_page = page(client.get(f"/changes/tasks/{task.number}/"))
    assert change.number in task_page


def test_the_queue_lists_and_filters(agent, make_change, standard_model):
    normal = make_change(title="Normal one")
    standard = make_change(title="Standard one", model=standard_model)
    client = web(agent)
    html = page(client.get("/changes/?view=all_open"))
    assert set(ROW.findall(html)) == {normal.number, standard.number}
    html = page(client.get("/changes/?kind=standard"))
    assert ROW.findall(html) == [standard.number]
    for view in (
        "my_open",
        "team_open",
        "awaiting_my_approval",
        "scheduled_this_week",
        "conflicts",
    ):
        assert client.get(f"/changes/?view={view}").status_code == 200, view


def test_the_ci_page_lists_its_recent_changes(agent, make_change):
    switch = ci("sw-core-1", "network_device")
    change = make_change(title="Upgrade the switch", configuration_items=[switch])
    html = page(web(agent).get(f"/cmdb/{switch.pk}/"))
    assert change.number in html


def test_a_failed_change_offers_the_follow_up_on_its_page(agent, make_change, registration_model):
    change = make_change(model=registration_model)
    change = services.update_change(change, agent, {"state": "review"})
    change = services.update_change(
        change, agent, {"state": "closed", "closure_code": "failed", "closure_notes": "Broke"}
    )
    client = web(agent)
    html = page(client.get(f"/changes/{change.number}/"))
    assert "Raise a follow-up problem" in html
    response = client.post(f"/changes/{change.number}/follow-up-problem/")
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.follow_up_problem is not None
    assert change.follow_up_problem.number in page(client.get(f"/changes/{change.number}/"))


def test_the_standard_change_catalogue(agent, change_manager, standard_model, network_team):
    client = web(agent)
    response = client.post(
        "/changes/templates/new/",
        {"name": "", "model": standard_model.pk, "duration_minutes": "30"},
    )
    assert response.status_code == 400 and not ChangeTemplate.objects.exists()
    response = client.post(
        "/changes/templates/new/",
        {
            "name": "Add a VLAN to a trunk",
            "model": standard_model.pk,
            "duration_minutes": "30",
            "assignment_group": network_team.pk,
            "implementation_plan": "Add it on both ends",
        },
    )
    assert response.status_code == 302
    template = ChangeTemplate.objects.get()
    assert (template.status, template.proposed_by) == ("proposed", agent)
    html = page(client.get("/changes/templates/"))
    assert "Add a VLAN to a trunk" in html and "Activate" not in html  # agents do not review
    action = f"/changes/templates/{template.pk}/review/"
    client.post(action, {"decision": "approve"})
    template.refresh_from_db()
    assert template.status == "proposed"

    manager = web(change_manager)
    manager.post(action, {"decision": "reject"})  # sending back needs notes
    template.refresh_from_db()
    assert template.status == "proposed"
    manager.post(action, {"decision": "approve"})
    template.refresh_from_db()
    assert template.status == "active"
    html = page(client.get("/changes/templates/"))
    assert f'href="/changes/new/?template={template.pk}"' in html
    manager.post(f"/changes/templates/{template.pk}/retire/")
    template.refresh_from_db()
    assert template.status == "retired"


def test_end_users_cannot_open_the_catalogue(alice):
    assert web(alice).get("/changes/templates/").status_code == 403
    assert web(alice).post("/changes/templates/new/", {"name": "x"}).status_code == 403


def test_the_catalogue_reads_a_fixed_number_of_queries(agent, standard_model, network_team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        client = web(agent)
        client.get("/changes/templates/")  # the session and the navigation warm up
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/changes/templates/").status_code == 200
        return len(captured)

    ChangeTemplate.objects.create(name="One", model=standard_model, assignment_group=network_team)
    one = count()
    for n in range(5):
        ChangeTemplate.objects.create(
            name=f"More {n}", model=standard_model, assignment_group=network_team
        )
    assert count() == one


def test_no_schedule_button_while_the_authorisation_is_pending(
    agent, make_change, normal_model, change_manager, window
):
    from changes.models import ApprovalLevel, ApprovalPolicy

    policy = ApprovalPolicy.objects.create(name="Change manager")
    ApprovalLevel.objects.create(policy=policy, order=1, kind="change_manager")
    normal_model.approval_policy = policy
    normal_model.save()
    change = make_change(
        implementation_plan="Patch",
        backout_plan="Roll back",
        test_plan="Ping",
        planned_start=window[0],
        planned_end=window[1],
    )
    change = services.update_change(change, agent, {"state": "assess"})
    change = services.update_change(change, agent, {"state": "authorise"})
    html = page(web(agent).get(f"/changes/{change.number}/"))
    assert ">Schedule</button>" not in html and "Cancel…" in html
