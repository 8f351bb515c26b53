"""The incident REST API as an integration sees it: through HTTP with DRF's client."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident, PriorityRule
from itsm.api.models import IdempotencyKey
from itsm.core.models import Attachment, JournalEntry, Notification
from tests import factories
from tests.conftest import PASSWORD, make_user

LIST = "/api/v1/incidents/"
NUMBER_RE = re.compile(r"^INC\d{7}$")


def detail(number, sub=""):
    return f"{LIST}{number}/{sub + '/' if sub else ''}"


def numbers(response):
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


def journal_count(incident):
    return JournalEntry.objects.for_record(incident).count()


@pytest.fixture
def assigned(agent, alice, service_desk):
    """Alice's incident, assigned to the service desk and its agent."""
    return factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent, impact=2, urgency=2
    )


@pytest.fixture
def mine(alice):
    """An incident alice reported herself through the portal."""
    return factories.incident(alice, title="My laptop does not boot")


# Authentication ----------------------------------------------------------------------


class TestAuth:
    def test_token_from_username_and_password_works_on_the_api(self, alice):
        client = APIClient()
        response = client.post(
            "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
        token = response.json()["token"]
        assert token

        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        listed = client.get(LIST)
        assert listed.status_code == 200
        assert listed.json()["results"] == []

    def test_wrong_password_is_400_without_token(self, alice):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
        )
        assert response.status_code == 400
        assert "token" not in response.json()

    def test_unauthenticated_list_is_refused(self, db):
        response = APIClient().get(LIST)
        assert response.status_code in (401, 403)
        assert "results" not in response.json()

    def test_made_up_token_is_refused(self, db):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
        assert client.get(LIST).status_code in (401, 403)


# Creating incidents ------------------------------------------------------------------


