"""Data separation (``DATA_SEPARATION``): staff see all records (the default), their teams'
("teams"), or their customers' ("organizations", a managed-service provider). Each mode
is one rule per model (``visible_to``) and holds in lists, details, search, counts,
choices, exports and notifications."""

import pytest
from django.contrib.auth.models import Group, Permission

from incidents.models import Incident
from itsm.accounts import roles
from itsm.accounts.models import Organization, Role, Team, User
from itsm.core import search
from itsm.core.models import Notification
from itsm.core.scoping import visible_choices
from itsm.core.services import notify
from practices.assets.models import Asset
from practices.service_desk import work
from tests.conftest import client_for, make_user
from tests.factories import ci, incident

pytestmark = pytest.mark.django_db

SEPARATED = ["teams", "organizations"]


@pytest.fixture
def msp(db, priority_matrix):
    """Two customers (X and Y), a team serving each (A and B) with an agent, a manager of
    B who is in no team, a person and an incident of each customer."""
    ours = Organization.objects.create(name="Provider")
    x = Organization.objects.create(name="Customer X")
    y = Organization.objects.create(name="Customer Y")
    agent_a = make_user("anna", Role.AGENT, organization=ours)
    agent_b = make_user("bert", Role.AGENT, organization=ours)
    lead_b = make_user("bea", Role.MANAGER, organization=ours)
    team_a = Team.objects.create(name="Team A")
    team_a.members.add(agent_a)
    team_a.organizations.add(x)
    team_b = Team.objects.create(name="Team B", manager=lead_b)
    team_b.members.add(agent_b)
    team_b.organizations.add(y)
    xavier = make_user("xavier", organization=x)
    yvonne = make_user("yvonne", organization=y)
    inc_x = incident(xavier, actor=agent_a, title="Xylophone outage", assignment_group=team_a)
    inc_y = incident(yvonne, actor=agent_b, title="Yodel outage", assignment_group=team_b)
    return {
        "x": x,
        "y": y,
        "agent_a": agent_a,
        "agent_b": agent_b,
        "lead_b": lead_b,
        "team_a": team_a,
        "team_b": team_b,
        "xavier": xavier,
        "yvonne": yvonne,
        "inc_x": inc_x,
        "inc_y": inc_y,
    }


def fresh(user):
    """The user as a new request loads them."""
    return User.objects.get(pk=user.pk)


def numbers(response) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["number"] for row in rows}


def test_by_default_staff_see_every_record(msp):
    agent_a = msp["agent_a"]
    assert set(Incident.objects.visible_to(agent_a)) == {msp["inc_x"], msp["inc_y"]}
    response = client_for(agent_a).get(f"/api/v1/incidents/{msp['inc_y'].number}/")
    assert response.status_code == 200


@pytest.mark.parametrize("mode", SEPARATED)
def test_list_and_detail_show_only_their_records_and_a_denied_detail_is_a_404(
    msp, settings, client, mode
):
    settings.DATA_SEPARATION = mode
    agent_a, inc_x, inc_y = msp["agent_a"], msp["inc_x"], msp["inc_y"]
    api = client_for(fresh(agent_a))
    listed = api.get("/api/v1/incidents/")
    assert listed.status_code == 200
    assert numbers(listed) == {inc_x.number}
    assert "count" not in listed.json() or listed.json()["count"] == 1
    assert inc_y.number not in listed.content.decode()
    assert api.get(f"/api/v1/incidents/{inc_y.number}/").status_code == 404
    assert api.get(f"/api/v1/incidents/{inc_x.number}/").status_code == 200
    # a write goes through the same rule: nothing to change, nothing changed
    patched = api.patch(f"/api/v1/incidents/{inc_y.number}/", {"title": "Mine now"})
    assert patched.status_code == 404
    inc_y.refresh_from_db()
    assert inc_y.title == "Yodel outage"
    # the screens
    client.force_login(agent_a)
    queue = client.get("/incidents/")
    assert queue.status_code == 200
    page = queue.content.decode()
    assert inc_x.number in page and inc_y.number not in page and "Yodel" not in page
    assert client.get(f"/incidents/{inc_y.number}/").status_code == 404
    # the other side sees the other record
    assert numbers(client_for(fresh(msp["agent_b"])).get("/api/v1/incidents/")) == {inc_y.number}


@pytest.mark.parametrize("mode", SEPARATED)
def test_search_finds_only_their_records(msp, settings, mode):
    settings.DATA_SEPARATION = mode
    found = search.search(fresh(msp["agent_a"]), "outage")
    titles = {hit.title for hit in found}
    assert "Xylophone outage" in titles and "Yodel outage" not in titles
    response = client_for(fresh(msp["agent_a"])).get("/api/v1/search/", {"q": "outage"})
    assert response.status_code == 200
    assert "Yodel" not in response.content.decode()


