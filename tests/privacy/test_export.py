"""Exporting a person's data: their records, comments, files and approvals, nobody
else's; on /me/privacy/ only one's own; administrators in the admin and by command."""

import json

import pytest
from django.core.management import call_command

from itsm.core import services as core
from itsm.privacy import services
from itsm.privacy.models import Erasure
from tests.conftest import make_user
from tests.factories import incident

pytestmark = pytest.mark.django_db


def streamed(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment;" in response["Content-Disposition"]
    return json.loads(b"".join(response.streaming_content))


def signed_in(client, user):
    client.force_login(user)
    return client


def test_export_holds_their_records_and_nobody_elses(ann, bob, agent, anns_data):
    core.add_comment(anns_data["incident"], agent, "Internal: Annabel called twice", True)
    data = json.loads("".join(services.export(ann, ann)))
    assert data["profile"]["username"] == "annlee"
    assert data["profile"]["email"] == "annlee@example.com"
    assert data["preferences"]["time_zone"] == "UTC"
    numbers = {r["number"] for r in data["records"]}
    assert anns_data["incident"].number in numbers
    assert anns_data["bobs"].number not in numbers
    assert anns_data["request"].number not in numbers  # Bob's request naming her in an answer
    mine = next(r for r in data["records"] if r["number"] == anns_data["incident"].number)
    assert mine["as"] == ["caller", "opened_by"]
    assert [c["body"] for c in mine["comments"]] == [
        "Please call me on +49 30 5550199 or annlee@example.com"
    ]
    assert all(e["record"].endswith(anns_data["incident"].number) for e in data["journal"])
    assert "Internal" not in json.dumps(data)  # an agent's work note is not hers
    assert [a["filename"] for a in data["attachments"]] == ["screenshot.txt", "annlee-cv.txt"]
    assert data["elsewhere"] == {}  # only administrators see the other tables
    assert "bob@example.com" not in json.dumps(data)


def test_export_lists_approvals_given(ann, bob, manager, administrator):
    from catalogue.models import ApprovalLevel, CatalogueCategory, CatalogueItem
    from catalogue.services import decide, submit_request

    item = CatalogueItem.objects.create(
        name="Laptop", category=CatalogueCategory.objects.create(name="Hardware")
    )
    ApprovalLevel.objects.create(item=item, kind="manager", order=1)
    bob.manager = manager
    bob.save(update_fields=["manager"])
    request = submit_request(bob, item, {})
    decide(request.approvals.get(), manager, True, "Fine by me")
    data = json.loads("".join(services.export(manager, administrator)))
    assert [(a["record"], a["decision"], a["comment"]) for a in data["approvals"]] == [
        (request.number, "Approved", "Fine by me")
    ]


def test_me_privacy_downloads_only_ones_own(client, ann, bob, anns_data):
    signed_in(client, bob)
    page = client.get("/me/privacy/")
    assert page.status_code == 200 and b"Download my data" in page.content
    data = streamed(client.get("/me/privacy/export/", {"user": ann.pk, "id": ann.pk}))
    assert data["profile"]["username"] == "bob"
    assert "annlee" not in json.dumps(data) and "Leeworth" not in json.dumps(data)
    assert client.get(f"/me/privacy/export/{ann.pk}/").status_code == 404
    assert client.post("/me/privacy/export/").status_code == 405


def test_me_privacy_for_staff_in_the_workspace(client, agent, ann, anns_data):
    client.force_login(agent)
    page = client.get("/me/privacy/")
    assert page.status_code == 200 and b"Download my data" in page.content
    data = streamed(client.get("/me/privacy/export/"))
    assert data["profile"]["username"] == "agent"
    # the record she called about, which the agent changed, is not the agent's
    assert {r["number"] for r in data["records"]} == {anns_data["bobs"].number}


def test_me_privacy_needs_signing_in(client):
    assert client.get("/me/privacy/export/").status_code == 302
    assert client.get("/me/privacy/").status_code == 302


def test_export_refused_to_another_non_administrator(ann, agent):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.export(ann, agent)  # before anything is read or sent


def test_administrator_exports_and_erases_in_the_admin(client, ann, administrator, anns_data):
    signed_in(client, administrator)
    data = streamed(client.get(f"/admin/privacy/person/{ann.pk}/export/"))
    assert data["profile"]["username"] == "annlee" and data["records"]
    page = client.get(f"/admin/privacy/person/{ann.pk}/erase/")
    assert page.status_code == 200 and b"Type the username" in page.content
    refused = client.post(
        f"/admin/privacy/person/{ann.pk}/erase/", {"reason": "Request 4", "confirm": "x"}
    )
    assert refused.status_code == 400 and not Erasure.objects.exists()
    done = client.post(
        f"/admin/privacy/person/{ann.pk}/erase/", {"reason": "Request 4", "confirm": "annlee"}
    )
    assert done.status_code == 302
    ann.refresh_from_db()
    assert ann.username == f"erased-{ann.pk}"
    # The list's actions lead there too.
    listed = client.post(
        "/admin/privacy/person/", {"action": "erase_data", "_selected_action": [ann.pk]}
    )
    assert listed.status_code == 302 and listed["Location"].endswith(f"/{ann.pk}/erase/")


@pytest.mark.parametrize("who", ["end_user", "agent", "manager"])
def test_nobody_else_reaches_the_privacy_admin(client, ann, who, request):
    user = {"end_user": "bob", "agent": "agent", "manager": "manager"}[who]
    user = request.getfixturevalue(user)
    if user.is_agent:
        user.is_staff = True  # even with the admin site open to them
        user.save()
    signed_in(client, user)
    for url in (
        f"/admin/privacy/person/{ann.pk}/export/",
        f"/admin/privacy/person/{ann.pk}/erase/",
    ):
        answer = client.get(url)
        assert answer.status_code in (302, 403), url
    answer = client.post(
        f"/admin/privacy/person/{ann.pk}/erase/", {"reason": "x", "confirm": "annlee"}
    )
    assert answer.status_code in (302, 403)
    ann.refresh_from_db()
    assert ann.username == "annlee"


def test_commands(ann, administrator, anns_data, tmp_path, capsys):
    out = tmp_path / "ann.json"
    call_command("privacy_export", "annlee", "--output", str(out))
    assert json.loads(out.read_text())["profile"]["username"] == "annlee"
    with pytest.raises(Exception, match="No user"):
        call_command("privacy_erase", "nobody", "--reason", "x", "--as", "chief")
    call_command("privacy_erase", "annlee", "--reason", "Request 5", "--as", "chief")
    assert f"erased-{ann.pk}" in capsys.readouterr().out
    call_command("privacy_erase", f"erased-{ann.pk}", "--reason", "again", "--as", "chief")
    assert "nothing changed" in capsys.readouterr().out
    make_user("plain")
    with pytest.raises(Exception, match="administrator"):
        call_command("privacy_erase", "plain", "--reason", "x", "--as", "plain")


def test_export_reads_in_chunks_not_per_record(ann, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            "".join(services.export(ann))
        return len(seen.captured_queries)

    for n in range(3):
        core.add_comment(incident(ann, title=f"Printer {n}"), ann, f"Still broken {n}")
    few = queries()
    for n in range(3, 30):
        core.add_comment(incident(ann, title=f"Printer {n}"), ann, f"Still broken {n}")
    assert queries() == few
    assert len(json.loads("".join(services.export(ann)))["records"]) == 30


def test_administrator_places_a_hold_and_rules_in_the_admin(client, ann, administrator):
    from django.contrib.contenttypes.models import ContentType

    from incidents.models import Incident
    from itsm.accounts.models import Team
    from itsm.privacy.models import LegalHold

    client.force_login(administrator)
    page = client.get("/admin/privacy/retentionrule/add/")
    incident_ct = ContentType.objects.get_for_model(Incident)
    team_ct = ContentType.objects.get_for_model(Team)
    assert f'value="{incident_ct.pk}"'.encode() in page.content
    assert f'value="{team_ct.pk}"'.encode() not in page.content
    record = incident(ann)
    add = "/admin/privacy/legalhold/add/"
    both = client.post(add, {"person": ann.pk, "record_number": record.number, "reason": "C"})
    assert both.status_code == 200 and b"not both" in both.content
    unknown = client.post(add, {"record_number": "INC9999999", "reason": "Case"})
    assert unknown.status_code == 200 and b"No record has this number" in unknown.content
    assert not LegalHold.objects.exists()
    on_record = client.post(add, {"record_number": record.number.lower(), "reason": "Case 8"})
    assert on_record.status_code == 302
    assert LegalHold.objects.on_record(record).get().placed_by == administrator
    placed = client.post(add, {"person": ann.pk, "reason": "Case 9"})
    assert placed.status_code == 302
    hold = LegalHold.objects.get(person=ann)
    assert hold.placed_by == administrator and hold.in_force
    assert client.get(f"/admin/privacy/legalhold/{hold.pk}/change/").status_code == 200
    with pytest.raises(services.ErasureRefused):
        services.erase(ann, administrator)


def test_each_export_is_audited(ann, administrator):
    from itsm.audit.models import AuditEvent

    "".join(services.export(ann, administrator))
    event = AuditEvent.objects.get(action="privacy.exported")
    assert (event.actor_id, event.details["user_id"]) == (administrator.pk, ann.pk)