class TestCreate:
    def test_agent_logs_an_incident_for_a_caller(
        self, api_as, agent, alice, service_desk, email_service, mail_server
    ):
        response = api_as(agent).post(
            LIST,
            {
                "title": "Outlook cannot connect",
                "description": "Since 9 am",
                "caller": "alice",
                "service": email_service.pk,
                "configuration_items": [mail_server.pk],
                "impact": 2,
                "urgency": 1,
                "assignment_group": service_desk.pk,
                "assigned_to": "agent",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert NUMBER_RE.match(body["number"])
        assert body["caller"] == "alice"
        assert body["opened_by"] == "agent"
        assert body["state"] == "new"
        assert body["priority"] == 2
        assert body["channel"] == "api"
        assert body["configuration_items"] == [mail_server.pk]
        assert response["ETag"] == f'"{body["number"]}-v1"'
        incident = Incident.objects.get(number=body["number"])
        assert incident.caller == alice
        assert incident.assigned_to == agent

    @pytest.mark.parametrize(
        ("impact", "urgency", "priority"),
        [
            (1, 1, 1),
            (1, 2, 2),
            (1, 3, 3),
            (2, 1, 2),
            (2, 2, 3),
            (2, 3, 4),
            (3, 1, 3),
            (3, 2, 4),
            (3, 3, 5),
        ],
    )
    def test_priority_follows_the_default_matrix(
        self, api_as, agent, alice, priority_matrix, impact, urgency, priority
    ):
        response = api_as(agent).post(
            LIST, {"title": "x", "caller": "alice", "impact": impact, "urgency": urgency}
        )
        assert response.status_code == 201, response.content
        assert response.json()["priority"] == priority
        assert Incident.objects.get(number=response.json()["number"]).priority == priority

    def test_editing_the_matrix_changes_the_priority(self, api_as, agent, alice, priority_matrix):
        PriorityRule.objects.filter(impact=3, urgency=3).update(priority=2)
        client = api_as(agent)
        response = client.post(LIST, {"title": "x", "caller": "alice", "impact": 3, "urgency": 3})
        assert response.json()["priority"] == 2

        # and an update of impact/urgency follows the edited matrix too
        PriorityRule.objects.filter(impact=2, urgency=3).update(priority=1)
        number = response.json()["number"]
        patched = client.patch(detail(number), {"impact": 2})
        assert patched.status_code == 200, patched.content
        assert patched.json()["priority"] == 1

    def test_end_user_is_always_the_caller(self, api_as, alice, bob):
        before = Incident.objects.count()
        # Someone else as the caller is refused (an end user is offered only themselves),
        # not silently replaced; nothing is saved.
        refused = api_as(alice).post(
            LIST, {"title": "Printer jams", "description": "Floor 3", "caller": "bob"}
        )
        assert refused.status_code == 400, refused.content
        assert "caller" in refused.json()
        assert Incident.objects.count() == before
        for sent in ({"caller": "alice"}, {}):
            response = api_as(alice).post(
                LIST, {"title": "Printer jams", "description": "Floor 3", **sent}
            )
            assert response.status_code == 201, response.content
            assert response.json()["caller"] == "alice"
            incident = Incident.objects.get(number=response.json()["number"])
            assert incident.caller == alice
            assert incident.opened_by == alice
        assert Incident.objects.count() == before + 2

    @pytest.mark.parametrize("field", ["assignment_group", "assigned_to", "priority", "impact"])
    def test_end_user_cannot_set_staff_fields(self, api_as, alice, agent, service_desk, field):
        values = {
            "assignment_group": service_desk.pk,
            "assigned_to": "agent",
            "priority": 1,
            "impact": 1,
        }
        before = Incident.objects.count()
        response = api_as(alice).post(LIST, {"title": "Help", field: values[field]})
        assert response.status_code == 400, response.content
        assert field in response.json()
        assert Incident.objects.count() == before

    def test_missing_title(self, api_as, agent, alice):
        before = Incident.objects.count()
        response = api_as(agent).post(LIST, {"caller": "alice", "description": "no title"})
        assert response.status_code == 400
        assert "title" in response.json()
        assert Incident.objects.count() == before

    def test_blank_title(self, api_as, agent, alice):
        response = api_as(agent).post(LIST, {"caller": "alice", "title": "   "})
        assert response.status_code == 400
        assert "title" in response.json()
        assert not Incident.objects.exists()

    def test_unknown_service(self, api_as, agent, alice):
        response = api_as(agent).post(LIST, {"title": "x", "caller": "alice", "service": 999999})
        assert response.status_code == 400
        assert "service" in response.json()
        assert not Incident.objects.exists()

    def test_assignee_must_be_a_member_of_the_group(
        self, api_as, agent, agent2, alice, service_desk
    ):
        response = api_as(agent).post(
            LIST,
            {
                "title": "x",
                "caller": "alice",
                "assignment_group": service_desk.pk,
                "assigned_to": "agent2",
            },
        )
        assert response.status_code == 400
        assert "assigned_to" in response.json()
        assert not Incident.objects.exists()

    def test_subcategory_must_be_under_the_category(self, api_as, agent, alice):
        hardware = factories.category("Hardware")
        software = factories.category("Software")
        laptop = factories.category("Laptop", parent=hardware)
        client = api_as(agent)
        response = client.post(
            LIST,
            {"title": "x", "caller": "alice", "category": software.pk, "subcategory": laptop.pk},
        )
        assert response.status_code == 400
        assert "subcategory" in response.json()
        assert not Incident.objects.exists()

        as_top = client.post(LIST, {"title": "x", "caller": "alice", "category": laptop.pk})
        assert as_top.status_code == 400
        assert "category" in as_top.json()
        no_category = client.post(LIST, {"title": "x", "caller": "alice", "subcategory": laptop.pk})
        assert no_category.status_code == 400
        assert "subcategory" in no_category.json()
        assert not Incident.objects.exists()

        ok = client.post(
            LIST,
            {"title": "x", "caller": "alice", "category": hardware.pk, "subcategory": laptop.pk},
        )
        assert ok.status_code == 201, ok.content

    def test_state_cannot_be_given_on_create(self, api_as, agent, alice):
        response = api_as(agent).post(LIST, {"title": "x", "caller": "alice", "state": "resolved"})
        assert response.status_code == 400
        assert "state" in response.json()
        assert not Incident.objects.exists()

    def test_failed_create_writes_nothing_else(self, api_as, agent, alice, service_desk):
        journal = JournalEntry.objects.count()
        notes = Notification.objects.count()
        api_as(agent).post(
            LIST,
            {"title": "", "caller": "alice", "assignment_group": service_desk.pk, "major": True},
        )
        assert JournalEntry.objects.count() == journal
        assert Notification.objects.count() == notes


# Listing -------------------------------------------------------------------------------


def walk(client, url):
    """Follow ``next`` from ``url``; returns the rows of every page in order."""
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) >= {"results", "next"}
        assert len(body["results"]) <= 2
        rows += body["results"]
        url = body["next"]
        pages += 1
        assert pages < 50, "pagination does not end"
    return rows


class TestListPagination:
    @pytest.fixture
    def many(self, agent, alice, priority_matrix):
        created = []
        levels = [(1, 1), (3, 3), (2, 2), (3, 3), (1, 2), (2, 2), (3, 3)]
        for i, (impact, urgency) in enumerate(levels):
            created.append(
                factories.incident(
                    alice, actor=agent, title=f"Incident {i}", impact=impact, urgency=urgency
                )
            )
        # Ties on created_at as well, to exercise the tie-breaker.
        stamp = created[0].created_at
        Incident.objects.filter(pk__in=[created[1].pk, created[2].pk, created[3].pk]).update(
            created_at=stamp
        )
        return created

    def test_shape_and_page_size(self, api_as, agent, many):
        response = api_as(agent).get(LIST, {"page_size": 2})
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) == 2
        assert body["next"]
        assert "cursor=" in body["next"]

    def test_last_page_has_no_next(self, api_as, agent, many):
        body = api_as(agent).get(LIST, {"page_size": 50}).json()
        assert len(body["results"]) == len(many)
        assert body["next"] is None

    @pytest.mark.parametrize(
        "ordering",
        [None, "priority", "-priority", "-created_at", "created_at", "state", "-number", "urgency"],
    )
    def test_following_next_walks_every_row_once(self, api_as, agent, many, ordering):
        url = f"{LIST}?page_size=2" + (f"&ordering={ordering}" if ordering else "")
        rows = walk(api_as(agent), url)
        got = [row["number"] for row in rows]
        assert len(got) == len(set(got)), "duplicates across pages"
        assert set(got) == {i.number for i in many}

        field = (ordering or "-created_at").lstrip("-")
        descending = (ordering or "-created_at").startswith("-")
        values = [row[field] for row in rows]
        assert values == sorted(values, reverse=descending)
        # The API applies the same ordering as the database (ties broken by id).
        tie = "-id" if descending else "id"
        expected = list(
            Incident.objects.order_by(ordering or "-created_at", tie).values_list(
                "number", flat=True
            )
        )
        assert got == expected

    def test_next_keeps_the_filters(self, api_as, agent, many):
        low = {i.number for i in many if i.priority == 5}
        assert len(low) == 3
        rows = walk(api_as(agent), f"{LIST}?page_size=2&priority=5&ordering=-created_at")
        assert [r["number"] for r in rows] == list(
            Incident.objects.filter(priority=5)
            .order_by("-created_at", "-id")
            .values_list("number", flat=True)
        )
        assert {r["number"] for r in rows} == low

    def test_bad_cursor_is_400_naming_cursor(self, api_as, agent, many):
        response = api_as(agent).get(LIST, {"cursor": "not-a-cursor"})
        assert response.status_code == 400
        assert "cursor" in response.json()

    @pytest.mark.parametrize(
        ("ordering", "values"),
        [
            ("priority", ["abc", 1]),
            ("priority", [1, None]),
            ("-created_at", ["2024-02-30T00:00:00+00:00", 1]),
            ("-created_at", [{"a": 1}, 1]),
        ],
    )
    def test_crafted_cursor_is_400_not_500(self, api_as, agent, many, ordering, values):
        import base64
        import json

        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        response = api_as(agent).get(LIST, {"cursor": cursor, "ordering": ordering})
        assert response.status_code == 400
        assert "cursor" in response.json()

    def test_cursor_from_another_ordering_is_400(self, api_as, agent, many):
        client = api_as(agent)
        nxt = client.get(LIST, {"page_size": 2, "ordering": "priority"}).json()["next"]
        cursor = parse_qs(urlparse(nxt).query)["cursor"][0]
        response = client.get(LIST, {"cursor": cursor, "ordering": "-created_at"})
        assert response.status_code == 400
        assert "cursor" in response.json()

    @pytest.mark.parametrize("size", ["0", "abc", "1000"])
    def test_bad_page_size(self, api_as, agent, many, size):
        response = api_as(agent).get(LIST, {"page_size": size})
        assert response.status_code == 400
        assert "page_size" in response.json()


