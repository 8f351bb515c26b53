"""The agent workspace as an agent's browser sees it: who may open which page, the queue
(filters, saved views, sorting, "Load more"), logging an incident, and the incident page
(fields, state buttons, replies and work notes, attachments). Through Django's test client;
forms are submitted as the page renders them."""

import base64
import html
import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.models import Incident
from itsm.core.models import Attachment, JournalEntry
from itsm.core.practices import registry as record_panels
from tests import factories
from tests.conftest import make_user
from tests.factories import page, web

ROW = re.compile(r'<td class="num"><a href="/incidents/(INC\d{7})/">')
MORE = re.compile(r'<tr class="more">.*?href="\?([^"]*)"', re.DOTALL)


def rows(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return ROW.findall(page(response))


def next_link(response) -> str | None:
    found = MORE.search(page(response))
    return "/incidents/?" + html.unescape(found.group(1)) if found else None


def url(incident, sub="") -> str:
    return f"/incidents/{incident.number}/{sub + '/' if sub else ''}"


def journal(incident, kind=None):
    entries = JournalEntry.objects.for_record(incident)
    return entries.filter(kind=kind) if kind else entries


def count_queries(client, path, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return len(captured), captured


def listing(captured) -> str:
    return "\n".join(f"{i}. {q['sql']}" for i, q in enumerate(captured.captured_queries, 1))


@pytest.fixture
def assigned(agent, alice, service_desk, priority_matrix):
    """Alice's e-mail problem, logged by the agent and assigned to the service desk."""
    return factories.incident(
        alice, actor=agent, assignment_group=service_desk, assigned_to=agent, impact=2, urgency=2
    )


# Who may open what ------------------------------------------------------------------------

WORKSPACE_PAGES = ["/incidents/", "/incidents/new/", "{n}"]
WORKSPACE_POSTS = ["{n}edit/", "{n}state/", "{n}comment/"]
PORTAL_PAGES = ["/portal/", "/portal/issues/new/", "/portal/issues/{number}/"]
PORTAL_POSTS = [
    "/portal/issues/{number}/comment/",
    "/portal/issues/{number}/state/",
    "{n}attach/",
]


def fill(path, incident):
    return path.format(n=url(incident), number=incident.number)


class TestAccess:
    @pytest.mark.parametrize("path", WORKSPACE_PAGES + PORTAL_PAGES + ["/attachments/1/"])
    def test_anonymous_is_sent_to_login(self, client, assigned, path):
        path = fill(path, assigned)
        response = client.get(path)
        assert response.status_code == 302
        target = urlparse(response.url)
        assert target.path == "/login/"
        assert parse_qs(target.query)["next"] == [path]

    @pytest.mark.parametrize("path", WORKSPACE_POSTS + PORTAL_POSTS)
    def test_anonymous_post_is_sent_to_login_and_changes_nothing(self, client, assigned, path):
        before = journal(assigned).count()
        response = client.post(
            fill(path, assigned), {"state": "cancelled", "body": "hello", "title": "x"}
        )
        assert response.status_code == 302
        assert response.url.startswith("/login/")
        assert journal(assigned).count() == before
        assert Incident.objects.get(pk=assigned.pk).state == "new"

    @pytest.mark.parametrize("path", WORKSPACE_PAGES)
    def test_end_user_gets_403_on_workspace_pages(self, alice, assigned, path):
        # Even for her own incident: the workspace is for the service desk.
        response = web(alice).get(fill(path, assigned))
        assert response.status_code == 403
        assert "This page is for the service desk" in page(response)

    @pytest.mark.parametrize("path", WORKSPACE_POSTS)
    def test_end_user_gets_403_on_workspace_posts(self, alice, assigned, path):
        before = journal(assigned).count()
        response = web(alice).post(
            fill(path, assigned),
            {"state": "cancelled", "body": "hello", "title": "Hijacked", "version": "1"},
        )
        assert response.status_code == 403
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.state, incident.title, incident.version) == ("new", assigned.title, 1)
        assert journal(assigned).count() == before

    def test_end_user_cannot_log_an_incident_in_the_workspace(self, alice):
        response = web(alice).post("/incidents/new/", {"title": "x", "impact": 3, "urgency": 3})
        assert response.status_code == 403
        assert not Incident.objects.exists()

    @pytest.mark.parametrize("who", ["agent", "manager"])
    @pytest.mark.parametrize("path", WORKSPACE_PAGES)
    def test_staff_open_the_workspace(self, request, assigned, who, path):
        response = web(request.getfixturevalue(who)).get(fill(path, assigned))
        assert response.status_code == 200
        assert "<html" in page(response)

    def test_unknown_number_is_404(self, agent):
        assert web(agent).get("/incidents/INC9999999/").status_code == 404

    @pytest.mark.parametrize(("who", "target"), [("agent", "/work/"), ("manager", "/work/")])
    def test_home_sends_staff_to_their_work(self, request, who, target):
        response = web(request.getfixturevalue(who)).get("/")
        assert response.status_code == 302
        assert response.url == target

    def test_home_sends_end_users_to_the_portal(self, alice):
        response = web(alice).get("/")
        assert response.status_code == 302
        assert response.url == "/portal/"

    def test_home_sends_anonymous_to_login(self, client, db):
        response = client.get("/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")

    def test_post_only_endpoints_refuse_get(self, agent, assigned):
        client = web(agent)
        for sub in ("edit", "state", "comment", "attach"):
            assert client.get(url(assigned, sub)).status_code == 405


# The queue ---------------------------------------------------------------------------------


@pytest.fixture
def world(agent, agent2, alice, bob, service_desk, network_team, email_service, priority_matrix):
    """Six incidents in every state and assignment that the queue's filters tell apart,
    created in this order (so the newest is ``old_major``)."""
    new = factories.incident
    mail = new(
        alice,
        actor=agent,
        title="Mail server down",
        impact=1,
        urgency=1,
        assignment_group=service_desk,
        assigned_to=agent,
        service=email_service,
    )  # P1
    services.update_incident(mail, agent, {"state": "in_progress"})
    printer = new(bob, actor=agent, title="Printer jam on floor 2", assignment_group=service_desk)
    vpn = new(
        alice,
        actor=agent2,
        title="VPN outage",
        impact=1,
        urgency=2,
        assignment_group=network_team,
        assigned_to=agent2,
        major=True,
    )  # P2
    old = new(
        bob,
        actor=agent,
        title="Old mailbox quota",
        impact=2,
        urgency=2,
        assignment_group=service_desk,
        assigned_to=agent,
    )  # P3
    factories.resolve(old, agent)
    hold = new(alice, actor=agent, title="Laptop battery", impact=2, urgency=3)  # P4, no group
    services.update_incident(hold, agent, {"state": "on_hold", "on_hold_reason": "awaiting_caller"})
    old_major = new(
        bob, actor=agent, title="Past outage", major=True, assignment_group=service_desk
    )  # P5
    services.update_incident(old_major, agent, {"state": "cancelled"})
    return SimpleNamespace(
        mail=mail, printer=printer, vpn=vpn, old=old, hold=hold, old_major=old_major
    )


ALL = ["mail", "printer", "vpn", "old", "hold", "old_major"]


class TestQueueFilters:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"view": "all"}, ALL),
            ({}, ["mail", "printer", "vpn", "hold"]),  # the default view: the open ones
            ({"state": "new"}, ["printer", "vpn"]),
            ({"state": ["new", "on_hold"]}, ["printer", "vpn", "hold"]),
            ({"state": "resolved"}, ["old"]),
            ({"priority": "1"}, ["mail"]),
            ({"priority": ["1", "2"]}, ["mail", "vpn"]),
            ({"open": "true"}, ["mail", "printer", "vpn", "hold"]),
            ({"open": "false"}, ["old", "old_major"]),
            ({"assignment_group": "mine"}, ["mail", "printer", "old", "old_major"]),
            ({"assigned_to": "me"}, ["mail", "old"]),
            ({"assigned_to": "agent2"}, ["vpn"]),
            ({"major": "true"}, ["vpn", "old_major"]),
            ({"major": "true", "open": "true"}, ["vpn"]),
            ({"search": "printer"}, ["printer"]),
            ({"search": "MAIL"}, ["mail", "old"]),
            ({"state": "new", "assignment_group": "mine"}, ["printer"]),
            ({"view": "my_open"}, ["mail"]),
            ({"view": "unassigned_in_my_teams"}, ["printer"]),
            ({"view": "major"}, ["vpn"]),
            ({"view": "all_open"}, ["mail", "printer", "vpn", "hold"]),
        ],
    )
    def test_filter_shows_the_right_incidents(self, agent, world, params, expected):
        shown = rows(web(agent).get("/incidents/", params))
        assert sorted(shown) == sorted(getattr(world, name).number for name in expected)

    def test_group_by_id(self, agent, world, network_team):
        shown = rows(web(agent).get("/incidents/", {"assignment_group": network_team.pk}))
        assert shown == [world.vpn.number]

    @pytest.mark.parametrize("transform", [str, str.lower, lambda n: f"  {n} "])
    def test_search_for_an_exact_number_goes_to_the_incident(self, agent, world, transform):
        response = web(agent).get("/incidents/", {"search": transform(world.vpn.number)})
        assert response.status_code == 302
        assert response.url == url(world.vpn)

    @pytest.mark.parametrize("transform", [str, str.lower])
    def test_exact_number_within_filters_or_htmx_filters_the_list(self, agent, world, transform):
        client = web(agent)
        number = transform(world.vpn.number)
        shown = rows(client.get("/incidents/", {"search": number, "state": "new"}))
        assert shown == [world.vpn.number]
        assert rows(client.get("/incidents/", {"search": number, "state": "closed"})) == []
        htmx = client.get("/incidents/", {"search": number}, headers={"HX-Request": "true"})
        assert rows(htmx) == [world.vpn.number]

    @pytest.mark.parametrize("search", ["prefix", "INC9999999"])
    def test_search_by_number_is_exact_not_a_prefix(self, agent, world, search):
        if search == "prefix":
            search = world.vpn.number[:-1]
        assert rows(web(agent).get("/incidents/", {"search": search})) == []

    def test_search_in_a_saved_view_narrows_it(self, agent, world):
        shown = rows(web(agent).get("/incidents/", {"view": "all_open", "search": "laptop"}))
        assert shown == [world.hold.number]

    def test_my_open_is_per_agent(self, agent2, world):
        assert rows(web(agent2).get("/incidents/", {"view": "my_open"})) == [world.vpn.number]

    def test_invalid_filter_value_shows_an_error_not_a_500(self, agent, world):
        response = web(agent).get("/incidents/", {"priority": "9"})
        assert rows(response) == []
        assert "msg-error" in page(response)
        assert "priority" in page(response)

    def test_nothing_matches_says_so(self, agent, world):
        response = web(agent).get("/incidents/", {"search": "no such thing"})
        assert rows(response) == []
        assert "No incidents match." in page(response)

    def test_saved_view_links_and_active_tab(self, agent, world):
        body = page(web(agent).get("/incidents/", {"view": "major"}))
        assert 'href="/incidents/?view=major" class="active" aria-selected="true"' in body
        for key in ("my_open", "unassigned_in_my_teams", "all_open"):
            assert f'href="/incidents/?view={key}" aria-selected="false"' in body
        assert 'href="/incidents/?view=all" aria-selected="false">All' in body

    def test_the_queue_opens_on_what_needs_work_the_most_urgent_first(self, agent, world):
        response = web(agent).get("/incidents/")
        assert rows(response) == [
            world.mail.number,
            world.vpn.number,
            world.hold.number,
            world.printer.number,
        ]
        body = page(response)
        assert 'href="/incidents/?view=all_open" class="active" aria-selected="true"' in body
        assert 'href="/incidents/?view=all" aria-selected="false">All' in body
        assert '<span class="list-count" aria-live="polite">4 incidents</span>' in body
        everything = page(web(agent).get("/incidents/", {"view": "all"}))
        assert 'href="/incidents/?view=all" class="active" aria-selected="true">All' in everything
        assert f">{len(ALL)} incidents</span>" in everything

    def test_filter_form_keeps_the_chosen_values(self, agent, world):
        body = page(
            web(agent).get("/incidents/", {"state": "new", "search": "vpn", "major": "true"})
        )
        assert 'value="new" checked' in body
        assert 'value="vpn"' in body
        assert 'name="major" value="true" checked' in body


