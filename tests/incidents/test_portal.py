"""The self-service portal as an employee's browser sees it: reporting an issue, following
it, commenting, confirming or reopening a resolution, withdrawing a report, and files;
never anyone else's tickets and never the service desk's internal notes."""

import html
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue.models import Service
from incidents import services
from incidents.models import Incident
from itsm.core.models import Attachment, JournalEntry
from itsm.core.practices import registry as portal_registry
from tests import factories
from tests.factories import page, web


def portal(incident, sub="") -> str:
    return f"/portal/issues/{incident.number}/{sub + '/' if sub else ''}"


def journal(incident, kind=None):
    entries = JournalEntry.objects.for_record(incident)
    return entries.filter(kind=kind) if kind else entries


def upload(name="screenshot.txt", content=b"error 550\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def listing(captured) -> str:
    return "\n".join(f"{i}. {q['sql']}" for i, q in enumerate(captured.captured_queries, 1))


def count_queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured), captured


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def mine(alice, priority_matrix):
    """An issue alice reported herself on the portal."""
    return services.open_incident(alice, {"title": "My laptop does not boot"}, channel="portal")


@pytest.fixture
def worked(agent, alice, service_desk, priority_matrix):
    """Alice's issue, being worked by the service desk."""
    incident = factories.incident(
        alice, actor=agent, title="Cannot send e-mail", assignment_group=service_desk
    )
    return services.update_incident(incident, agent, {"assigned_to": agent, "state": "in_progress"})


@pytest.fixture
def resolved(agent, worked):
    return factories.resolve(worked, agent, notes="Restarted the mail relay.")


def state_form(body, incident, state):
    return factories.html_form(body, portal(incident, "state"), state=state)


# Reporting ---------------------------------------------------------------------------------


class TestReport:
    def test_form(self, alice, email_service):
        Service.objects.create(name="Old fax", status=Service.Status.RETIRED)
        response = web(alice).get("/portal/issues/new/")
        assert response.status_code == 200
        body = page(response)
        assert "What is wrong?" in body
        assert "E-mail" in body
        assert "Old fax" not in body  # only live services are offered

    def test_valid_report(self, alice, email_service, priority_matrix):
        client = web(alice)
        form = factories.html_form(page(client.get("/portal/issues/new/")), "")
        form.update(
            title="Outlook keeps asking for my password",
            description="Since this morning.",
            service=str(email_service.pk),
        )
        response = client.post("/portal/issues/new/", form)
        incident = Incident.objects.get()
        assert response.status_code == 302
        assert response.url == portal(incident)
        assert (incident.caller, incident.opened_by) == (alice, alice)
        assert incident.channel == "portal"
        assert incident.state == "new"
        assert incident.service == email_service
        assert incident.description == "Since this morning."

        body = page(client.get(response.url))
        assert f"Thanks, we have logged your issue as {incident.number}." in body
        assert "Outlook keeps asking for my password" in body

    @pytest.mark.parametrize("title", ["", "   "])
    def test_empty_title_is_400(self, alice, title):
        response = web(alice).post(
            "/portal/issues/new/", {"title": title, "description": "Keep me"}
        )
        assert response.status_code == 400
        block = factories.field_block(page(response), "title")
        assert "has-error" in block
        assert "This field is required." in block
        assert "Keep me" in page(response)
        assert not Incident.objects.exists()

    def test_retired_service_is_refused(self, alice):
        retired = Service.objects.create(name="Old fax", status=Service.Status.RETIRED)
        response = web(alice).post(
            "/portal/issues/new/", {"title": "Fax", "service": str(retired.pk)}
        )
        assert response.status_code == 400
        assert "Select a valid choice" in factories.field_block(page(response), "service")
        assert not Incident.objects.exists()

    def test_staff_fields_are_refused(self, alice, agent, service_desk):
        # The portal form has no such fields; posted anyway, they are refused as the API
        # refuses them (one rule for both), naming each, and nothing is logged.
        response = web(alice).post(
            "/portal/issues/new/",
            {
                "title": "Screen flickers",
                "caller": "agent",
                "assignment_group": str(service_desk.pk),
                "major": "on",
                "impact": "1",
            },
        )
        assert response.status_code == 400
        body = page(response)
        # Choices an employee may not see are no choices for them...
        assert "caller: There is no active user agent." in body
        assert "assignment_group: Select a valid choice." in body
        # ... and fields they may not set are refused by name.
        response = web(alice).post(
            "/portal/issues/new/", {"title": "Screen flickers", "major": "on", "impact": "1"}
        )
        assert response.status_code == 400
        for field in ("major", "impact"):
            assert f"{field}: This field cannot be changed." in page(response), field
        assert not Incident.objects.exists()