class TestListFilters:
    @pytest.fixture
    def data(self, agent, agent2, alice, bob, service_desk, network_team, email_service):

        urgent = factories.incident(
            alice,
            actor=agent,
            title="Mail server down",
            impact=1,
            urgency=1,
            assignment_group=service_desk,
            assigned_to=agent,
            service=email_service,
            major=True,
        )
        services.update_incident(urgent, agent, {"state": "in_progress"})
        vpn = factories.incident(
            bob,
            actor=agent2,
            title="VPN drops every hour",
            impact=3,
            urgency=3,
            assignment_group=network_team,
            assigned_to=agent2,
        )
        printer = factories.incident(
            alice, actor=agent, title="Printer out of toner", impact=2, urgency=2
        )
        return {"urgent": urgent, "vpn": vpn, "printer": printer}

    @staticmethod
    def query(client, **params):
        return numbers(client.get(LIST, params))

    def test_filters(self, api_as, agent, agent2, service_desk, network_team, email_service, data):
        urgent, vpn, printer = data["urgent"].number, data["vpn"].number, data["printer"].number
        c = api_as(agent)
        assert self.query(c) == {urgent, vpn, printer}
        assert self.query(c, state="in_progress") == {urgent}
        assert self.query(c, state="new") == {vpn, printer}
        assert self.query(c, priority=1) == {urgent}
        assert numbers(c.get(f"{LIST}?priority=1&priority=5")) == {urgent, vpn}
        assert self.query(c, assignment_group=service_desk.pk) == {urgent}
        assert self.query(c, assignment_group=network_team.pk) == {vpn}
        assert self.query(c, assignment_group="mine") == {urgent}
        assert self.query(api_as(agent2), assignment_group="mine") == {vpn}
        assert self.query(c, assigned_to="agent2") == {vpn}
        assert self.query(c, assigned_to="me") == {urgent}
        assert self.query(api_as(agent2), assigned_to="me") == {vpn}
        assert self.query(c, caller="bob") == {vpn}
        assert self.query(c, caller="alice") == {urgent, printer}
        assert self.query(c, service=email_service.pk) == {urgent}
        assert self.query(c, major="true") == {urgent}
        assert self.query(c, major="false") == {vpn, printer}
        assert self.query(c, search="vpn") == {vpn}
        assert self.query(c, search="toner") == {printer}
        assert self.query(c, search=printer) == {printer}
        assert self.query(c, search=printer.lower()) == {printer}
        assert self.query(c, open="true", unassigned="true") == {printer}

    def test_unknown_choice_is_400(self, api_as, agent, data):
        response = api_as(agent).get(LIST, {"state": "exploded"})
        assert response.status_code == 400
        assert "state" in response.json()

    def test_end_user_sees_only_their_own(self, api_as, alice, bob, data):
        assert self.query(api_as(alice)) == {data["urgent"].number, data["printer"].number}
        assert self.query(api_as(bob)) == {data["vpn"].number}
        # asking for someone else's does not widen the scope
        assert self.query(api_as(alice), caller="bob") == set()
        assert self.query(api_as(alice), search=data["vpn"].number) == set()


class TestQueryCounts:
    """A list or detail costs the same number of queries for 3 rows or 30."""

    def make(self, count, agent, alice, bob, service_desk, email_service, mail_server):

        hardware = factories.category("Hardware") if not Incident.objects.exists() else None
        for i in range(count):
            inc = factories.incident(
                alice if i % 2 else bob,
                actor=agent,
                title=f"Incident {i}",
                assignment_group=service_desk,
                assigned_to=agent,
                service=email_service,
                category=hardware,
            )
            extra = factories.ci(f"ci-{inc.pk}")
            inc.configuration_items.set([mail_server, extra])
            if i % 3 == 0:
                factories.incident(alice, actor=agent, title="child", parent=inc)

    def count_list(self, user, params):
        # A fresh user object per request, as a real request loads one (no cached team ids).
        client = APIClient()
        client.force_authenticate(type(user).objects.get(pk=user.pk))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LIST, params)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    @pytest.mark.parametrize("who", ["agent", "alice"])
    @pytest.mark.parametrize("params", [{}, {"assignment_group": "mine", "assigned_to": "me"}])
    def test_list_is_constant(
        self, agent, alice, bob, service_desk, email_service, mail_server, who, params
    ):
        user = agent if who == "agent" else alice
        query = {"page_size": 100, **(params if who == "agent" else {})}
        self.make(3, agent, alice, bob, service_desk, email_service, mail_server)
        few, rows_few = self.count_list(user, query)
        self.make(27, agent, alice, bob, service_desk, email_service, mail_server)
        many, rows_many = self.count_list(user, query)
        assert rows_many > rows_few
        assert many == few

    def test_detail_is_constant(
        self, api_as, agent, alice, bob, service_desk, email_service, mail_server
    ):

        client = api_as(agent)
        small = factories.incident(alice, actor=agent)
        big = factories.incident(
            alice,
            actor=agent,
            assignment_group=service_desk,
            assigned_to=agent,
            service=email_service,
        )
        big.configuration_items.set([mail_server, *(factories.ci(f"ci{i}") for i in range(10))])
        for _ in range(5):
            factories.incident(alice, actor=agent, parent=big)
        counts = []
        for inc in (small, big):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(detail(inc.number)).status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1]


@pytest.mark.parametrize("sub", ["comments", "timeline", "attachments"])
def test_sub_resource_query_count_is_constant(api_as, agent, agent2, alice, assigned, sub):
    def add(count):
        for i in range(count):
            author = (agent, agent2, alice)[i % 3]
            services.comment(
                assigned, author, f"Comment {i}", internal=bool(author.is_agent and i % 2)
            )
            services.attach(assigned, author, SimpleUploadedFile(f"f{i}.txt", b"x"), internal=False)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = api_as(agent).get(detail(assigned.number, sub))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json())

    add(2)
    few, rows_few = count()
    add(12)
    many, rows_many = count()
    assert rows_many > rows_few
    assert many == few


