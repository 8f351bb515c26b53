"""Retention rules: closed records older than N years are pseudonymised or removed, held
ones skipped, a second run does nothing."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from incidents.models import Incident
from itsm.core import services as core
from itsm.core.models import Attachment, JournalEntry, RecordLink
from itsm.privacy import retention
from itsm.privacy.models import LegalHold, RetentionRule
from practices.service_level.models import Timer
from tests.factories import incident
from tests.privacy.conftest import text_file

pytestmark = pytest.mark.django_db


def closed(record, years_ago: float):
    when = timezone.now() - timedelta(days=365 * years_ago)
    Incident.objects.filter(pk=record.pk).update(state="closed", closed_at=when)
    record.refresh_from_db()
    return record


def rule(action, years=3, model=Incident, **fields):
    return RetentionRule.objects.create(
        record_type=ContentType.objects.get_for_model(model),
        closed_for_years=years,
        action=action,
        **fields,
    )


@pytest.fixture
def records(ann, bob, agent, sla):
    old = closed(incident(ann, title="Annabel Leeworth's old printer"), 5)
    core.add_comment(old, ann, "Thanks, annlee@example.com here")
    core.add_attachment(old, ann, text_file("old.txt"))
    recent = closed(incident(ann, title="Annabel Leeworth's recent printer"), 1)
    still_open = incident(ann, title="Annabel Leeworth's open printer")
    held = closed(incident(bob, title="Bob's old laptop"), 6)
    LegalHold.objects.create(record=held, reason="Case 7")
    return {"old": old, "recent": recent, "open": still_open, "held": held}


def test_remove_deletes_only_old_closed_unheld_records(records, django_capture_on_commit_callbacks):
    rule(RetentionRule.Action.REMOVE)
    old = records["old"]
    ct = ContentType.objects.get_for_model(Incident)
    assert JournalEntry.objects.filter(content_type=ct, object_id=old.pk).exists()
    assert Timer.objects.filter(object_id=old.pk).exists()
    stored = Attachment.objects.get(object_id=old.pk).file
    assert stored.storage.exists(stored.name)

    with django_capture_on_commit_callbacks(execute=True):
        result = retention.apply()

    assert (result.removed, result.held, result.pseudonymised) == (1, 1, 0)
    assert not Incident.objects.filter(pk=old.pk).exists()
    assert not JournalEntry.objects.filter(content_type=ct, object_id=old.pk).exists()
    assert not Attachment.objects.filter(content_type=ct, object_id=old.pk).exists()
    assert not Timer.objects.filter(content_type=ct, object_id=old.pk).exists()
    assert not stored.storage.exists(stored.name)
    for kept in ("recent", "open", "held"):
        assert Incident.objects.filter(pk=records[kept].pk).exists(), kept
    # A second run finds nothing to do.
    again = retention.apply()
    assert (again.removed, again.pseudonymised) == (0, 0)


def test_links_go_with_a_removed_record_and_others_stay(records, agent):
    rule(RetentionRule.Action.REMOVE)
    old = records["old"]
    other = incident(agent, title="Child")
    RecordLink.objects.create(source=other, target=old)  # links go with it
    Incident.objects.filter(pk=other.pk).update(parent=old)  # SET_NULL: no protection
    result = retention.apply()
    assert result.removed == 1
    assert not RecordLink.objects.filter(target_id=old.pk).exists()
    other.refresh_from_db()
    assert other.parent_id is None


def test_pseudonymise_replaces_the_people_of_old_closed_records(
    records, ann, agent, django_capture_on_commit_callbacks
):
    rule(RetentionRule.Action.PSEUDONYMISE)
    old, recent, held = records["old"], records["recent"], records["held"]
    notes = core.add_attachment(old, agent, text_file("annlee-notes.txt", b"notes")).file
    journal_before = JournalEntry.objects.count()
    timers_before = sorted(Timer.objects.values_list("pk", "state", "business_elapsed"))

    with django_capture_on_commit_callbacks(execute=True):
        result = retention.apply()

    assert (result.pseudonymised, result.removed, result.held) == (1, 0, 1)
    pseudonym = retention.pseudonym_user()
    old.refresh_from_db()
    assert old.caller_id == pseudonym.pk and old.opened_by_id == pseudonym.pk
    assert "Leeworth" not in old.title and "Pseudonymised person" in old.title
    comment = JournalEntry.objects.for_record(old).get(kind="comment")
    assert comment.actor_id == pseudonym.pk and "annlee@" not in comment.body
    assert Attachment.objects.get(filename="old.txt").uploaded_by_id == pseudonym.pk
    renamed = Attachment.objects.get(filename="pseudonymised-person-notes.txt")
    assert renamed.uploaded_by_id == agent.pk  # the agent is not one of its people
    assert renamed.file.read() == b"notes" and "annlee" not in renamed.file.name
    assert not notes.storage.exists(notes.name)
    assert not pseudonym.is_active and not pseudonym.has_usable_password()
    # Others untouched; nothing deleted, no timer changed.
    recent.refresh_from_db()
    held.refresh_from_db()
    assert recent.caller_id == ann.pk and "Leeworth" in recent.title
    assert held.title == "Bob's old laptop"
    assert JournalEntry.objects.count() == journal_before
    assert sorted(Timer.objects.values_list("pk", "state", "business_elapsed")) == timers_before
    # Idempotent.
    rows = sorted(JournalEntry.objects.values_list("pk", "body", "actor_id"))
    again = retention.apply()
    assert again.pseudonymised == 0
    assert sorted(JournalEntry.objects.values_list("pk", "body", "actor_id")) == rows


def test_dry_run_changes_nothing_and_inactive_rules_do_nothing(records, capsys):
    rule(RetentionRule.Action.REMOVE)
    rule(RetentionRule.Action.PSEUDONYMISE, active=False)
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Would remove 1 record(s)." in out and "Would pseudonymise 0" in out
    assert "Skipped 1 record(s) under a legal hold." in out
    assert Incident.objects.filter(pk=records["old"].pk).exists()
    call_command("apply_retention")
    assert "Removed 1 record(s)." in capsys.readouterr().out
    call_command("apply_retention")
    assert "Removed 0 record(s)." in capsys.readouterr().out


def test_each_run_is_audited_with_counts(records):
    audit = pytest.importorskip("itsm.audit.models")
    rule(RetentionRule.Action.REMOVE)
    retention.apply()
    event = audit.AuditEvent.objects.filter(action="privacy.retention_applied").get()
    assert event.details["removed"] == 1 and event.details["held"] == 1


def test_a_released_hold_no_longer_protects(records):
    rule(RetentionRule.Action.REMOVE)
    LegalHold.objects.filter(object_id=records["held"].pk).update(released_at=timezone.now())
    assert retention.apply().removed == 2


def test_the_nightly_task_applies_the_rules(records):
    from itsm.privacy.tasks import apply_retention

    rule(RetentionRule.Action.REMOVE)
    assert apply_retention.delay().get()["removed"] == 1


def test_a_rule_names_a_record_type_with_a_closed_time(db):
    from itsm.accounts.models import Team

    bad = RetentionRule(
        record_type=ContentType.objects.get_for_model(Team), closed_for_years=2, action="remove"
    )
    with pytest.raises(ValidationError) as refused:
        bad.full_clean()
    assert "record_type" in refused.value.message_dict
    zero = RetentionRule(
        record_type=ContentType.objects.get_for_model(Incident), closed_for_years=0, action="remove"
    )
    with pytest.raises(ValidationError) as refused:
        zero.full_clean()
    assert "closed_for_years" in refused.value.message_dict