@pytest.mark.parametrize("mode", SEPARATED)
def test_queue_counts_and_the_home_count_only_their_records(msp, settings, client, mode):
    settings.DATA_SEPARATION = mode
    agent_a = fresh(msp["agent_a"])
    both = [msp["team_a"].pk, msp["team_b"].pk]
    incidents = next(f for f in work.figures(agent_a, both) if "ncident" in f.queue.label)
    assert incidents.counts["teams"] == 1  # team B's incident is not counted
    client.force_login(agent_a)
    home = client.get("/work/")
    assert home.status_code == 200
    assert "Yodel" not in home.content.decode()
    # the practice map's figures count every record: not shown to a separated agent
    assert "Open incidents" not in client.get("/practices/").content.decode()
    # nor the SLA report, which counts every record
    assert client.get("/service-levels/").status_code == 403


@pytest.mark.parametrize("mode", SEPARATED)
def test_choices_offer_only_their_records(msp, settings, mode):
    settings.DATA_SEPARATION = mode
    agent_a = fresh(msp["agent_a"])
    assert set(visible_choices(Incident.objects.all(), agent_a)) == {msp["inc_x"]}
    form = client_for(agent_a).get("/api/v1/incidents/?format=api").content.decode()
    assert "Yodel outage" not in form


@pytest.mark.parametrize("mode", SEPARATED)
def test_notifications_reach_only_staff_who_may_see_the_record(msp, settings, mode):
    settings.DATA_SEPARATION = mode
    agent_a, agent_b, yvonne = msp["agent_a"], msp["agent_b"], msp["yvonne"]
    Notification.objects.all().delete()
    notify([fresh(agent_a), fresh(agent_b), yvonne], "About INC", "Body", record=msp["inc_y"])
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"bert", "yvonne"}


def test_teams_mode_manager_sees_the_teams_they_manage_and_requests_are_theirs(msp, settings):
    settings.DATA_SEPARATION = "teams"
    lead_b = fresh(msp["lead_b"])
    assert set(Incident.objects.visible_to(lead_b)) == {msp["inc_y"]}
    # what an agent asked for themselves, or what is assigned to them, is theirs too
    agent_a = msp["agent_a"]
    own = incident(agent_a, title="My own laptop")
    assigned = incident(msp["yvonne"], actor=msp["agent_b"], title="Yak", assigned_to=None)
    Incident.objects.filter(pk=assigned.pk).update(assigned_to=agent_a)
    assert set(Incident.objects.visible_to(fresh(agent_a))) == {msp["inc_x"], own, assigned}


def test_organizations_mode_a_customer_record_follows_its_organization_not_its_team(msp, settings):
    """An agent of customer X never sees customer Y's records, even assigned to their team
    or to them; internal records (no customer) follow the team rule."""
    settings.DATA_SEPARATION = "organizations"
    agent_a = msp["agent_a"]
    Incident.objects.filter(pk=msp["inc_y"].pk).update(
        assignment_group=msp["team_a"], assigned_to=agent_a
    )
    internal = incident(msp["agent_b"], title="Provider printer", assignment_group=msp["team_a"])
    elsewhere = incident(msp["agent_b"], title="Provider fax", assignment_group=msp["team_b"])
    visible = set(Incident.objects.visible_to(fresh(agent_a)))
    assert msp["inc_y"] not in visible
    assert {msp["inc_x"], internal} <= visible
    assert elsewhere not in visible