# Detail and updates ---------------------------------------------------------------------


class TestDetail:
    def test_detail_has_an_etag(self, api_as, agent, assigned):
        response = api_as(agent).get(detail(assigned.number))
        assert response.status_code == 200
        assert response["ETag"] == f'"{assigned.number}-v{assigned.version}"'
        body = response.json()
        assert body["number"] == assigned.number
        assert body["version"] == assigned.version
        assert set(body["allowed_states"]) == {"in_progress", "on_hold", "resolved", "cancelled"}

    def test_end_user_gets_404_for_someone_elses(self, api_as, bob, assigned):
        client = api_as(bob)
        assert client.get(detail(assigned.number)).status_code == 404
        assert client.patch(detail(assigned.number), {"state": "cancelled"}).status_code == 404
        assert client.get(detail(assigned.number, "comments")).status_code == 404
        assert client.get(detail(assigned.number, "timeline")).status_code == 404
        assert client.post(detail(assigned.number, "comments"), {"body": "hi"}).status_code == 404
        assert not JournalEntry.objects.for_record(assigned).filter(kind="comment").exists()

    def test_caller_sees_own(self, api_as, alice, assigned):
        response = api_as(alice).get(detail(assigned.number))
        assert response.status_code == 200
        assert response.json()["allowed_states"] == ["cancelled"]  # withdraw, nothing else

    def test_unknown_number_is_404(self, api_as, agent):
        assert api_as(agent).get(detail("INC9999999")).status_code == 404