class TestQueueSorting:
    def order(self, world, names):
        return [getattr(world, name).number for name in names]

    def test_newest_first_by_default(self, agent, world):
        expected = self.order(world, reversed(ALL))
        assert rows(web(agent).get("/incidents/", {"view": "all"})) == expected
        everything = {"view": "all", "ordering": "-created_at"}
        assert rows(web(agent).get("/incidents/", everything)) == expected

    def test_oldest_first(self, agent, world):
        everything = {"view": "all", "ordering": "created_at"}
        assert rows(web(agent).get("/incidents/", everything)) == self.order(world, ALL)

    def test_by_priority(self, agent, world):
        # P1 mail, P2 vpn, P3 old, P4 hold, then the two P5s in creation order.
        expected = self.order(world, ["mail", "vpn", "old", "hold", "printer", "old_major"])
        everything = {"view": "all", "ordering": "priority"}
        assert rows(web(agent).get("/incidents/", everything)) == expected
        descending = rows(web(agent).get("/incidents/", {"view": "all", "ordering": "-priority"}))
        assert descending[:2] == self.order(world, ["old_major", "printer"])
        assert descending[2:] == expected[:4][::-1]

    def test_unknown_ordering_falls_back_to_newest_first(self, agent, world):
        response = web(agent).get("/incidents/", {"view": "all", "ordering": "caller__password"})
        assert rows(response) == self.order(world, reversed(ALL))

    def test_column_header_toggles_the_direction_and_keeps_filters(self, agent, world):
        body = page(web(agent).get("/incidents/", {"ordering": "priority", "state": "new"}))
        assert 'href="?state=new&amp;ordering=-priority"' in body
        assert "Pri ▲" in body

    def test_sorting_keeps_the_saved_view(self, agent, world):
        shown = rows(web(agent).get("/incidents/", {"view": "all_open", "ordering": "priority"}))
        assert shown == self.order(world, ["mail", "vpn", "hold", "printer"])


