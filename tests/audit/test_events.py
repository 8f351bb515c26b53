"""Events the audit log makes itself: every admin addition, change and deletion with the
values before and after (secrets masked), and role and permission changes from any path
(the admin, code, group and team membership, a group's permissions)."""

import pytest
from django.contrib.auth.models import Group, Permission

from itsm.accounts.models import Organization, Role, Team, User
from itsm.accounts.roles import ADMINISTRATORS, sync_administrator_permissions
from itsm.audit.models import AuditEvent
from itsm.audit.verify import verify
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def events(action, after=0, **filters):
    """The events of ``action`` (recorded after the sequence number ``after``)."""
    rows = AuditEvent.objects.filter(action=action, sequence__gt=after, **filters)
    return list(rows.order_by("sequence"))


def last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()


@pytest.fixture
def administrator(db):
    sync_administrator_permissions()
    return make_user("admin2", Role.ADMINISTRATOR)


@pytest.fixture(params=["administrator", "superuser"])
def admin_client(request, client, administrator, admin_user):
    client.force_login(administrator if request.param == "administrator" else admin_user)
    client.acting = administrator if request.param == "administrator" else admin_user
    return client


# -- the audit log in the admin ----------------------------------------------------------


def test_the_audit_log_is_read_only_in_the_admin_for_superusers_too(client, admin_user):
    from itsm.audit.services import record

    event = record("test.event", actor=admin_user)
    client.force_login(admin_user)
    base = "/admin/audit/auditevent/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{event.pk}/change/").status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}{event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.get(f"{base}{event.pk}/delete/").status_code == 403
    assert client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    assert client.post(base, bulk).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, action="test.event").exists()
    assert verify().ok