class TestStateChanges:
    def test_illegal_transition_names_allowed_states(self, api_as, agent, assigned):
        response = api_as(agent).patch(detail(assigned.number), {"state": "closed"})
        assert response.status_code == 400
        message = " ".join(response.json()["state"])
        for allowed in ("in_progress", "on_hold", "resolved", "cancelled"):
            assert allowed in message
        assigned.refresh_from_db()
        assert assigned.state == "new"

    def test_unknown_state_is_400(self, api_as, agent, assigned):
        response = api_as(agent).patch(detail(assigned.number), {"state": "exploded"})
        assert response.status_code == 400
        assert "state" in response.json()

    def test_resolve_requires_code_and_notes(self, api_as, agent, assigned):
        version = assigned.version
        response = api_as(agent).patch(detail(assigned.number), {"state": "resolved"})
        assert response.status_code == 400
        assert {"resolution_code", "resolution_notes"} <= set(response.json())
        assigned.refresh_from_db()
        assert assigned.state == "new"
        assert assigned.resolved_at is None
        assert assigned.version == version

    def test_resolve_with_code_but_no_notes_keeps_nothing(self, api_as, agent, assigned):
        response = api_as(agent).patch(
            detail(assigned.number),
            {"state": "resolved", "resolution_code": "solved_permanently", "resolution_notes": ""},
        )
        assert response.status_code == 400
        assert "resolution_notes" in response.json()
        assigned.refresh_from_db()
        assert assigned.resolution_code == ""
        assert assigned.state == "new"

    def test_on_hold_requires_a_reason(self, api_as, agent, assigned):
        client = api_as(agent)
        response = client.patch(detail(assigned.number), {"state": "on_hold"})
        assert response.status_code == 400
        assert "on_hold_reason" in response.json()
        ok = client.patch(
            detail(assigned.number), {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
        assert ok.status_code == 200, ok.content
        assert ok.json()["state"] == "on_hold"
        assert ok.json()["on_hold_reason"] == "awaiting_caller"
        # back to work clears the reason
        back = client.patch(detail(assigned.number), {"state": "in_progress"})
        assert back.json()["on_hold_reason"] == ""

    def test_resolve_sets_resolved_at_and_tells_the_caller(
        self, api_as, agent, alice, assigned, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(agent).patch(
                detail(assigned.number),
                {
                    "state": "resolved",
                    "resolution_code": "solved_permanently",
                    "resolution_notes": "Restarted the relay.",
                },
            )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "resolved"
        assert body["resolved_at"]
        assigned.refresh_from_db()
        assert assigned.resolved_at is not None
        assert Notification.objects.filter(recipient=alice, subject__contains="resolved").exists()
        assert any("alice@example.com" in m.to for m in mailoutbox)

    def test_caller_reopens(self, api_as, agent, alice, assigned):
        factories.resolve(assigned, agent)
        response = api_as(alice).patch(detail(assigned.number), {"state": "in_progress"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["state"] == "in_progress"
        assert body["resolution_code"] == ""
        assert body["resolution_notes"] == ""
        assert body["resolved_at"] is None
        assert body["reopen_count"] == 1
        assigned.refresh_from_db()
        assert assigned.reopen_count == 1
        assert assigned.resolved_at is None
        # a second round counts again
        factories.resolve(assigned, agent)
        again = api_as(alice).patch(detail(assigned.number), {"state": "in_progress"})
        assert again.json()["reopen_count"] == 2

    def test_caller_confirms_resolution(self, api_as, agent, alice, assigned):
        factories.resolve(assigned, agent)
        response = api_as(alice).patch(detail(assigned.number), {"state": "closed"})
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "closed"
        assert response.json()["closed_at"]

    @pytest.mark.parametrize(
        "change",
        [
            {"title": "Something else"},
            {"assigned_to": "agent"},
            {"assignment_group": None},
            {"impact": 1},
            {"major": True},
        ],
    )
    def test_end_user_cannot_edit_fields(self, api_as, alice, assigned, change):
        version = assigned.version
        response = api_as(alice).patch(detail(assigned.number), change)
        assert response.status_code == 400
        assert next(iter(change)) in response.json()
        fresh = Incident.objects.get(pk=assigned.pk)
        assert fresh.version == version
        assert fresh.title == assigned.title
        assert fresh.assigned_to_id == assigned.assigned_to_id
        assert fresh.major is False

    def test_end_user_cannot_start_work(self, api_as, alice, mine):
        response = api_as(alice).patch(detail(mine.number), {"state": "in_progress"})
        assert response.status_code == 400
        assert "cancelled" in " ".join(response.json()["state"])
        mine.refresh_from_db()
        assert mine.state == "new"

    def test_end_user_withdraws_their_own(self, api_as, alice, mine):
        response = api_as(alice).patch(detail(mine.number), {"state": "cancelled"})
        assert response.status_code == 200, response.content
        assert response.json()["state"] == "cancelled"
        mine.refresh_from_db()
        assert mine.state == "cancelled"
        assert mine.closed_at is not None

    def test_end_user_cannot_withdraw_once_work_started(self, api_as, agent, alice, mine):
        services.update_incident(mine, agent, {"state": "in_progress"})
        response = api_as(alice).patch(detail(mine.number), {"state": "cancelled"})
        assert response.status_code == 400
        mine.refresh_from_db()
        assert mine.state == "in_progress"

    def test_agent_cannot_assign_a_non_member(self, api_as, agent, agent2, assigned):
        response = api_as(agent).patch(detail(assigned.number), {"assigned_to": "agent2"})
        assert response.status_code == 400
        assert "assigned_to" in response.json()
        assigned.refresh_from_db()
        assert assigned.assigned_to == agent

    def test_reassignment_count_and_unassign(
        self, api_as, agent, agent2, alice, service_desk, network_team
    ):
        client = api_as(agent)
        number = client.post(LIST, {"title": "x", "caller": "alice"}).json()["number"]

        first = client.patch(
            detail(number), {"assignment_group": service_desk.pk, "assigned_to": "agent"}
        )
        assert first.status_code == 200, first.content
        assert first.json()["reassignment_count"] == 0  # the first assignment is no reassignment

        moved = client.patch(detail(number), {"assignment_group": network_team.pk})
        assert moved.status_code == 200, moved.content
        assert moved.json()["reassignment_count"] == 1
        assert moved.json()["assigned_to"] is None  # agent is not in the network team

        client.patch(detail(number), {"assigned_to": "agent2"})
        back = client.patch(detail(number), {"assignment_group": service_desk.pk})
        assert back.json()["reassignment_count"] == 2
        assert back.json()["assigned_to"] is None

    def test_new_group_keeps_an_assignee_who_is_a_member(
        self, api_as, agent, assigned, network_team
    ):
        network_team.members.add(agent)
        response = api_as(agent).patch(
            detail(assigned.number), {"assignment_group": network_team.pk}
        )
        assert response.json()["assigned_to"] == "agent"
        assert response.json()["reassignment_count"] == 1

    def test_field_changes_are_journaled_internally(self, api_as, agent, alice, assigned):
        api_as(agent).patch(detail(assigned.number), {"title": "Outlook crashes"})
        entry = JournalEntry.objects.for_record(assigned).filter(kind="fields").last()
        assert entry.data["title"] == ["Cannot send e-mail", "Outlook crashes"]
        assert entry.actor == agent

    def test_read_only_fields_cannot_be_forced(self, api_as, agent, assigned):
        response = api_as(agent).patch(detail(assigned.number), {"priority": 1})
        assert response.status_code == 400
        assert "priority" in response.json()
        response = api_as(agent).patch(detail(assigned.number), {"channel": "email"})
        assert response.status_code == 400
        assert "channel" in response.json()

    def test_put_is_not_allowed(self, api_as, agent, assigned):
        assert api_as(agent).put(detail(assigned.number), {"title": "x"}).status_code == 405


# If-Match -------------------------------------------------------------------------------


class TestIfMatch:
    def test_current_etag_succeeds_with_new_etag(self, api_as, agent, assigned):
        client = api_as(agent)
        etag = client.get(detail(assigned.number))["ETag"]
        response = client.patch(detail(assigned.number), {"title": "New title"}, HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        assert response["ETag"] != etag
        assert response["ETag"] == f'"{assigned.number}-v{assigned.version + 1}"'
        assert client.get(detail(assigned.number))["ETag"] == response["ETag"]

    def test_stale_etag_is_412_and_changes_nothing(self, api_as, agent, agent2, assigned):
        client = api_as(agent)
        stale = client.get(detail(assigned.number))["ETag"]
        client.patch(detail(assigned.number), {"description": "someone else was first"})
        before = Incident.objects.get(pk=assigned.pk)
        journal = journal_count(assigned)

        response = client.patch(
            detail(assigned.number),
            {"title": "Mine", "state": "in_progress"},
            HTTP_IF_MATCH=stale,
        )
        assert response.status_code == 412
        assert response["ETag"] == before.etag
        after = Incident.objects.get(pk=assigned.pk)
        assert (after.title, after.state, after.version) == (
            before.title,
            before.state,
            before.version,
        )
        assert journal_count(assigned) == journal

    @pytest.mark.parametrize(
        "header", ["garbage", '"INC0000000-v1"', "v1", '"INC0001001-vX"', '"-v1"']
    )
    def test_malformed_or_foreign_if_match_is_412(self, api_as, agent, assigned, header):
        version = assigned.version
        response = api_as(agent).patch(
            detail(assigned.number), {"title": "x"}, HTTP_IF_MATCH=header
        )
        assert response.status_code == 412
        assert Incident.objects.get(pk=assigned.pk).version == version

    def test_star_is_accepted_and_weak_etags_are_not(self, api_as, agent, assigned):
        # If-Match compares strongly (RFC 9110): a weak validator never matches.
        client = api_as(agent)
        assert (
            client.patch(detail(assigned.number), {"title": "a"}, HTTP_IF_MATCH="*").status_code
            == 200
        )
        weak = "W/" + client.get(detail(assigned.number))["ETag"]
        response = client.patch(detail(assigned.number), {"title": "b"}, HTTP_IF_MATCH=weak)
        assert response.status_code == 412
        assert Incident.objects.get(pk=assigned.pk).title == "a"


# Idempotency-Key ------------------------------------------------------------------------


class TestIdempotency:
    def test_replay_returns_the_first_answer(self, api_as, agent, alice):
        client = api_as(agent)
        payload = {"title": "Disk full", "caller": "alice"}
        first = client.post(LIST, payload, HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first
        second = client.post(LIST, payload, HTTP_IDEMPOTENCY_KEY="k-1")
        assert second.status_code == 201
        assert second["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        assert Incident.objects.count() == 1

    def test_same_key_different_body_is_422(self, api_as, agent, alice):
        client = api_as(agent)
        client.post(LIST, {"title": "Disk full", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k-2")
        response = client.post(
            LIST, {"title": "Disk empty", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k-2"
        )
        assert response.status_code == 422
        assert "Idempotency-Key" in response.json()
        assert Incident.objects.count() == 1
        assert not Incident.objects.filter(title="Disk empty").exists()

    def test_keys_are_per_user(self, api_as, agent, agent2, alice):
        payload = {"title": "Disk full", "caller": "alice"}
        first = api_as(agent).post(LIST, payload, HTTP_IDEMPOTENCY_KEY="shared")
        other = api_as(agent2).post(LIST, payload, HTTP_IDEMPOTENCY_KEY="shared")
        assert other.status_code == 201
        assert "Idempotent-Replayed" not in other
        assert other.json()["number"] != first.json()["number"]
        assert Incident.objects.count() == 2

    def test_failed_create_does_not_burn_the_key(self, api_as, agent, alice):
        client = api_as(agent)
        bad = client.post(LIST, {"title": "", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k-3")
        assert bad.status_code == 400
        assert not IdempotencyKey.objects.filter(key="k-3").exists()
        good = client.post(
            LIST, {"title": "Now with a title", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k-3"
        )
        assert good.status_code == 201, good.content
        assert "Idempotent-Replayed" not in good
        assert Incident.objects.count() == 1

    def test_without_key_every_post_creates(self, api_as, agent, alice):
        client = api_as(agent)
        client.post(LIST, {"title": "x", "caller": "alice"})
        client.post(LIST, {"title": "x", "caller": "alice"})
        assert Incident.objects.count() == 2

    def test_comment_replay_adds_one_comment(self, api_as, agent, assigned):
        client = api_as(agent)
        url = detail(assigned.number, "comments")
        first = client.post(url, {"body": "On it"}, HTTP_IDEMPOTENCY_KEY="c-1")
        second = client.post(url, {"body": "On it"}, HTTP_IDEMPOTENCY_KEY="c-1")
        assert first.status_code == second.status_code == 201
        assert second["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        assert JournalEntry.objects.for_record(assigned).filter(kind="comment").count() == 1

    def test_key_reused_on_another_endpoint_is_422(self, api_as, agent, assigned):
        client = api_as(agent)
        first = client.post(LIST, {"title": "x", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k-9")
        assert first.status_code == 201
        response = client.post(
            detail(assigned.number, "comments"), {"body": "hi"}, HTTP_IDEMPOTENCY_KEY="k-9"
        )
        assert response.status_code == 422
        assert not JournalEntry.objects.for_record(assigned).filter(kind="comment").exists()

    def test_overlong_key_is_400(self, api_as, agent, alice):
        response = api_as(agent).post(
            LIST, {"title": "x", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="k" * 256
        )
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()
        assert not Incident.objects.exists()


# Comments, work notes and the timeline -------------------------------------------------


class TestComments:
    def test_agent_reply_and_work_note(
        self, api_as, agent, alice, assigned, django_capture_on_commit_callbacks, mailoutbox
    ):
        client = api_as(agent)
        url = detail(assigned.number, "comments")
        notes_before = set(
            Notification.objects.filter(recipient=alice).values_list("pk", flat=True)
        )
        with django_capture_on_commit_callbacks(execute=True):
            note = client.post(
                url, {"body": "Secret: the relay password expired", "internal": True}
            )
        assert note.status_code == 201, note.content
        assert note.json()["internal"] is True
        assert note.json()["author"] == "agent"
        # the caller hears nothing of a work note
        new_for_alice = Notification.objects.filter(recipient=alice).exclude(pk__in=notes_before)
        assert not new_for_alice.exists()
        assert not any("alice@example.com" in m.to for m in mailoutbox)

        with django_capture_on_commit_callbacks(execute=True):
            reply = client.post(url, {"body": "We are restarting the relay."})
        assert reply.status_code == 201
        assert reply.json()["internal"] is False
        new_for_alice = Notification.objects.filter(recipient=alice).exclude(pk__in=notes_before)
        assert new_for_alice.count() == 1
        assert "restarting the relay" in new_for_alice.get().body
        sent = [m for m in mailoutbox if "alice@example.com" in m.to]
        assert len(sent) == 1
        assert "restarting the relay" in sent[0].body
        assert "password" not in sent[0].body

        listed = client.get(url).json()
        assert [c["body"] for c in listed] == [
            "Secret: the relay password expired",
            "We are restarting the relay.",
        ]

    def test_end_user_never_sees_work_notes(self, api_as, agent, alice, assigned):

        services.comment(assigned, agent, "Internal: blame the vendor", internal=True)
        services.comment(assigned, agent, "Looking into it")
        services.update_incident(assigned, agent, {"title": "Relay broken"})
        client = api_as(alice)

        comments = client.get(detail(assigned.number, "comments")).json()
        assert [c["body"] for c in comments] == ["Looking into it"]

        timeline = client.get(detail(assigned.number, "timeline")).json()
        bodies = " ".join(entry["body"] for entry in timeline)
        assert "blame the vendor" not in bodies
        assert all(entry["internal"] is False for entry in timeline)
        assert "work_note" not in {entry["kind"] for entry in timeline}
        assert "fields" not in {entry["kind"] for entry in timeline}
        assert "Looking into it" in bodies

        assert not Notification.objects.filter(recipient=alice, body__contains="vendor").exists()

        agent_timeline = api_as(agent).get(detail(assigned.number, "timeline")).json()
        assert "blame the vendor" in " ".join(e["body"] for e in agent_timeline)

    def test_end_user_comments_on_their_own(
        self, api_as, agent, alice, assigned, django_capture_on_commit_callbacks, mailoutbox
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(alice).post(
                detail(assigned.number, "comments"), {"body": "Still broken"}
            )
        assert response.status_code == 201
        assert response.json()["author"] == "alice"
        assert Notification.objects.filter(recipient=agent, body="Still broken").exists()
        assert any("agent@example.com" in m.to for m in mailoutbox)
        # a caller's comment is not a first response
        assigned.refresh_from_db()
        assert assigned.first_response_at is None

    def test_end_user_cannot_post_work_notes(self, api_as, alice, assigned):
        response = api_as(alice).post(
            detail(assigned.number, "comments"), {"body": "psst", "internal": True}
        )
        assert response.status_code == 400
        assert "internal" in response.json()
        assert not JournalEntry.objects.for_record(assigned).filter(body="psst").exists()

    @pytest.mark.parametrize("body", ["", "   "])
    def test_empty_body_is_400(self, api_as, agent, assigned, body):
        response = api_as(agent).post(detail(assigned.number, "comments"), {"body": body})
        assert response.status_code == 400
        assert "body" in response.json()

    def test_first_public_agent_reply_sets_first_response_at(self, api_as, agent, assigned):
        client = api_as(agent)
        url = detail(assigned.number, "comments")
        client.post(url, {"body": "note to self", "internal": True})
        assert client.get(detail(assigned.number)).json()["first_response_at"] is None

        reply = client.post(url, {"body": "Hello, we are on it"})
        first = client.get(detail(assigned.number)).json()["first_response_at"]
        assert first is not None
        assert first == reply.json()["created_at"]

        client.post(url, {"body": "A second reply"})
        assert client.get(detail(assigned.number)).json()["first_response_at"] == first


# Attachments ------------------------------------------------------------------------------


class TestAttachments:
    def upload(self, client, number, content=b"log line\n", name="log.txt", **extra):
        return client.post(
            detail(number, "attachments"),
            {"file": SimpleUploadedFile(name, content, content_type="text/plain"), **extra},
            format="multipart",
        )

    @staticmethod
    def download(client, url):
        response = client.get(url)
        if response.status_code != 200:
            return response.status_code, None
        # Consuming the stream closes the response (and the file) as a server would.
        return 200, b"".join(response.streaming_content)

    def test_upload_and_download(self, api_as, agent, agent2, alice, bob, assigned):
        response = self.upload(api_as(alice), assigned.number, b"hello world")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["filename"] == "log.txt"
        assert body["size"] == 11
        assert body["uploaded_by"] == "alice"
        url = body["download_url"]
        assert url.endswith(f"/api/v1/attachments/{body['id']}/download/")

        assert self.download(api_as(alice), url) == (200, b"hello world")
        assert self.download(api_as(agent), url) == (200, b"hello world")
        assert self.download(api_as(agent2), url) == (200, b"hello world")
        assert self.download(api_as(bob), url) == (404, None)
        assert APIClient().get(url).status_code in (401, 403)

        listed = api_as(agent).get(detail(assigned.number, "attachments")).json()
        assert [a["id"] for a in listed] == [body["id"]]

    def test_too_big_is_400_and_saves_nothing(self, api_as, agent, assigned, settings):
        settings.ATTACHMENT_MAX_BYTES = 10
        response = self.upload(api_as(agent), assigned.number, b"x" * 11)
        assert response.status_code == 400
        assert "file" in response.json()
        assert not Attachment.objects.exists()
        assert not JournalEntry.objects.for_record(assigned).filter(kind="attachment").exists()
        ok = self.upload(api_as(agent), assigned.number, b"x" * 10)
        assert ok.status_code == 201

    def test_missing_file_is_400(self, api_as, agent, assigned):
        response = api_as(agent).post(
            detail(assigned.number, "attachments"), {"internal": "false"}, format="multipart"
        )
        assert response.status_code == 400
        assert "file" in response.json()

    def test_internal_attachments_are_hidden_from_end_users(self, api_as, agent, alice, assigned):
        public = self.upload(api_as(agent), assigned.number, b"public", name="a.txt").json()
        internal = self.upload(
            api_as(agent), assigned.number, b"secret", name="b.txt", internal="true"
        ).json()
        assert internal["internal"] is True

        seen = api_as(alice).get(detail(assigned.number, "attachments")).json()
        assert [a["id"] for a in seen] == [public["id"]]
        assert self.download(api_as(alice), internal["download_url"]) == (404, None)
        assert self.download(api_as(agent), internal["download_url"]) == (200, b"secret")

        timeline = api_as(alice).get(detail(assigned.number, "timeline")).json()
        assert "b.txt" not in " ".join(e["body"] for e in timeline)

    def test_end_user_cannot_upload_internal(self, api_as, alice, assigned):
        response = self.upload(api_as(alice), assigned.number, internal="true")
        assert response.status_code == 400
        assert "internal" in response.json()
        assert not Attachment.objects.exists()

    def test_end_user_cannot_attach_to_someone_elses(self, api_as, bob, assigned):
        assert self.upload(api_as(bob), assigned.number).status_code == 404
        assert not Attachment.objects.exists()


# Major incidents, parents and children -------------------------------------------------------


class TestMajorAndChildren:
    def test_declaring_major_notifies_the_team_managers(
        self,
        api_as,
        agent,
        manager,
        assigned,
        django_capture_on_commit_callbacks,
        mailoutbox,
    ):
        other_manager = make_user("otherboss", role="manager")
        factories.team("Database", manager=other_manager)
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(agent).patch(detail(assigned.number), {"major": True})
        assert response.status_code == 200, response.content
        assert response.json()["major"] is True
        notes = Notification.objects.filter(subject__startswith="MAJOR INCIDENT")
        assert list(notes.values_list("recipient__username", flat=True)) == ["manager"]
        assert assigned.number in notes.get().subject
        assert any(
            "manager@example.com" in m.to and assigned.number in m.subject for m in mailoutbox
        )
        assert not any("otherboss@example.com" in m.to for m in mailoutbox)

        # setting it again does not announce it twice
        api_as(agent).patch(detail(assigned.number), {"title": "Mail down for everyone"})
        api_as(agent).patch(detail(assigned.number), {"major": True})
        assert notes.count() == 1

    def test_resolving_a_parent_resolves_open_children(self, api_as, agent, alice, bob, assigned):

        open_child = factories.incident(bob, actor=agent, parent=assigned)
        held_child = factories.incident(bob, actor=agent, parent=assigned)
        services.update_incident(
            held_child, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"}
        )
        closed_child = factories.incident(bob, actor=agent, parent=assigned)
        factories.resolve(closed_child, agent, code="user_error", notes="Own fault")
        services.update_incident(closed_child, agent, {"state": "closed"})
        cancelled_child = factories.incident(bob, actor=agent, parent=assigned)
        services.update_incident(cancelled_child, agent, {"state": "cancelled"})

        response = api_as(agent).patch(
            detail(assigned.number),
            {
                "state": "resolved",
                "resolution_code": "solved_workaround",
                "resolution_notes": "Routed mail via the backup relay.",
            },
        )
        assert response.status_code == 200, response.content

        for child in (open_child, held_child):
            child.refresh_from_db()
            assert child.state == "resolved"
            assert child.resolution_code == "solved_workaround"
            assert child.resolved_at is not None
            assert assigned.number in child.resolution_notes
        closed_child.refresh_from_db()
        assert (closed_child.state, closed_child.resolution_code) == ("closed", "user_error")
        cancelled_child.refresh_from_db()
        assert (cancelled_child.state, cancelled_child.resolution_code) == ("cancelled", "")
        # finished children are not even tried (no "could not resolve" note on the parent)
        notes = JournalEntry.objects.for_record(assigned).filter(kind="work_note")
        assert not notes.exists(), [n.body for n in notes]

    def test_children_filter(self, api_as, agent, alice, assigned):
        child = factories.incident(alice, actor=agent, parent=assigned)
        factories.incident(alice, actor=agent)
        assert numbers(api_as(agent).get(LIST, {"parent": assigned.number})) == {child.number}

    def test_cannot_be_its_own_parent(self, api_as, agent, assigned):
        response = api_as(agent).patch(detail(assigned.number), {"parent": assigned.number})
        assert response.status_code == 400
        assert "parent" in response.json()
        assigned.refresh_from_db()
        assert assigned.parent_id is None

    def test_cannot_be_a_child_of_a_child(self, api_as, agent, alice, assigned):
        child = factories.incident(alice, actor=agent, parent=assigned)
        grandchild = factories.incident(alice, actor=agent)
        client = api_as(agent)
        response = client.patch(detail(grandchild.number), {"parent": child.number})
        assert response.status_code == 400
        assert "parent" in response.json()
        created = client.post(LIST, {"title": "x", "caller": "alice", "parent": child.number})
        assert created.status_code == 400
        assert "parent" in created.json()
        # and a parent cannot itself become a child
        other = factories.incident(alice, actor=agent)
        response = client.patch(detail(assigned.number), {"parent": other.number})
        assert response.status_code == 400
        assert "parent" in response.json()
        grandchild.refresh_from_db()
        assigned.refresh_from_db()
        assert grandchild.parent_id is None
        assert assigned.parent_id is None

    def test_cancelling_a_parent_with_open_children_is_refused(
        self, api_as, agent, alice, assigned
    ):
        factories.incident(alice, actor=agent, parent=assigned)
        response = api_as(agent).patch(detail(assigned.number), {"state": "cancelled"})
        assert response.status_code == 400
        assert "child" in " ".join(response.json()["state"])
        assigned.refresh_from_db()
        assert assigned.state == "new"


# OpenAPI ---------------------------------------------------------------------------------------


def test_openapi_schema_documents_incidents(api_as, agent):
    response = api_as(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/incidents/" in paths
    assert "/api/v1/incidents/{number}/" in paths
    assert "/api/v1/incidents/{number}/comments/" in paths
    assert {"get", "post"} <= set(paths["/api/v1/incidents/{number}/comments/"])
    list_params = {p["name"] for p in paths["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"cursor", "page_size", "state", "ordering"} <= list_params

    def headers(path, method):
        params = paths[path][method].get("parameters", [])
        return {p["name"] for p in params if p["in"] == "header"}

    # the headers are documented where they work, and only there
    assert headers("/api/v1/incidents/", "post") == {"Idempotency-Key"}
    assert headers("/api/v1/incidents/{number}/comments/", "post") == {"Idempotency-Key"}
    assert headers("/api/v1/incidents/{number}/comments/", "get") == set()
    assert headers("/api/v1/incidents/{number}/", "patch") == {"If-Match"}


# Found in review ----------------------------------------------------------------------------


def test_replayed_create_carries_the_etag(api_as, agent, alice):
    client = api_as(agent)
    first = client.post(LIST, {"title": "Disk full", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="e-1")
    replay = client.post(
        LIST, {"title": "Disk full", "caller": "alice"}, HTTP_IDEMPOTENCY_KEY="e-1"
    )
    assert replay["Idempotent-Replayed"] == "true"
    assert replay["ETag"] == first["ETag"]
    # The replayed ETag works for the next conditional update.
    number = replay.json()["number"]
    assert (
        client.patch(detail(number), {"title": "x"}, HTTP_IF_MATCH=replay["ETag"]).status_code
        == 200
    )


def test_declaring_a_major_incident_is_not_shown_to_the_caller(api_as, agent, alice, assigned):
    api_as(agent).patch(detail(assigned.number), {"major": True})
    timeline = api_as(alice).get(detail(assigned.number, "timeline")).json()
    assert all("major" not in (entry["body"] or "").lower() for entry in timeline)
    staff_view = api_as(agent).get(detail(assigned.number, "timeline")).json()
    assert any("major incident" in (entry["body"] or "") for entry in staff_view)


@pytest.mark.parametrize("value", ["abc", "1;2", "mine,", ""])
def test_bad_team_filter_is_a_400_naming_it(api_as, agent, assigned, value):
    response = api_as(agent).get(LIST, {"assignment_group": value})
    if value == "":
        assert response.status_code == 200  # an empty filter is no filter
    else:
        assert response.status_code == 400
        assert "assignment_group" in response.json()


def test_caller_cannot_withdraw_a_parent_with_open_children(api_as, agent, alice):
    parent = factories.incident(alice)
    factories.incident(alice, actor=agent, parent=parent)
    response = api_as(alice).patch(detail(parent.number), {"state": "cancelled"})
    assert response.status_code == 400
    assert "child" in str(response.json()["state"])
    assert Incident.objects.get(pk=parent.pk).state == "new"