def make_many(count, agent, callers, title="Cannot print"):
    made = []
    for i in range(count):
        made.append(
            factories.incident(
                callers[i % len(callers)],
                actor=agent,
                title=f"{title} {i}",
                impact=1 + i % 3,
                urgency=1 + (i // 3) % 3,
            )
        )
    return made


def walk(client, path, params=None, limit=10):
    """Follow "Load more" from the first page; returns the rows of each page."""
    response = client.get(path, params or {})
    pages = [rows(response)]
    link = next_link(response)
    while link:
        assert len(pages) < limit, "Load more never ends"
        response = client.get(link)
        pages.append(rows(response))
        link = next_link(response)
    return pages


class TestLoadMore:
    @pytest.fixture
    def many(self, agent, alice, bob, priority_matrix):
        return make_many(55, agent, [alice, bob])

    @pytest.mark.parametrize("ordering", [None, "priority", "-priority", "number", "-updated_at"])
    def test_every_incident_once(self, agent, many, ordering):
        pages = walk(web(agent), "/incidents/", {"ordering": ordering} if ordering else {})
        assert [len(p) for p in pages] == [50, 5]
        seen = [number for p in pages for number in p]
        assert len(seen) == len(set(seen))
        assert set(seen) == {i.number for i in many}

    def test_sorted_across_pages(self, agent, many):
        pages = walk(web(agent), "/incidents/", {"ordering": "priority"})
        by_number = {i.number: i.priority for i in Incident.objects.all()}
        priorities = [by_number[n] for p in pages for n in p]
        assert priorities == sorted(priorities)

    def test_last_page_has_no_more_link(self, agent, many):
        response = web(agent).get("/incidents/", {"state": "new", "priority": "1"})
        assert 0 < len(rows(response)) < 50
        assert next_link(response) is None
        assert "Load more" not in page(response)

    def test_htmx_load_more_returns_only_rows(self, agent, many):
        client = web(agent)
        link = next_link(client.get("/incidents/"))
        response = client.get(link, headers={"HX-Request": "true"})
        body = page(response)
        assert "<html" not in body
        assert "<table" not in body
        assert len(rows(response)) == 5
        assert "Load more" not in body

    def test_filters_survive_load_more(self, agent, alice, many):
        make_many(3, agent, [alice], title="Projector broken")
        params = {"search": "Cannot print", "ordering": "created_at"}
        pages = walk(web(agent), "/incidents/", params)
        assert sorted(n for p in pages for n in p) == sorted(i.number for i in many)

    def test_search_in_a_saved_view_survives_load_more(self, agent, alice, many):
        # The three newest do not match the search; "Load more" (oldest first, so they
        # come after the first page) must not bring them in.
        others = make_many(3, agent, [alice], title="Projector broken")
        params = {"view": "all_open", "search": "Cannot print", "ordering": "created_at"}
        pages = walk(web(agent), "/incidents/", params)
        seen = [n for p in pages for n in p]
        assert not {i.number for i in others} & set(seen)
        assert sorted(seen) == sorted(i.number for i in many)

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "!!!not-base64!!!",
            base64.urlsafe_b64encode(b'["only one"]').decode(),
            base64.urlsafe_b64encode(b'"not a list"').decode(),
            base64.urlsafe_b64encode(b'["yesterday", 5]').decode(),
            base64.urlsafe_b64encode(b'["2024-01-01T00:00:00+00:00", "abc"]').decode(),
            base64.urlsafe_b64encode(b'["2024-13-45T00:00:00+00:00", 5]').decode(),
        ],
        ids=[
            "garbage",
            "not-base64",
            "too-short",
            "not-a-list",
            "not-a-date",
            "id-not-a-number",
            "impossible-date",
        ],
    )
    def test_bad_cursor_shows_the_first_page(self, agent, world, cursor):
        client = web(agent)
        first = rows(client.get("/incidents/"))
        response = client.get("/incidents/", {"cursor": cursor})
        assert response.status_code == 200
        assert rows(response) == first

    def test_bad_cursor_for_another_ordering(self, agent, world):
        client = web(agent)
        cursor = base64.urlsafe_b64encode(json.dumps([{"a": 1}, 5]).encode()).decode()
        response = client.get(
            "/incidents/", {"view": "all", "cursor": cursor, "ordering": "priority"}
        )
        assert response.status_code == 200
        assert len(rows(response)) == len(ALL)