# Following an issue -----------------------------------------------------------------------


class TestPortalHome:
    def test_lists_my_tickets_only(self, alice, bob, mine, worked):
        theirs = factories.incident(bob, title="Bob's printer")
        body = page(web(alice).get("/portal/"))
        assert f'href="/portal/issues/{mine.number}/"' in body
        assert f'href="/portal/issues/{worked.number}/"' in body
        assert theirs.number not in body
        assert "Bob's printer" not in html.unescape(body)

    def test_nothing_yet(self, bob):
        body = page(web(bob).get("/portal/"))
        assert "Report an issue" in body
        assert "Nothing here yet." in body

    def test_agents_may_use_the_portal(self, agent):
        body = page(web(agent).get("/portal/"))
        assert "Agent workspace" in body


class TestWhoSeesWhat:
    def test_someone_elses_issue_is_404(self, bob, worked):
        assert web(bob).get(portal(worked)).status_code == 404

    @pytest.mark.parametrize(
        ("sub", "data"),
        [
            ("comment", {"body": "Me too"}),
            ("state", {"state": "cancelled"}),
            ("state", {"state": "closed"}),
        ],
    )
    def test_someone_elses_posts_are_404(self, bob, worked, resolved, sub, data):
        before = journal(worked).count()
        response = web(bob).post(portal(worked, sub), data)
        assert response.status_code == 404
        assert fresh(worked).state == "resolved"
        assert journal(worked).count() == before

    def test_someone_elses_new_issue_cannot_be_withdrawn(self, bob, mine):
        assert web(bob).post(portal(mine, "state"), {"state": "cancelled"}).status_code == 404
        assert fresh(mine).state == "new"

    def test_someone_elses_issue_takes_no_files(self, bob, worked):
        response = web(bob).post(f"/incidents/{worked.number}/attach/", {"file": upload()})
        assert response.status_code == 404
        assert not Attachment.objects.exists()

    def test_unknown_number_is_404(self, alice):
        assert web(alice).get("/portal/issues/INC9999999/").status_code == 404

    def test_caller_never_sees_work_notes_or_internal_files(self, agent, alice, worked):
        services.comment(worked, agent, "We restarted the relay; please try again.")
        services.comment(worked, agent, "SECRET-NOTE relay creds in vault", internal=True)
        services.update_incident(worked, agent, {"urgency": 1, "description": "INTERNAL-EDIT"})
        services.attach(worked, agent, upload("public-log.txt"))
        services.attach(worked, agent, upload("internal-plan.txt"), internal=True)
        agent_view = page(web(agent).get(f"/incidents/{worked.number}/"))
        assert "SECRET-NOTE" in agent_view
        assert "internal-plan.txt" in agent_view

        body = html.unescape(page(web(alice).get(portal(worked))))
        assert "We restarted the relay; please try again." in body
        assert "public-log.txt" in body
        assert "SECRET-NOTE" not in body
        assert "work note" not in body
        assert "internal-plan.txt" not in body
        assert "<b>urgency</b>" not in body  # field changes are internal
        assert "Notified" not in body  # so are notifications
        public = Attachment.objects.get(filename="public-log.txt")
        assert f'href="/attachments/{public.pk}/"' in body

    def test_shows_state_and_handler(self, alice, worked):
        body = page(web(alice).get(portal(worked)))
        assert "In progress" in body
        assert "handled by Agent" in body


