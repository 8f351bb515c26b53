"""Reporting an issue on the portal: the employee says how urgent it is and attaches
screenshots or files; bad input is refused beside the field and nothing is saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Incident
from incidents.services import MAX_REPORT_FILES
from itsm.core.models import Attachment, JournalEntry
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db

REPORT = "/portal/issues/new/"


def upload(name="screenshot.png", content=b"\x89PNG fake image", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def nothing_saved():
    assert not Incident.objects.exists()
    assert not Attachment.objects.exists()


class TestTheForm:
    def test_offers_urgency_and_files(self, alice):
        body = page(web(alice).get(REPORT))
        assert 'enctype="multipart/form-data"' in body
        urgency = factories.field_block(body, "urgency")
        assert "How urgent is it?" in urgency
        for value in ("1", "2", "3"):
            assert f'<option value="{value}"' in urgency
        assert '<option value="3" selected>' in urgency  # low unless they say otherwise
        files = factories.field_block(body, "attachments")
        assert 'type="file"' in files and "multiple" in files
        assert f"up to {MAX_REPORT_FILES} files" in files
        # What was typed is kept as a draft in the browser while they look at suggestions.
        assert 'data-draft="report-' in body and "data-draft-restore" in body


class TestUrgency:
    def test_the_employee_says_how_urgent(self, alice, priority_matrix):
        response = web(alice).post(REPORT, {"title": "Cannot log in", "urgency": "1"})
        assert response.status_code == 302
        incident = Incident.objects.get()
        assert (incident.urgency, incident.impact) == (1, 3)
        assert incident.priority == 3  # impact low x urgency high, by the matrix

    def test_low_when_not_given(self, alice, priority_matrix):
        web(alice).post(REPORT, {"title": "Mouse is sticky"})
        assert Incident.objects.get().urgency == 3

    @pytest.mark.parametrize("value", ["9", "0", "high", "1.5"])
    def test_an_unknown_urgency_is_refused_beside_the_field(self, alice, value):
        response = web(alice).post(
            REPORT, {"title": "Cannot log in", "description": "Keep me", "urgency": value}
        )
        assert response.status_code == 400
        block = factories.field_block(page(response), "urgency")
        assert "has-error" in block and "is not a valid choice" in block
        assert "Keep me" in page(response)
        nothing_saved()

    def test_impact_stays_the_service_desks(self, alice):
        response = web(alice).post(REPORT, {"title": "x", "urgency": "1", "impact": "1"})
        assert response.status_code == 400
        assert "impact: This field cannot be changed." in page(response)
        nothing_saved()

    def test_the_api_takes_urgency_from_an_end_user_too(self, end_user_client, priority_matrix):
        response = end_user_client.post(
            "/api/v1/incidents/", {"title": "Cannot log in", "urgency": 2}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["urgency"] == 2


class TestAttachments:
    def test_files_are_attached_to_the_new_issue(self, alice):
        response = web(alice).post(
            REPORT,
            {
                "title": "Printer shows E-42",
                "urgency": "2",
                "attachments": [upload(), upload("log.txt", b"E-42 at 09:12", "text/plain")],
            },
        )
        assert response.status_code == 302
        incident = Incident.objects.get()
        files = Attachment.objects.filter(object_id=incident.pk).order_by("filename")
        assert [(a.filename, a.internal, a.uploaded_by) for a in files] == [
            ("log.txt", False, alice),
            ("screenshot.png", False, alice),
        ]
        entries = JournalEntry.objects.for_record(incident).filter(kind="attachment")
        assert sorted(e.body for e in entries) == ["log.txt", "screenshot.png"]
        # The employee sees them on the issue's page, and may download them.
        body = page(web(alice).get(response.url))
        assert "screenshot.png" in body and "log.txt" in body
        assert web(alice).get(f"/attachments/{files[0].pk}/").status_code == 200

    def test_a_file_over_the_limit_refuses_the_report(self, settings, alice):
        settings.ATTACHMENT_MAX_BYTES = 10
        response = web(alice).post(
            REPORT,
            {
                "title": "Printer shows E-42",
                "description": "Keep me",
                "attachments": [upload("small.txt", b"ok"), upload("huge.png", b"x" * 11)],
            },
        )
        assert response.status_code == 400
        block = factories.field_block(page(response), "attachments")
        assert "has-error" in block
        assert "huge.png: The file is 11 bytes; the limit is 10 bytes." in block
        assert "Keep me" in page(response)
        nothing_saved()

    def test_an_empty_file_is_refused(self, alice):
        response = web(alice).post(
            REPORT, {"title": "x", "attachments": [upload("blank.png", b"")]}
        )
        assert response.status_code == 400
        assert "blank.png is empty." in factories.field_block(page(response), "attachments")
        nothing_saved()

    def test_too_many_files_are_refused(self, alice):
        files = [upload(f"shot{i}.png") for i in range(MAX_REPORT_FILES + 1)]
        response = web(alice).post(REPORT, {"title": "x", "attachments": files})
        assert response.status_code == 400
        assert f"Attach at most {MAX_REPORT_FILES} files; you chose {MAX_REPORT_FILES + 1}." in (
            factories.field_block(page(response), "attachments")
        )
        nothing_saved()

    def test_a_bad_field_saves_no_file(self, alice):
        response = web(alice).post(REPORT, {"title": "  ", "attachments": [upload()]})
        assert response.status_code == 400
        assert "This field is required." in factories.field_block(page(response), "title")
        nothing_saved()

    def test_signed_out_people_cannot_report(self, client):
        response = client.post(REPORT, {"title": "x", "attachments": [upload()]})
        assert response.status_code == 302 and "/login/" in response.url
        nothing_saved()