class TestHtmx:
    def test_htmx_gets_only_the_table(self, agent, world):
        response = web(agent).get("/incidents/", {"state": "new"}, headers={"HX-Request": "true"})
        body = page(response)
        assert response.status_code == 200
        assert "<html" not in body
        assert "<body" not in body
        assert '<table class="grid queue"' in body
        assert sorted(rows(response)) == sorted([world.printer.number, world.vpn.number])

    def test_full_page_without_htmx(self, agent, world):
        body = page(web(agent).get("/incidents/"))
        assert body.lstrip().startswith("<!doctype html>")
        assert 'id="queue"' in body


class TestQueueQueryCount:
    #: session, user, the page of rows (and the user's teams for ``mine``), and one query
    #: each for the team and person pickers of the group and assignee filters
    BOUND = 8

    def spread(self, count, agent, agent2, service_desk, network_team, email_service):
        """Incidents over several callers, teams, assignees, services, categories and
        parents, so that any per-row query would show."""
        from catalogue.models import Service

        callers = [make_user(f"caller{Incident.objects.count()}-{i}") for i in range(3)]
        extra = Service.objects.create(name=f"VPN {Incident.objects.count()}")
        parent_category = factories.category(f"Network {Incident.objects.count()}")
        sub = factories.category("Wi-Fi", parent=parent_category)
        parent = None
        for i in range(count):
            team, member = [(service_desk, agent), (network_team, agent2)][i % 2]
            made = factories.incident(
                callers[i % 3],
                actor=agent,
                title=f"Spread {i}",
                assignment_group=team,
                assigned_to=member if i % 3 else None,
                service=[email_service, extra, None][i % 3],
                category=parent_category if i % 2 else None,
                subcategory=sub if i % 2 else None,
                parent=parent if i % 4 == 3 else None,
                major=i % 5 == 0,
            )
            if parent is None:
                parent = made

    @pytest.mark.parametrize(
        ("path", "headers"),
        [
            ("/incidents/", {}),
            ("/incidents/?view=unassigned_in_my_teams&ordering=priority", {}),
            ("/incidents/?assignment_group=mine&assigned_to=me&open=true", {}),
            ("/incidents/", {"HX-Request": "true"}),
        ],
    )
    def test_constant(
        self,
        agent,
        agent2,
        service_desk,
        network_team,
        email_service,
        priority_matrix,
        path,
        headers,
    ):
        client = web(agent)
        self.spread(3, agent, agent2, service_desk, network_team, email_service)
        client.get(path, headers=headers)  # warm caches (content types, sessions)
        few, _ = count_queries(client, path, **headers)
        self.spread(27, agent, agent2, service_desk, network_team, email_service)
        many, captured_many = count_queries(client, path, **headers)
        assert many == few, f"{few} queries for 3, {many} for 30:\n{listing(captured_many)}"
        assert many <= self.BOUND, listing(captured_many)


