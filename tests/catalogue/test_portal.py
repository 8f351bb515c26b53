"""The portal's catalogue as an employee's browser sees it: browsing and searching items,
ordering through the item's form (every variable type, conditions, the server's errors next
to the fields), following a request, and approving or rejecting from the portal."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import services
from catalogue import variables as rules
from catalogue.models import (
    Approval,
    ApprovalLevel,
    CatalogueCategory,
    CatalogueItem,
    ServiceRequest,
    TaskTemplate,
    Variable,
)
from itsm.core.models import JournalEntry
from tests import factories
from tests.factories import page, web

pytestmark = pytest.mark.django_db
T = Variable.Type


def item_url(item) -> str:
    return f"/portal/catalogue/{item.pk}/"


def request_url(req, sub="") -> str:
    return f"/portal/requests/{req.number}/{sub + '/' if sub else ''}"


def block(html: str, name: str) -> str:
    """The wrapper of one question on the order form (its label, input and errors)."""
    start = html.index(f'data-var="{name}"')
    end = html.find("data-var=", start + 10)
    return html[start : end if end != -1 else html.index("</form>", start)]


def count_queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


@pytest.fixture
def hardware(db):
    return CatalogueCategory.objects.create(name="Hardware", order=1)


@pytest.fixture
def everything(hardware, mail_server):
    """An item with one question of every type, and a conditional pair."""
    item = CatalogueItem.objects.create(
        name="Workstation", short_description="A desk setup", category=hardware
    )
    spec = [
        ("reason", T.TEXT, {"required": True, "regex": "[A-Za-z ]+", "max_length": 40}),
        ("details", T.MULTILINE, {}),
        ("screens", T.NUMBER, {"min_value": 1, "max_value": 3}),
        (
            "kind",
            T.CHOICE,
            {"required": True, "choices": [{"value": "laptop"}, {"value": "desktop"}]},
        ),
        (
            "model",
            T.CHOICE,
            {
                "required": True,
                "show_when": {"variable": "kind", "equals": "laptop"},
                "choices": [{"value": v} for v in ("mac", "thinkpad", "xps", "surface", "pixel")],
            },
        ),
        (
            "extras",
            T.MULTICHOICE,
            {"choices": [{"value": "mouse", "label": "Mouse"}, {"value": "dock", "label": "Dock"}]},
        ),
        ("needed_by", T.DATE, {}),
        ("handover", T.DATETIME, {}),
        ("urgent", T.BOOLEAN, {}),
        ("why_urgent", T.TEXT, {"require_when": {"variable": "urgent", "equals": True}}),
        ("colleague", T.USER, {}),
        ("server", T.CI, {}),
        ("photo", T.ATTACHMENT, {}),
    ]
    for order, (name, kind, extra) in enumerate(spec):
        Variable.objects.create(
            item=item,
            name=name,
            label=name.replace("_", " ").title(),
            type=kind,
            order=order,
            **extra,
        )
    return item


def full_answers(mail_server):
    return {
        "reason": "New starter",
        "details": "Line one\nLine two",
        "screens": "2",
        "kind": "laptop",
        "model": "thinkpad",
        "extras": ["mouse", "dock"],
        "needed_by": "2030-01-15",
        "handover": "2030-01-16T09:30",
        "urgent": "true",
        "why_urgent": "Starts Monday",
        "colleague": "bob",
        "server": str(mail_server.pk),
    }


class TestBrowse:
    def test_categories_items_and_search(self, alice, everything, hardware):
        software = CatalogueCategory.objects.create(name="Software", order=2)
        CatalogueItem.objects.create(
            name="Adobe Reader", short_description="PDF", category=software
        )
        hidden = CatalogueItem.objects.create(
            name="Server room key", category=hardware, audience="roles", roles="manager"
        )
        client = web(alice)
        body = page(client.get("/portal/catalogue/"))
        assert "Hardware" in body and "Software" in body
        assert "Workstation" in body and "Adobe Reader" in body
        assert hidden.name not in body
        found = page(client.get("/portal/catalogue/?q=desk"))  # the short description
        assert "Workstation" in found and "Adobe Reader" not in found
        assert "Server room key" not in page(client.get("/portal/catalogue/?q=key"))
        assert client.get(item_url(hidden)).status_code == 404

    def test_an_inactive_item_is_not_found(self, alice, everything):
        everything.active = False
        everything.save()
        assert web(alice).get(item_url(everything)).status_code == 404

    def test_home_offers_search_popular_categories_and_approvals(
        self, alice, manager, everything, mail_server
    ):
        body = page(web(alice).get("/portal/"))
        assert 'action="/portal/catalogue/"' in body and 'name="q"' in body
        assert "Workstation" in body and "Hardware" in body
        alice.manager = manager
        alice.save()
        ApprovalLevel.objects.create(item=everything, order=1, kind="manager")
        req = services.submit_request(alice, everything, {"reason": "x", "kind": "desktop"})
        assert "1 approval" in page(web(manager).get("/portal/"))
        assert req.number in page(web(alice).get("/portal/"))  # "My requests"

    def test_catalogue_queries_do_not_grow_with_items(self, alice, hardware):
        def make(n):
            for i in range(n):
                CatalogueItem.objects.create(name=f"Item {i}", category=hardware)

        make(3)
        client = web(alice)
        few = count_queries(client, "/portal/catalogue/")
        make(12)
        assert count_queries(client, "/portal/catalogue/") == few
        few_home = count_queries(client, "/portal/")
        make(3)
        assert count_queries(client, "/portal/") == few_home


class TestOrder:
    def test_the_form_renders_every_type(self, alice, everything, mail_server):
        body = page(web(alice).get(item_url(everything)))
        assert 'type="date"' in block(body, "needed_by")
        assert 'type="datetime-local"' in block(body, "handover")
        assert 'type="number"' in block(body, "screens")
        assert "<textarea" in block(body, "details")
        assert 'type="radio"' in block(body, "kind")  # few choices: radios
        assert "<select" in block(body, "model")  # many: a select
        assert 'type="checkbox"' in block(body, "extras")
        assert mail_server.name in block(body, "server")
        assert 'type="file"' in block(body, "photo")
        assert 'enctype="multipart/form-data"' in body
        # The condition travels as JSON (PostgreSQL's jsonb may order its keys differently).
        shown_when = block(body, "model")
        assert "data-show-when=" in shown_when
        assert "&quot;variable&quot;: &quot;kind&quot;" in shown_when
        assert "data-require-when" in block(body, "why_urgent")
        assert "js/catalogue.js" in body
        for name in ("reason", "screens", "colleague", "handover"):
            assert f'<label for="id_{name}"' in block(body, name)
        assert "requested_for" not in body  # agents only

    def test_valid_order_redirects_and_saves_typed_answers(
        self, alice, bob, everything, mail_server
    ):
        response = web(alice).post(item_url(everything), full_answers(mail_server))
        assert response.status_code == 302
        req = ServiceRequest.objects.get()
        assert response.url == request_url(req)
        assert req.requester == req.requested_for == alice
        assert req.variables == {
            "reason": "New starter",
            "details": "Line one\nLine two",
            "screens": 2,
            "kind": "laptop",
            "model": "thinkpad",
            "extras": ["mouse", "dock"],
            "needed_by": "2030-01-15",
            "handover": req.variables["handover"],
            "urgent": True,
            "why_urgent": "Starts Monday",
            "colleague": "bob",
            "server": mail_server.pk,
        }
        assert req.variables["handover"].startswith("2030-01-16T09:30")

    def test_a_file_answers_an_attachment_question(self, alice, bob, everything, mail_server):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from itsm.core.models import Attachment

        photo = SimpleUploadedFile("desk.jpg", b"\xff\xd8 a photo", content_type="image/jpeg")
        response = web(alice).post(
            item_url(everything), {**full_answers(mail_server), "photo": photo}
        )
        assert response.status_code == 302
        req = ServiceRequest.objects.get()
        attachment = Attachment.objects.get()
        assert req.variables["photo"] == attachment.pk
        assert (attachment.filename, attachment.object_id) == ("desk.jpg", req.pk)

    def test_a_file_over_the_limit_is_refused_and_nothing_is_ordered(
        self, alice, bob, everything, mail_server, settings
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        settings.ATTACHMENT_MAX_BYTES = 4
        photo = SimpleUploadedFile("desk.jpg", b"far too large", content_type="image/jpeg")
        response = web(alice).post(
            item_url(everything), {**full_answers(mail_server), "photo": photo}
        )
        assert response.status_code == 400
        assert "the limit is 4 bytes" in block(page(response), "photo")
        assert not ServiceRequest.objects.exists()

    def test_bad_answers_are_400_next_to_the_fields_and_nothing_is_saved(
        self, alice, everything, mail_server
    ):
        data = full_answers(mail_server) | {
            "reason": "123",  # the regex wants letters
            "screens": "7",  # at most 3
            "colleague": "no body!",  # not a username
            "model": "",  # required when shown (kind is laptop)
            "needed_by": "soon",
        }
        response = web(alice).post(item_url(everything), data)
        assert response.status_code == 400
        body = page(response)
        # The server's message names the question and the form it expects.
        assert "Reason is not in the expected form: text matching [A-Za-z ]+." in block(
            body, "reason"
        )
        assert "At most 3" in block(body, "screens")
        assert "A username (letters, digits and @ . + - _)." in block(body, "colleague")
        assert "This is required" in block(body, "model")
        assert "valid date" in block(body, "needed_by")
        assert "This is required" not in block(body, "needed_by")
        assert 'value="New starter"' not in body  # the reason kept as typed
        assert 'value="123"' in block(body, "reason")
        assert not ServiceRequest.objects.exists()

    def test_a_conditional_question_is_required_only_when_shown(self, alice, everything):
        client = web(alice)
        response = client.post(item_url(everything), {"reason": "Desk", "kind": "desktop"})
        assert response.status_code == 302  # model not asked for a desktop
        response = client.post(item_url(everything), {"reason": "Desk", "kind": "laptop"})
        assert response.status_code == 400
        assert "This is required" in block(page(response), "model")
        assert ServiceRequest.objects.count() == 1

    def test_a_hidden_question_is_left_out(self, alice, everything):
        # A browser with the script disables it; one without sends it anyway.
        data = {"reason": "Desk", "kind": "desktop", "model": "mac"}
        assert web(alice).post(item_url(everything), data).status_code == 302
        assert "model" not in ServiceRequest.objects.get().variables

    def test_require_when(self, alice, everything):
        client = web(alice)
        data = {"reason": "Desk", "kind": "desktop", "urgent": "true"}
        response = client.post(item_url(everything), data)
        assert response.status_code == 400
        assert "This is required" in block(page(response), "why_urgent")
        data["urgent"] = "false"
        assert client.post(item_url(everything), data).status_code == 302
        assert ServiceRequest.objects.get().variables["urgent"] is False

    def test_required_multichoice_and_boolean(self, alice, hardware):
        item = CatalogueItem.objects.create(name="Kit", category=hardware)
        Variable.objects.create(
            item=item,
            name="parts",
            label="Parts",
            type=T.MULTICHOICE,
            required=True,
            choices=[{"value": "a"}, {"value": "b"}],
        )
        Variable.objects.create(
            item=item, name="agree", label="Agree", type=T.BOOLEAN, required=True
        )
        client = web(alice)
        response = client.post(item_url(item), {})
        assert response.status_code == 400
        body = page(response)
        assert "This is required" in block(body, "parts") or "at least one" in block(body, "parts")
        assert "This is required" in block(body, "agree")
        response = client.post(item_url(item), {"parts": ["b"], "agree": "false"})
        assert response.status_code == 302
        assert ServiceRequest.objects.get().variables == {"parts": ["b"], "agree": False}

    def test_the_form_as_served_submits(self, alice, hardware):
        item = CatalogueItem.objects.create(name="Mouse", category=hardware)
        Variable.objects.create(item=item, name="hand", label="Hand", type=T.TEXT, default="right")
        client = web(alice)
        data = factories.html_form(page(client.get(item_url(item))), "")
        assert client.post(item_url(item), data).status_code == 302
        assert ServiceRequest.objects.get().variables == {"hand": "right"}

    def test_an_item_not_orderable_cannot_be_posted(self, alice, everything):
        everything.audience = "roles"
        everything.roles = "manager"
        everything.save()
        response = web(alice).post(item_url(everything), {"reason": "Desk", "kind": "desktop"})
        assert response.status_code == 404
        assert not ServiceRequest.objects.exists()

    def test_agents_may_order_for_someone_else(self, agent, alice, everything):
        client = web(agent)
        assert 'name="requested_for"' in page(client.get(item_url(everything)))
        data = {"reason": "Desk", "kind": "desktop", "requested_for": "ghost"}
        response = client.post(item_url(everything), data)
        assert response.status_code == 400
        assert "no active user ghost" in page(response)
        data["requested_for"] = "alice"
        assert client.post(item_url(everything), data).status_code == 302
        req = ServiceRequest.objects.get()
        assert (req.requester, req.requested_for) == (agent, alice)

    def test_end_users_cannot_order_for_others(self, alice, bob, everything):
        data = {"reason": "Desk", "kind": "desktop", "requested_for": "bob"}
        assert web(alice).post(item_url(everything), data).status_code == 302
        assert ServiceRequest.objects.get().requested_for == alice

    def test_missing_manager_is_shown(self, alice, everything):
        ApprovalLevel.objects.create(item=everything, order=1, kind="manager")
        response = web(alice).post(item_url(everything), {"reason": "Desk", "kind": "desktop"})
        assert response.status_code == 400
        assert "no manager" in page(response)
        assert not ServiceRequest.objects.exists()


@pytest.fixture
def approved_flow(alice, manager, service_desk, network_team, everything):
    alice.manager = manager
    alice.save()
    ApprovalLevel.objects.create(item=everything, order=1, kind="manager")
    TaskTemplate.objects.create(item=everything, stage=1, title="Buy it", team=service_desk)
    TaskTemplate.objects.create(item=everything, stage=1, title="Set up VPN", team=network_team)
    return everything


def order(user, item, **answers):
    return services.submit_request(user, item, {"reason": "Desk", "kind": "desktop", **answers})


class TestRequestPage:
    def test_requester_sees_progress_approvals_tasks_and_public_comments(
        self, alice, manager, agent, approved_flow
    ):
        req = order(alice, approved_flow)
        services.comment(req, agent, "Internal only", internal=True)
        services.comment(req, agent, "We are on it")
        client = web(alice)
        body = page(client.get(request_url(req)))
        assert 'class="progress"' in body and 'class="current" aria-current="step">Approval' in body
        assert "Awaiting approval" in body and "Manager" in body and "Pending" in body
        assert "We are on it" in body and "Internal only" not in body
        approval = Approval.objects.get()
        services.decide(approval, manager, True, "Fine by me")
        body = page(client.get(request_url(req)))
        assert "Fine by me" in body and "Buy it" in body and "Set up VPN" in body
        assert "Service Desk" in body and "Network" in body
        assert 'class="current" aria-current="step">Fulfilment' in body

    def test_others_get_404(self, alice, bob, agent, everything):
        req = order(alice, everything)
        assert web(bob).get(request_url(req)).status_code == 404
        assert web(bob).post(request_url(req, "comment"), {"body": "hi"}).status_code == 404
        assert web(bob).post(request_url(req, "cancel")).status_code == 404
        assert (
            web(agent).get(request_url(req)).status_code == 404
        )  # the portal is for the requester
        assert web(alice).get("/portal/requests/REQ9999999/").status_code == 404

    def test_requested_for_sees_it_too(self, agent, alice, everything):
        req = order(agent, everything)
        req = services.submit_request(
            agent, everything, {"reason": "Desk", "kind": "desktop"}, requested_for=alice
        )
        assert web(alice).get(request_url(req)).status_code == 200

    def test_rejection_reason_is_shown(self, alice, manager, approved_flow):
        req = order(alice, approved_flow)
        services.decide(Approval.objects.get(), manager, False, "Budget is frozen")
        body = page(web(alice).get(request_url(req)))
        assert "Not approved" in body and "Budget is frozen" in body
        assert 'class="failed"' in body
        assert "Cancel this request" not in body

    def test_comment_and_cancel(self, alice, approved_flow):
        req = order(alice, approved_flow)
        client = web(alice)
        assert client.post(request_url(req, "comment"), {"body": ""}).status_code == 400
        response = client.post(request_url(req, "comment"), {"body": "Any news?"})
        assert response.status_code == 302
        assert JournalEntry.objects.for_record(req).filter(body="Any news?").exists()
        assert "Cancel this request" in page(client.get(request_url(req)))
        client.post(request_url(req, "cancel"), {"reason": "Not needed"})
        req.refresh_from_db()
        assert req.state == "cancelled"
        assert Approval.objects.get().decision == "skipped"

    def test_confirm_a_fulfilled_request(self, alice, everything):
        req = order(alice, everything)  # no approvals, no tasks: fulfilled at once
        client = web(alice)
        body = page(client.get(request_url(req)))
        assert "Your request is fulfilled" in body and "No approval needed" in body
        assert client.post(request_url(req, "close")).status_code == 302
        req.refresh_from_db()
        assert req.state == "closed"

    def test_request_page_queries_do_not_grow(self, hardware, alice, service_desk, agent):
        def item_with(n):
            item = CatalogueItem.objects.create(name=f"Bundle {n}", category=hardware)
            team = factories.team(f"Approvers {n}", members=[])
            for i in range(n):
                user = factories_user(f"approver{n}_{i}")
                team.members.add(user)
                Variable.objects.create(item=item, name=f"v{i}", label=f"V{i}", type=T.TEXT)
                TaskTemplate.objects.create(
                    item=item, stage=1, title=f"Task {i}", team=service_desk
                )
            ApprovalLevel.objects.create(item=item, order=1, kind="team_all", team=team)
            req = services.submit_request(alice, item, {f"v{i}": "x" for i in range(n)})
            for approval in Approval.objects.filter(request=req):
                services.decide(approval, approval.approver, True, "ok")
            for i in range(n):
                services.comment(req, agent, f"Note {i}")
            assert req.tasks.count() == n
            return req

        client = web(alice)
        few = count_queries(client, request_url(item_with(3)))
        many = count_queries(client, request_url(item_with(15)))
        assert few == many


def factories_user(username):
    from tests.conftest import make_user

    return make_user(username)


class TestApprovals:
    def test_approve_from_the_portal(self, alice, manager, approved_flow):
        req = order(alice, approved_flow)
        client = web(manager)
        body = page(client.get("/portal/approvals/"))
        assert req.number in body and "Workstation" in body
        assert 'for="id_a' in body  # a labelled comment
        # Not blind: the answers to the item's questions, as the request page shows them.
        card = body[body.index(req.number) :]
        assert len(rules.display_answers(req)) >= 2
        for label, answer in rules.display_answers(req):
            assert f"<dt>{label}</dt><dd>{answer}</dd>" in card
        approval = Approval.objects.get()
        response = client.post(
            f"/portal/approvals/{approval.pk}/decide/", {f"a{approval.pk}-decision": "approve"}
        )
        assert response.status_code == 302
        req.refresh_from_db()
        assert req.state == "in_fulfilment"
        body = page(client.get("/portal/approvals/"))
        assert "Nothing waits for your approval" in body and "Approved" in body

    def test_reject_needs_a_comment(self, alice, manager, approved_flow):
        req = order(alice, approved_flow)
        approval = Approval.objects.get()
        client = web(manager)
        url = f"/portal/approvals/{approval.pk}/decide/"
        response = client.post(url, {f"a{approval.pk}-decision": "reject"})
        assert response.status_code == 400
        assert "Say why" in page(response)
        approval.refresh_from_db()
        assert approval.decision == "pending"
        response = client.post(
            url, {f"a{approval.pk}-decision": "reject", f"a{approval.pk}-comment": "No budget"}
        )
        assert response.status_code == 302
        req.refresh_from_db()
        assert (req.state, req.rejection_reason) == ("rejected", "No budget")

    def test_only_the_approver_may_decide(self, alice, bob, manager, approved_flow):
        order(alice, approved_flow)
        approval = Approval.objects.get()
        assert "Nothing waits" in page(web(bob).get("/portal/approvals/"))
        response = web(bob).post(
            f"/portal/approvals/{approval.pk}/decide/", {f"a{approval.pk}-decision": "approve"}
        )
        assert response.status_code == 404
        approval.refresh_from_db()
        assert approval.decision == "pending"

    def test_approvals_page_queries_do_not_grow(self, manager, hardware):
        item = CatalogueItem.objects.create(name="Thing", category=hardware)
        ApprovalLevel.objects.create(item=item, order=1, kind="manager")

        def requests(n):
            for i in range(n):
                user = factories_user(f"emp{ServiceRequest.objects.count()}_{i}")
                user.manager = manager
                user.save()
                services.submit_request(user, item, {})

        requests(3)
        client = web(manager)
        few = count_queries(client, "/portal/approvals/")
        requests(12)
        done = list(Approval.objects.all()[:5])
        for approval in done:
            services.decide(approval, manager, True, "")
        assert count_queries(client, "/portal/approvals/") == few


def test_pages_need_a_sign_in(client, everything):
    for url in ("/portal/catalogue/", item_url(everything), "/portal/approvals/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


def test_expected_delivery_and_cost_shown(alice, everything):
    everything.expected_delivery = timedelta(days=3)
    everything.cost = "120.00"
    everything.save()
    body = page(web(alice).get(item_url(everything)))
    assert "Usually delivered in" in body and "120.00" in body
    assert re.search(r"<h1>Workstation</h1>", body)
