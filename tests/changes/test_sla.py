"""Changes run SLA timers like incidents and requests: an agreement on emergency changes
("authorised within an hour") runs until the emergency change authority decides."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType

from changes import approvals, services
from changes.models import ApprovalLevel, ApprovalPolicy, Change
from itsm.accounts.models import Team
from practices.service_level.models import BusinessCalendar, Timer
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def emergency_sla(db):
    calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
    return agreement(
        "Emergency changes: authorise within an hour",
        calendar,
        response=timedelta(hours=1),
        record_type=ContentType.objects.get_for_model(Change),
        conditions={"kind": ["emergency"]},
    )


@pytest.fixture
def authority(emergency_model, change_manager):
    team = Team.objects.create(name="Emergency change authority", manager=change_manager)
    team.members.add(change_manager)
    policy = ApprovalPolicy.objects.create(name="ECA")
    ApprovalLevel.objects.create(
        policy=policy, order=1, kind="emergency_authority", team=team, deadline_minutes=60
    )
    emergency_model.approval_policy = policy
    emergency_model.save()
    return team


def test_an_emergency_change_runs_its_authorisation_timer(
    emergency_sla, authority, make_change, emergency_model, agent, change_manager, window
):
    change = make_change(model=emergency_model, planned_start=window[0], planned_end=window[1])
    normal = make_change(title="Not an emergency")
    timer = Timer.objects.get(object_id=change.pk, content_type__model="change")
    assert (timer.state, timer.metric) == ("running", "response")
    assert not Timer.objects.filter(object_id=normal.pk, content_type__model="change").exists()
    change = services.update_change(change, agent, {"state": "authorise"})
    approval = change.approvals.get()
    assert approval.due_at is not None
    approvals.decide(approval, change_manager, True, "Go")
    timer.refresh_from_db()
    assert timer.state == "met"
    assert Change.objects.get(pk=change.pk).state == "scheduled"