# Logging an incident ---------------------------------------------------------------------


class TestCreate:
    def valid(self, **overrides):
        data = {"title": "Mail relay rejects messages", "impact": "2", "urgency": "2"}
        data.update(overrides)
        return data

    def test_form_renders(self, agent):
        response = web(agent).get("/incidents/new/")
        assert response.status_code == 200
        form = factories.html_form(page(response), "")
        assert {"title", "caller", "impact", "urgency", "assignment_group"} <= set(form)

    def test_valid_redirects_to_the_new_number(
        self, agent, alice, service_desk, email_service, mail_server, priority_matrix
    ):
        client = web(agent)
        form = factories.html_form(page(client.get("/incidents/new/")), "")
        form.update(
            self.valid(
                description="Since 9:00 every message bounces.",
                caller="alice",
                service=str(email_service.pk),
                configuration_items=[str(mail_server.pk)],
                assignment_group=str(service_desk.pk),
                assigned_to=agent.username,
            )
        )
        response = client.post("/incidents/new/", form)
        incident = Incident.objects.get()
        assert response.status_code == 302
        assert response.url == url(incident)
        assert incident.caller == alice
        assert incident.opened_by == agent
        assert incident.channel == "agent"
        assert incident.priority == 3
        assert (incident.service, incident.assignment_group) == (email_service, service_desk)
        assert incident.assigned_to == agent
        assert list(incident.configuration_items.all()) == [mail_server]

        shown = page(client.get(response.url))
        assert f"{incident.number} logged." in shown
        assert "Mail relay rejects messages" in shown

    def test_caller_defaults_to_the_agent(self, agent):
        response = web(agent).post("/incidents/new/", self.valid())
        assert response.status_code == 302
        assert Incident.objects.get().caller == agent

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            # The API's own messages: the screen's post is parsed by the API's serializer.
            ({"title": ""}, "title", "This field is required."),
            ({"title": "   "}, "title", "This field is required."),
            ({"caller": "nobody"}, "caller", "There is no active user nobody."),
            ({"impact": "7"}, "impact", "&quot;7&quot; is not a valid choice."),
            ({"parent": "INC0000000"}, "parent", "There is no incident INC0000000."),
        ],
    )
    def test_bad_input_is_400_next_to_the_field(self, agent, overrides, field, message):
        response = web(agent).post("/incidents/new/", self.valid(**overrides))
        assert response.status_code == 400
        block = factories.field_block(page(response), field)
        assert "has-error" in block
        assert message in block
        assert not Incident.objects.exists()

    def test_assignee_not_in_group(self, agent, network_team, service_desk):
        response = web(agent).post(
            "/incidents/new/",
            self.valid(assignment_group=str(network_team.pk), assigned_to=agent.username),
        )
        assert response.status_code == 400
        block = factories.field_block(page(response), "assigned_to")
        assert "is not a member of Network" in html.unescape(block)
        assert not Incident.objects.exists()
        assert not JournalEntry.objects.exists()

    def test_bad_input_keeps_what_was_typed(self, agent):
        response = web(agent).post(
            "/incidents/new/", self.valid(caller="nobody", description="Keep me")
        )
        form = factories.html_form(page(response), "")
        assert form["title"] == "Mail relay rejects messages"
        assert form["description"] == "Keep me"
        assert form["caller"] == "nobody"


# The incident page ------------------------------------------------------------------------


def submit(client, incident, action, **changes):
    """Load the incident page, take the form posting to ``action`` (state forms are told
    apart by their ``state``), change some fields and post it."""
    match = {"state": changes.pop("state")} if action == "state" else {}
    body = page(client.get(url(incident)))
    form = factories.html_form(body, url(incident, action), **match)
    form.update(changes)
    return client.post(url(incident, action), form)


