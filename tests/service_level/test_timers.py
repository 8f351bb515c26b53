"""SLA timers on incidents: start, meet, pause, resume, re-target, breach and escalate."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents import services as incidents
from incidents.models import Incident
from itsm.core.models import JournalEntry, Notification
from practices.service_level import services
from practices.service_level.models import Agreement, Escalation, Timer
from tests import factories
from tests.service_level.conftest import agreement

pytestmark = pytest.mark.django_db


def timers(incident, **filters):
    return {
        t.metric: t
        for t in Timer.objects.filter(object_id=incident.pk, **filters).exclude(state="cancelled")
    }


def sla_journal(incident):
    return list(
        JournalEntry.objects.for_record(incident).filter(kind="sla").values_list("body", flat=True)
    )


def shift(timer, **delta):
    """Pretend the timer started earlier: move its clock marks back in time."""
    back = timedelta(**delta)
    Timer.objects.filter(pk=timer.pk).update(
        started_at=timer.started_at - back,
        checkpoint_at=timer.checkpoint_at - back,
        due_at=timer.due_at - back if timer.due_at else None,
        paused_at=timer.paused_at - back if timer.paused_at else None,
    )
    for escalation in timer.escalations.exclude(due_at=None):
        Escalation.objects.filter(pk=escalation.pk).update(due_at=escalation.due_at - back)


def test_a_new_incident_starts_its_targets(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    found = timers(incident)
    assert set(found) == {"response", "resolution"}
    assert all(t.state == "running" for t in found.values())
    assert found["response"].due_at == incident.created_at + timedelta(hours=1)
    assert found["resolution"].due_at == incident.created_at + timedelta(hours=4)
    assert found["resolution"].escalations.count() == 2
    assert any("Resolve in 4:00:00: started" in body for body in sla_journal(incident))


def test_no_agreement_no_timers(alice):
    incident = factories.incident(alice)
    assert not Timer.objects.filter(object_id=incident.pk).exists()


def test_first_response_meets_the_response_target(standard_sla, alice, agent):
    incident = factories.incident(alice)
    incidents.comment(incident, agent, "Looking into it.")
    found = timers(incident)
    assert found["response"].state == "met"
    assert found["response"].stopped_at == incident.first_response_at
    assert found["resolution"].state == "running"
    # A met target's pending escalations are skipped.
    assert set(found["response"].escalations.values_list("state", flat=True)) == {"skipped"}


def test_awaiting_caller_pauses_and_the_time_paused_does_not_count(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    incidents.update_incident(
        incident, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
    )
    resolution = timers(incident)["resolution"]
    assert resolution.state == "paused"
    assert resolution.due_at is None
    assert set(resolution.escalations.values_list("due_at", flat=True)) == {None}
    # Two hours pass while paused.
    shift(resolution, hours=2)
    incidents.update_incident(incident, agent, {"state": "in_progress"})
    resolution.refresh_from_db()
    assert resolution.state == "running"
    assert resolution.paused_seconds == pytest.approx(7200, abs=5)
    assert resolution.business_elapsed < 5  # only the moments before the pause counted
    left = services.seconds_left(resolution, timezone.now())
    assert left == pytest.approx(4 * 3600, abs=10)


def test_awaiting_change_does_not_pause(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    incidents.update_incident(
        incident, agent, {"state": "on_hold", "on_hold_reason": "awaiting_change"}
    )
    assert timers(incident)["resolution"].state == "running"


def test_priority_change_retargets_keeping_the_time_used(standard_sla, critical_sla, alice, agent):
    incident = factories.incident(alice, actor=agent, impact=3, urgency=3)
    before = timers(incident)["resolution"]
    assert before.agreement == standard_sla
    shift(before, minutes=20)
    incidents.update_incident(incident, agent, {"impact": 1, "urgency": 1})
    after = timers(incident)["resolution"]
    assert after.agreement == critical_sla
    assert after.started_at == before.started_at - timedelta(minutes=20)
    assert after.business_elapsed == pytest.approx(1200, abs=5)
    left = services.seconds_left(after, timezone.now())
    assert left == pytest.approx(3600 - 1200, abs=10)
    assert Timer.objects.get(pk=before.pk).state == "cancelled"
    assert any("re-targeted to Critical" in body for body in sla_journal(incident))


def test_keep_policy_does_not_retarget(standard_sla, critical_sla, alice, agent):
    Agreement.objects.filter(pk=standard_sla.pk).update(on_priority_change="keep")
    incident = factories.incident(alice, actor=agent)
    incidents.update_incident(incident, agent, {"impact": 1, "urgency": 1})
    assert timers(incident)["resolution"].agreement == standard_sla


def test_resolution_meets_and_reopening_runs_the_clock_again(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    factories.resolve(incident, agent)
    resolution = timers(incident)["resolution"]
    assert resolution.state == "met"
    incidents.update_incident(incident, alice, {"state": "in_progress"})
    resolution.refresh_from_db()
    assert resolution.state == "running"
    assert resolution.stopped_at is None


def test_cancelling_the_incident_cancels_its_timers(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    incidents.update_incident(incident, agent, {"state": "cancelled"})
    assert set(Timer.objects.filter(object_id=incident.pk).values_list("state", flat=True)) == {
        "cancelled"
    }
    assert not Escalation.objects.filter(state="pending").exists()


def test_sweep_records_breaches_and_escalates_once(
    standard_sla, alice, agent, manager, service_desk, django_capture_on_commit_callbacks
):
    incident = factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent
    )
    resolution = timers(incident)["resolution"]
    shift(resolution, hours=5)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sweep()
    assert result["breached"] == 1
    resolution.refresh_from_db()
    assert (resolution.state, resolution.breached) == ("breached", True)
    assert resolution.breached_at == resolution.due_at
    states = dict(resolution.escalations.values_list("threshold__percent", "state"))
    assert states == {50: "done", 100: "done"}
    # The breach told the assignee and the team's manager.
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert (
        "manager@example.com",
        f"SLA breached: {incident.number} Resolve in 4:00:00",
    ) in subjects
    assert ("agent@example.com", f"SLA breached: {incident.number} Resolve in 4:00:00") in subjects
    # Another sweep, and a duplicate delivery of the same task, change nothing.
    sent = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep() == {"breached": 0, "queued": 0}
    for escalation in resolution.escalations.all():
        assert services.escalate(escalation.pk) is False
    assert Notification.objects.count() == sent
    assert any("breached (due" in body for body in sla_journal(incident))


def test_a_lost_escalation_task_is_queued_again_and_done_once(
    standard_sla, alice, agent, settings, django_capture_on_commit_callbacks
):
    incident = factories.incident(alice, actor=agent)
    resolution = timers(incident)["resolution"]
    shift(resolution, hours=3)  # past 50%
    # The broker loses the task: the escalation stays queued.
    services.sweep()
    warning = resolution.escalations.get(threshold__percent=50)
    assert warning.state == "queued"
    # Before SLA_REQUEUE_AFTER, nothing is queued again; after it, the sweep catches up.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep()["queued"] == 0
    Escalation.objects.filter(pk=warning.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.SLA_REQUEUE_AFTER + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep()["queued"] == 1
    warning.refresh_from_db()
    assert (warning.state, warning.attempts) == ("done", 2)


def test_escalation_raises_priority_and_reassigns(always, alice, agent, network_team):
    agreement(
        "Escalating",
        always,
        resolution=timedelta(hours=2),
        thresholds=[
            {
                "percent": 50,
                "raise_priority": True,
                "reassign_to": network_team,
                "notify_assignee": False,
            }
        ],
    )
    incident = factories.incident(alice, actor=agent)
    assert incident.priority == 5
    shift(timers(incident)["resolution"], hours=1, minutes=1)
    services.sweep()
    escalation = Escalation.objects.get()
    assert services.escalate(escalation.pk) is True
    incident = Incident.objects.get(pk=incident.pk)
    assert (incident.urgency, incident.priority) == (2, 4)
    assert incident.assignment_group == network_team
    escalation.refresh_from_db()
    assert "priority 5 → 4" in escalation.outcome
    assert "reassigned to Network" in escalation.outcome


def test_a_stopped_timer_skips_escalations_not_yet_due(standard_sla, alice, agent):
    incident = factories.incident(alice, actor=agent)
    resolution = timers(incident)["resolution"]
    shift(resolution, hours=3)
    services.sweep()  # queues the 50% warning
    factories.resolve(incident, agent)
    warning = resolution.escalations.get(threshold__percent=50)
    # It fell due while the clock ran: it still happens.
    assert services.escalate(warning.pk) is True
    assert resolution.escalations.get(threshold__percent=100).state == "skipped"


def test_ola_counts_only_while_the_team_holds_the_incident(
    always, alice, agent, agent2, service_desk, network_team
):
    agreement("Desk OLA", always, resolution=timedelta(hours=1), kind="ola", team=service_desk)
    incident = factories.incident(alice, actor=agent)
    assert not Timer.objects.filter(object_id=incident.pk).exists()
    incidents.update_incident(incident, agent, {"assignment_group": service_desk})
    ola = timers(incident)["resolution"]
    assert ola.state == "running"
    incidents.update_incident(incident, agent, {"assignment_group": network_team})
    ola.refresh_from_db()
    assert ola.state == "paused"
    incidents.update_incident(incident, agent2, {"assignment_group": service_desk})
    ola.refresh_from_db()
    assert ola.state == "running"


def test_underpinning_contract_runs_while_waiting_on_the_supplier(always, alice, agent):
    agreement(
        "Printer vendor",
        always,
        resolution=timedelta(hours=8),
        kind="uc",
        supplier="PrintCo",
        run_when=[{"state": "on_hold", "on_hold_reason": "awaiting_supplier"}],
    )
    incident = factories.incident(alice, actor=agent)
    assert not Timer.objects.filter(object_id=incident.pk).exists()
    incidents.update_incident(
        incident, agent, {"state": "on_hold", "on_hold_reason": "awaiting_supplier"}
    )
    uc = timers(incident)["resolution"]
    assert uc.state == "running"
    incidents.update_incident(incident, agent, {"state": "in_progress"})
    uc.refresh_from_db()
    assert uc.state == "paused"


def test_business_hours_calendar_sets_due_at_on_working_time(office, alice, agent):
    agreement("Office hours", office, resolution=timedelta(hours=8))
    incident = factories.incident(alice, actor=agent)
    resolution = timers(incident)["resolution"]
    cal = services.engine(office)
    assert resolution.due_at == cal.add(incident.created_at, 8 * 3600)
    assert cal.seconds_between(incident.created_at, resolution.due_at) == pytest.approx(8 * 3600)


def test_calendar_changes_reach_the_cached_engine(office):
    before = services.engine(office)
    office.working_periods.filter(weekday=0).delete()
    office.touch()
    office.refresh_from_db()
    after = services.engine(office)
    assert after is not before
    assert 0 not in after.spec.hours