class TestComment:
    def test_comment_on_my_own(self, alice, worked):
        client = web(alice)
        form = factories.html_form(page(client.get(portal(worked))), portal(worked, "comment"))
        form["body"] = "It still bounces."
        response = client.post(portal(worked, "comment"), form)
        assert response.status_code == 302
        assert response.url == portal(worked)
        entry = journal(worked, "comment").get(actor=alice)
        assert (entry.body, entry.internal) == ("It still bounces.", False)
        body = page(client.get(portal(worked)))
        assert "Your comment was added." in body
        assert "It still bounces." in body

    def test_comment_is_escaped(self, alice, worked):
        client = web(alice)
        client.post(portal(worked, "comment"), {"body": "<script>alert(1)</script>"})
        body = page(client.get(portal(worked)))
        assert "<script>alert(1)" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body

    def test_end_user_cannot_write_a_work_note(self, alice, worked):
        web(alice).post(portal(worked, "comment"), {"body": "Psst", "internal": "on"})
        entry = journal(worked).get(actor=alice, body="Psst")
        assert (entry.kind, entry.internal) == ("comment", False)

    @pytest.mark.parametrize("text", ["", "  \n "])
    def test_empty_comment_is_400(self, alice, worked, text):
        before = journal(worked).count()
        response = web(alice).post(portal(worked, "comment"), {"body": text})
        assert response.status_code == 400
        assert '<p class="error" role="alert">This field is required.</p>' in page(response)
        assert journal(worked).count() == before

    def test_closed_issue_has_no_comment_box(self, alice, resolved):
        web(alice).post(portal(resolved, "state"), {"state": "closed"})
        body = page(web(alice).get(portal(resolved)))
        assert portal(resolved, "comment") not in body
        assert "Restarted the mail relay." in body


class TestResolution:
    def test_resolved_offers_confirm_and_reopen(self, alice, resolved):
        body = page(web(alice).get(portal(resolved)))
        assert "We think this is fixed" in body
        assert "Restarted the mail relay." in body
        assert "Yes, it's fixed" in body
        assert "No, reopen it" in body
        assert "Withdraw this report" not in body

    def test_confirm_closes(self, alice, resolved):
        client = web(alice)
        form = state_form(page(client.get(portal(resolved))), resolved, "closed")
        response = client.post(portal(resolved, "state"), form)
        assert response.status_code == 302
        incident = fresh(resolved)
        assert incident.state == "closed"
        assert incident.closed_at is not None
        body = page(client.get(portal(resolved)))
        assert "Thanks for confirming; the issue is closed." in body
        assert "Yes, it's fixed" not in body

    def test_reopen_with_a_reason(self, alice, resolved):
        client = web(alice)
        form = state_form(page(client.get(portal(resolved))), resolved, "in_progress")
        form["body"] = "Still bouncing for external addresses."
        response = client.post(portal(resolved, "state"), form)
        assert response.status_code == 302
        incident = fresh(resolved)
        assert incident.state == "in_progress"
        assert incident.reopen_count == 1
        assert incident.resolution_notes == ""
        reason = journal(resolved, "comment").get(actor=alice)
        assert reason.body == "Still bouncing for external addresses."
        assert not reason.internal
        body = page(client.get(portal(resolved)))
        assert "The issue is reopened; we will look at it again." in body
        assert "Still bouncing for external addresses." in body
        # ... and the agent sees the reason as a public reply from the caller.
        agent_body = page(web(incident.assigned_to).get(f"/incidents/{resolved.number}/"))
        assert "Still bouncing for external addresses." in agent_body

    def test_reopen_without_a_reason(self, alice, resolved):
        response = web(alice).post(portal(resolved, "state"), {"state": "in_progress"})
        assert response.status_code == 302
        assert fresh(resolved).state == "in_progress"
        assert not journal(resolved, "comment").filter(actor=alice).exists()

    def test_reopen_after_the_window_is_refused(self, settings, alice, resolved):
        Incident.objects.filter(pk=resolved.pk).update(
            resolved_at=timezone.now() - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS + 1)
        )
        client = web(alice)
        body = page(client.get(portal(resolved)))
        assert "No, reopen it" not in body
        assert "Yes, it's fixed" in body
        response = client.post(portal(resolved, "state"), {"state": "in_progress", "body": "x"})
        assert response.status_code == 302
        assert fresh(resolved).state == "resolved"
        assert not journal(resolved, "comment").filter(actor=alice).exists()
        assert "msg-error" in page(client.get(portal(resolved)))