class TestIncidentPage:
    def test_shows_the_record(self, agent, assigned):
        body = page(web(agent).get(url(assigned)))
        assert assigned.number in body
        assert "Cannot send e-mail" in body
        # The caller's name opens their contact card (hover, focus or click).
        assert re.search(
            r'Caller <button type="button" class="link" '
            r'data-contact-card="/api/v1/lookups/people/alice/card/"[^>]*><b>Alice</b></button>',
            body,
        )
        for label in ("Start work", "Put on hold…", "Resolve…", "Cancel"):
            assert label in body
        assert "Reopen" not in body

    def test_edit_saves_and_the_journal_shows_the_changes(self, agent, assigned, network_team):
        client = web(agent)
        network_team.members.add(agent)
        response = submit(
            client,
            assigned,
            "edit",
            title="Mail relay rejects messages",
            impact="1",
            assignment_group=str(network_team.pk),
        )
        assert response.status_code == 302
        assert response.url == url(assigned)
        incident = Incident.objects.get(pk=assigned.pk)
        assert incident.title == "Mail relay rejects messages"
        assert (incident.impact, incident.priority) == (1, 2)
        assert incident.assignment_group == network_team
        assert incident.assigned_to == agent  # a member of the new group stays assigned
        assert incident.version == 2

        body = html.unescape(page(client.get(url(assigned))))
        assert f"{assigned.number} saved." in body
        assert "<b>title</b>: Cannot send e-mail → Mail relay rejects messages" in body
        assert "<b>impact</b>: 2 - Medium → 1 - High" in body
        assert "<b>assignment group</b>: Service Desk → Network" in body
        assert "1 reassignment" in body

    def test_unchanged_form_writes_nothing(self, agent, assigned, mail_server):
        services.update_incident(assigned, agent, {"configuration_items": [mail_server]})
        client = web(agent)
        before = journal(assigned).count()
        response = submit(client, assigned, "edit")
        assert response.status_code == 302
        assert Incident.objects.get(pk=assigned.pk).version == 2
        assert journal(assigned).count() == before

    def test_invalid_edit_is_400_and_keeps_the_record(self, agent, assigned):
        response = submit(web(agent), assigned, "edit", title="", urgency="1")
        assert response.status_code == 400
        block = factories.field_block(page(response), "title")
        assert "This field is required." in block
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.title, incident.urgency, incident.version) == ("Cannot send e-mail", 2, 1)

    def test_clearing_the_caller_is_refused_next_to_the_field(self, agent, alice, assigned):
        response = submit(web(agent), assigned, "edit", caller="")
        assert response.status_code == 400
        assert "has-error" in factories.field_block(page(response), "caller")
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.caller, incident.version) == (alice, 1)

    def test_assignee_outside_the_group_is_refused(self, agent, agent2, network_team, assigned):
        response = submit(web(agent), assigned, "edit", assigned_to=agent2.username)
        assert response.status_code == 400
        block = html.unescape(factories.field_block(page(response), "assigned_to"))
        assert "is not a member of Service Desk" in block
        assert Incident.objects.get(pk=assigned.pk).assigned_to == agent

    def test_stale_edit_is_a_409_conflict(self, agent, agent2, assigned):
        client = web(agent)
        form = factories.html_form(page(client.get(url(assigned))), url(assigned, "edit"))
        assert form["version"] == "1"
        services.update_incident(assigned, agent2, {"title": "Changed by agent2"})

        form["title"] = "My change"
        response = client.post(url(assigned, "edit"), form)
        assert response.status_code == 409
        assert "Someone else changed" in page(response)
        assert "Nothing was saved" in page(response)
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.title, incident.version) == ("Changed by agent2", 2)

        # The conflict page carries the current version: applying the change again works.
        again = factories.html_form(page(response), url(assigned, "edit"))
        assert again["version"] == "2"
        assert client.post(url(assigned, "edit"), again).status_code == 302
        assert Incident.objects.get(pk=assigned.pk).title == "My change"

    def test_applying_a_change_again_after_a_conflict_keeps_the_other_change(
        self, agent, agent2, assigned
    ):
        # agent2 raises the urgency while agent retitles: the conflict page must not carry
        # agent's stale urgency, or saving it again would silently undo agent2's change.
        client = web(agent)
        form = factories.html_form(page(client.get(url(assigned))), url(assigned, "edit"))
        services.update_incident(assigned, agent2, {"urgency": 1})
        form["title"] = "My change"
        conflict = client.post(url(assigned, "edit"), form)
        assert conflict.status_code == 409
        again = factories.html_form(page(conflict), url(assigned, "edit"))
        assert again["title"] == "My change"  # what agent typed is not lost
        assert again["urgency"] == "1"  # the current value, as the message says
        client.post(url(assigned, "edit"), again)
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.title, incident.urgency) == ("My change", 1)

    def test_stale_state_change_is_a_409_conflict(self, agent, agent2, assigned):
        client = web(agent)
        form = factories.html_form(
            page(client.get(url(assigned))), url(assigned, "state"), state="in_progress"
        )
        services.update_incident(assigned, agent2, {"urgency": 1})
        response = client.post(url(assigned, "state"), form)
        assert response.status_code == 409
        assert "Someone else changed" in page(response)
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.state, incident.version) == ("new", 2)

    def test_start_work(self, agent, assigned):
        client = web(agent)
        response = submit(client, assigned, "state", state="in_progress")
        assert response.status_code == 302
        incident = Incident.objects.get(pk=assigned.pk)
        assert incident.state == "in_progress"
        assert incident.first_response_at is not None
        body = page(client.get(url(assigned)))
        assert f"{assigned.number} is now in progress." in body
        assert "new → <b>in progress</b>" in body

    def test_resolve_without_code_or_notes_is_400(self, agent, assigned):
        response = submit(web(agent), assigned, "state", state="resolved")
        assert response.status_code == 400
        body = page(response)
        assert "Could not change the state" in body
        assert "resolution_code: Required to move to resolved." in body
        assert "resolution_notes: Required to move to resolved." in body
        assert 'id="dlg-resolved" data-open-on-load' in body
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.state, incident.version) == ("new", 1)

    def test_resolve_with_code_but_no_notes_keeps_nothing(self, agent, assigned):
        response = submit(
            web(agent), assigned, "state", state="resolved", resolution_code="duplicate"
        )
        assert response.status_code == 400
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.state, incident.resolution_code) == ("new", "")

    def test_resolve(self, agent, assigned):
        client = web(agent)
        response = submit(
            client,
            assigned,
            "state",
            state="resolved",
            resolution_code="solved_workaround",
            resolution_notes="Cleared the mail queue.",
        )
        assert response.status_code == 302
        incident = Incident.objects.get(pk=assigned.pk)
        assert incident.state == "resolved"
        assert incident.resolved_at is not None
        body = page(client.get(url(assigned)))
        assert (
            '<b>Resolution</b> <span class="muted">Solved (workaround)</span><b>:</b> '
            "Cleared the mail queue." in body
        )
        assert "Reopen" in body
        assert "Resolve…" not in body

    def test_on_hold_with_a_reason(self, agent, assigned):
        client = web(agent)
        response = submit(
            client, assigned, "state", state="on_hold", on_hold_reason="awaiting_supplier"
        )
        assert response.status_code == 302
        incident = Incident.objects.get(pk=assigned.pk)
        assert (incident.state, incident.on_hold_reason) == ("on_hold", "awaiting_supplier")
        assert "Awaiting supplier" in page(client.get(url(assigned)))

    def test_on_hold_without_a_reason_is_400(self, agent, assigned):
        response = submit(web(agent), assigned, "state", state="on_hold")
        assert response.status_code == 400
        assert "on_hold_reason: Required to move to on_hold." in page(response)
        assert Incident.objects.get(pk=assigned.pk).state == "new"

    def test_unknown_reason_is_400(self, agent, assigned):
        response = submit(web(agent), assigned, "state", state="on_hold", on_hold_reason="lunch")
        assert response.status_code == 400
        assert "Could not change the state" in page(response)
        assert Incident.objects.get(pk=assigned.pk).state == "new"

    @pytest.mark.parametrize("target", ["closed", "bogus", ""])
    def test_illegal_state_is_400_and_names_the_allowed_ones(self, agent, assigned, target):
        response = web(agent).post(url(assigned, "state"), {"state": target, "version": "1"})
        assert response.status_code == 400
        assert "Could not change the state" in page(response)
        if target == "closed":
            assert "Allowed next states: cancelled, in_progress, on_hold, resolved." in page(
                response
            )
        assert Incident.objects.get(pk=assigned.pk).state == "new"

    def test_reply_to_the_caller(self, agent, assigned):
        client = web(agent)
        response = submit(client, assigned, "comment", body="We are restarting the relay.")
        assert response.status_code == 302
        entry = journal(assigned).filter(actor=agent).get(kind__in=["comment", "work_note"])
        assert (entry.kind, entry.internal) == ("comment", False)
        assert entry.body == "We are restarting the relay."
        body = page(client.get(url(assigned)))
        assert "Reply sent to the caller." in body
        assert "We are restarting the relay." in body

    def test_work_note(self, agent, assigned):
        client = web(agent)
        response = submit(client, assigned, "comment", body="Relay log is full.", internal="on")
        assert response.status_code == 302
        entry = journal(assigned).filter(actor=agent).get(kind__in=["comment", "work_note"])
        assert (entry.kind, entry.internal) == ("work_note", True)
        body = page(client.get(url(assigned)))
        assert "Work note added." in body
        assert 'class="entry kind-work_note internal"' in body
        assert "Relay log is full." in body

    @pytest.mark.parametrize("text", ["", "   \n  "])
    def test_empty_comment_is_400(self, agent, assigned, text):
        before = journal(assigned).count()
        response = submit(web(agent), assigned, "comment", body=text)
        assert response.status_code == 400
        assert '<p class="error">This field is required.</p>' in page(response)
        assert journal(assigned).count() == before

    def test_user_input_is_escaped(self, agent, alice):
        incident = factories.incident(alice, title="<script>alert(1)</script>")
        services.comment(incident, agent, "<img src=x onerror=alert(2)>")
        client = web(agent)
        for response in (client.get("/incidents/"), client.get(url(incident))):
            body = page(response)
            assert "<script>alert(1)" not in body
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<img src=x" not in page(client.get(url(incident)))

    def test_times_are_shown_in_the_agents_time_zone(self, agent, assigned):
        from datetime import UTC, datetime

        agent.time_zone = "Europe/Berlin"
        agent.save(update_fields=["time_zone"])
        Incident.objects.filter(pk=assigned.pk).update(
            created_at=datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
        )
        body = page(web(agent).get(url(assigned)))
        assert "<dt>Opened</dt><dd>2024-01-15 13:00</dd>" in body

    def test_timeline_is_newest_first(self, agent, assigned):
        client = web(agent)
        submit(client, assigned, "comment", body="First reply")
        submit(client, assigned, "comment", body="Second reply")
        body = page(client.get(url(assigned)))
        assert body.index("Second reply") < body.index("First reply")