def test_only_administrators_read_the_audit_log_in_the_admin(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    assert client.get("/admin/audit/auditevent/").status_code == 403
    assert client.get("/admin/audit/auditevent/export/?format=csv").status_code == 403


def test_administrators_download_the_audit_log_from_the_admin(admin_client):
    from itsm.audit.services import record

    record("test.event", actor=admin_client.acting, note="=HYPERLINK(1)")
    page = admin_client.get("/admin/audit/auditevent/")
    assert b"/admin/audit/auditevent/export/?format=csv" in page.content
    response = admin_client.get("/admin/audit/auditevent/export/?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audit-events.csv"'
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("sequence,at,action,actor_username")
    assert "test.event" in body and "'{" not in body.splitlines()[0]
    assert admin_client.get("/admin/audit/auditevent/export/?format=xml").status_code == 400
    bad = admin_client.get("/admin/audit/auditevent/export/?format=csv&since=yesterday")
    assert bad.status_code == 400 and b"since" in bad.content
    assert events("audit.exported")


# -- every admin change -----------------------------------------------------------------


def test_an_admin_addition_change_and_deletion_are_recorded(admin_client):
    acting = admin_client.acting
    response = admin_client.post(
        "/admin/accounts/organization/add/", {"name": "Initech", "description": "Old"}
    )
    assert response.status_code == 302
    org = Organization.objects.get(name="Initech")
    (added,) = events("admin.added", target_id=str(org.pk))
    assert added.actor_username == acting.username
    assert added.target_type == "accounts.organization" and added.target_repr == "Initech"
    assert added.before is None and added.after["name"] == "Initech"

    response = admin_client.post(
        f"/admin/accounts/organization/{org.pk}/change/",
        {"name": "Initrode", "description": "Old"},
    )
    assert response.status_code == 302
    (changed,) = events("admin.changed", target_id=str(org.pk))
    assert changed.before == {"name": "Initech"} and changed.after == {"name": "Initrode"}
    assert "Name" in changed.details["message"]

    response = admin_client.post(f"/admin/accounts/organization/{org.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    (deleted,) = events("admin.deleted", target_id=str(org.pk))
    assert deleted.before["name"] == "Initrode"
    assert verify().ok


def test_a_bulk_deletion_in_the_admin_records_each_row(admin_client):
    orgs = [Organization.objects.create(name=f"Org {i}") for i in range(3)]
    response = admin_client.post(
        "/admin/accounts/organization/",
        {"action": "delete_selected", "_selected_action": [o.pk for o in orgs], "post": "yes"},
    )
    assert response.status_code == 302
    assert {e.target_repr for e in events("admin.deleted")} == {"Org 0", "Org 1", "Org 2"}


def test_a_password_set_in_the_admin_is_recorded_masked(client, admin_user, alice):
    client.force_login(admin_user)
    new = "Brand-new-passphrase-42"
    response = client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    (changed,) = events("admin.changed", target_id=str(alice.pk))
    assert changed.before == {"password": "********"} and changed.after == {"password": "********"}
    stored = str(changed.before) + str(changed.after) + str(changed.details)
    assert new not in stored and "pbkdf2" not in stored and "md5" not in stored


def _user_form(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "role": user.role,
        "time_zone": user.time_zone,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "phone": "",
        "organization": user.organization_id,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_role_change_in_the_admin_is_recorded(client, admin_user, alice):
    User.objects.filter(pk=alice.pk).update(date_joined=alice.date_joined.replace(microsecond=0))
    alice.refresh_from_db()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{alice.pk}/change/", _user_form(alice, role=Role.AGENT)
    )
    assert response.status_code == 302, response.content[:2000]
    alice.refresh_from_db()
    assert alice.role == Role.AGENT
    (role,) = events("role.changed", target_id=str(alice.pk))
    assert role.before == {"role": "end_user"} and role.after == {"role": "agent"}
    assert role.actor_username == "admin" and role.client_address == "127.0.0.1"
    (changed,) = events("admin.changed", target_id=str(alice.pk))
    assert changed.before["role"] == "end_user" and changed.after["role"] == "agent"
    # Only what changed: the role, and the role's group that came with it.
    assert set(changed.after) <= {"role", "groups", "granted_permissions"}


# -- role and permission changes from any path --------------------------------------------


def test_role_and_flag_changes_from_code_are_recorded(alice):
    mark = last_sequence()
    alice.role = Role.ADMINISTRATOR
    alice.save()
    (role,) = events("role.changed", mark, target_id=str(alice.pk))
    assert role.before == {"role": "end_user", "is_staff": False}
    assert role.after == {"role": "administrator", "is_staff": True}
    assert role.actor_username == ""  # no request: the platform
    groups = events("role.groups_changed", mark, target_id=str(alice.pk))
    assert {"added": [ADMINISTRATORS]} in [g.details for g in groups]

    alice.is_active = False
    alice.save(update_fields=["is_active"])
    last = events("role.changed", target_id=str(alice.pk))[-1]
    assert last.before == {"is_active": True} and last.after == {"is_active": False}


def test_flag_changes_in_bulk_are_recorded_person_by_person(alice, admin_user):
    """QuerySet.update sends no signal: the user queryset records each person whose flag
    it changed, and refuses a role (its group and permissions follow only a save)."""
    mark = last_sequence()
    assert admin_user.is_staff
    changed = User.objects.filter(pk__in=[alice.pk, admin_user.pk]).update(is_staff=True)
    assert changed == 2
    (for_alice,) = events("role.changed", mark, target_id=str(alice.pk))
    assert for_alice.before == {"is_staff": False} and for_alice.after == {"is_staff": True}
    assert for_alice.details == {"created": False, "bulk": True}
    # The administrator was staff already: nothing changed, nothing recorded.
    assert not events("role.changed", mark, target_id=str(admin_user.pk))
    # Other fields in bulk record nothing.
    mark = last_sequence()
    User.objects.filter(pk=alice.pk).update(first_name="Alicia")
    assert not events("role.changed", mark)
    with pytest.raises(ValueError, match="save"):
        User.objects.filter(pk=alice.pk).update(role=Role.ADMINISTRATOR)
    alice.refresh_from_db()
    assert alice.role == Role.END_USER


def test_saving_without_a_change_records_nothing(alice):
    mark = last_sequence()
    alice.first_name = "Alicia"
    alice.save()
    fresh = User.objects.get(pk=alice.pk)
    fresh.save()
    assert not events("role.changed", mark, target_id=str(alice.pk))
    assert not events("role.groups_changed", mark, target_id=str(alice.pk))


def test_a_new_superuser_is_recorded(db):
    user = User.objects.create_superuser("root2", "root2@example.com", PASSWORD)
    (role,) = events("role.changed", target_id=str(user.pk))
    assert role.after == {"is_staff": True, "is_superuser": True}
    assert role.details == {"created": True}


def test_group_membership_and_permissions_from_either_side(alice):
    mark = last_sequence()
    group = Group.objects.create(name="Auditors")
    alice.groups.add(group)
    group.user_set.remove(alice)
    assert [e.details for e in events("role.groups_changed", mark, target_id=str(alice.pk))] == [
        {"added": ["Auditors"]},
        {"removed": ["Auditors"]},
    ]
    perm = Permission.objects.get(codename="view_team")
    group.permissions.add(perm)
    perm.group_set.remove(group)
    group.permissions.add(perm)
    group.permissions.clear()
    changes = events("role.group_permissions_changed", mark, target_id=str(group.pk))
    assert [e.details for e in changes] == [
        {"added": ["accounts.view_team"]},
        {"removed": ["accounts.view_team"]},
        {"added": ["accounts.view_team"]},
        {"removed": ["accounts.view_team"]},
    ]


def test_a_users_own_permissions(alice):
    mark = last_sequence()
    perm = Permission.objects.get(codename="view_team")
    alice.user_permissions.add(perm)
    alice.user_permissions.remove(perm)
    changes = events("role.user_permissions_changed", mark, target_id=str(alice.pk))
    assert [e.details for e in changes] == [
        {"added": ["accounts.view_team"]},
        {"removed": ["accounts.view_team"]},
    ]


def test_team_membership(agent, agent2):
    team = Team.objects.create(name="Network")
    team.members.add(agent, agent2)
    team.members.add(agent)  # already a member: nothing
    team.members.remove(agent2)
    agent.teams.remove(team)
    assert [e.details for e in events("team.members_changed")] == [
        {"added": ["agent", "agent2"]},
        {"removed": ["agent2"]},
        {"removed": ["agent"]},
    ]


def test_team_membership_in_the_admin_names_the_acting_administrator(client, admin_user, agent):
    team = Team.objects.create(name="Network")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/team/{team.pk}/change/",
        {"name": "Network", "description": "", "email": "", "members": [agent.pk], "active": "on"},
    )
    assert response.status_code == 302, response.content[:1000]
    (member,) = events("team.members_changed")
    assert member.actor_username == "admin" and member.details == {"added": ["agent"]}
    (changed,) = events("admin.changed", target_id=str(team.pk))
    assert changed.before == {"members": []} and changed.after == {"members": [agent.pk]}


def test_a_change_in_the_admins_list_records_before_and_after(client, admin_user):
    from practices.knowledge.models import KnowledgeCategory

    first = KnowledgeCategory.objects.create(name="Mail", order=1, active=True)
    second = KnowledgeCategory.objects.create(name="Print", order=2, active=True)
    client.force_login(admin_user)
    prefix = "form"
    data = {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "2",
        f"{prefix}-0-id": first.pk,
        f"{prefix}-0-order": "5",
        f"{prefix}-0-active": "on",
        f"{prefix}-1-id": second.pk,
        f"{prefix}-1-order": "2",
        f"{prefix}-1-active": "on",
        "_save": "Save",
    }
    response = client.post("/admin/knowledge/knowledgecategory/", data)
    assert response.status_code == 302, response.content[:1500]
    (changed,) = events("admin.changed")
    assert changed.target_id == str(first.pk)
    assert changed.before == {"order": 1} and changed.after == {"order": 5}


def test_reading_is_the_only_right_over_the_audit_log(administrator):
    rights = set(
        Permission.objects.filter(content_type__app_label="audit").values_list(
            "codename", flat=True
        )
    )
    assert rights == {"view_auditevent"}
    assert administrator.has_perm("audit.view_auditevent")


def test_every_registered_admin_keeps_the_audit_hooks():
    """A model admin that replaces the hooked lookup or logging calls super(), so every
    admin change stays audited."""
    import inspect

    from django.contrib import admin
    from django.contrib.admin.options import ModelAdmin

    hooked = (
        "get_object",
        "save_form",
        "save_related",
        "log_addition",
        "log_change",
        "log_deletions",
    )
    assert ModelAdmin._audit_hooked
    dropping = sorted(
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name in hooked
        if getattr(type(model_admin), name) is not getattr(ModelAdmin, name)
        and f"super().{name}(" not in inspect.getsource(getattr(type(model_admin), name))
    )
    assert dropping == []


def test_the_rows_of_an_inline_are_recorded_with_their_parent(client, admin_user):
    from incidents.models import Category

    parent = Category.objects.create(name="Network")
    wifi = Category.objects.create(name="Wifi", parent=parent)
    cable = Category.objects.create(name="Cable", parent=parent)
    client.force_login(admin_user)
    prefix = "subcategories"
    response = client.post(
        f"/admin/incidents/category/{parent.pk}/change/",
        {
            "name": "Network",
            "active": "on",
            f"{prefix}-TOTAL_FORMS": "3",
            f"{prefix}-INITIAL_FORMS": "2",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-id": wifi.pk,
            f"{prefix}-0-parent": parent.pk,
            f"{prefix}-0-name": "Wi-Fi",
            f"{prefix}-0-active": "on",
            f"{prefix}-1-id": cable.pk,
            f"{prefix}-1-parent": parent.pk,
            f"{prefix}-1-name": "Cable",
            f"{prefix}-1-active": "on",
            f"{prefix}-1-DELETE": "on",
            f"{prefix}-2-parent": parent.pk,
            f"{prefix}-2-name": "VPN",
            f"{prefix}-2-active": "on",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    (changed,) = events("admin.changed", target_id=str(parent.pk))
    assert changed.before == {} and changed.after == {}
    rows = {row["change"]: row for row in changed.details["inlines"]}
    assert rows["changed"]["id"] == str(wifi.pk)
    assert rows["changed"]["before"] == {"name": "Wifi"}
    assert rows["changed"]["after"] == {"name": "Wi-Fi"}
    assert rows["deleted"]["id"] == str(cable.pk) and rows["deleted"]["before"]["name"] == "Cable"
    assert rows["deleted"]["after"] is None
    vpn = Category.objects.get(name="VPN")
    assert rows["added"]["id"] == str(vpn.pk) and rows["added"]["after"]["name"] == "VPN"