class TestWithdraw:
    def test_withdraw_a_new_report(self, alice, mine):
        client = web(alice)
        body = page(client.get(portal(mine)))
        assert "Withdraw this report" in body
        response = client.post(portal(mine, "state"), state_form(body, mine, "cancelled"))
        assert response.status_code == 302
        assert fresh(mine).state == "cancelled"
        body = page(client.get(portal(mine)))
        assert "Your report is withdrawn." in body
        assert "Withdraw this report" not in body


class TestNotApplicable:
    def test_in_progress_offers_no_buttons(self, alice, worked):
        body = page(web(alice).get(portal(worked)))
        assert portal(worked, "state") not in body
        assert "Withdraw this report" not in body
        assert "We think this is fixed" not in body

    @pytest.mark.parametrize("target", ["closed", "cancelled", "resolved", "on_hold", "new", "x"])
    def test_state_posts_on_an_in_progress_issue_change_nothing(self, alice, worked, target):
        client = web(alice)
        before = journal(worked).count()
        response = client.post(portal(worked, "state"), {"state": target, "body": "Sneaky"})
        assert response.status_code == 302
        incident = fresh(worked)
        assert (incident.state, incident.version) == ("in_progress", worked.version)
        assert journal(worked).count() == before
        assert "That is not possible for this issue now." in page(client.get(portal(worked)))

    @pytest.mark.parametrize("target", ["in_progress", "closed", "resolved"])
    def test_end_user_cannot_move_a_new_issue_on(self, alice, mine, target):
        web(alice).post(portal(mine, "state"), {"state": target})
        assert fresh(mine).state == "new"

    def test_resolved_cannot_be_withdrawn(self, alice, resolved):
        web(alice).post(portal(resolved, "state"), {"state": "cancelled"})
        assert fresh(resolved).state == "resolved"

    def test_get_is_not_allowed(self, alice, mine):
        assert web(alice).get(portal(mine, "state")).status_code == 405
        assert web(alice).get(portal(mine, "comment")).status_code == 405


# Files --------------------------------------------------------------------------------------


