"""A change's path through the states is its change model's, and each guard names what is
missing: plans, a window, the authorisation, open tasks, a closure code."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from changes import services, templates
from changes.models import (
    ApprovalLevel,
    ApprovalPolicy,
    ApprovalState,
    ChangeModel,
    ChangeTemplate,
    TemplateTask,
)
from itsm.core.models import JournalEntry


def move(change, actor, state, **data):
    return services.update_change(change, actor, {"state": state, **data})


def allowed(change, user):
    return sorted(t.target for t in change.workflow.available(change, user))


@pytest.mark.django_db
class TestPaths:
    def test_a_normal_change_is_assessed_then_authorised(self, make_change, agent):
        change = make_change()
        assert allowed(change, agent) == ["assess", "cancelled"]
        with pytest.raises(ValidationError) as error:
            move(change, agent, "scheduled")
        assert "Allowed next states: assess, cancelled" in str(error.value)

    def test_an_emergency_change_skips_assessment(self, make_change, agent, emergency_model):
        change = make_change(model=emergency_model)
        assert allowed(change, agent) == ["authorise", "cancelled"]

    def test_a_standard_change_goes_straight_to_scheduled(
        self, make_change, agent, standard_model, window
    ):
        change = make_change(model=standard_model, planned_start=window[0], planned_end=window[1])
        assert change.approval_state == ApprovalState.NOT_NEEDED
        change = move(change, agent, "scheduled")
        change = move(change, agent, "implement")
        assert change.actual_start is not None
        change = move(change, agent, "review")
        assert change.actual_end is not None
        change = move(change, agent, "closed", closure_code="successful")
        assert change.closed_at is not None
        states = list(
            JournalEntry.objects.filter(object_id=change.pk, kind="state")
            .order_by("pk")
            .values_list("data__to", flat=True)
        )
        assert states == ["scheduled", "implement", "review", "closed"]

    def test_a_registration_is_recorded_after_the_fact(
        self, make_change, agent, registration_model
    ):
        change = make_change(model=registration_model)
        assert allowed(change, agent) == ["cancelled", "review"]
        change = move(change, agent, "review")
        change = move(change, agent, "closed", closure_code="successful")
        assert change.state == "closed"

    def test_an_administrator_changes_a_models_path_without_code(
        self, make_change, agent, normal_model
    ):
        normal_model.states = ["new", "authorise", "scheduled", "implement", "review", "closed"]
        normal_model.save()
        assert allowed(make_change(), agent) == ["authorise", "cancelled"]

    def test_a_path_out_of_order_is_refused_naming_the_field(self):
        model = ChangeModel(name="Odd", kind="normal", states=["new", "review", "assess", "closed"])
        with pytest.raises(ValidationError) as error:
            model.clean()
        assert "states" in error.value.message_dict
        model = ChangeModel(name="Odd", kind="normal", required_fields={"assess": ["colour"]})
        with pytest.raises(ValidationError) as error:
            model.clean()
        assert "required_fields" in error.value.message_dict


@pytest.mark.django_db
class TestGuards:
    def test_plans_required_to_request_authorisation_are_named(self, make_change, agent):
        change = move(make_change(), agent, "assess")
        with pytest.raises(ValidationError) as error:
            move(change, agent, "authorise")
        message = " ".join(error.value.message_dict["state"])
        assert "an implementation plan" in message and "a backout plan" in message
        change.refresh_from_db()
        assert change.state == "assess"

    def test_scheduling_needs_the_authorisation(
        self, make_change, agent, window, normal_model, change_manager
    ):
        policy = ApprovalPolicy.objects.create(name="Change manager")
        ApprovalLevel.objects.create(policy=policy, order=1, kind="change_manager")
        normal_model.approval_policy = policy
        normal_model.save()
        change = make_change(
            implementation_plan="Upgrade one by one",
            backout_plan="Roll back the image",
            test_plan="Ping every VLAN",
            planned_start=window[0],
            planned_end=window[1],
        )
        change = move(change, agent, "assess")
        change = move(change, agent, "authorise")
        assert change.approval_state == ApprovalState.REQUESTED
        with pytest.raises(ValidationError) as error:
            move(change, agent, "scheduled")
        assert "authorisation" in " ".join(error.value.message_dict["state"])

    def test_review_waits_for_the_tasks(self, make_change, agent, standard_model, window):
        change = make_change(model=standard_model, planned_start=window[0], planned_end=window[1])
        task = services.open_task(agent, {"title": "Drain the switch", "change": change})
        change = move(move(change, agent, "scheduled"), agent, "implement")
        with pytest.raises(ValidationError) as error:
            move(change, agent, "review")
        assert task.number in " ".join(error.value.message_dict["state"])
        services.update_task(task, agent, {"state": "closed", "close_notes": "Done"})
        assert move(change, agent, "review").state == "review"

    def test_closing_needs_a_closure_code(self, make_change, agent, registration_model):
        change = move(make_change(model=registration_model), agent, "review")
        with pytest.raises(ValidationError) as error:
            move(change, agent, "closed")
        assert "closure_code" in error.value.message_dict

    def test_cancelling_needs_a_reason_and_cancels_the_tasks(self, make_change, agent):
        change = make_change()
        task = services.open_task(agent, {"title": "Drain the switch", "change": change})
        with pytest.raises(ValidationError) as error:
            move(change, agent, "cancelled")
        assert "closure_notes" in error.value.message_dict
        change = move(change, agent, "cancelled", closure_notes="Vendor withdrew the release")
        assert change.closure_code == "cancelled"
        task.refresh_from_db()
        assert task.state == "cancelled"

    def test_a_planned_end_before_the_start_is_refused(self, make_change, window):
        with pytest.raises(ValidationError) as error:
            make_change(planned_start=window[1], planned_end=window[0])
        assert "planned_end" in error.value.message_dict

    def test_an_override_needs_a_reason(self, make_change, agent):
        change = make_change()
        with pytest.raises(ValidationError) as error:
            services.update_change(change, agent, {"risk_override": "high"})
        assert "risk_override_reason" in error.value.message_dict
        change = services.update_change(
            change, agent, {"risk_override": "high", "risk_override_reason": "Quarter end"}
        )
        assert change.effective_risk == "high"
        assert JournalEntry.objects.filter(
            object_id=change.pk, body__contains="Risk overridden to high"
        ).exists()


@pytest.mark.django_db
class TestTasks:
    def test_stages_run_in_sequence(self, make_change, agent):
        change = make_change()
        first = services.open_task(agent, {"title": "Drain", "change": change, "stage": 1})
        second = services.open_task(agent, {"title": "Upgrade", "change": change, "stage": 2})
        parallel = services.open_task(agent, {"title": "Notify", "change": change, "stage": 1})
        with pytest.raises(ValidationError) as error:
            services.update_task(second, agent, {"state": "in_progress"})
        assert first.number in str(error.value) and parallel.number in str(error.value)
        services.update_task(parallel, agent, {"state": "in_progress"})  # same stage: parallel
        services.update_task(first, agent, {"state": "closed", "close_notes": "Drained"})
        services.update_task(parallel, agent, {"state": "cancelled", "close_notes": "Not needed"})
        assert services.update_task(second, agent, {"state": "in_progress"}).state == "in_progress"

    def test_a_closed_change_takes_no_new_task(self, make_change, agent):
        change = services.update_change(
            make_change(), agent, {"state": "cancelled", "closure_notes": "No longer needed"}
        )
        with pytest.raises(ValidationError) as error:
            services.open_task(agent, {"title": "Late", "change": change})
        assert "change" in error.value.message_dict


@pytest.mark.django_db
class TestTemplates:
    @pytest.fixture
    def template(self, standard_model, network_team, agent, change_manager):
        template = templates.propose(
            agent,
            {
                "name": "Replace a failed access point",
                "model": standard_model,
                "implementation_plan": "Swap the AP, adopt it in the controller",
                "backout_plan": "Put the old AP back",
                "duration_minutes": 30,
                "assignment_group": network_team,
            },
        )
        TemplateTask.objects.create(template=template, stage=1, title="Swap", team=network_team)
        TemplateTask.objects.create(template=template, stage=2, title="Verify", team=network_team)
        return template

    def test_a_proposed_template_is_not_offered(self, template, agent):
        with pytest.raises(ValidationError) as error:
            services.open_change(agent, {}, template=template)
        assert "template" in error.value.message_dict

    def test_only_a_change_manager_reviews(self, template, agent, change_manager):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            templates.review(template, agent, approve=True)
        with pytest.raises(ValidationError) as error:
            templates.review(template, change_manager, approve=False)
        assert "notes" in error.value.message_dict
        assert templates.review(template, change_manager, approve=True).status == "active"

    def test_a_change_from_a_template_is_prefilled_with_its_tasks(
        self, template, agent, change_manager, window
    ):
        template = templates.review(template, change_manager, approve=True)
        change = services.open_change(agent, {"planned_start": window[0]}, template=template)
        assert change.title == "Replace a failed access point"
        assert change.template == template and change.model.is_standard
        assert change.planned_end - change.planned_start == timedelta(minutes=30)
        assert change.approval_state == ApprovalState.NOT_NEEDED
        assert [(t.stage, t.title) for t in change.tasks.order_by("stage")] == [
            (1, "Swap"),
            (2, "Verify"),
        ]

    def test_a_template_whose_changes_failed_is_flagged(
        self, template, agent, change_manager, api_as, window
    ):
        template = templates.review(template, change_manager, approve=True)
        change = services.open_change(agent, {"planned_start": window[0]}, template=template)
        for task in change.tasks.all():
            services.update_task(task, agent, {"state": "cancelled", "close_notes": "n/a"})
        for state in ("scheduled", "implement", "review"):
            change = move(change, agent, state)
        move(change, agent, "closed", closure_code="backed_out", closure_notes="AP would not adopt")
        answer = api_as(agent).get(f"/api/v1/change-templates/{template.pk}/")
        assert answer.status_code == 200
        assert answer.json()["failed_changes"] == 1

    def test_a_template_must_be_of_a_standard_model(self, agent, normal_model):
        with pytest.raises(ValidationError) as error:
            templates.propose(agent, {"name": "Odd", "model": normal_model})
        assert "model" in error.value.message_dict
        assert not ChangeTemplate.objects.exists()


@pytest.mark.django_db
class TestReview:
    def test_a_failed_change_offers_a_follow_up_problem(
        self, make_change, agent, registration_model, api_as
    ):
        change = move(make_change(model=registration_model), agent, "review")
        change = move(change, agent, "closed", closure_code="failed", closure_notes="Disk full")
        answer = api_as(agent).post(f"/api/v1/changes/{change.number}/follow-up-problem/")
        assert answer.status_code == 201
        change.refresh_from_db()
        problem = change.follow_up_problem
        assert problem.number == answer.json()["problem"]
        assert change.number in problem.description and "Disk full" in problem.description
        again = api_as(agent).post(f"/api/v1/changes/{change.number}/follow-up-problem/")
        assert again.status_code == 400 and "follow_up_problem" in again.json()

    def test_a_successful_change_has_no_follow_up(self, make_change, agent, registration_model):
        change = move(make_change(model=registration_model), agent, "review")
        change = move(change, agent, "closed", closure_code="successful")
        with pytest.raises(ValidationError):
            services.raise_follow_up_problem(change, agent)


@pytest.mark.django_db
def test_a_template_and_its_tasks_are_proposed_through_the_api(
    api_as, agent, alice, standard_model, network_team
):
    body = {
        "name": "Restart a Windows service",
        "model": standard_model.pk,
        "tasks": [
            {"stage": 1, "title": "Restart it", "team": network_team.pk},
            {"stage": 2, "title": "Check the event log", "team": network_team.pk},
        ],
    }
    assert api_as(alice).post("/api/v1/change-templates/", body, format="json").status_code in (
        403,
        404,
    )
    bad = api_as(agent).post(
        "/api/v1/change-templates/",
        {**body, "tasks": [{"stage": 1, "title": "No team"}]},
        format="json",
    )
    assert bad.status_code == 400 and "tasks" in bad.json()
    assert not ChangeTemplate.objects.exists()
    answer = api_as(agent).post("/api/v1/change-templates/", body, format="json")
    assert answer.status_code == 201, answer.json()
    template = ChangeTemplate.objects.get()
    assert [(t.stage, t.title) for t in template.tasks.order_by("stage")] == [
        (1, "Restart it"),
        (2, "Check the event log"),
    ]
    patched = api_as(agent).patch(
        f"/api/v1/change-templates/{template.pk}/",
        {"tasks": [{"stage": 1, "title": "Restart it twice", "team": network_team.pk}]},
        format="json",
    )
    assert patched.status_code == 200
    assert list(template.tasks.values_list("title", flat=True)) == ["Restart it twice"]


@pytest.mark.django_db
def test_models_without_authorisation_in_their_path_need_none(
    make_change, registration_model, standard_model, normal_model
):
    assert make_change(model=registration_model).approval_state == ApprovalState.NOT_NEEDED
    assert make_change(model=standard_model).approval_state == ApprovalState.NOT_NEEDED
    assert make_change(model=normal_model).approval_state == ApprovalState.NOT_REQUESTED
