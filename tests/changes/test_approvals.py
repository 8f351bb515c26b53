"""A change's authorisation: the policy's levels by risk, levels that advance (any one,
every approver), a rejection that needs a reason and ends it, two approvers racing, the
emergency change authority's deadline and escalation, the automatic approval, the API,
the change page's block and the agent's inbox."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes import approvals, services
from changes.models import ApprovalLevel, ApprovalPolicy, ApprovalState, ChangeApproval
from itsm.accounts.models import Role, Team
from itsm.core.models import JournalEntry, Notification
from itsm.core.practices import registry
from tests.conftest import make_user, requires_postgres
from tests.contracts.base import hold_baselines
from tests.core.test_concurrency import run_together

PLANS = {
    "implementation_plan": "Swap the line cards.",
    "backout_plan": "Put the old cards back.",
    "test_plan": "Ping every VLAN.",
}
Kind = ApprovalLevel.Kind


def journal(change, kind="approval"):
    return list(
        JournalEntry.objects.for_record(change)
        .filter(kind=kind)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def to_authorise(change, actor, risk="moderate"):
    data = dict(PLANS)
    if risk:
        data.update(risk_override=risk, risk_override_reason="Set for the test.")
    change = services.update_change(change, actor, {**data, "state": "assess"})
    return services.update_change(change, actor, {"state": "authorise"})


def mine(change, user):
    return ChangeApproval.objects.get(change=change, approver=user, decision="pending")


@pytest.fixture
def board(db):
    team = Team.objects.create(name="Approvers")
    team.members.add(make_user("ann", Role.AGENT), make_user("ben", Role.AGENT))
    return team


@pytest.fixture
def policy(normal_model, board):
    """Level 1: peer review (any one); level 2: the board, every member, from moderate."""
    policy = ApprovalPolicy.objects.create(name="Normal changes")
    ApprovalLevel.objects.create(policy=policy, order=1, kind=Kind.PEER)
    ApprovalLevel.objects.create(
        policy=policy, order=2, kind=Kind.TEAM, team=board, mode="all", min_risk="moderate"
    )
    normal_model.approval_policy = policy
    normal_model.save()
    return policy


@pytest.fixture
def change(make_change, policy, window):
    return make_change(planned_start=window[0], planned_end=window[1])


@pytest.mark.django_db
class TestLevels:
    def test_a_low_risk_change_skips_a_level_that_applies_from_moderate(
        self, change, agent, manager
    ):
        change = to_authorise(change, agent, risk="low")
        assert change.approval_state == ApprovalState.REQUESTED
        assert change.approval_level == 1
        # peer review: the service desk's members but the requester (agent)
        assert [a.approver for a in change.approvals.all()] == [manager]
        assert journal(change)[-1].startswith("Waiting for approval (level 1) from any one of")
        assert Notification.objects.filter(
            recipient=manager, subject__contains=change.number
        ).exists()
        approvals.decide(mine(change, manager), manager, True, "Looks right")
        change.refresh_from_db()
        assert change.approval_state == ApprovalState.APPROVED
        assert change.state == "scheduled"
        assert change.approvals.filter(level=2).count() == 0

    def test_levels_advance_any_one_then_every_approver(self, change, agent, manager):
        change = to_authorise(change, agent)  # moderate
        approvals.decide(mine(change, manager), manager, True)
        change.refresh_from_db()
        assert change.approval_level == 2
        ann, ben = (a.approver for a in change.approvals.filter(level=2).order_by("approver"))
        approvals.decide(mine(change, ann), ann, True, "Fine")
        change.refresh_from_db()
        assert (change.state, change.approval_state) == ("authorise", "requested")
        assert journal(change)[-1] == "Level 2 still waits for Ben."
        approvals.decide(mine(change, ben), ben, True)
        change.refresh_from_db()
        assert (change.state, change.approval_state) == ("scheduled", "approved")

    def test_no_policy_needs_no_authorisation(self, make_change, agent, window):
        change = make_change(planned_start=window[0], planned_end=window[1])
        change = to_authorise(change, agent, risk="low")
        assert change.approval_state == ApprovalState.APPROVED
        assert "No authorisation needed at risk low." in journal(change)
        change = services.update_change(change, agent, {"state": "scheduled"})
        assert change.state == "scheduled"

    def test_a_level_nobody_can_approve_refuses_the_move_naming_it(
        self, make_change, policy, agent, normal_model, service_desk
    ):
        service_desk.members.remove(service_desk.manager)  # only the requester is left
        change = make_change()
        with pytest.raises(ValidationError) as error:
            to_authorise(change, agent)
        assert "level 1, peer review" in str(error.value)
        change.refresh_from_db()
        assert change.state == "assess"

    def test_authorised_without_a_window_stays_in_authorise(
        self, make_change, policy, agent, manager
    ):
        change = to_authorise(make_change(), agent, risk="low")
        approvals.decide(mine(change, manager), manager, True)
        change.refresh_from_db()
        assert (change.state, change.approval_state) == ("authorise", "approved")
        assert "Stays in authorise until its planned window is set." in journal(change)


@pytest.mark.django_db
class TestRejection:
    def test_a_rejection_needs_a_reason(self, change, agent, manager):
        change = to_authorise(change, agent)
        with pytest.raises(ValidationError) as error:
            approvals.decide(mine(change, manager), manager, False, "  ")
        assert "comment" in error.value.message_dict
        assert change.approvals.get(approver=manager).decision == "pending"

    def test_a_rejection_ends_it_and_cancels_the_change(self, change, agent, manager):
        change = to_authorise(change, agent)
        approvals.decide(mine(change, manager), manager, False, "No rollback tested")
        change.refresh_from_db()
        assert change.state == "cancelled"
        assert change.approval_state == ApprovalState.REJECTED
        assert change.closure_code == "rejected"
        assert "No rollback tested" in change.closure_notes
        assert not change.approvals.filter(decision="pending").exists()
        assert Notification.objects.filter(recipient=agent, subject__contains="not authorised")

    def test_only_the_approver_decides(self, change, agent, agent2, manager, alice):
        change = to_authorise(change, agent)
        for other in (agent2, alice):
            with pytest.raises(PermissionDenied):
                approvals.decide(mine(change, manager), other, True)

    def test_a_second_decision_is_refused(self, change, agent, manager):
        change = to_authorise(change, agent)
        approval = mine(change, manager)
        approvals.decide(approval, manager, True)
        with pytest.raises(ValidationError) as error:
            approvals.decide(approval, manager, True)
        assert "already approved" in str(error.value)


@pytest.mark.django_db
class TestEmergency:
    @pytest.fixture
    def authority(self, emergency_model, board):
        policy = ApprovalPolicy.objects.create(name="Emergency")
        ApprovalLevel.objects.create(
            policy=policy,
            order=1,
            kind=Kind.EMERGENCY_AUTHORITY,
            team=board,
            mode="all",  # the authority is any one member, whatever the mode says
            deadline_minutes=60,
        )
        emergency_model.approval_policy = policy
        emergency_model.save()
        return policy

    def test_any_one_member_decides_within_the_deadline(
        self, make_change, authority, emergency_model, agent, window
    ):
        change = make_change(model=emergency_model, planned_start=window[0], planned_end=window[1])
        before = timezone.now()
        change = services.update_change(change, agent, {"state": "authorise"})
        rows = list(change.approvals.select_related("approver"))
        assert len(rows) == 2
        for row in rows:
            assert (
                before + timedelta(minutes=59) < row.due_at < timezone.now() + timedelta(minutes=61)
            )
        approvals.decide(rows[0], rows[0].approver, True)
        change.refresh_from_db()
        assert change.state == "scheduled"

    def test_an_overdue_approval_is_escalated_to_the_change_managers_once(
        self, make_change, authority, emergency_model, agent, change_manager
    ):
        change = make_change(model=emergency_model)
        change = services.update_change(change, agent, {"state": "authorise"})
        assert approvals.escalate_overdue() == 0  # not due yet
        later = timezone.now() + timedelta(minutes=61)
        assert approvals.escalate_overdue(later) == 1
        assert approvals.escalate_overdue(later) == 0
        told = Notification.objects.filter(recipient=change_manager, subject__startswith="Overdue")
        assert told.count() == 1
        assert journal(change)[-1].startswith("Approval overdue")

    def test_the_beat_task_is_declared(self, settings):
        from changes import tasks

        entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
        assert "changes.tasks.escalate_overdue_approvals" in entries
        assert tasks.escalate_overdue_approvals() == 0


@pytest.mark.django_db
def test_auto_approve_approves_what_is_pending_as_the_platform(change, agent, manager):
    change = to_authorise(change, agent)
    change = approvals.auto_approve(change, "Low risk, no conflict, tests passed.")
    assert (change.state, change.approval_state) == ("scheduled", "approved")
    approval = change.approvals.get(approver=manager)
    assert (approval.decision, approval.comment) == (
        "approved",
        "Low risk, no conflict, tests passed.",
    )
    assert "Approved automatically: Low risk, no conflict, tests passed." in journal(change)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_racing_on_an_any_one_level_one_wins(
    make_change, agent, agent2, manager, service_desk, policy, window, api_as
):
    service_desk.members.add(agent2)
    change = make_change(planned_start=window[0], planned_end=window[1])
    change = to_authorise(change, agent, risk="low")
    rows = list(change.approvals.filter(level=1).select_related("approver"))
    assert {r.approver for r in rows} == {manager, agent2}

    def decide(row):
        url = f"/api/v1/change-approvals/{row.pk}/decide/"
        return lambda: api_as(row.approver).post(url, {"approve": True, "comment": "ok"})

    responses = run_together([decide(row) for row in rows])
    assert sorted(r.status_code for r in responses) == [200, 400]
    loser = next(r for r in responses if r.status_code == 400)
    assert "already decided" in loser.json()["decision"][0]
    change.refresh_from_db()
    assert (change.state, change.approval_state) == ("scheduled", "approved")
    decided = ChangeApproval.objects.filter(change=change, decision="approved")
    assert decided.count() == 1
    assert (
        journal(change).count(
            f"Authorised (every level approved, the last by {decided.get().approver})."
        )
        == 1
    )


@pytest.mark.django_db
class TestAPI:
    def test_mine_lists_and_the_approver_decides(self, change, agent, manager, api_as):
        change = to_authorise(change, agent)
        listed = api_as(manager).get("/api/v1/change-approvals/").json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        assert [r["change"] for r in rows] == [change.number]
        assert api_as(agent).get("/api/v1/change-approvals/").json()["results"] == []
        url = f"/api/v1/change-approvals/{rows[0]['id']}/decide/"
        response = api_as(manager).post(url, {"approve": False, "comment": ""}, format="json")
        assert response.status_code == 400 and "comment" in response.json()
        assert api_as(agent).post(url, {"approve": True}, format="json").status_code == 403
        response = api_as(manager).post(url, {"approve": True}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["decision"] == "approved"

    def test_end_users_are_refused(self, change, agent, alice, api_as):
        to_authorise(change, agent)
        assert api_as(alice).get("/api/v1/change-approvals/").status_code == 403
        assert api_as(alice).get("/api/v1/approval-policies/").status_code == 403

    def test_policies_staff_read_administrators_write(self, policy, agent, admin_user, api_as):
        assert api_as(agent).get("/api/v1/approval-policies/").status_code == 200
        data = {"name": "CAB only", "levels": []}
        assert (
            api_as(agent).post("/api/v1/approval-policies/", data, format="json").status_code == 403
        )
        data = {"name": "CAB only", "levels": [{"order": 1, "kind": "cab"}]}
        response = api_as(admin_user).post("/api/v1/approval-policies/", data, format="json")
        assert response.status_code == 400 and "team" in str(response.json())
        data["levels"][0]["kind"] = "change_manager"
        response = api_as(admin_user).post("/api/v1/approval-policies/", data, format="json")
        assert response.status_code == 201, response.content
        assert ApprovalPolicy.objects.get(name="CAB only").levels.get().kind == "change_manager"

    def test_a_policys_levels_are_checked_together(self, agent, admin_user, api_as):
        """The kernel's checks of a policy's levels, each beside its level: a level given
        twice, a team where no team approves, a team nobody in could approve; nothing is
        saved."""
        empty = Team.objects.create(name="Nobody here")
        staffed = Team.objects.create(name="Board")
        staffed.members.add(agent)
        cases = [
            ([{"order": 1, "kind": "peer"}, {"order": 1, "kind": "change_manager"}], 1, "order"),
            ([{"order": 1, "kind": "change_manager", "team": staffed.pk}], 0, "team"),
            ([{"order": 1, "kind": "cab", "team": empty.pk}], 0, "team"),
        ]
        for levels, index, field in cases:
            data = {"name": "Checked", "levels": levels}
            response = api_as(admin_user).post("/api/v1/approval-policies/", data, format="json")
            assert response.status_code == 400, levels
            assert field in response.json()["levels"][str(index)], response.json()
            assert not ApprovalPolicy.objects.filter(name="Checked").exists()
        data = {"name": "Checked", "levels": [{"order": 1, "kind": "cab", "team": staffed.pk}]}
        response = api_as(admin_user).post("/api/v1/approval-policies/", data, format="json")
        assert response.status_code == 201, response.content

    def test_the_admin_checks_a_policys_levels_together(self, agent, admin_user):
        """The policy's admin holds the same checks as the catalogue's (the kernel's
        inline): a team nobody in could approve is refused beside its row, nothing saved."""
        empty = Team.objects.create(name="Nobody here")
        client = Client()
        client.force_login(admin_user)
        data = {
            "name": "From the admin",
            "description": "",
            "active": "on",
            "levels-TOTAL_FORMS": "1",
            "levels-INITIAL_FORMS": "0",
            "levels-MIN_NUM_FORMS": "0",
            "levels-MAX_NUM_FORMS": "1000",
            "levels-0-order": "1",
            "levels-0-kind": "cab",
            "levels-0-mode": "any",
            "levels-0-team": str(empty.pk),
            "levels-0-min_risk": "low",
            "levels-0-deadline_minutes": "",
        }
        response = client.post("/admin/changes/approvalpolicy/add/", data)
        assert response.status_code == 200
        assert "Nobody in this team could approve" in response.content.decode()
        assert not ApprovalPolicy.objects.filter(name="From the admin").exists()
        empty.members.add(agent)
        response = client.post("/admin/changes/approvalpolicy/add/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert ApprovalPolicy.objects.get(name="From the admin").levels.get().team == empty

    def test_query_counts(self, make_change, policy, agent, manager, api_as, window):
        def count(url):
            with CaptureQueriesContext(connection) as captured:
                assert api_as(manager).get(url).status_code == 200
            return len(captured)

        to_authorise(make_change(), agent)
        one = count("/api/v1/change-approvals/")
        for _ in range(3):
            to_authorise(make_change(), agent)
        assert count("/api/v1/change-approvals/") == one
        hold_baselines("changes.ChangeApproval", {"list": one})


@pytest.mark.django_db
class TestScreens:
    def test_the_change_page_offers_the_approver_the_decision(self, change, agent, manager):
        change = to_authorise(change, agent)
        client = Client()
        client.force_login(manager)
        page = client.get(change.get_absolute_url()).content.decode()
        assert "Level 1" in page and "peer review" in page
        assert 'name="comment"' in page and "Approve" in page
        url = f"/changes/approvals/{mine(change, manager).pk}/decide/"
        response = client.post(url, {"decision": "reject", "comment": ""})
        assert response.status_code == 400
        assert "Say why the change is not authorised." in response.content.decode()
        response = client.post(url, {"decision": "approve", "comment": "ok"})
        assert response.status_code == 302
        change.refresh_from_db()
        assert change.approval_level == 2

    def test_others_see_no_buttons_and_may_not_decide(self, change, agent, manager):
        change = to_authorise(change, agent)
        client = Client()
        client.force_login(agent)
        page = client.get(change.get_absolute_url()).content.decode()
        assert "Manager" in page and 'value="approve"' not in page
        url = f"/changes/approvals/{mine(change, manager).pk}/decide/"
        assert client.post(url, {"decision": "approve"}).status_code == 403

    def test_the_agent_home_and_the_saved_view_list_it(self, change, agent, manager):
        change = to_authorise(change, agent)
        client = Client()
        client.force_login(manager)
        panel = next(p for p in registry.home_panels if p.key == "changes.approvals")
        request = RequestFactory().get("/work/")
        request.user = manager
        with CaptureQueriesContext(connection) as captured:
            shown = panel.context_for(request)
        assert len(captured) <= 2
        home = render_to_string(panel.template, {"panel": shown})
        assert change.number in home and "Awaiting my approval" in home
        request.user = agent
        assert panel.context_for(request) is None
        queue = client.get("/changes/?view=awaiting_my_approval").content.decode()
        assert change.number in queue
        client.force_login(agent)
        queue = client.get("/changes/?view=awaiting_my_approval").content.decode()
        assert change.number not in queue
