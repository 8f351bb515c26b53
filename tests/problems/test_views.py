"""The problem screens: queue, page, forms, KEDB, trends, portal pages and the panels on
incident pages; permissions and query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue.models import Service
from incidents.models import Incident
from problems import services
from problems.models import Problem, WorkaroundUse
from problems.workflows import ProblemState as S
from tests import factories
from tests.factories import html_form, page, web

from .conftest import known_error, make_problem

ROW = re.compile(r'<td class="num"><a href="/problems/(PRB\d{7})/">')


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


# Permissions ---------------------------------------------------------------------------------


def test_end_users_cannot_open_any_workspace_screen(alice, problem):
    client = web(alice)
    for path in (
        "/problems/",
        "/problems/new/",
        "/problems/trends/",
        f"/problems/{problem.number}/",
    ):
        assert client.get(path).status_code == 403, path
    for path in (
        f"/problems/{problem.number}/edit/",
        f"/problems/{problem.number}/state/",
        f"/problems/{problem.number}/comment/",
        f"/problems/{problem.number}/causes/",
        f"/problems/{problem.number}/incidents/",
        f"/problems/{problem.number}/use-workaround/",
        "/problems/trends/raise/",
        "/problems/workaround-uses/1/rate/",
    ):
        assert client.post(path, {"title": "x", "state": "closed"}).status_code == 403, path
    assert Problem.objects.get(pk=problem.pk).version == 1
    # The KEDB screen sends them to the portal's list.
    response = client.get("/problems/known-errors/")
    assert response.status_code == 302 and response["Location"] == "/portal/known-errors/"


def test_anonymous_is_sent_to_sign_in(client, problem):
    for path in ("/problems/", f"/problems/{problem.number}/", "/portal/known-errors/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"]


# Queue -----------------------------------------------------------------------------------


def test_queue_lists_and_filters(agent, service_desk):
    ke = known_error(agent, service_desk, title="Known one")
    other = make_problem(agent, title="Fresh one")
    client = web(agent)
    assert set(ROW.findall(page(client.get("/problems/")))) == {ke.number, other.number}
    assert ROW.findall(page(client.get("/problems/?view=known_errors"))) == [ke.number]
    assert ROW.findall(page(client.get("/problems/?state=new"))) == [other.number]
    htmx = client.get("/problems/?search=Fresh", headers={"HX-Request": "true"})
    assert "<html" not in page(htmx) and ROW.findall(page(htmx)) == [other.number]


def test_queue_query_count_is_constant(agent, service_desk):
    client = web(agent)
    known_error(agent, service_desk, assigned_to=agent)
    few = queries(client, "/problems/")
    for n in range(6):
        known_error(agent, service_desk, title=f"P{n}", assigned_to=agent)
    assert queries(client, "/problems/") == few


# Create -----------------------------------------------------------------------------------


def test_create_prefilled_from_an_incident(agent, alice, service_desk, email_service, mail_server):
    incident = factories.incident(
        alice,
        actor=agent,
        title="Mail stuck in outbox",
        service=email_service,
        configuration_items=[mail_server],
        assignment_group=service_desk,
    )
    client = web(agent)
    html = page(client.get(f"/problems/new/?incident={incident.number}"))
    data = html_form(html, "/problems/new/")
    assert data["title"] == "Mail stuck in outbox"
    assert data["incidents"] == incident.number
    response = client.post("/problems/new/", data)
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert response["Location"] == f"/problems/{problem.number}/"
    assert list(problem.incidents.all()) == [incident]
    assert list(problem.services.all()) == [email_service]
    assert list(problem.configuration_items.all()) == [mail_server]


def test_create_with_bad_input_saves_nothing(agent):
    client = web(agent)
    response = client.post("/problems/new/", {"title": "", "impact": "medium"})
    assert response.status_code == 400
    response = client.post(
        "/problems/new/",
        {"title": "x", "impact": "medium", "probability": "low", "incidents": "INC9999999"},
    )
    assert response.status_code == 400 and "There is no incident INC9999999." in page(response)
    assert not Problem.objects.exists()


# Problem page ---------------------------------------------------------------------------------


def test_problem_page_query_count_is_constant(agent, alice, service_desk, mail_server):
    problem = known_error(agent, service_desk, configuration_items=[mail_server])
    client = web(agent)
    path = f"/problems/{problem.number}/"
    incident = factories.incident(
        alice, actor=agent, assigned_to=agent, assignment_group=service_desk
    )
    services.use_workaround(problem, incident, agent)
    few = queries(client, path)
    for n in range(4):
        more = factories.incident(
            alice, actor=agent, title=f"More {n}", assigned_to=agent, assignment_group=service_desk
        )
        services.use_workaround(problem, more, agent)
        services.add_cause(
            problem, agent, {"dimension": "value_streams_and_processes", "description": f"c{n}"}
        )
        services.comment(problem, agent, f"note {n}", internal=True)
    assert queries(client, path) == few


def test_edit_fields_and_conflict(agent, problem):
    client = web(agent)
    path = f"/problems/{problem.number}/"
    data = html_form(page(client.get(path)), f"{path}edit/")
    services.update_problem(problem, agent, {"description": "Changed elsewhere"})
    data["workaround"] = "Use webmail"
    response = client.post(f"{path}edit/", data)
    assert response.status_code == 409
    assert "Someone else changed" in page(response)
    retry = html_form(page(response), f"{path}edit/")
    assert retry["workaround"] == "Use webmail"
    assert client.post(f"{path}edit/", retry).status_code == 302
    problem.refresh_from_db()
    assert problem.workaround == "Use webmail"
    assert problem.description == "Changed elsewhere"


def test_state_buttons_and_guard_errors(agent, problem):
    client = web(agent)
    path = f"/problems/{problem.number}/"
    html = page(client.get(path))
    data = html_form(html, f"{path}state/", state="known_error")
    response = client.post(f"{path}state/", data)
    assert response.status_code == 400
    assert "workaround or a documented root cause" in page(response)
    data = html_form(html, f"{path}state/", state="assessed")
    assert client.post(f"{path}state/", data).status_code == 302
    assert Problem.objects.get(pk=problem.pk).state == S.ASSESSED


def test_resolve_with_incidents_from_the_page(agent, problem, open_incidents):
    services.link_incidents(problem, agent, open_incidents)
    client = web(agent)
    path = f"/problems/{problem.number}/"
    html = page(client.get(path))
    data = html_form(html, f"{path}state/", state="resolved")
    assert "resolve_incidents" not in data  # offered, unticked: the callers read the notes
    assert "Also resolve the 2 open linked incidents — their callers will see these" in html
    data["resolve_incidents"] = "on"
    data["resolution_notes"] = "Relay pool enlarged."
    response = client.post(f"{path}state/", data, follow=True)
    assert "Resolved 2 linked incidents" in page(response)
    assert set(Incident.objects.values_list("state", flat=True)) == {"resolved"}


def test_causes_and_incident_links_from_the_page(agent, problem, open_incidents):
    client = web(agent)
    path = f"/problems/{problem.number}/"
    response = client.post(
        f"{path}causes/",
        {
            "dimension": "organizations_and_people",
            "description": "No runbook",
            "is_root_cause": "on",
        },
    )
    assert response.status_code == 302
    cause = problem.causes.get()
    assert cause.is_root_cause
    client.post(f"{path}causes/{cause.pk}/", {})
    cause.refresh_from_db()
    assert not cause.is_root_cause
    assert client.post(f"{path}causes/", {"dimension": "x", "description": ""}).status_code == 400
    numbers = ", ".join(i.number for i in open_incidents)
    assert client.post(f"{path}incidents/", {"incidents": numbers}).status_code == 302
    assert problem.incidents.count() == 2
    bad = client.post(f"{path}incidents/", {"incidents": "INC9999999"})
    assert bad.status_code == 400 and problem.incidents.count() == 2
    remove = f"{path}incidents/{open_incidents[0].number}/remove/"
    assert client.post(remove).status_code == 302
    assert problem.incidents.count() == 1


# Incident page panels --------------------------------------------------------------------------


def test_incident_page_offers_matching_known_errors(agent, alice, service_desk, mail_server):
    ke = known_error(agent, service_desk, configuration_items=[mail_server], workaround="Resend")
    incident = factories.incident(alice, actor=agent, configuration_items=[mail_server])
    client = web(agent)
    html = page(client.get(f"/incidents/{incident.number}/"))
    assert 'id="panel-problems"' in html and ke.number in html
    data = html_form(html, f"/problems/{ke.number}/use-workaround/")
    response = client.post(f"/problems/{ke.number}/use-workaround/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.number}/"
    use = WorkaroundUse.objects.get()
    assert use.incident == incident and use.used_by == agent
    assert ke.incidents.filter(pk=incident.pk).exists()
    # Now the panel offers the rating.
    html = page(client.get(f"/incidents/{incident.number}/"))
    data = html_form(html, f"/problems/workaround-uses/{use.pk}/rate/")
    data["effectiveness"] = "5"
    assert client.post(f"/problems/workaround-uses/{use.pk}/rate/", data).status_code == 302
    use.refresh_from_db()
    assert use.effectiveness == 5


def test_incident_page_query_count_with_the_panel(agent, alice, service_desk, mail_server):
    incident = factories.incident(alice, actor=agent, configuration_items=[mail_server])
    known_error(agent, service_desk, configuration_items=[mail_server])
    client = web(agent)
    path = f"/incidents/{incident.number}/"
    few = queries(client, path)
    for n in range(3):
        ke = known_error(agent, service_desk, title=f"KE {n}", configuration_items=[mail_server])
        services.use_workaround(ke, incident, agent)
    assert queries(client, path) == few


def test_portal_incident_page_shows_only_public_workarounds(agent, alice, service_desk):
    incident = factories.incident(alice, title="VPN drops")
    public = known_error(
        agent, service_desk, title="VPN idle", workaround="Keep alive on", public=True
    )
    internal = known_error(agent, service_desk, title="Secret", workaround="Reboot gw-7")
    services.link_incidents(public, agent, [incident])
    services.link_incidents(internal, agent, [incident])
    html = page(web(alice).get(f"/portal/issues/{incident.number}/"))
    assert "Keep alive on" in html
    assert "Reboot gw-7" not in html and "Secret" not in html
    assert public.number not in html  # no internal numbers or fields either


# KEDB, portal pages and portal home -------------------------------------------------------------


def test_kedb_screen(agent, service_desk):
    ke = known_error(agent, service_desk, title="KE", workaround="Do this")
    make_problem(agent, title="Not known")
    html = page(web(agent).get("/problems/known-errors/"))
    assert ke.number in html and "Do this" in html and "Not known" not in html


def test_kedb_query_count_is_constant(agent, service_desk, mail_server, email_service):
    client = web(agent)
    known_error(agent, service_desk, configuration_items=[mail_server], services=[email_service])
    few = queries(client, "/problems/known-errors/")
    for n in range(5):
        known_error(
            agent,
            service_desk,
            title=f"KE {n}",
            configuration_items=[mail_server],
            services=[email_service],
        )
    assert queries(client, "/problems/known-errors/") == few


def test_portal_known_errors_for_end_users(agent, alice, service_desk, problem):
    public = known_error(
        agent, service_desk, title="VPN idle", workaround="Keep alive", public=True
    )
    internal = known_error(agent, service_desk, title="Secret thing", workaround="Reboot gw-7")
    client = web(alice)
    html = page(client.get("/portal/known-errors/"))
    assert "VPN idle" in html and "Secret thing" not in html
    html = page(client.get(f"/portal/known-errors/{public.number}/"))
    assert "Keep alive" in html
    assert "Connection pool" not in html  # causes are internal
    assert client.get(f"/portal/known-errors/{internal.number}/").status_code == 404
    assert client.get(f"/portal/known-errors/{problem.number}/").status_code == 404
    home = page(client.get("/portal/"))
    assert "Known issues" in home and "VPN idle" in home and "Secret thing" not in home


def test_portal_known_error_page_says_status_date_and_services(
    agent, alice, service_desk, email_service
):
    retired = Service.objects.create(name="Old fax", status=Service.Status.RETIRED)
    ke = known_error(
        agent,
        service_desk,
        title="Mail slow",
        workaround="Use webmail",
        public=True,
        services=[email_service, retired],
    )
    html = page(web(alice).get(f"/portal/known-errors/{ke.number}/"))
    assert "We are working on a fix" in html and "What you can do meanwhile" in html
    assert ke.known_error_at.strftime("%Y") in html and "Use webmail" in html
    assert "E-mail" in html and "Old fax" not in html
    assert "<title>Mail slow · Help & support</title>" in html
    assert "Connection pool" not in html  # causes are internal


# Trends ------------------------------------------------------------------------------------------


def test_trends_page_and_raise(agent, alice, email_service):
    incidents = [
        factories.incident(alice, actor=agent, title=f"Mail {n}", service=email_service)
        for n in range(3)
    ]
    client = web(agent)
    html = page(client.get("/problems/trends/"))
    assert all(i.number in html for i in incidents)
    data = html_form(html, "/problems/trends/raise/", dimension="service")
    response = client.post("/problems/trends/raise/", data)
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.number}/"
    assert problem.incidents.count() == 3
    assert "No CI, service or category" in page(client.get("/problems/trends/"))
    assert client.get("/problems/trends/?threshold=0").status_code == 400
    assert client.get("/problems/trends/?days=2&threshold=2").status_code == 200


@pytest.mark.parametrize("threshold", ["1", "2"])
def test_trends_page_query_count_is_constant(agent, alice, email_service, threshold):
    client = web(agent)
    factories.incident(alice, actor=agent, service=email_service)
    factories.incident(alice, actor=agent, service=email_service)
    path = f"/problems/trends/?threshold={threshold}"
    few = queries(client, path)
    for _ in range(4):
        factories.incident(alice, actor=agent, service=email_service)
    assert queries(client, path) == few


# Elsewhere: the CI page, the practice map, the workspace navigation, demo data -------------------


def test_ci_page_lists_its_problems(agent, service_desk, mail_server):
    ke = known_error(agent, service_desk, configuration_items=[mail_server])
    html = page(web(agent).get(reverse("cmdb:detail", args=[mail_server.pk])))
    assert f'href="/problems/{ke.number}/"' in html


def test_practice_is_registered_with_kpis(agent, service_desk):
    from practices.registry import PRACTICES
    from problems.kpis import problem_kpis

    known_error(agent, service_desk, workaround="W", public=True)
    make_problem(agent, title="Open one")
    assert PRACTICES["problem"].url_name == "problems:queue"
    figures = dict(problem_kpis())
    assert figures["Open problems"] == "2"
    assert figures["Known errors"] == "1"
    assert figures["Known errors with a public workaround"] == "1"
    assert figures["Mean time to known error (90 days)"].endswith(" d")
    html = page(web(agent).get("/problems/"))
    assert 'href="/problems/"' in html  # the workspace section


def test_demo_data_is_idempotent(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    problems = Problem.objects.count()
    assert 4 <= problems <= 6
    assert set(Problem.objects.values_list("state", flat=True)) >= {
        S.KNOWN_ERROR,
        S.RESOLVED,
        S.CLOSED,
        S.ROOT_CAUSE_ANALYSIS,
    }
    known = Problem.objects.known_errors()
    assert known.count() == 2 and known.filter(workaround_public=True).count() == 1
    assert all(p.incidents.exists() for p in known)
    from problems.models import Cause

    assert Cause.objects.values("dimension").distinct().count() >= 3
    call_command("load_demo", stdout=StringIO())
    assert Problem.objects.count() == problems


def test_linked_records_are_links_on_the_problem_page(agent, service_desk):
    from itsm.core import services as core
    from tests.factories import page, web

    from .conftest import make_problem

    problem = make_problem(agent, assignment_group=service_desk)
    duplicate = make_problem(agent, title="Same relay trouble")
    core.link_records(duplicate, problem, agent, "duplicate_of")
    html = page(web(agent).get(f"/problems/{problem.number}/"))
    assert f'<a href="/problems/{duplicate.number}/">{duplicate.number}</a>' in html


def test_the_links_panel_offers_no_change_module_yet(agent, service_desk):
    """Issue 11: there are no changes to link until change enablement lands."""
    problem = make_problem(agent, assignment_group=service_desk)
    body = page(web(agent).get(f"/problems/{problem.number}/"))
    assert "CHG0001234" not in body
    assert "Link the change" not in body
