"""Roles are permission groups: made by the migration, holding their permissions, and every
check names a permission that takes effect (or stops) on the very next request."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from itsm.accounts import roles
from itsm.accounts.models import Role
from tests.conftest import make_user
from tests.factories import incident

pytestmark = pytest.mark.django_db


def perms_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_every_role_has_its_group_after_migrate_with_the_permissions_it_needs():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ROLE_GROUP_NAMES) <= names
    agents = perms_of(roles.AGENTS)
    assert {
        "core.work_in_workspace",
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.declare_major_incident",
        "problems.add_problem",
        "catalogue.change_servicerequest",
        "cmdb.change_configurationitem",
    } <= agents
    # agents do not change the definitions, nor authorise changes
    assert "cmdb.change_ciclass" not in agents and "incidents.change_priorityrule" not in agents
    assert "changes.authorise_change" not in agents
    assert "core.see_every_record" not in agents
    assert "changes.authorise_change" in perms_of(roles.CHANGE_MANAGERS)
    managers = perms_of(roles.MANAGERS)
    assert {"core.lead_teams", "knowledge.review_article", "problems.rate_any_workaround"} <= (
        managers
    )
    assert perms_of(roles.KNOWLEDGE_REVIEWERS) >= {"knowledge.review_article"}
    assert "problems.change_problem" in perms_of(roles.PROBLEM_MANAGERS)
    assert perms_of(roles.END_USERS) == set()
    administrators = perms_of(roles.ADMINISTRATORS)
    assert {"core.see_every_record", "cmdb.change_ciclass", "auth.change_group"} <= administrators


def test_nobody_holds_a_withheld_right_not_even_after_it_was_granted_and_migrate_ran():
    journal = Permission.objects.get(content_type__app_label="core", codename="delete_journalentry")
    Group.objects.get(name=roles.AGENTS).permissions.add(journal)
    mine = Group.objects.create(name="My own group")
    mine.permissions.add(journal)
    roles.sync_role_permissions()  # as at every migrate
    withheld = {f"{a}.{c}" for a, c in roles.WITHHELD}
    for group in Group.objects.all():
        assert not (perms_of(group.name) & withheld), group.name


def test_a_role_is_a_group_membership_and_a_new_role_moves_the_person():
    person = make_user("pat", Role.AGENT)
    assert set(person.groups.values_list("name", flat=True)) == {roles.AGENTS}
    assert person.is_agent and person.has_perm("incidents.change_incident")
    assert not person.has_perm("changes.authorise_change")
    person.role = Role.CHANGE_MANAGER
    person.save()
    assert set(person.groups.values_list("name", flat=True)) == {roles.CHANGE_MANAGERS}
    assert person.has_perm("changes.authorise_change")
    person.role = Role.END_USER
    person.save(update_fields=["role"])
    person.refresh_from_db()
    assert not person.is_agent and not person.has_perm("incidents.view_incident")


def test_an_additional_role_is_a_plain_group_membership_kept_across_role_changes():
    from practices.knowledge.workflows import is_senior_reviewer

    person = make_user("kim", Role.AGENT)
    assert not is_senior_reviewer(person)
    person.groups.add(Group.objects.get(name=roles.KNOWLEDGE_REVIEWERS))
    assert is_senior_reviewer(person)
    person.role = Role.MANAGER
    person.save()
    assert set(person.groups.values_list("name", flat=True)) == {
        roles.MANAGERS,
        roles.KNOWLEDGE_REVIEWERS,
    }


def test_checking_a_permission_costs_no_query(agent):
    agent = type(agent).objects.get(pk=agent.pk)
    with CaptureQueriesContext(connection) as queries:
        assert agent.is_agent
        assert agent.has_perm("incidents.view_incident")
        assert not agent.has_perm("changes.authorise_change")
        assert agent.has_module_perms("incidents")
    assert len(queries) == 0


def test_revoking_a_permission_from_a_group_takes_effect_on_the_next_request(client, agent):
    client.force_login(agent)
    assert client.get("/api/v1/teams/").status_code == 200
    assert client.get("/incidents/").status_code == 200
    workspace = Permission.objects.get(codename="work_in_workspace")
    group = Group.objects.get(name=roles.AGENTS)
    group.permissions.remove(workspace)
    assert client.get("/api/v1/teams/").status_code == 403
    assert client.get("/incidents/").status_code == 403
    # from the permission's side, and by clearing, too
    workspace.group_set.add(group)
    assert client.get("/api/v1/teams/").status_code == 200
    group.permissions.clear()
    assert client.get("/api/v1/teams/").status_code == 403


def test_leaving_a_group_or_deleting_it_takes_its_rights_at_once(client):
    person = make_user("rae", Role.END_USER)
    client.force_login(person)
    mine = Group.objects.create(name="Night shift")
    mine.permissions.add(Permission.objects.get(codename="work_in_workspace"))
    mine.user_set.add(person)
    assert client.get("/api/v1/teams/").status_code == 200
    mine.user_set.clear()
    assert client.get("/api/v1/teams/").status_code == 403
    person.groups.add(mine)
    assert client.get("/api/v1/teams/").status_code == 200
    mine.delete()
    assert client.get("/api/v1/teams/").status_code == 403
    person.user_permissions.add(Permission.objects.get(codename="work_in_workspace"))
    assert client.get("/api/v1/teams/").status_code == 200


def test_a_right_named_by_a_check_is_refused_without_it(agent_client, agent, alice, service_desk):
    """Declaring a major incident is a right of its own (agents hold it by their role)."""
    record = incident(alice)
    declare = Permission.objects.get(codename="declare_major_incident")
    Group.objects.get(name=roles.AGENTS).permissions.remove(declare)
    agent.refresh_from_db()  # as every request loads its user
    url = f"/api/v1/incidents/{record.number}/"
    response = agent_client.patch(url, {"major": True}, format="json")
    assert response.status_code == 400
    assert "major" in response.json()
    record.refresh_from_db()
    assert not record.major
    Group.objects.get(name=roles.AGENTS).permissions.add(declare)
    agent.refresh_from_db()
    assert agent_client.patch(url, {"major": True}, format="json").status_code == 200


def _admin_pages():
    for model in admin.site._registry:
        opts = model._meta
        for page in ("changelist", "add"):
            try:
                yield model, page, reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}")
            except NoReverseMatch:
                continue


def test_a_non_superuser_administrator_has_a_working_admin_without_withheld_rights(
    client, settings
):
    settings.TWO_FACTOR_REQUIRED = "none"  # two-factor sign-in is tested on its own
    administrator = make_user("ada", Role.ADMINISTRATOR)
    superuser = make_user("root", Role.ADMINISTRATOR, is_superuser=True)
    assert administrator.is_staff and not administrator.is_superuser
    withheld = {f"{a}.{c}" for a, c in roles.WITHHELD}
    assert not (administrator.get_all_permissions() & withheld)
    client.force_login(superuser)
    expected = {url: client.get(url).status_code for _, _, url in _admin_pages()}
    client.force_login(administrator)
    assert client.get("/admin/").status_code == 200
    for model, page, url in _admin_pages():
        got = client.get(url).status_code
        assert got == expected[url], f"{url}: {got}, a superuser gets {expected[url]}"
        if page == "changelist":
            assert got == 200, url
        elif got != 200:  # only what nobody may add (the audit trail) is refused
            opts = model._meta
            assert (opts.app_label, f"add_{opts.model_name}") in roles.WITHHELD or got == 403


def test_an_agent_and_an_end_user_have_no_admin(client, agent, alice):
    for person in (agent, alice):
        client.force_login(person)
        response = client.get("/admin/incidents/incident/")
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_definitions_are_written_by_whoever_holds_the_model_permission(api_as, agent):
    payload = {"key": "firewall", "name": "Firewall", "parent": "hardware"}
    assert api_as(agent).post("/api/v1/ci-classes/", payload, format="json").status_code == 403
    group = Group.objects.get(name=roles.AGENTS)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="cmdb", codename="add_ciclass")
    )
    agent.refresh_from_db()  # as every request loads its user
    assert api_as(agent).post("/api/v1/ci-classes/", payload, format="json").status_code == 201
