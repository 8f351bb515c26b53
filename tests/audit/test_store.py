"""The audit log's store: one unbroken hash chain, append-only in the application and,
on PostgreSQL, in the database (triggers on the audit log, the timelines and the
attachments), with erasure's pseudonymisation allowed only inside ``rewriting``."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from itsm.audit.db import rewriting
from itsm.audit.models import AuditError, AuditEvent
from itsm.audit.services import pseudonymise, record
from itsm.audit.verify import verify
from itsm.core.models import Attachment, JournalEntry
from tests.conftest import make_user

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


def _events(n=3, actor=None):
    return [record("test.event", actor=actor, number=i) for i in range(n)]


def test_events_chain_and_verify(db, agent):
    first, second, third = _events(3, actor=agent)
    assert [first.sequence + 1, first.sequence + 2] == [second.sequence, third.sequence]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert third.actor_username == "agent"
    assert verify().ok


def test_secrets_are_masked(db, agent):
    event = record(
        "test.secret",
        actor=agent,
        before={"password": "old-secret", "api_key": "k1", "keywords": "mail"},
        after={"password": "new-secret", "client_secret": "s", "keywords": "mail, relay"},
        token="abc",
    )
    event.refresh_from_db()
    assert event.before == {"password": "********", "api_key": "********", "keywords": "mail"}
    assert event.after["password"] == "********" and event.after["client_secret"] == "********"
    assert event.details == {"token": "********"}
    assert "old-secret" not in str(event.before) and "new-secret" not in str(event.after)


def test_a_rolled_back_change_takes_its_event_with_it(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.rolled_back")
        raise RuntimeError
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    record("test.after")
    assert verify().ok


def test_the_application_refuses_changes_and_deletions(db):
    event = record("test.event")
    event.action = "test.other"
    with pytest.raises(AuditError):
        event.save()
    with pytest.raises(AuditError):
        event.delete()
    with pytest.raises(AuditError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def _raw(sql, params=(), *, bypass=False):
    with transaction.atomic(), connection.cursor() as cursor:
        if bypass:  # as the database's superuser: no trigger runs
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@postgres_only
def test_tampering_with_the_trigger_disabled_is_detected(db):
    events = _events(4)
    tamper = "UPDATE audit_auditevent SET action = %s WHERE id = %s"
    _raw(tamper, ["test.harmless", events[1].pk], bypass=True)
    result = verify()
    assert not result.ok and result.broken == events[1].sequence
    _raw(tamper, ["test.event", events[1].pk], bypass=True)
    assert verify().ok
    _raw(
        "UPDATE audit_auditevent SET actor_username = 'someone' WHERE id = %s",
        [events[0].pk],
        bypass=True,
    )
    assert verify().broken == events[0].sequence
    _raw(
        "UPDATE audit_auditevent SET actor_username = '' WHERE id = %s", [events[0].pk], bypass=True
    )
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk], bypass=True)
    result = verify()
    assert not result.ok and result.broken == events[2].sequence
    assert "missing" in result.reason


@postgres_only
def test_removing_the_newest_events_is_detected(db):
    events = _events(3)
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk], bypass=True)
    result = verify()
    assert not result.ok and result.broken == events[-1].sequence


def _journal_and_attachment(user):
    record_type = ContentType.objects.get_for_model(user)
    entry = JournalEntry.objects.create(
        content_type=record_type, object_id=user.pk, kind="comment", body="Hello", actor=user
    )
    attachment = Attachment(
        content_type=record_type, object_id=user.pk, filename="a.txt", size=1, uploaded_by=user
    )
    attachment.file.save("a.txt", ContentFile(b"a"), save=False)
    attachment.save()
    return entry, attachment


@postgres_only
@pytest.mark.parametrize("table", ["audit_auditevent", "core_journalentry", "core_attachment"])
def test_the_database_refuses_update_and_delete(db, agent, table):
    entry, attachment = _journal_and_attachment(agent)
    pk = {
        "audit_auditevent": record("test.event").pk,
        "core_journalentry": entry.pk,
        "core_attachment": attachment.pk,
    }[table]
    column = {"audit_auditevent": "action", "core_journalentry": "body"}.get(table, "filename")
    for sql in (
        f"UPDATE {table} SET {column} = 'changed' WHERE id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
        f"UPDATE {table} SET id = id WHERE id = %s",  # noqa: S608
    ):
        with pytest.raises(DatabaseError, match="never"):
            _raw(sql, [pk])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE id = %s", [pk])  # noqa: S608
        assert cursor.fetchone()[0] == 1


@postgres_only
@pytest.mark.parametrize(
    "table", ["audit_auditevent", "audit_chainhead", "core_journalentry", "core_attachment"]
)
def test_the_database_refuses_truncate(db, agent, table):
    """TRUNCATE fires no row trigger: a statement trigger refuses it. (The test suite's own
    connections may truncate, for the flush between transactional tests: switched off here
    as a production connection has it.)"""
    _journal_and_attachment(agent)
    record("test.event")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        before = cursor.fetchone()[0]
    assert before >= 1
    refused = pytest.raises(DatabaseError, match="never truncated")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("SET LOCAL itsm.allow_truncate = ''")
        cursor.execute(f"TRUNCATE {table} CASCADE")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        assert cursor.fetchone()[0] == before


@postgres_only
def test_rewriting_allows_the_erasure_update_only_within_its_block(db, agent, admin_user):
    entry, attachment = _journal_and_attachment(agent)
    with transaction.atomic():
        with rewriting("erasure of agent", actor=admin_user):
            JournalEntry.objects.filter(pk=entry.pk).update(body="[erased]")
            Attachment.objects.filter(pk=attachment.pk).update(filename="erased.txt")
            with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
                JournalEntry.objects.filter(pk=entry.pk).delete()
        # Same transaction, after the block: refused again.
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            JournalEntry.objects.filter(pk=entry.pk).update(body="again")
    entry.refresh_from_db()
    attachment.refresh_from_db()
    assert (entry.body, attachment.filename) == ("[erased]", "erased.txt")
    event = AuditEvent.objects.filter(action="privacy.rewrite").get()
    assert event.details == {"reason": "erasure of agent", "remove": False}
    assert event.actor_username == "admin"
    with pytest.raises(DatabaseError, match="never"):
        _raw("UPDATE core_journalentry SET body = 'x' WHERE id = %s", [entry.pk])


@postgres_only
def test_a_nested_rewriting_block_leaves_the_outer_one_its_rights(db, agent):
    entry, attachment = _journal_and_attachment(agent)
    with rewriting("retention", remove=True):
        with rewriting("erasure"):
            JournalEntry.objects.filter(pk=entry.pk).update(body="[erased]")
        Attachment.objects.filter(pk=attachment.pk).delete()  # the outer block's right
    with pytest.raises(DatabaseError, match="never changed"):
        _raw("UPDATE core_journalentry SET body = 'x' WHERE id = %s", [entry.pk])


@postgres_only
def test_rewriting_never_moves_a_timeline_entry_or_attachment(db, agent, alice):
    entry, attachment = _journal_and_attachment(agent)
    refused = pytest.raises(DatabaseError, match="only the personal columns")
    for table, column, value in (
        ("core_journalentry", "object_id", alice.pk),
        ("core_journalentry", "created_at", "2000-01-01T00:00:00Z"),
        ("core_journalentry", "internal", True),
        ("core_journalentry", "kind", "work_note"),
        ("core_attachment", "object_id", alice.pk),
        ("core_attachment", "internal", True),
        ("core_attachment", "size", 99),
    ):
        pk = entry.pk if table == "core_journalentry" else attachment.pk
        with refused, rewriting("erasure"):
            _raw(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608
    with rewriting("erasure"):  # the personal columns, the actor to the pseudonym
        JournalEntry.objects.filter(pk=entry.pk).update(body="[erased]", actor=alice)
        Attachment.objects.filter(pk=attachment.pk).update(filename="x.txt", uploaded_by=alice)
    entry.refresh_from_db()
    assert (entry.body, entry.actor_id, entry.internal) == ("[erased]", alice.pk, False)


@postgres_only
def test_rewriting_the_audit_log_touches_only_its_personal_columns(db, agent):
    event = record("auth.sign_in", actor=agent)
    refused = pytest.raises(DatabaseError, match="only the personal columns")
    with refused, rewriting("erasure"):
        _raw("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="never deleted"), rewriting("erasure", remove=True):
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="auth.sign_in").exists()


@postgres_only
def test_retention_may_remove_timeline_entries_and_attachments_only_when_told(db, agent):
    entry, attachment = _journal_and_attachment(agent)
    with pytest.raises(DatabaseError, match="never deleted"), rewriting("retention"):
        JournalEntry.objects.filter(pk=entry.pk).delete()
    with rewriting("retention: closed incidents older than 7 years", remove=True):
        JournalEntry.objects.filter(pk=entry.pk).delete()
        Attachment.objects.filter(pk=attachment.pk).delete()
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()


def test_pseudonymise_keeps_the_chain_verifiable(db, agent, admin_user):
    agents_events = AuditEvent.objects.filter(target_id=str(agent.pk)).count()
    mine = record("auth.sign_in", actor=agent)
    about_me = record(
        "admin.changed", actor=admin_user, target=agent, before={"email": "agent@example.com"}
    )
    record("auth.sign_in", actor=admin_user)
    with rewriting("erasure of agent", actor=admin_user):
        changed = pseudonymise(agent, "erased-1", values=["agent@example.com"])
    assert changed == agents_events + 2  # made an agent (role, group), signed in, changed
    mine.refresh_from_db()
    about_me.refresh_from_db()
    assert mine.actor_username == "erased-1" and mine.rewritten_at is not None
    assert about_me.target_repr == "erased-1"
    assert about_me.before == {"email": "erased-1"}
    assert verify().ok


def test_pseudonymise_reaches_events_about_something_else_that_name_the_person(
    db, agent, admin_user
):
    """A token's or a team's event has the token or team as its target and names the
    person only in its data: erasure finds it by its text and replaces whole values only
    (a value that merely contains the username is someone else's and stays)."""
    team = record("team.member_added", actor=admin_user, target=admin_user, member="agent")
    other = record("team.member_added", actor=admin_user, member="agent-2")
    with rewriting("erasure of agent", actor=admin_user):
        pseudonymise(agent, "erased-1", values=["agent@example.com"])
    team.refresh_from_db()
    other.refresh_from_db()
    assert team.details == {"member": "erased-1"} and team.rewritten_at is not None
    assert other.details == {"member": "agent-2"} and other.rewritten_at is None
    assert verify().ok


def test_a_users_deletion_keeps_the_trail_readable(db):
    someone = make_user("someone")
    event = record("auth.sign_in", actor=someone)
    entry, _attachment = _journal_and_attachment(someone)
    someone.delete()
    event.refresh_from_db()
    entry.refresh_from_db()
    assert event.actor_id is None and event.actor_username == "someone"
    assert entry.actor_id is None
    assert verify().ok


@postgres_only
def test_the_chain_head_only_moves_forward(db):
    event = record("test.event")
    for sql in (
        "UPDATE audit_chainhead SET sequence = sequence - 1",
        "UPDATE audit_chainhead SET hash = repeat('0', 64)",
        "DELETE FROM audit_chainhead",
    ):
        with pytest.raises(DatabaseError, match="chain head"):
            _raw(sql)
    assert verify().ok and record("test.next").sequence == event.sequence + 1


@postgres_only
def test_audit_verify_exits_non_zero_naming_the_broken_event(db):
    events = _events(3)
    _raw(
        "UPDATE audit_auditevent SET details = '{\"number\": 7}' WHERE id = %s",
        [events[1].pk],
        bypass=True,
    )
    with pytest.raises(CommandError, match=f"broken at event #{events[1].sequence}:") as caught:
        call_command("audit_verify")
    assert caught.value.returncode == 1


def test_the_client_address_comes_only_from_a_trusted_proxy(db, settings, agent):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6", HTTP_USER_AGENT="x" * 5000
    )
    request.user = agent
    event = record("auth.sign_in", request=request)
    assert event.client_address == "10.0.0.9" and event.actor_username == "agent"
    assert len(event.user_agent) == 300
    settings.TRUSTED_PROXY_COUNT = 1
    assert record("auth.sign_in", request=request).client_address == "6.6.6.6"


def test_hostile_values_are_kept_safely(db):
    request = RequestFactory().get("/", REMOTE_ADDR="not-an-address", HTTP_USER_AGENT="a\x00b")
    event = record(
        "auth.sign_in_failed",
        request=request,
        username="eve\x00<script>",
        **{"odd\x00name": ["\x00", {"deep": "x\x00"}]},
    )
    event.refresh_from_db()
    assert event.client_address is None and event.user_agent == "ab"
    assert event.details == {"username": "eve<script>", "oddname": ["", {"deep": "x"}]}
    assert verify().ok
