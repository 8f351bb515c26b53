"""Reference pickers: the lookup endpoint (who may see which rows, bad input, bounded
queries), the contact card, the widgets drawn on the workspace's forms and filters, and
the forms posting what the pickers post (dependent choices checked by the server)."""

import re

import pytest
from rest_framework.test import APIClient

from catalogue.models import Service
from incidents.models import Incident
from itsm.accounts.models import Role
from problems.models import Problem
from tests import factories
from tests.conftest import make_user
from tests.factories import page, web

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/lookups/{}/"


def lookup(client, kind, **params):
    response = client.get(LOOKUP.format(kind), params)
    return response


def values(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["value"] for item in response.json()["results"]]


@pytest.fixture
def people(db, org):
    carla = make_user("carla", organization=org, last_name="Vance", vip=True)
    carl = make_user("carl", last_name="Olsen")
    make_user("ghost", is_active=False, last_name="Carlsen")
    return carla, carl


@pytest.fixture
def hardware(db):
    top = factories.category("Hardware")
    return top, factories.category("Laptop", top), factories.category("Printer", top)


@pytest.fixture
def software(db):
    top = factories.category("Software")
    return top, factories.category("E-mail client", top)


# The lookup endpoint ----------------------------------------------------------------------


def test_an_agent_finds_people_by_any_word_with_the_vip_flag(api_as, agent, people):
    answer = lookup(api_as(agent), "people", q="carl").json()
    found = {item["value"]: item for item in answer["results"]}
    assert set(found) == {"carla", "carl"}  # not the inactive ghost
    assert found["carla"] == {
        "value": "carla",
        "label": "Carla Vance",
        "detail": "carla@example.com · Acme",
        "badge": "VIP",
        "data": {},
    }
    assert found["carl"]["badge"] == ""
    # Every word must match: a first name and a surname together.
    assert values(lookup(api_as(agent), "people", q="carl vance")) == ["carla"]
    assert values(lookup(api_as(agent), "people", q="example.com olsen")) == ["carl"]


def test_an_end_user_finds_only_themselves_and_no_team_or_ci(
    api_as, alice, people, service_desk, mail_server
):
    client = api_as(alice)
    assert values(lookup(client, "people", q="")) == ["alice"]
    assert values(lookup(client, "people", q="carl")) == []
    assert values(lookup(client, "agents")) == []
    assert values(lookup(client, "teams")) == []
    assert values(lookup(client, "cis", q="mail")) == []


def test_services_are_scoped_like_their_choices(api_as, agent, alice, service_desk):
    Service.objects.create(name="Mail archive", status=Service.Status.PIPELINE)
    Service.objects.create(name="Mail relay", status=Service.Status.LIVE)
    assert values(lookup(api_as(agent), "services", q="mail")) == [
        str(s.pk) for s in Service.objects.filter(name__startswith="Mail").order_by("name")
    ]
    # An employee sees the live catalogue only, never the pipeline.
    live = Service.objects.get(name="Mail relay")
    assert values(lookup(api_as(alice), "services", q="mail")) == [str(live.pk)]


def test_anonymous_callers_are_refused(people):
    response = APIClient().get(LOOKUP.format("people"), {"q": "carl"})
    assert response.status_code in (401, 403)
    assert "carla" not in response.content.decode()


def test_an_unknown_kind_is_a_404(api_as, agent):
    assert lookup(api_as(agent), "passwords").status_code == 404


