"""Nobody edits the audit trail in the admin, superusers and the administrator role alike:
timeline entries are never added, changed or deleted (one by one or in bulk), and
attachments (who added which file to which record) are read-only."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.accounts.models import Role
from itsm.accounts.roles import ADMINISTRATORS, sync_administrator_permissions
from itsm.core import services as core
from itsm.core.models import Attachment, JournalEntry
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/core/journalentry/"
FILES = "/admin/core/attachment/"


@pytest.fixture
def administrator(db):
    sync_administrator_permissions()  # as after migrate
    return make_user("admin2", Role.ADMINISTRATOR)


@pytest.fixture(params=["administrator", "superuser"])
def admin_client(request, client, administrator, admin_user):
    client.force_login(administrator if request.param == "administrator" else admin_user)
    return client


@pytest.fixture
def record(alice, agent):
    incident = factories.incident(alice)
    core.add_comment(incident, agent, "Looking into it.")
    core.add_comment(incident, agent, "Found it.", internal=True)
    return incident


@pytest.fixture
def attachment(record, agent):
    return core.add_attachment(
        record, agent, SimpleUploadedFile("log.txt", b"the log", content_type="text/plain")
    )


def trail(record):
    return list(
        JournalEntry.objects.for_record(record).order_by("pk").values_list("pk", "kind", "body")
    )


def test_the_administrators_group_holds_no_right_over_the_trail(administrator):
    held = set(
        Permission.objects.filter(group__name=ADMINISTRATORS).values_list("codename", flat=True)
    )
    for name in ("journalentry", "attachment"):
        assert {f"add_{name}", f"change_{name}", f"delete_{name}"}.isdisjoint(held)
        assert f"view_{name}" in held
    assert not administrator.has_perm("core.delete_journalentry")
    assert administrator.has_perm("core.view_journalentry")


def test_timeline_entries_cannot_be_changed_or_deleted(admin_client, record):
    before = trail(record)
    entry = JournalEntry.objects.for_record(record).order_by("pk").last()
    assert admin_client.get(ENTRIES).status_code == 200  # they may read it
    assert admin_client.get(f"{ENTRIES}{entry.pk}/change/").status_code == 200  # read-only
    assert admin_client.get(f"{ENTRIES}add/").status_code == 403
    assert admin_client.post(f"{ENTRIES}add/", {"body": "forged"}).status_code == 403
    changed = admin_client.post(f"{ENTRIES}{entry.pk}/change/", {"body": "edited"})
    assert changed.status_code == 403
    assert admin_client.get(f"{ENTRIES}{entry.pk}/delete/").status_code == 403
    assert admin_client.post(f"{ENTRIES}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        ENTRIES,
        {
            "action": "delete_selected",
            "_selected_action": [pk for pk, _, _ in before],
            "post": "yes",
            "index": 0,
        },
    )
    assert bulk.status_code == 403
    assert trail(record) == before


def test_the_list_offers_no_bulk_delete(admin_client, record):
    page = admin_client.get(ENTRIES).content.decode()
    assert "delete_selected" not in page
    page = admin_client.get(FILES).content.decode()
    assert "delete_selected" not in page


def test_attachments_are_read_only(admin_client, attachment, record, bob, alice):
    fields = ("filename", "internal", "mime_type", "uploaded_by_id", "object_id", "content_type_id")

    def seen():
        return Attachment.objects.filter(pk=attachment.pk).values_list(*fields).get()

    before = seen()
    entries = trail(record)
    url = f"{FILES}{attachment.pk}/"
    assert admin_client.get(f"{url}change/").status_code == 200  # read-only
    forged = {
        "filename": "other.exe",
        "internal": "on",
        "mime_type": "application/x-msdownload",
        "uploaded_by": bob.pk,
        "object_id": record.pk + 1,
    }
    assert admin_client.post(f"{url}change/", forged).status_code == 403
    assert admin_client.get(f"{url}delete/").status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{FILES}add/").status_code == 403
    bulk = admin_client.post(
        FILES,
        {"action": "delete_selected", "_selected_action": [attachment.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert seen() == before
    assert trail(record) == entries


@pytest.mark.parametrize("name", ["recordlink", "notification"])
def test_links_and_the_outbox_are_read_only(admin_client, administrator, record, agent, name):
    """Links are made on the records' pages (which journal them) and the outbox is what
    the platform sends: neither is added, changed or deleted in the admin."""
    from itsm.core.models import Notification, RecordLink

    core.link_records(record, factories.incident(agent), agent)
    Notification.objects.create(
        recipient=record.requester, subject=f"{record.number} updated", body="Have a look."
    )
    model = {"recordlink": RecordLink, "notification": Notification}[name]
    row = model.objects.order_by("pk").first()
    before = model.objects.count()
    url = f"/admin/core/{name}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(f"{url}{row.pk}/change/").status_code == 200  # read-only
    assert admin_client.get(f"{url}add/").status_code == 403
    assert admin_client.post(f"{url}{row.pk}/change/", {"kind": "duplicates"}).status_code == 403
    assert admin_client.post(f"{url}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    assert admin_client.post(url, bulk).status_code == 403
    assert model.objects.count() == before
    assert not administrator.has_perm(f"core.delete_{name}")
