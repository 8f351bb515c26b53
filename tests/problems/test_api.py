"""The problem, known error and trend APIs through HTTP."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from problems import services
from problems.models import Cause, Problem, WorkaroundUse
from problems.workflows import ProblemState as S
from tests import factories

from .conftest import known_error, make_problem

LIST = "/api/v1/problems/"
KEDB = "/api/v1/known-errors/"
TRENDS = "/api/v1/problem-trends/"


def detail(number, sub=""):
    return f"{LIST}{number}/{sub + '/' if sub else ''}"


# Permissions --------------------------------------------------------------------------------


def test_anonymous_is_refused_everywhere(problem):
    client = APIClient()
    for url in (LIST, detail(problem.number), KEDB, TRENDS):
        assert client.get(url).status_code in (401, 403)


def test_end_users_get_403_on_problems_and_trends(api_as, alice, problem):
    client = api_as(alice)
    for method, url in (
        ("get", LIST),
        ("post", LIST),
        ("get", detail(problem.number)),
        ("patch", detail(problem.number)),
        ("get", detail(problem.number, "causes")),
        ("post", detail(problem.number, "causes")),
        ("get", detail(problem.number, "workaround-uses")),
        ("get", detail(problem.number, "timeline")),
        ("get", detail(problem.number, "comments")),
        ("get", TRENDS),
        ("post", f"{TRENDS}raise/"),
    ):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
    assert Problem.objects.get(pk=problem.pk).version == 1


# Create, read, update -------------------------------------------------------------------------


def test_create_with_links(api_as, agent, service_desk, email_service, mail_server, alice):
    incident = factories.incident(alice, actor=agent)
    response = api_as(agent).post(
        LIST,
        {
            "title": "Mail relay drops",
            "impact": "high",
            "probability": "medium",
            "assignment_group": service_desk.pk,
            "incidents": [incident.number],
            "services": [email_service.pk],
            "configuration_items": [mail_server.pk],
            "workaround": "Resend later.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("PRB") and body["priority"] == 2
    assert body["incidents"] == [incident.number]
    assert body["services"] == [email_service.pk]
    assert body["configuration_items"] == [mail_server.pk]
    assert body["state"] == "new" and "assessed" in body["allowed_states"]
    assert response["ETag"] == f'"{body["number"]}-v1"'


def test_create_idempotent(api_as, agent):
    client = api_as(agent)
    first = client.post(LIST, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(LIST, {"title": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Problem.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "impact": "huge"}, "impact"),
        ({"title": "x", "state": "known_error"}, "state"),
        ({"title": "x", "priority": 1}, "priority"),
        ({"title": "x", "incidents": ["INC9999999"]}, "incidents"),
        ({"title": "x", "services": [999999]}, "services"),
        ({"title": "x", "workaround_public": True}, "workaround_public"),
        ({"title": "x", "resolve_incidents": True}, "resolve_incidents"),
    ],
)
def test_bad_input_is_400_with_the_field(api_as, agent, payload, field):
    response = api_as(agent).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Problem.objects.exists()


def test_patch_honours_if_match(api_as, agent, problem):
    client = api_as(agent)
    etag = client.get(detail(problem.number))["ETag"]
    ok = client.patch(detail(problem.number), {"title": "New title"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(detail(problem.number), {"title": "Mine"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Problem.objects.get(pk=problem.pk).title == "New title"


def test_state_patch_with_guard_error_names_the_field(api_as, agent, problem):
    client = api_as(agent)
    response = client.patch(detail(problem.number), {"state": "known_error"})
    assert response.status_code == 400
    assert "state" in response.json()
    response = client.patch(detail(problem.number), {"state": "resolved"})
    assert response.status_code == 400 and "resolution_notes" in response.json()
    assert Problem.objects.get(pk=problem.pk).state == "new"


def test_resolve_with_incidents_over_patch(api_as, agent, problem, open_incidents):
    services.link_incidents(problem, agent, open_incidents)
    response = api_as(agent).patch(
        detail(problem.number),
        {
            "state": "resolved",
            "resolution_notes": "Fixed by CHG0001001.",
            "resolve_incidents": True,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "resolved"
    assert sorted(body["resolved_incidents"]) == sorted(i.number for i in open_incidents)
    assert "resolve_incidents" not in body


def test_causes_sub_resource(api_as, agent, problem):
    client = api_as(agent)
    url = detail(problem.number, "causes")
    bad = client.post(url, {"dimension": "weather", "description": "x"})
    assert bad.status_code == 400 and "dimension" in bad.json()
    made = client.post(
        url,
        {"dimension": "partners_and_suppliers", "description": "Vendor bug", "is_root_cause": True},
    )
    assert made.status_code == 201, made.content
    cause_id = made.json()["id"]
    assert client.get(url).json()[0]["description"] == "Vendor bug"
    assert client.get(detail(problem.number)).json()["causes"][0]["is_root_cause"] is True
    changed = client.patch(f"{url}{cause_id}/", {"is_root_cause": False})
    assert changed.status_code == 200 and changed.json()["is_root_cause"] is False
    assert client.delete(f"{url}{cause_id}/").status_code == 204
    assert not Cause.objects.exists()
    assert client.delete(f"{url}{cause_id}/").status_code == 404


def test_workaround_uses_and_rating(api_as, agent, agent2, service_desk, open_incidents):
    problem = known_error(agent, service_desk)
    client = api_as(agent)
    url = detail(problem.number, "workaround-uses")
    used = client.post(url, {"incident": open_incidents[0].number})
    assert used.status_code == 201, used.content
    assert used.json()["used_by"] == "agent"
    assert client.post(url, {"incident": open_incidents[0].number}).status_code == 200
    assert client.post(url, {"incident": "INC9999999"}).status_code == 400
    use_id = used.json()["id"]
    assert api_as(agent2).patch(f"{url}{use_id}/", {"effectiveness": 3}).status_code == 403
    assert client.patch(f"{url}{use_id}/", {"effectiveness": 7}).status_code == 400
    rated = client.patch(f"{url}{use_id}/", {"effectiveness": 4, "rating_note": "Good"})
    assert rated.status_code == 200 and rated.json()["effectiveness"] == 4
    assert [u["id"] for u in client.get(url).json()] == [use_id]
    assert WorkaroundUse.objects.get().effectiveness == 4


def test_list_filters(api_as, agent, service_desk, email_service):
    ke = known_error(agent, service_desk, title="Known", services=[email_service])
    other = make_problem(agent, title="Other", impact="high", probability="high")
    client = api_as(agent)

    def numbers(query):
        response = client.get(LIST, query)
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers({"known_error": "true"}) == {ke.number}
    assert numbers({"state": "new"}) == {other.number}
    assert numbers({"priority": 1}) == {other.number}
    assert numbers({"service": email_service.pk}) == {ke.number}
    assert numbers({"assignment_group": service_desk.pk}) == {ke.number}
    assert numbers({"search": "Other"}) == {other.number}
    assert numbers({"search": other.number}) == {other.number}
    assert client.get(LIST, {"state": "nope"}).status_code == 400


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_query_count_is_constant(api_as, agent, service_desk, mail_server, alice):
    client = api_as(agent)
    incident = factories.incident(alice, actor=agent)
    known_error(agent, service_desk, incidents=[incident], configuration_items=[mail_server])
    few = count_queries(client, LIST)
    for n in range(5):
        known_error(
            agent,
            service_desk,
            title=f"P{n}",
            incidents=[factories.incident(alice, actor=agent)],
            configuration_items=[mail_server],
        )
    assert count_queries(client, LIST) == few
    assert count_queries(client, KEDB) == count_queries(client, KEDB)


# Known errors ------------------------------------------------------------------------------------


def test_known_errors_for_staff_and_end_users(api_as, agent, alice, service_desk, problem):
    public = known_error(
        agent, service_desk, title="Public", workaround="Use webmail.", public=True
    )
    internal = known_error(agent, service_desk, title="Internal", workaround="Flush the queue.")
    staff = api_as(agent).get(KEDB).json()["results"]
    assert {row["number"] for row in staff} == {public.number, internal.number}
    assert "workaround_public" in staff[0]

    client = api_as(alice)
    rows = client.get(KEDB).json()["results"]
    assert rows == [{"number": public.number, "title": "Public", "workaround": "Use webmail."}]
    assert client.get(f"{KEDB}{public.number}/").json()["workaround"] == "Use webmail."
    assert client.get(f"{KEDB}{internal.number}/").status_code == 404
    assert client.get(f"{KEDB}{problem.number}/").status_code == 404  # not a known error
    assert client.get(KEDB, {"search": "Flush"}).json()["results"] == []


def test_unpublishing_hides_it_from_end_users(api_as, agent, alice, service_desk):
    public = known_error(agent, service_desk, workaround="Use webmail.", public=True)
    services.update_problem(public, agent, {"workaround_public": False})
    assert api_as(alice).get(KEDB).json()["results"] == []


def test_resolved_problem_leaves_the_kedb(api_as, agent, alice, service_desk):
    public = known_error(agent, service_desk, workaround="Use webmail.", public=True)
    services.update_problem(public, agent, {"state": S.RESOLVED, "resolution_notes": "Fixed."})
    assert api_as(alice).get(KEDB).json()["results"] == []
    assert api_as(agent).get(KEDB).json()["results"] == []


# Trends -----------------------------------------------------------------------------------------


def test_trends_and_raise_over_the_api(api_as, agent, alice, email_service):
    incidents = [
        factories.incident(alice, actor=agent, title=f"Mail {n}", service=email_service)
        for n in range(3)
    ]
    client = api_as(agent)
    groups = client.get(TRENDS).json()
    assert groups == [
        {
            "group_by": "service",
            "key": email_service.pk,
            "label": "E-mail",
            "count": 3,
            "incidents": [
                {"number": i.number, "title": i.title}
                for i in sorted(incidents, key=lambda i: i.created_at, reverse=True)
            ],
        }
    ]
    assert client.get(TRENDS, {"threshold": "0"}).status_code == 400
    assert "days" in client.get(TRENDS, {"days": "x"}).json()
    bad = client.post(f"{TRENDS}raise/", {"group_by": "service", "key": 999999})
    assert bad.status_code == 400 and "key" in bad.json()
    made = client.post(f"{TRENDS}raise/", {"group_by": "service", "key": email_service.pk})
    assert made.status_code == 201, made.content
    assert sorted(made.json()["incidents"]) == sorted(i.number for i in incidents)
    assert client.get(TRENDS).json() == []


def test_schema_has_no_warnings():
    from io import StringIO

    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null", stdout=StringIO()
    )


def test_adding_a_cause_twice_with_one_idempotency_key_adds_one(api_as, agent, problem):
    client = api_as(agent)
    url = f"/api/v1/problems/{problem.number}/causes/"
    payload = {"dimension": "information_and_technology", "description": "Relay queue full"}
    first = client.post(url, payload, HTTP_IDEMPOTENCY_KEY="cause-1")
    again = client.post(url, payload, HTTP_IDEMPOTENCY_KEY="cause-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert problem.causes.count() == 1