@pytest.mark.parametrize(
    "kind, params, field",
    [
        ("people", {"limit": "0"}, "limit"),
        ("people", {"limit": "51"}, "limit"),
        ("people", {"limit": "ten"}, "limit"),
        ("people", {"q": "x" * 101}, "q"),
        ("people", {"q": "a\x00b"}, "q"),
        ("agents", {"team": "abc"}, "team"),
        ("agents", {"team": "-1"}, "team"),
        ("agents", {"team": "9" * 30}, "team"),
        ("subcategories", {"parent": "1.5"}, "parent"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(api_as, agent, kind, params, field):
    response = lookup(api_as(agent), kind, **params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_an_assignee_lookup_narrowed_to_a_team_lists_its_members(
    api_as, agent, agent2, manager, service_desk, network_team
):
    client = api_as(agent)
    assert values(lookup(client, "agents")) == ["agent", "agent2", "manager"]
    answer = lookup(client, "agents", team=str(network_team.pk)).json()
    assert [item["value"] for item in answer["results"]] == ["agent2"]
    assert answer["results"][0]["data"] == {"team": str(network_team.pk)}
    assert answer["results"][0]["detail"] == "Network"
    assert values(lookup(client, "agents", team=str(service_desk.pk), q="man")) == ["manager"]
    assert values(lookup(client, "agents", team="999999")) == []


def test_subcategories_follow_their_category(api_as, agent, hardware, software):
    top, _laptop, _printer = hardware
    client = api_as(agent)
    answer = lookup(client, "subcategories", parent=str(top.pk)).json()
    assert [i["label"] for i in answer["results"]] == ["Laptop", "Printer"]
    assert answer["results"][0]["data"] == {"parent": str(top.pk)}
    assert len(values(lookup(client, "subcategories"))) == 3
    assert values(lookup(client, "categories")) == [str(top.pk), str(software[0].pk)]


def test_answers_are_bounded_and_say_when_more_match(api_as, agent, org):
    for i in range(30):
        make_user(f"person{i:02}", organization=org)
    answer = lookup(api_as(agent), "people", q="person").json()
    assert len(answer["results"]) == 20 and answer["more"] is True
    answer = lookup(api_as(agent), "people", q="person", limit="50").json()
    assert len(answer["results"]) == 30 and answer["more"] is False


def test_a_lookup_takes_a_fixed_number_of_queries(
    api_as, agent, org, django_assert_max_num_queries
):
    teams = [factories.team(f"Team {i}") for i in range(3)]
    for i in range(15):
        person = make_user(f"tech{i:02}", Role.AGENT, organization=org)
        person.teams.add(*teams)
    client = api_as(agent)
    with django_assert_max_num_queries(2):  # the rows, their teams
        assert len(values(lookup(client, "agents", q="tech"))) == 15
    with django_assert_max_num_queries(1):  # the rows with their organization
        assert len(values(lookup(client, "people", q="tech"))) == 15


def test_locations_are_offered_to_staff_only(api_as, agent, alice):
    from itsm.accounts.models import Location

    berlin = Location.objects.create(name="Berlin HQ", address="Alexanderplatz 1")
    Location.objects.create(name="London Office")
    assert values(lookup(api_as(agent), "locations", q="alexander")) == [str(berlin.pk)]
    assert values(lookup(api_as(alice), "locations")) == []


# The contact card -------------------------------------------------------------------------


def test_an_agent_sees_a_callers_contact_card(api_as, agent, people, service_desk, alice):
    carla = people[0]
    carla.phone = "+49 30 1234"
    carla.save(update_fields=["phone"])
    factories.incident(carla, agent, title="Laptop fan loud")
    resolved = factories.incident(carla, agent, title="Old one")
    factories.resolve(resolved, agent)
    answer = api_as(agent).get("/api/v1/lookups/people/carla/card/").json()
    assert answer["name"] == "Carla Vance"
    assert (answer["email"], answer["phone"], answer["organization"], answer["vip"]) == (
        "carla@example.com",
        "+49 30 1234",
        "Acme",
        True,
    )
    assert answer["counts"] == [
        {"label": "Open incidents", "count": 1, "url": "/incidents/?caller=carla&open=true"}
    ]
    html = web(agent).get("/api/v1/lookups/people/carla/card/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    text = page(html)
    assert "Carla Vance" in text and "VIP" in text and "+49 30 1234" in text
    assert 'href="/incidents/?caller=carla&amp;open=true">1</a>' in text


def test_the_card_escapes_what_people_typed(api_as, agent, org):
    make_user("eve", last_name="<script>alert(1)</script>", organization=org)
    text = page(web(agent).get("/api/v1/lookups/people/eve/card/", HTTP_ACCEPT="text/html"))
    assert "<script>alert(1)" not in text and "&lt;script&gt;" in text


def test_the_contact_card_is_for_staff_only(api_as, alice, bob, agent):
    assert api_as(alice).get("/api/v1/lookups/people/bob/card/").status_code == 403
    assert api_as(alice).get("/api/v1/lookups/people/alice/card/").status_code == 403
    assert APIClient().get("/api/v1/lookups/people/bob/card/").status_code in (401, 403)
    assert api_as(agent).get("/api/v1/lookups/people/nobody/card/").status_code == 404


def test_the_card_takes_a_fixed_number_of_queries(
    api_as, agent, people, service_desk, django_assert_max_num_queries
):
    for i in range(3):
        factories.incident(people[0], agent, title=f"Issue {i}")
    with django_assert_max_num_queries(3):  # the person, their teams, the open incidents
        assert api_as(agent).get("/api/v1/lookups/people/carla/card/").status_code == 200


# The workspace's forms --------------------------------------------------------------------


def field_html(html: str, name: str) -> str:
    return factories.field_block(html, name)


def test_the_new_incident_form_draws_pickers(agent, service_desk, hardware):
    top, laptop, _ = hardware
    html = page(web(agent).get("/incidents/new/"))
    caller = field_html(html, "caller")
    assert 'data-picker="/api/v1/lookups/people/"' in caller
    assert 'data-card="/api/v1/lookups/people/__value__/card/"' in caller
    subcategory = field_html(html, "subcategory")
    assert 'data-depends-on="id_category"' in subcategory
    assert 'data-depends-param="parent"' in subcategory
    assert re.search(rf'<option value="{laptop.pk}" data-parent="{top.pk}"', subcategory)
    assignee = field_html(html, "assigned_to")
    assert 'data-depends-on="id_assignment_group"' in assignee
    assert re.search(rf'<option value="agent" data-team="{service_desk.pk}"', assignee)
    cis = field_html(html, "configuration_items")
    assert 'data-picker="/api/v1/lookups/cis/"' in cis and "multiple" in cis


def test_an_incident_logged_with_picked_values(
    agent, alice, service_desk, hardware, email_service, mail_server
):
    top, laptop, _ = hardware
    response = web(agent).post(
        "/incidents/new/",
        {
            "title": "Laptop will not boot",
            "caller": "alice",
            "category": top.pk,
            "subcategory": laptop.pk,
            "service": email_service.pk,
            "configuration_items": [mail_server.pk],
            "impact": 2,
            "urgency": 2,
            "assignment_group": service_desk.pk,
            "assigned_to": "agent",
        },
    )
    assert response.status_code == 302, page(response)
    incident = Incident.objects.get(title="Laptop will not boot")
    assert (incident.caller, incident.category, incident.subcategory) == (alice, top, laptop)
    assert (incident.assignment_group, incident.assigned_to) == (service_desk, agent)
    assert list(incident.configuration_items.all()) == [mail_server]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"subcategory": "other"}, "subcategory", "is not in Hardware"),
        ({"category": "", "subcategory": "laptop"}, "subcategory", "Choose a category first."),
        ({"assigned_to": "agent2"}, "assigned_to", "is not a member of Service Desk"),
        ({"assignment_group": "", "assigned_to": "agent"}, "assigned_to", "group first"),
        ({"caller": "nobody"}, "caller", "There is no active user nobody."),
        ({"configuration_items": ["999999"]}, "configuration_items", "not one of the available"),
    ],
)
def test_inconsistent_picks_are_refused_beside_the_field_and_nothing_is_saved(
    agent, alice, agent2, service_desk, network_team, hardware, software, change, field, message
):
    top, laptop, _ = hardware
    data = {
        "title": "Refused",
        "caller": "alice",
        "category": top.pk,
        "subcategory": laptop.pk,
        "assignment_group": service_desk.pk,
        "assigned_to": "agent",
        "impact": 3,
        "urgency": 3,
    }
    named = {"other": software[1].pk, "laptop": laptop.pk}
    data.update({k: named.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    response = web(agent).post("/incidents/new/", data)
    assert response.status_code == 400
    assert message in field_html(page(response), field)
    assert not Incident.objects.filter(title="Refused").exists()


def test_the_incident_page_shows_the_callers_name_and_vip_flag(agent, people, service_desk):
    incident = factories.incident(people[0], agent, title="VIP printer")
    html = page(web(agent).get(f"/incidents/{incident.number}/"))
    caller = field_html(html, "caller")
    assert 'value="carla"' in caller
    assert 'data-label="Carla Vance"' in caller and 'data-badge="VIP"' in caller
    # The page's header flags the VIP and opens the caller's card.
    header = html[html.index("Caller <button") :][:400]
    assert 'data-contact-card="/api/v1/lookups/people/carla/card/"' in header
    assert '<span class="badge vip-badge">VIP</span>' in header


def test_editing_a_picked_field_saves_only_that_change(agent, alice, service_desk, hardware):
    top, laptop, printer = hardware
    incident = factories.incident(alice, agent, title="Edit me", category=top, subcategory=laptop)
    client = web(agent)
    form = factories.html_form(
        page(client.get(f"/incidents/{incident.number}/")),
        f"/incidents/{incident.number}/edit/",
    )
    form["subcategory"] = str(printer.pk)
    assert client.post(f"/incidents/{incident.number}/edit/", form).status_code == 302
    incident.refresh_from_db()
    assert (incident.subcategory, incident.caller) == (printer, alice)


def test_a_problem_logged_with_several_services_and_cis(
    agent, service_desk, email_service, mail_server
):
    vpn = Service.objects.create(name="VPN")
    html = page(web(agent).get("/problems/new/"))
    assert 'data-picker="/api/v1/lookups/services/"' in field_html(html, "services")
    response = web(agent).post(
        "/problems/new/",
        {
            "title": "Mail and VPN flap",
            "impact": "medium",
            "probability": "medium",
            "services": [email_service.pk, vpn.pk],
            "configuration_items": [mail_server.pk],
            "assignment_group": service_desk.pk,
            "assigned_to": "agent",
        },
    )
    assert response.status_code == 302, page(response)
    problem = Problem.objects.get(title="Mail and VPN flap")
    assert set(problem.services.all()) == {email_service, vpn}
    assert list(problem.configuration_items.all()) == [mail_server]


def test_the_queue_flags_a_vip_caller(agent, people, alice, service_desk):
    factories.incident(people[0], agent, title="VIP laptop")
    factories.incident(alice, agent, title="Plain laptop")
    html = page(web(agent).get("/incidents/", {"search": "laptop"}, HTTP_HX_REQUEST="true"))
    rows = {row.split("</tr>")[0] for row in html.split("<tr")[1:]}
    vip = next(r for r in rows if "VIP laptop" in r)
    plain = next(r for r in rows if "Plain laptop" in r)
    assert 'Carla Vance <span class="badge vip-badge" title="VIP caller">VIP</span>' in vip
    assert "vip-badge" not in plain


def test_the_ci_and_asset_forms_pick_teams_locations_and_people(agent, service_desk):
    html = page(web(agent).get("/cmdb/new/", {"class": "server"}))
    for name, kind in (
        ("owner_team", "teams"),
        ("support_team", "teams"),
        ("location", "locations"),
    ):
        assert f'data-picker="/api/v1/lookups/{kind}/"' in field_html(html, name), name
    html = page(web(agent).get("/assets/new/"))
    assert 'data-picker="/api/v1/lookups/people/"' in field_html(html, "assigned_to")
    assert 'data-picker="/api/v1/lookups/locations/"' in field_html(html, "location")


# The queues' filters ----------------------------------------------------------------------


def select_html(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}".*?</select>', html, flags=re.DOTALL)
    assert match, f"no select {name}"
    return match.group(0)


def test_the_incident_queue_filters_by_team_and_person_by_name(
    agent, alice, agent2, service_desk, network_team
):
    factories.incident(alice, agent, title="Desk one", assignment_group=service_desk)
    factories.incident(
        alice, agent, title="Net one", assignment_group=network_team, assigned_to=agent2
    )
    client = web(agent)
    html = page(client.get("/incidents/"))
    group = select_html(html, "assignment_group")
    assert '<option value="mine">My teams</option>' in group.replace(" data-shortcut", "")
    assert f'<option value="{network_team.pk}">Network</option>' in group
    assignee = select_html(html, "assigned_to")
    assert "Me</option>" in assignee and '<option value="agent2">Agent2</option>' in assignee
    # The same parameters as before: a team's id, ``mine``, a username, ``me``.
    shown = page(client.get("/incidents/", {"assignment_group": network_team.pk}))
    assert "Net one" in shown and "Desk one" not in shown
    assert re.search(
        rf'<option value="{network_team.pk}" selected>Network',
        select_html(shown, "assignment_group"),
    )
    shown = page(client.get("/incidents/", {"assignment_group": "mine"}))
    assert "Desk one" in shown and "Net one" not in shown
    shown = page(client.get("/incidents/", {"assigned_to": "agent2"}))
    assert "Net one" in shown and "Desk one" not in shown
    # Several teams typed in the address stay as they were asked for.
    both = f"{service_desk.pk},{network_team.pk}"
    shown = page(client.get("/incidents/", {"assignment_group": both}))
    assert f'<option value="{both}" selected>{both}</option>' in shown


def test_filter_pickers_offer_only_what_the_person_may_see(
    rf, alice, agent, service_desk, mail_server
):
    from incidents.filters import IncidentFilterSet
    from problems.filters import ProblemFilterSet

    Service.objects.create(name="Mail archive", status=Service.Status.PIPELINE)
    for user, sees in ((agent, True), (alice, False)):
        request = rf.get("/")
        request.user = user
        form = IncidentFilterSet({}, request=request).form
        group, assignee = str(form["assignment_group"]), str(form["assigned_to"])
        assert "My teams</option>" in group and "Me</option>" in assignee
        assert ("Service Desk</option>" in group) is sees
        assert ("Agent</option>" in assignee) is sees
        form = ProblemFilterSet({"configuration_item": str(mail_server.pk)}, request=request).form
        assert ("Mail archive</option>" in str(form["service"])) is sees
        assert ("mail-01 (Server)</option>" in str(form["configuration_item"])) is sees


def test_the_known_error_filters_name_the_service_and_ci(
    agent, service_desk, email_service, mail_server
):
    html = page(web(agent).get("/problems/known-errors/"))
    service = select_html(html, "service")
    assert f'<option value="{email_service.pk}">E-mail</option>' in service
    assert 'data-picker="/api/v1/lookups/services/"' in service
    ci = select_html(html, "configuration_item")
    assert 'data-picker="/api/v1/lookups/cis/"' in ci and "mail-01" not in ci
    chosen = page(web(agent).get("/problems/known-errors/", {"configuration_item": mail_server.pk}))
    assert f'<option value="{mail_server.pk}" selected>mail-01 (Server)</option>' in select_html(
        chosen, "configuration_item"
    )
    assert "Service id" not in html and "CI id" not in html


def test_the_parent_incident_is_picked_by_number_or_title(agent, alice, bob, priority_matrix):
    """The parent field offers open incidents that are no child themselves, found by their
    number or words of their title, and posts the number."""
    from rest_framework.test import APIClient

    from incidents import services as incident_services

    outage = factories.incident(bob, actor=agent, title="Mail outage in Berlin")
    child = factories.incident(alice, actor=agent, title="Cannot send mail", parent=outage)
    closed = factories.incident(alice, actor=agent, title="Mail outage last week")
    incident_services.update_incident(closed, agent, {"state": "cancelled"})
    api = APIClient()
    api.force_authenticate(agent)
    found = api.get("/api/v1/lookups/parent-incidents/", {"q": "mail outage"}).json()
    values = [row["value"] for row in found["results"]]
    assert values == [outage.number]
    found = api.get("/api/v1/lookups/parent-incidents/", {"q": outage.number}).json()
    assert [row["value"] for row in found["results"]] == [outage.number]
    assert child.number not in str(
        api.get("/api/v1/lookups/parent-incidents/", {"q": "mail"}).json()
    )
    # an end user finds only what they may see: not someone else's incident
    api.force_authenticate(alice)
    found = api.get("/api/v1/lookups/parent-incidents/", {"q": "outage berlin"})
    assert found.status_code == 200 and found.json()["results"] == []