class TestFiles:
    def test_attach_on_the_portal_page(self, alice, agent, worked):
        client = web(alice)
        body = page(client.get(portal(worked)))
        action = f"/incidents/{worked.number}/attach/"
        form = factories.html_form(body, action)
        form["file"] = upload()
        response = client.post(action, form)
        assert response.status_code == 302
        assert response.url == portal(worked)
        attachment = Attachment.objects.get()
        assert (attachment.uploaded_by, attachment.internal) == (alice, False)
        body = page(client.get(portal(worked)))
        assert "File attached." in body
        assert f'href="/attachments/{attachment.pk}/">screenshot.txt</a>' in body

        for user in (alice, agent):
            response = web(user).get(f"/attachments/{attachment.pk}/")
            assert response.status_code == 200
            assert b"".join(response.streaming_content) == b"error 550\n"

    def test_other_end_user_cannot_download(self, alice, bob, worked):
        web(alice).post(f"/incidents/{worked.number}/attach/", {"file": upload()})
        response = web(bob).get(f"/attachments/{Attachment.objects.get().pk}/")
        assert response.status_code == 404

    def test_end_user_cannot_add_internal_files(self, alice, worked):
        client = web(alice)
        response = client.post(
            f"/incidents/{worked.number}/attach/", {"file": upload(), "internal": "on"}
        )
        # Refused beside the file field on the portal's page (as every bad input is).
        assert response.status_code == 400
        assert not Attachment.objects.exists()
        assert "Only service desk staff can add internal files." in page(response)
        assert 'action="/incidents/' in page(response)  # the portal's own page, re-rendered
        assert "Work note" not in page(response)

    def test_internal_file_is_404_for_the_caller(self, agent, alice, worked):
        services.attach(worked, agent, upload("internal-plan.txt"), internal=True)
        attachment = Attachment.objects.get()
        assert web(alice).get(f"/attachments/{attachment.pk}/").status_code == 404

    def test_too_big_is_refused(self, settings, alice, worked):
        settings.ATTACHMENT_MAX_BYTES = 5
        client = web(alice)
        response = client.post(f"/incidents/{worked.number}/attach/", {"file": upload()})
        assert response.status_code == 400
        assert not Attachment.objects.exists()
        body = page(response)
        assert (
            '<p class="error" role="alert" id="file-err">The file is 10 bytes; the limit is 5 bytes.</p>'
            in body
        )


# Query counts -------------------------------------------------------------------------------


class TestQueryCount:
    # The home is made by the practices that contribute to it: session and user, one query
    # per "my tickets" source and at most two per panel (catalogue, my devices, known
    # issues…), whatever the number of rows.
    HOME_BOUND = 2 + len(portal_registry.portal) + 2 * len(portal_registry.panels)
    DETAIL_BOUND = 8

    def test_home_is_constant(self, alice, agent, service_desk, email_service, priority_matrix):
        client = web(alice)
        factories.incident(alice, title="First")
        client.get("/portal/")  # warm caches (content types, sessions)
        few, _ = count_queries(client, "/portal/")
        for i in range(15):
            made = factories.incident(
                alice,
                actor=agent,
                title=f"Issue {i}",
                assignment_group=service_desk if i % 2 else None,
                assigned_to=agent if i % 2 else None,
                service=email_service if i % 3 else None,
            )
            if i % 4 == 0:
                factories.resolve(made, agent)
        many, captured = count_queries(client, "/portal/")
        assert many == few, f"{few} for 1 ticket, {many} for 16:\n{listing(captured)}"
        assert many <= self.HOME_BOUND, listing(captured)

    def test_detail_is_constant(self, alice, agent, agent2, service_desk, priority_matrix):
        client = web(alice)
        plain = factories.incident(alice, title="Plain")
        busy = factories.incident(
            alice, actor=agent, title="Busy", assignment_group=service_desk, assigned_to=agent
        )
        for i in range(9):
            services.comment(busy, agent, f"Reply {i}")
            services.comment(busy, agent2, f"Note {i}", internal=True)
            services.comment(busy, alice, f"Me {i}")
        for i in range(3):
            services.attach(busy, [alice, agent, agent][i], upload(f"f{i}.txt"), i == 2)
        busy = factories.resolve(busy, agent)
        assert journal(busy).filter(internal=False).count() >= 20
        client.get(portal(plain))  # warm caches
        few, _ = count_queries(client, portal(plain))
        many, captured = count_queries(client, portal(busy))
        assert many == few, f"{few} for a new issue, {many} for a busy one:\n{listing(captured)}"
        assert many <= self.DETAIL_BOUND, listing(captured)


@pytest.mark.django_db
def test_caller_cannot_add_to_a_closed_issue(client, alice, agent):
    record = factories.incident(alice)
    services.update_incident(record, agent, {"state": "cancelled"})
    client.force_login(alice)
    before = JournalEntry.objects.filter(kind="comment").count()
    response = client.post(f"/portal/issues/{record.number}/comment/", {"body": "Hello?"})
    assert response.status_code == 400
    assert "please report a new issue" in response.content.decode()
    assert JournalEntry.objects.filter(kind="comment").count() == before
