"""Incident services: what the API, screens and scheduled jobs share."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.tasks import close_resolved_incidents
from itsm.core.models import JournalEntry, Notification
from itsm.core.services import StaleVersion
from tests import factories
from tests.conftest import make_user

LIST = "/api/v1/incidents/"


@pytest.fixture
def working(agent, alice, service_desk):
    return factories.incident(alice, actor=agent, assignment_group=service_desk, assigned_to=agent)


def resolved_days_ago(incident, days):
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - timedelta(days=days)
    )
    incident.refresh_from_db()
    return incident


class TestAutoClose:
    def test_closes_only_incidents_past_the_window(self, agent, alice, settings):
        settings.INCIDENT_AUTO_CLOSE_DAYS = 3
        old = factories.resolve(factories.incident(alice, actor=agent), agent)
        recent = factories.resolve(factories.incident(alice, actor=agent), agent)
        still_open = factories.incident(alice, actor=agent)
        resolved_days_ago(old, 4)
        resolved_days_ago(recent, 2)

        assert services.close_resolved() == 1

        old.refresh_from_db()
        recent.refresh_from_db()
        still_open.refresh_from_db()
        assert old.state == "closed"
        assert old.closed_at is not None
        assert recent.state == "resolved"
        assert still_open.state == "new"
        entry = JournalEntry.objects.for_record(old).filter(kind="state").last()
        assert entry.data == {"from": "resolved", "to": "closed"}
        assert entry.actor is None
        # a second run finds nothing more to do
        assert services.close_resolved() == 0

    def test_window_follows_the_setting(self, agent, alice, settings):
        incident = factories.resolve(factories.incident(alice, actor=agent), agent)
        resolved_days_ago(incident, 2)
        settings.INCIDENT_AUTO_CLOSE_DAYS = 3
        assert services.close_resolved() == 0
        settings.INCIDENT_AUTO_CLOSE_DAYS = 1
        assert services.close_resolved() == 1
        incident.refresh_from_db()
        assert incident.state == "closed"

    def test_celery_task_closes_them(self, agent, alice, settings):
        settings.INCIDENT_AUTO_CLOSE_DAYS = 3
        old = resolved_days_ago(factories.resolve(factories.incident(alice, actor=agent), agent), 5)
        recent = factories.resolve(factories.incident(alice, actor=agent), agent)

        result = close_resolved_incidents.delay()
        assert result.get() == 1

        old.refresh_from_db()
        recent.refresh_from_db()
        assert (old.state, recent.state) == ("closed", "resolved")

    def test_caller_cannot_reopen_after_the_window(self, api_as, agent, alice, settings, working):
        settings.INCIDENT_AUTO_CLOSE_DAYS = 3
        factories.resolve(working, agent)
        resolved_days_ago(working, 4)

        with pytest.raises(ValidationError) as error:
            services.update_incident(working, alice, {"state": "in_progress"})
        assert "state" in error.value.message_dict

        response = api_as(alice).patch(f"{LIST}{working.number}/", {"state": "in_progress"})
        assert response.status_code == 400
        assert "closed" in " ".join(response.json()["state"])
        detail = api_as(alice).get(f"{LIST}{working.number}/").json()
        assert detail["allowed_states"] == ["closed"]
        working.refresh_from_db()
        assert (working.state, working.reopen_count) == ("resolved", 0)

        # an agent still may
        services.update_incident(working, agent, {"state": "in_progress"})
        working.refresh_from_db()
        assert working.state == "in_progress"

    def test_caller_can_reopen_inside_the_window(self, agent, alice, settings, working):
        settings.INCIDENT_AUTO_CLOSE_DAYS = 3
        factories.resolve(working, agent)
        resolved_days_ago(working, 2)
        services.update_incident(working, alice, {"state": "in_progress"})
        working.refresh_from_db()
        assert working.state == "in_progress"
        assert working.reopen_count == 1


class TestOpenIncident:
    def test_numbers_priority_and_journal(self, agent, alice, priority_matrix):
        incident = factories.incident(alice, actor=agent, impact=1, urgency=2)
        assert incident.caller == alice
        assert incident.opened_by == agent
        assert incident.priority == 2
        created = JournalEntry.objects.for_record(incident).get(kind="created")
        assert created.actor == agent
        assert created.data["priority"] == 2

    def test_caller_is_told_when_someone_logs_for_them(self, agent, alice):
        incident = factories.incident(alice, actor=agent)
        assert Notification.objects.filter(recipient=alice, object_id=incident.pk).count() == 1
        factories.incident(alice)  # she logged it herself: no mail
        assert Notification.objects.filter(recipient=alice).count() == 1

    def test_end_user_is_the_caller_whatever_they_send(self, alice, bob):
        incident = services.open_incident(alice, {"title": "x", "caller": bob})
        assert incident.caller == alice

    def test_end_user_cannot_set_staff_fields(self, alice, service_desk):
        with pytest.raises(ValidationError) as error:
            services.open_incident(alice, {"title": "x", "assignment_group": service_desk})
        assert "assignment_group" in error.value.message_dict
        assert not Incident.objects.exists()

    def test_inactive_team_is_refused(self, agent, alice, service_desk):
        service_desk.active = False
        service_desk.save()
        with pytest.raises(ValidationError) as error:
            factories.incident(alice, actor=agent, assignment_group=service_desk)
        assert "assignment_group" in error.value.message_dict

    def test_major_without_team_tells_every_team_manager(self, agent, alice, manager, service_desk):
        boss = make_user("boss", role="manager")
        factories.team("Database", manager=boss)
        incident = factories.incident(alice, actor=agent, major=True)
        told = set(
            Notification.objects.filter(
                object_id=incident.pk, subject__startswith="MAJOR"
            ).values_list("recipient__username", flat=True)
        )
        assert told == {"manager", "boss"}

    def test_major_with_a_service_tells_its_owner_team_manager(
        self, agent, alice, manager, network_team, email_service
    ):
        boss = make_user("boss", role="manager")
        network_team.manager = boss
        network_team.save()
        incident = factories.incident(
            alice, actor=agent, major=True, service=email_service, assignment_group=network_team
        )
        told = set(
            Notification.objects.filter(
                object_id=incident.pk, subject__startswith="MAJOR"
            ).values_list("recipient__username", flat=True)
        )
        # the service's owner team (service desk) and the assignment group (network)
        assert told == {"manager", "boss"}


class TestUpdateIncident:
    def test_stale_version_changes_nothing(self, agent, working):
        version = working.version
        services.update_incident(working, agent, {"title": "First"}, expected_version=version)
        journal = JournalEntry.objects.for_record(working).count()
        with pytest.raises(StaleVersion):
            services.update_incident(working, agent, {"title": "Second"}, expected_version=version)
        working.refresh_from_db()
        assert working.title == "First"
        assert working.version == version + 1
        assert JournalEntry.objects.for_record(working).count() == journal

    def test_no_change_does_not_bump_the_version(self, agent, working):
        version = working.version
        services.update_incident(working, agent, {"title": working.title})
        working.refresh_from_db()
        assert working.version == version

    def test_impact_change_recomputes_priority(self, agent, working, priority_matrix):
        services.update_incident(working, agent, {"impact": 1, "urgency": 1})
        working.refresh_from_db()
        assert working.priority == 1
        entry = JournalEntry.objects.for_record(working).filter(kind="fields").last()
        assert "priority" in entry.data

    def test_clearing_the_caller_is_a_field_error(self, agent, alice, working):
        with pytest.raises(ValidationError) as error:
            services.update_incident(working, agent, {"caller": None})
        assert "caller" in error.value.message_dict
        working.refresh_from_db()
        assert (working.caller, working.version) == (alice, 1)

    def test_unknown_field_is_refused(self, agent, working):
        with pytest.raises(ValidationError) as error:
            services.update_incident(working, agent, {"reopen_count": 7})
        assert "reopen_count" in error.value.message_dict

    def test_other_end_user_is_refused(self, bob, working):
        with pytest.raises(PermissionDenied):
            services.update_incident(working, bob, {"state": "cancelled"})
        with pytest.raises(PermissionDenied):
            services.comment(working, bob, "let me in")
        working.refresh_from_db()
        assert working.state == "new"

    def test_starting_work_sets_first_response(self, agent, working):
        assert working.first_response_at is None
        services.update_incident(working, agent, {"state": "in_progress"})
        working.refresh_from_db()
        assert working.first_response_at is not None

    def test_on_hold_reason_cannot_be_cleared_while_on_hold(self, agent, working):
        services.update_incident(
            working, agent, {"state": "on_hold", "on_hold_reason": "awaiting_supplier"}
        )
        with pytest.raises(ValidationError) as error:
            services.update_incident(working, agent, {"on_hold_reason": ""})
        assert "on_hold_reason" in error.value.message_dict
        working.refresh_from_db()
        assert working.on_hold_reason == "awaiting_supplier"

    def test_caller_reopen_tells_the_assignee(self, agent, alice, working):
        factories.resolve(working, agent)
        services.update_incident(working, alice, {"state": "in_progress"})
        assert Notification.objects.filter(recipient=agent, subject__contains="reopened").exists()

    def test_resolving_a_parent_cascades_in_one_transaction(self, agent, alice, bob, working):
        child = factories.incident(bob, actor=agent, parent=working)
        factories.resolve(working, agent, code="duplicate", notes="Same outage")
        child.refresh_from_db()
        assert child.state == "resolved"
        assert child.resolution_code == "duplicate"
        # the child's caller is told as well
        assert Notification.objects.filter(recipient=bob, object_id=child.pk).exists()


class TestAfterCommit:
    def test_rolled_back_change_sends_nothing(
        self, agent, alice, working, django_capture_on_commit_callbacks, mailoutbox
    ):
        before = Notification.objects.count()
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.comment(working, agent, "We are on it")
            raise RuntimeError("the request failed later")
        assert callbacks == []
        assert Notification.objects.count() == before
        assert mailoutbox == []
        assert not JournalEntry.objects.for_record(working).filter(kind="comment").exists()

    def test_committed_change_is_mailed(
        self, agent, alice, working, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.comment(working, agent, "We are on it")
        note = Notification.objects.get(recipient=alice, subject__startswith="Update on")
        assert note.status == Notification.Status.SENT
        assert note.sent_at is not None
        assert [m.to for m in mailoutbox] == [["alice@example.com"]]
        assert "We are on it" in mailoutbox[0].body


@pytest.mark.django_db
def test_assignee_and_waiting_caller_are_told(
    agent, agent2, alice, service_desk, network_team, django_capture_on_commit_callbacks
):
    from django.core import mail

    from incidents import services

    record = services.open_incident(agent, {"title": "Switch down", "caller": alice})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_incident(
            record, agent, {"assignment_group": network_team, "assigned_to": agent2}
        )
    assert [m.to for m in mail.outbox] == [["agent2@example.com"]]
    assert "assigned to you" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_incident(
            record, agent2, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "need your input" in mail.outbox[0].subject
    mail.outbox.clear()
    # Assigning yourself tells nobody.
    services.update_incident(
        record, agent, {"assignment_group": service_desk, "assigned_to": agent}
    )
    assert mail.outbox == []


@pytest.mark.django_db
def test_each_caller_is_told_in_their_own_language(agent, alice, bob, monkeypatch):
    """The notice's words are made in the recipient's language (User.language), the site's
    for someone who chose none: seen here through a stand-in for the catalogue that says
    which language was active when it was asked."""
    from django.utils import translation

    monkeypatch.setattr(
        services, "gettext", lambda message: f"[{translation.get_language()}] {message}"
    )
    alice.language = "de"
    alice.save(update_fields=["language"])
    german = factories.incident(alice, actor=agent)
    english = factories.incident(bob, actor=agent)
    told = Notification.objects.get(recipient=alice, object_id=german.pk)
    assert told.subject == f"[de] {german.number} logged: {german.title}"
    assert told.body.startswith("[de] We have logged")
    told = Notification.objects.get(recipient=bob, object_id=english.pk)
    assert told.subject.startswith("[en")  # the site's language
    assert told.subject.endswith(f"{english.number} logged: {english.title}")


@pytest.mark.django_db
def test_a_platform_journal_line_is_read_in_the_readers_language(agent, alice):
    """Stored in English (what search and exports read), kept as its message for readers
    in other languages."""
    record = factories.incident(alice, actor=agent, major=True)
    entry = JournalEntry.objects.for_record(record).get(kind=JournalEntry.Kind.FIELDS)
    assert entry.body == "Declared a major incident."
    assert entry.data["said"] == {"message": "Declared a major incident.", "values": {}}
    assert entry.text == "Declared a major incident."