# Attachments -------------------------------------------------------------------------------


def upload(name="log.txt", content=b"relay log\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def downloaded(response) -> bytes:
    # Reading it to the end closes the file (and the test client's request), as a WSGI
    # server would; closing it again would close the database connection mid-test.
    return b"".join(response.streaming_content)


class TestAttachments:
    def test_agent_attaches_on_the_incident_page(self, agent, assigned):
        client = web(agent)
        response = client.post(url(assigned, "attach"), {"file": upload()})
        assert response.status_code == 302
        assert response.url == url(assigned)
        attachment = Attachment.objects.get()
        assert (attachment.filename, attachment.internal) == ("log.txt", False)
        assert attachment.uploaded_by == agent
        body = page(client.get(url(assigned)))
        assert "File attached." in body
        assert f'href="/attachments/{attachment.pk}/">log.txt</a>' in body

    def test_internal_attachment(self, agent, assigned):
        client = web(agent)
        client.post(url(assigned, "attach"), {"file": upload("plan.txt"), "internal": "on"})
        assert Attachment.objects.get().internal
        assert "· internal" in page(client.get(url(assigned)))

    def test_download_for_caller_and_agents(self, agent, manager, alice, assigned):
        web(agent).post(url(assigned, "attach"), {"file": upload()})
        attachment = Attachment.objects.get()
        for user in (alice, agent, manager):
            response = web(user).get(f"/attachments/{attachment.pk}/")
            assert response.status_code == 200, user
            assert 'attachment; filename="log.txt"' in response["Content-Disposition"]
            assert downloaded(response) == b"relay log\n"

    def test_another_end_user_gets_404(self, agent, bob, assigned):
        web(agent).post(url(assigned, "attach"), {"file": upload()})
        response = web(bob).get(f"/attachments/{Attachment.objects.get().pk}/")
        assert response.status_code == 404

    def test_internal_attachment_is_404_for_the_caller(self, agent, alice, assigned):
        web(agent).post(url(assigned, "attach"), {"file": upload("plan.txt"), "internal": "on"})
        attachment = Attachment.objects.get()
        assert web(alice).get(f"/attachments/{attachment.pk}/").status_code == 404
        response = web(agent).get(f"/attachments/{attachment.pk}/")
        assert response.status_code == 200
        downloaded(response)

    def test_unknown_attachment_is_404(self, agent):
        assert web(agent).get("/attachments/999999/").status_code == 404

    def test_too_big_is_refused_with_a_message(self, settings, agent, assigned):
        settings.ATTACHMENT_MAX_BYTES = 10
        client = web(agent)
        response = client.post(url(assigned, "attach"), {"file": upload(content=b"x" * 11)})
        assert response.status_code == 400
        assert not Attachment.objects.exists()
        body = page(response)
        assert "The file is 11 bytes; the limit is 10 bytes." in body
        assert "File attached." not in body

    def test_exactly_the_limit_is_accepted(self, settings, agent, assigned):
        settings.ATTACHMENT_MAX_BYTES = 10
        web(agent).post(url(assigned, "attach"), {"file": upload(content=b"x" * 10)})
        assert Attachment.objects.get().size == 10

    def test_no_file_is_refused_with_a_message(self, agent, assigned):
        client = web(agent)
        response = client.post(url(assigned, "attach"), {})
        assert response.status_code == 400
        assert not Attachment.objects.exists()
        assert 'id="file-err">No file was submitted.' in page(response)


class TestIncidentPageQueryCount:
    # The incident page itself, plus what other practices' panels may spend on it (their
    # declared budgets: problems and known errors, articles…).
    BOUND = 16 + record_panels.panel_queries("incidents.incident", "workspace")

    def busy(self, agent, agent2, alice, service_desk, email_service):
        """An incident with a long journal, several CIs, attachments and children."""
        incident = factories.incident(
            alice,
            actor=agent,
            title="Busy",
            assignment_group=service_desk,
            assigned_to=agent,
            service=email_service,
        )
        cis = [factories.ci(f"ci-{i}") for i in range(4)]
        services.update_incident(incident, agent, {"configuration_items": cis})
        for i in range(6):
            services.comment(incident, agent, f"Reply {i}")
            services.comment(incident, agent2, f"Note {i}", internal=True)
            services.comment(incident, alice, f"Caller {i}")
        services.update_incident(incident, agent, {"state": "in_progress"})
        services.update_incident(incident, agent2, {"urgency": 1, "impact": 2})
        for i in range(3):
            services.attach(incident, [agent, agent2, alice][i], upload(f"f{i}.txt"), i == 1)
        for i in range(2):
            factories.incident(alice, actor=agent2, title=f"Child {i}", parent=incident)
        assert journal(incident).count() >= 20
        return incident

    def test_constant(self, agent, agent2, alice, service_desk, email_service, priority_matrix):
        client = web(agent)
        plain = factories.incident(alice, actor=agent, title="Plain")
        busy = self.busy(agent, agent2, alice, service_desk, email_service)
        child = busy.children.first()
        client.get(url(plain))  # warm caches (content types, sessions)
        counts = {}
        for name, incident in (("plain", plain), ("busy", busy), ("child", child)):
            counts[name], captured = count_queries(client, url(incident))
            assert counts[name] <= self.BOUND, f"{name}:\n{listing(captured)}"
        assert counts["busy"] == counts["plain"] == counts["child"], (
            f"{counts}\n{listing(captured)}"
        )
