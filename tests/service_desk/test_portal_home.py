"""The portal home as an employee sees it: what waits for them first (a resolution to
confirm, a question to answer, a delivery to confirm, an approval to give), each with
what to do; then their tickets, open ones apart from closed and cancelled ones, newest
activity first; never anyone else's; and a query count that does not grow with them."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalogue import services as catalogue
from catalogue.models import ApprovalLevel
from incidents import services
from incidents.models import Incident
from itsm.core.practices import registry
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db


def waiting_block(html: str) -> str:
    """The "Waiting for you" section, or "" when the page has none."""
    match = re.search(r'<section id="waiting".*?</section>', html, flags=re.DOTALL)
    return match.group(0) if match else ""


def tickets_panel(html: str, which: str) -> str:
    match = re.search(
        rf'<div id="tickets-{which}" class="tabpanel".*?(?=<div id="tickets-|</section>)',
        html,
        flags=re.DOTALL,
    )
    assert match, f"no {which} tickets panel"
    return match.group(0)


def row_of(html: str, number: str) -> str:
    match = re.search(rf'<li class="ticket[^"]*">(?:(?!</li>).)*{number}.*?</li>', html, re.DOTALL)
    assert match, f"no row for {number}"
    return match.group(0)


def on_hold(incident, agent, reason):
    return services.update_incident(incident, agent, {"state": "on_hold", "on_hold_reason": reason})


def age(incident, minutes):
    """Make an incident's last activity ``minutes`` ago (the list's order)."""
    Incident.objects.filter(pk=incident.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes)
    )


@pytest.fixture
def resolved(alice, agent, priority_matrix):
    incident = factories.incident(alice, actor=agent, title="VPN drops every hour")
    return factories.resolve(incident, agent, notes="Your VPN profile was renewed.")


@pytest.fixture
def laptop():
    return factories.laptop_item()


class TestWaitingForYou:
    def test_a_resolved_issue_asks_to_be_confirmed(self, alice, resolved):
        body = page(web(alice).get("/portal/"))
        block = waiting_block(body)
        assert "Resolved: is it fixed?" in block
        assert "VPN drops every hour" in block
        # One click confirms it, and the person comes back to the home page.
        form = factories.html_form(
            block, f"/portal/issues/{resolved.number}/state/", state="closed"
        )
        assert form["next"] == "/portal/"
        assert f'href="/portal/issues/{resolved.number}/#resolution"' in block  # or reopen
        # ... and its row in "my tickets" says so too.
        row = row_of(tickets_panel(body, "open"), resolved.number)
        assert "Waiting for you" in row

    def test_confirming_from_the_home_closes_it(self, alice, resolved):
        client = web(alice)
        response = client.post(
            f"/portal/issues/{resolved.number}/state/", {"state": "closed", "next": "/portal/"}
        )
        assert response.status_code == 302 and response.url == "/portal/"
        assert Incident.objects.get(pk=resolved.pk).state == "closed"
        body = page(client.get("/portal/"))
        assert "Thanks for confirming; the issue is closed." in body
        assert waiting_block(body) == ""
        assert resolved.number in tickets_panel(body, "closed")

    def test_nobody_else_confirms_it(self, bob, resolved):
        response = web(bob).post(
            f"/portal/issues/{resolved.number}/state/", {"state": "closed", "next": "/portal/"}
        )
        assert response.status_code == 404
        assert Incident.objects.get(pk=resolved.pk).state == "resolved"
        assert resolved.number not in page(web(bob).get("/portal/"))

    def test_on_hold_for_the_caller_asks_for_an_answer(self, alice, agent, priority_matrix):
        asked = on_hold(
            factories.incident(alice, actor=agent, title="Which printer?"), agent, "awaiting_caller"
        )
        supplier = on_hold(
            factories.incident(alice, actor=agent, title="Toner on order"),
            agent,
            "awaiting_supplier",
        )
        body = page(web(alice).get("/portal/"))
        block = waiting_block(body)
        assert "We need your answer" in block and "Which printer?" in block
        assert f'href="/portal/issues/{asked.number}/#reply"' in block
        assert "Toner on order" not in block  # waits on a supplier, not on her
        assert "Waiting for you" not in row_of(body, supplier.number)
        detail = page(web(alice).get(f"/portal/issues/{asked.number}/"))
        assert 'id="reply"' in detail and "We need your answer" in detail

    def test_a_delivered_request_asks_to_be_confirmed(self, alice, laptop):
        req = catalogue.submit_request(alice, laptop, {"model": "mac"})
        assert req.state == "fulfilled"
        body = page(web(alice).get("/portal/"))
        block = waiting_block(body)
        assert "Delivered: please confirm" in block
        factories.html_form(block, f"/portal/requests/{req.number}/close/")
        response = web(alice).post(f"/portal/requests/{req.number}/close/", {"next": "/portal/"})
        assert response.url == "/portal/"
        assert waiting_block(page(web(alice).get("/portal/"))) == ""

    def test_approvals_wait_for_the_approver_only(self, alice, bob, manager, laptop):
        alice.manager = manager
        alice.save()
        ApprovalLevel.objects.create(item=laptop, order=1, kind="manager")
        req = catalogue.submit_request(alice, laptop, {"model": "thinkpad"})
        approval = req.approvals.get()
        body = page(web(manager).get("/portal/"))
        block = waiting_block(body)
        assert "1 approval needs you to act." in block
        assert "Approval needed" in block and req.number in block
        assert f'href="/portal/approvals/#ap-{approval.pk}"' in block
        # The requester waits on the approver, not the other way round; others see nothing.
        assert "Approval needed" not in page(web(alice).get("/portal/"))
        assert waiting_block(page(web(bob).get("/portal/"))) == ""

    def test_nothing_waiting_shows_no_block(self, alice, agent, priority_matrix):
        factories.incident(alice, actor=agent, title="Just new")
        assert waiting_block(page(web(alice).get("/portal/"))) == ""


class TestMyTickets:
    def test_open_first_newest_activity_first_closed_apart(
        self, alice, agent, laptop, priority_matrix
    ):
        old = factories.incident(alice, actor=agent, title="Old but busy")
        new = factories.incident(alice, actor=agent, title="Quiet new one")
        withdrawn = factories.incident(alice, title="Never mind")
        services.update_incident(withdrawn, alice, {"state": "cancelled"})
        closed_req = catalogue.submit_request(alice, laptop, {"model": "mac"})
        catalogue.close_request(closed_req, alice)
        age(new, 30)
        age(old, 5)  # commented on lately: the newest activity
        body = page(web(alice).get("/portal/"))
        opened, closed = tickets_panel(body, "open"), tickets_panel(body, "closed")
        assert opened.index("Old but busy") < opened.index("Quiet new one")
        assert "Never mind" not in opened and closed_req.number not in opened
        assert "Never mind" in closed and closed_req.number in closed
        assert body.index('id="tickets-open"') < body.index('id="tickets-closed"')
        # Tabs name how many each holds (portal.js shows them).
        assert re.search(r'id="tab-open"[^>]*>Open <span class="count-pill">2</span>', body)
        assert re.search(r'id="tab-closed"[^>]*>Closed <span class="count-pill">2</span>', body)
        # Each row says what it is and where it stands.
        assert "Issue · updated" in row_of(opened, old.number)
        assert "Request · updated" in row_of(closed, closed_req.number)

    def test_nothing_yet(self, bob):
        body = page(web(bob).get("/portal/"))
        assert "Nothing here yet." in body
        assert 'id="tickets-open"' not in body

    def test_signed_out_people_sign_in_first(self, client):
        response = client.get("/portal/")
        assert response.status_code == 302 and response.url.startswith("/login/")


class TestNavigation:
    @pytest.mark.parametrize(
        "path, current",
        [
            ("/portal/issues/new/", "Report an issue"),
            ("/portal/catalogue/", "Request something"),
            ("/portal/approvals/", "Approvals"),
            ("/portal/knowledge/", "Knowledge"),
            ("/portal/known-errors/", "Known issues"),
        ],
    )
    def test_the_current_section_is_marked(self, alice, path, current):
        body = page(web(alice).get(path))
        marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', body)
        assert marked == [current]

    def test_account_links_sit_in_the_account_menu(self, alice, agent):
        body = page(web(alice).get("/portal/"))
        menu = re.search(r'<details class="account-menu">.*?</details>', body, re.DOTALL).group(0)
        assert "Preferences" in menu and "Sign out Alice" in menu
        assert "Agent workspace" not in menu
        assert "Agent workspace" in page(web(agent).get("/portal/"))


def count_queries(client, path="/portal/"):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return captured


def test_query_count_does_not_grow(alice, manager, agent, service_desk, laptop, priority_matrix):
    """One query per practice lists the tickets (open and closed), one the approvals that
    wait, whatever their number; within the bound the portal's other tests hold."""
    alice.manager = manager
    alice.save()
    ApprovalLevel.objects.create(item=laptop, order=1, kind="manager")

    def make(n, offset=0):
        for i in range(offset, offset + n):
            made = factories.incident(
                alice, actor=agent, title=f"Issue {i}", assignment_group=service_desk
            )
            if i % 3 == 0:
                factories.resolve(made, agent)
            elif i % 3 == 1:
                on_hold(made, agent, "awaiting_caller")
            else:
                services.update_incident(made, agent, {"state": "cancelled"})
            catalogue.submit_request(alice, laptop, {"model": "mac"})  # awaits approval
        ApprovalLevel.objects.filter(item=laptop).delete()
        catalogue.submit_request(alice, laptop, {"model": "mac"})  # fulfilled at once
        ApprovalLevel.objects.create(item=laptop, order=1, kind="manager")

    make(2)
    client = web(alice)
    approver = web(manager)
    client.get("/portal/")  # warm caches (content types, sessions)
    few, few_approver = len(count_queries(client)), len(count_queries(approver))
    make(12, offset=2)
    many = count_queries(client)
    listing = "\n".join(q["sql"] for q in many.captured_queries)
    assert len(many) == few, listing
    assert len(count_queries(approver)) == few_approver
    body = page(client.get("/portal/"))
    assert body.count("badge-waiting") >= 2 * 10  # flagged in both places
    bound = 2 + len(registry.portal) + 2 * len(registry.panels)
    assert len(many) <= bound, listing