def test_organizations_mode_people_assets_and_cis_of_other_customers_are_hidden(msp, settings):
    settings.DATA_SEPARATION = "organizations"
    agent_a = fresh(msp["agent_a"])
    people = set(User.objects.visible_to(agent_a).values_list("username", flat=True))
    assert "xavier" in people and "anna" in people and "bert" in people
    assert "yvonne" not in people
    found = {hit.title for hit in search.search(agent_a, "yvonne")}
    assert not found
    x_laptop = Asset.objects.create(asset_tag="X-1", model="T14", assigned_to=msp["xavier"])
    y_laptop = Asset.objects.create(asset_tag="Y-1", model="T14", assigned_to=msp["yvonne"])
    spare = Asset.objects.create(asset_tag="S-1", model="T14")
    assert set(Asset.objects.visible_to(agent_a)) == {x_laptop, spare}
    assert y_laptop not in set(visible_choices(Asset.objects.all(), agent_a))
    x_app = ci("x-app", owner_team=msp["team_a"])
    y_app = ci("y-app", support_team=msp["team_b"])
    shared = ci("shared-dns")
    from cmdb.models import ConfigurationItem

    assert set(ConfigurationItem.objects.visible_to(agent_a)) == {x_app, shared}
    response = client_for(agent_a).get(f"/api/v1/cis/{y_app.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize("mode", SEPARATED)
def test_administrators_see_everything_by_their_permission(msp, settings, mode):
    settings.DATA_SEPARATION = mode
    administrator = make_user("ada", Role.ADMINISTRATOR)
    assert set(Incident.objects.visible_to(administrator)) == {msp["inc_x"], msp["inc_y"]}
    # the right is a permission: an agents' group given it sees everything at once
    Group.objects.get(name=roles.AGENTS).permissions.add(
        Permission.objects.get(codename="see_every_record")
    )
    assert set(Incident.objects.visible_to(fresh(msp["agent_a"]))) == {
        msp["inc_x"],
        msp["inc_y"],
    }


def test_end_users_are_unchanged_by_separation(msp, settings):
    for mode in ("all", *SEPARATED):
        settings.DATA_SEPARATION = mode
        assert set(Incident.objects.visible_to(msp["xavier"])) == {msp["inc_x"]}


def test_separation_costs_at_most_two_queries_a_request_and_nothing_by_default(msp, settings):
    """The rule is computed once per request: their teams (and, by organization, which
    teams serve which customers); checking a permission costs no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listing(mode) -> int:
        settings.DATA_SEPARATION = mode
        api = client_for(fresh(msp["agent_a"]))
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/incidents/").status_code == 200
        return len(captured)

    everything = listing("all")
    assert listing("teams") <= everything + 1
    assert listing("organizations") <= everything + 2


@pytest.mark.parametrize("mode", ["all", *SEPARATED])
def test_every_tracked_type_has_one_rule_that_runs_in_every_mode(msp, settings, mode):
    """Each record type's requester path (a task's is its request's), CIs, assets and
    people: the rule makes valid SQL for staff and end users in every mode."""
    from django.apps import apps

    from itsm.core.models import Tracked

    settings.DATA_SEPARATION = mode
    people = [fresh(msp["agent_a"]), fresh(msp["lead_b"]), msp["xavier"]]
    for model in apps.get_models():
        if not issubclass(model, Tracked):
            continue
        for person in people:
            list(model._default_manager.visible_to(person)[:5])
    for person in people:
        list(User.objects.visible_to(person)[:5])


@pytest.mark.parametrize("mode", SEPARATED)
def test_problems_and_changes_of_another_team_are_hidden(msp, settings, normal_model, mode):
    """Records that are nobody's request (problems) and staff's own (changes) follow the
    team rule in both modes: the list does not show them, their page is a 404."""
    from changes import services as change_services
    from problems import services as problem_services

    agent_b, team_b = msp["agent_b"], msp["team_b"]
    problem = problem_services.open_problem(
        agent_b, {"title": "Yodel keeps failing", "assignment_group": team_b}
    )
    change = change_services.open_change(
        agent_b, {"title": "Yodel upgrade", "model": normal_model, "assignment_group": team_b}
    )
    settings.DATA_SEPARATION = mode
    api = client_for(fresh(msp["agent_a"]))
    assert problem.number not in api.get("/api/v1/problems/").content.decode()
    assert api.get(f"/api/v1/problems/{problem.number}/").status_code == 404
    assert change.number not in api.get("/api/v1/changes/").content.decode()
    assert api.get(f"/api/v1/changes/{change.number}/").status_code == 404
    theirs = client_for(fresh(agent_b))
    assert theirs.get(f"/api/v1/problems/{problem.number}/").status_code == 200
    assert theirs.get(f"/api/v1/changes/{change.number}/").status_code == 200


@pytest.mark.parametrize("mode", SEPARATED)
def test_known_errors_of_another_team_are_hidden_unless_public(msp, settings, mode):
    from problems import services as problem_services
    from problems.models import Problem

    agent_b, team_b = msp["agent_b"], msp["team_b"]
    private = problem_services.open_problem(
        agent_b, {"title": "Yodel private fault", "assignment_group": team_b}
    )
    public = problem_services.open_problem(
        agent_b, {"title": "Yodel public fault", "assignment_group": team_b}
    )
    Problem.objects.filter(pk=private.pk).update(state="known_error", workaround="Restart")
    Problem.objects.filter(pk=public.pk).update(
        state="known_error", workaround="Restart", workaround_public=True
    )
    settings.DATA_SEPARATION = mode
    agent_a = fresh(msp["agent_a"])
    assert set(Problem.objects.known_errors_for(agent_a)) == {public}
    assert set(Problem.objects.known_errors_for(fresh(agent_b))) == {private, public}
    titles = {hit.title for hit in search.search(agent_a, "Yodel fault")}
    assert "Yodel private fault" not in titles
