"""Erasing a person: their identifiers disappear from every place the platform keeps text,
the records, timelines, approvals and SLA timers stay, and what the rules refuse is
refused."""

import json

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from itsm.accounts.models import Role, User
from itsm.core import search
from itsm.core.models import Attachment, JournalEntry
from itsm.privacy import scrub, services
from itsm.privacy.models import Erasure, LegalHold
from practices.service_level.models import Timer
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SECRETS = ("Annabel Leeworth", "annlee@example.com", "5550199", "annlee", "Leeworth")


def occurrences(value: str) -> list[str]:
    """Every model and column holding ``value`` anywhere (case-blind), the audit log
    included."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in scrub.text_fields(model) + [
            f
            for f in model._meta.concrete_fields
            if f.get_internal_type() in ("CharField", "TextField", "JSONField", "FileField")
            and f not in scrub.text_fields(model)
        ]:
            qs = model._base_manager.annotate(_t=Cast(f.name, TextField()))
            if qs.filter(_t__icontains=value).exists():
                found.append(f"{model._meta.label}.{f.name}")
    return found


def snapshot():
    return {
        "journal": JournalEntry.objects.count(),
        "attachments": Attachment.objects.count(),
        "timers": sorted(
            Timer.objects.values_list("pk", "state", "started_at", "due_at", "business_elapsed")
        ),
        "records": sorted(
            (m._meta.label, m._base_manager.count())
            for m in apps.get_models()
            if m.__module__.split(".")[0] in ("incidents", "catalogue")
        ),
    }


def test_erasure_leaves_no_trace_of_the_person(
    ann, bob, agent, administrator, anns_data, django_capture_on_commit_callbacks
):
    cv = Attachment.objects.get(filename="annlee-cv.txt").file
    before = snapshot()
    assert before["timers"], "the incident runs an SLA timer"
    assert occurrences("Annabel Leeworth")  # the data is there to begin with
    assert search.search(agent, "Leeworth")

    with django_capture_on_commit_callbacks(execute=True):
        result = services.erase(ann, administrator, reason="Asked by Annabel Leeworth")

    assert result.erased
    for secret in SECRETS:
        assert occurrences(secret) == [], secret
    ann.refresh_from_db()
    assert ann.username == f"erased-{ann.pk}"
    assert ann.get_full_name() == f"Erased person {ann.pk}"
    assert (ann.email, ann.phone, ann.location, ann.manager) == ("", "", None, None)
    assert not ann.is_active and not ann.has_usable_password()
    # Search finds nothing by her name; vectors follow the rewritten text.
    assert search.search(agent, "Leeworth") == []
    assert search.search(agent, "Annabel") == []
    # Nothing deleted, no timer changed; the records still point at her account.
    assert snapshot() == before
    incident = anns_data["incident"]
    incident.refresh_from_db()
    assert incident.caller_id == ann.pk
    assert f"Erased person {ann.pk}" in incident.title
    comment = JournalEntry.objects.for_record(incident).get(kind="comment")
    assert comment.actor_id == ann.pk
    assert comment.body == "Please call me on [erased] or [erased]"
    fields = JournalEntry.objects.for_record(incident).filter(kind="fields").get()
    assert "Erased person" in json.dumps(fields.data)
    request = anns_data["request"]
    request.refresh_from_db()
    assert request.variables == {"colleague": f"erased-{ann.pk}"}
    assert set(Attachment.objects.values_list("uploaded_by", flat=True)) == {ann.pk}
    # The file named after her is stored under the pseudonym; the old copy is gone.
    renamed = Attachment.objects.get(filename=f"erased-{ann.pk}-cv.txt").file
    assert renamed.read() == b"my CV" and f"erased-{ann.pk}-cv" in renamed.name
    assert not cv.storage.exists(cv.name)
    # Bob's own data is untouched.
    bob.refresh_from_db()
    assert bob.email == "bob@example.com" and search.search(agent, "VPN")


def test_erasure_is_audited_with_the_pseudonym_only(ann, administrator, anns_data):
    audit = pytest.importorskip("itsm.audit.models")
    services.erase(ann, administrator, reason="Asked by annlee@example.com")
    erasure = Erasure.objects.get(person=ann)
    assert erasure.reason == "Asked by [erased]"
    event = audit.AuditEvent.objects.get(action="privacy.erased")
    assert event.actor_id == administrator.pk
    assert event.details["user_id"] == ann.pk
    assert event.details["pseudonym"] == f"erased-{ann.pk}"
    written = json.dumps(
        [event.target_repr, event.before, event.after, event.details, event.actor_username]
    )
    for secret in SECRETS:
        assert secret.lower() not in written.lower()


def test_second_erasure_changes_nothing(ann, administrator, anns_data):
    services.erase(ann, administrator)
    state = snapshot()
    rows = sorted(JournalEntry.objects.values_list("pk", "body", "data"), key=str)
    result = services.erase(ann, administrator)
    assert not result.erased
    assert snapshot() == state
    assert sorted(JournalEntry.objects.values_list("pk", "body", "data"), key=str) == rows
    assert Erasure.objects.count() == 1


def test_sessions_and_tokens_end(client, ann, administrator):
    from django.contrib.sessions.models import Session

    tokens = pytest.importorskip("itsm.api.tokens")
    client.force_login(ann)
    token, _ = tokens.issue(ann, name="laptop", scopes=tokens.available_scopes()[:1])
    totp = pytest.importorskip("django_otp.plugins.otp_totp.models")
    totp.TOTPDevice.objects.create(user=ann, name="Annabel's phone", confirmed=True)
    assert client.get("/me/").status_code == 200
    services.erase(ann, administrator)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not totp.TOTPDevice.objects.filter(user=ann).exists()  # her second factor gone
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(ann.pk) for s in Session.objects.all()
    )
    assert client.get("/me/").status_code == 302  # signed out
    # The sign-in's trail named her (axes' logs, the audit log's actor), and the token's
    # events name her as its owner in their details (the token is their target).
    for secret in SECRETS:
        assert occurrences(secret) == [], secret


def test_a_legal_hold_on_the_person_refuses(ann, administrator, anns_data):
    hold = LegalHold.objects.create(person=ann, reason="Case 12", placed_by=administrator)
    with pytest.raises(services.ErasureRefused):
        services.erase(ann, administrator)
    ann.refresh_from_db()
    assert ann.username == "annlee" and not Erasure.objects.exists()
    hold.released_at = hold.placed_at
    hold.save()
    assert services.erase(ann, administrator).erased


def test_a_held_record_keeps_its_text(ann, administrator, anns_data):
    incident = anns_data["incident"]
    LegalHold.objects.create(record=incident, reason="Case 13", placed_by=administrator)
    result = services.erase(ann, administrator)
    assert result.held_records >= 1
    incident.refresh_from_db()
    assert "Annabel Leeworth" in incident.title
    assert JournalEntry.objects.for_record(incident).filter(body__contains="annlee@").exists()
    # Elsewhere she is gone.
    bobs = anns_data["bobs"]
    assert not JournalEntry.objects.for_record(bobs).filter(body__contains="Leeworth").exists()


def test_superuser_and_last_administrator_are_refused(administrator):
    root = make_user("root", Role.ADMINISTRATOR, is_superuser=True)
    with pytest.raises(services.ErasureRefused):
        services.erase(root, administrator)
    other = make_user("chief2", Role.ADMINISTRATOR)
    User.objects.filter(pk=root.pk).update(is_active=False)
    services.erase(other, administrator)  # chief remains
    with pytest.raises(services.ErasureRefused):
        services.erase(administrator, administrator)  # now the last one


@pytest.mark.parametrize("role", [Role.END_USER, Role.AGENT, Role.MANAGER])
def test_only_administrators_erase(ann, role):
    actor = make_user(f"actor-{role}", role)
    with pytest.raises(PermissionDenied):
        services.erase(ann, actor)
    ann.refresh_from_db()
    assert ann.username == "annlee"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_journal_refuses_a_plain_update(anns_data):
    pytest.importorskip("itsm.audit.db")
    from django.db import DatabaseError, transaction

    entry = JournalEntry.objects.filter(kind="comment").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(body="rewritten")
    entry.refresh_from_db()
    assert entry.body != "rewritten"


def test_other_peoples_names_holding_hers_are_kept(ann, agent, administrator):
    from itsm.core import services as core
    from tests.factories import incident

    namesake = make_user("annlee-2")
    record = incident(namesake, agent, title="annlee-2 and annlee.backup and annlee")
    core.add_comment(record, agent, "Mail annlee-2@example.com, not annlee@example.com.")
    services.erase(ann, administrator)
    record.refresh_from_db()
    pseudonym = f"erased-{ann.pk}"
    assert record.title == f"annlee-2 and {pseudonym}.backup and {pseudonym}"
    comment = JournalEntry.objects.for_record(record).get(kind="comment")
    assert comment.body == "Mail annlee-2@example.com, not [erased]."
    namesake.refresh_from_db()
    assert namesake.username == "annlee-2"


def test_a_taken_pseudonym_does_not_block_the_erasure(ann, administrator, anns_data):
    squatter = make_user(f"erased-{ann.pk}")
    result = services.erase(ann, administrator)
    ann.refresh_from_db()
    assert result.erased and ann.username.startswith(f"erased-{ann.pk}-")
    squatter.refresh_from_db()
    assert squatter.username == f"erased-{ann.pk}" and squatter.is_active
    anns_data["request"].refresh_from_db()
    assert anns_data["request"].variables == {"colleague": ann.username}