def test_the_callers_answer_takes_it_off_their_list(alice, agent, service_desk, priority_matrix):
    """Answering the question the service desk waits for resumes the work: the issue is in
    progress again and no longer waits for the caller (an agent's reply changes nothing)."""
    asked = factories.incident(
        alice, actor=agent, title="Which printer?", assignment_group=service_desk
    )
    on_hold(asked, agent, "awaiting_caller")
    services.comment(Incident.objects.get(pk=asked.pk), agent, "Which floor is it on?")
    assert Incident.objects.get(pk=asked.pk).state == "on_hold"
    client = web(alice)
    response = client.post(f"/portal/issues/{asked.number}/comment/", {"body": "The 3rd floor."})
    assert response.status_code == 302
    incident = Incident.objects.get(pk=asked.pk)
    assert (incident.state, incident.on_hold_reason) == ("in_progress", "")
    assert waiting_block(page(client.get("/portal/"))) == ""
    # Waiting on a supplier, a comment of the caller's keeps it on hold.
    supplier = on_hold(
        factories.incident(alice, actor=agent, title="Toner"), agent, "awaiting_supplier"
    )
    client.post(f"/portal/issues/{supplier.number}/comment/", {"body": "Any news?"})
    assert Incident.objects.get(pk=supplier.pk).state == "on_hold"
