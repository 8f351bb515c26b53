"""Incident and problem management in the reader's language: what the platform sends is
worded in each recipient's language, what it writes on a record's timeline is kept in
English with its message and read in each reader's, and the audit log stays in English
whatever the actor's. German words are put in the catalogue here, so the tests do not
depend on the shipped translations."""

import pytest
from django.utils import translation

from itsm.audit.services import record
from itsm.core.models import JournalEntry, Notification
from itsm.privacy.models import LegalHold
from problems import services as problem_services
from tests import factories

GERMAN = {
    "%(number)s logged: %(title)s": "%(number)s erfasst: %(title)s",
    "Declared a major incident.": "Schwerwiegende Störung ausgerufen.",
    "linked to problem %(number)s": "mit Problem %(number)s verknüpft",
    "Legal hold on %(what)s (in force)": "Aufbewahrungspflicht für %(what)s (in Kraft)",
    "person #%(id)s": "Person #%(id)s",
}


@pytest.fixture
def german(monkeypatch):
    """The German catalogue with ``GERMAN`` on top (restored after the test)."""
    factories.german_words(monkeypatch, GERMAN)


def speaks(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


@pytest.mark.django_db
def test_the_caller_is_told_in_their_language(german, agent, alice, bob):
    speaks(alice, "de")
    for_alice = factories.incident(alice, actor=agent)
    for_bob = factories.incident(bob, actor=agent)
    told = Notification.objects.get(recipient=alice, object_id=for_alice.pk)
    assert told.subject == f"{for_alice.number} erfasst: {for_alice.title}"
    told = Notification.objects.get(recipient=bob, object_id=for_bob.pk)
    assert told.subject == f"{for_bob.number} logged: {for_bob.title}"


@pytest.mark.django_db
def test_a_timeline_line_is_stored_in_english_and_read_in_german(german, agent, alice):
    with translation.override("de"):  # the actor's language does not decide what is stored
        incident = factories.incident(alice, actor=agent, major=True)
    entry = JournalEntry.objects.for_record(incident).get(kind=JournalEntry.Kind.FIELDS)
    assert entry.body == "Declared a major incident."
    with translation.override("de"):
        assert entry.text == "Schwerwiegende Störung ausgerufen."
    assert entry.text == "Declared a major incident."


@pytest.mark.django_db
def test_a_line_on_many_incidents_at_once_is_read_in_german(german, agent, alice):
    incident = factories.incident(alice, actor=agent)
    problem = problem_services.open_problem(agent, {"title": "Mail relay", "incidents": []})
    problem_services.link_incidents(problem, agent, [incident])
    entry = JournalEntry.objects.for_record(incident).get(kind=JournalEntry.Kind.LINK)
    assert entry.body == f"linked to problem {problem.number}"
    with translation.override("de"):
        assert entry.text == f"mit Problem {problem.number} verknüpft"


@pytest.mark.django_db
def test_the_audit_log_names_its_target_in_english(german, agent, alice):
    hold = LegalHold.objects.create(person=alice, reason="Case 7", placed_by=agent)
    with translation.override("de"):
        assert str(hold).startswith("Aufbewahrungspflicht")  # what a German admin reads
        event = record("test.event", actor=agent, target=hold)
    assert event.target_repr == f"Legal hold on person #{alice.pk} (in force)"
