"""Role and permission changes, from any path (admin, API, code, a management command):

- a user's role, staff, superuser or active flag (``role.changed``), compared with the
  values the row was loaded with, so no query is added to a save;
- a user's groups (``role.groups_changed``), a user's own permissions
  (``role.user_permissions_changed``), a group's permissions
  (``role.group_permissions_changed``), a team's members (``team.members_changed``).

``User.objects.filter(...).update(is_staff=…)`` sends no signal: the user queryset's
``update`` calls ``role_updated_in_bulk`` instead, one ``role.changed`` per person whose
values it changed."""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_init, post_save
from django.dispatch import receiver

from itsm.accounts.models import Team, User

from .context import current_request
from .services import record

ROLE_FIELDS = ("role", "is_staff", "is_superuser", "is_active")
_LOADED = "_audit_role_values"


def _role_values(user) -> dict:
    loaded = user.__dict__
    return {name: loaded[name] for name in ROLE_FIELDS if name in loaded}


@receiver(post_init, sender=User, dispatch_uid="audit-user-loaded")
def remember_role(sender, instance, **kwargs):
    instance.__dict__[_LOADED] = _role_values(instance)


@receiver(post_save, sender=User, dispatch_uid="audit-user-saved")
def role_changed(sender, instance, created, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    was = instance.__dict__.get(_LOADED, {})
    now = _role_values(instance)
    instance.__dict__[_LOADED] = now
    if created:
        was = {"role": "end_user", "is_staff": False, "is_superuser": False, "is_active": True}
    changed = [name for name in now if name in was and was[name] != now[name]]
    if not changed:
        return
    record(
        "role.changed",
        target=instance,
        request=current_request(),
        before={name: was[name] for name in changed},
        after={name: now[name] for name in changed},
        created=created,
    )


def role_updated_in_bulk(queryset, values: dict, update) -> int:
    """Run ``update()`` (a ``QuerySet.update`` of ``values`` on users) and record a
    ``role.changed`` for each person whose role, staff, superuser or active flag it changed,
    in the same transaction."""
    from django.db import transaction

    touched = [name for name in ROLE_FIELDS if name in values]
    if not touched:
        return update()
    if "role" in touched:
        # A role brings its permission group and the stored permissions (``roles``), which
        # only a save applies.
        raise ValueError("A role is changed with save(), not QuerySet.update().")
    with transaction.atomic():
        before = {
            row.pop("pk"): row
            for row in queryset.order_by("pk").select_for_update().values("pk", *touched)
        }
        count = update()
        request = current_request()
        for user in User.objects.filter(pk__in=list(before)).order_by("pk"):
            was = before[user.pk]
            changed = [name for name in touched if was[name] != getattr(user, name)]
            if changed:
                record(
                    "role.changed",
                    target=user,
                    request=request,
                    before={name: was[name] for name in changed},
                    after={name: getattr(user, name) for name in changed},
                    created=False,
                    bulk=True,
                )
    return count


def _name(obj) -> str:
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    return obj.username if isinstance(obj, User) else str(obj)


def _names(model, pks) -> list[str]:
    if not pks:
        return []
    rows = model.objects.filter(pk__in=pks)
    if model is Permission:
        rows = rows.select_related("content_type")
    return sorted(_name(row) for row in rows)


def _related_ids(instance, reverse, owner_model, attr, pks=None) -> list:
    """The ids on the other side that are related now (restricted to ``pks``)."""
    if reverse:
        rows = owner_model.objects.filter(**{attr: instance})
    else:
        rows = getattr(instance, attr).all()
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    return list(rows.values_list("pk", flat=True))


def _membership(event, instance, kind, reverse, pk_set, member_model, owner_model, attr):
    """One event per owner (the user, group or team whose set changed), naming what was
    added or removed. A remove() of something not related, or an add() of something
    already there, changes nothing and records nothing."""
    stash = f"_audit_{event}"
    if kind in ("pre_clear", "pre_remove"):
        pks = None if kind == "pre_clear" else pk_set
        instance.__dict__[stash] = _related_ids(instance, reverse, owner_model, attr, pks)
        return
    if kind not in ("post_add", "post_remove", "post_clear"):
        return
    if kind != "post_add":
        pk_set = instance.__dict__.pop(stash, [])
    if not pk_set:
        return
    verb = "added" if kind == "post_add" else "removed"
    request = current_request()
    if not reverse:
        record(event, target=instance, request=request, **{verb: _names(member_model, pk_set)})
        return
    # From the other side (group.user_set.add(user)): each owner's set changed.
    for owner in owner_model.objects.filter(pk__in=pk_set):
        record(event, target=owner, request=request, **{verb: [_name(instance)]})


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit-user-groups")
def groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    _membership("role.groups_changed", instance, action, reverse, pk_set, Group, User, "groups")


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="audit-group-perms")
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    _membership(
        "role.group_permissions_changed",
        instance,
        action,
        reverse,
        pk_set,
        Permission,
        Group,
        "permissions",
    )


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="audit-user-perms")
def user_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    _membership(
        "role.user_permissions_changed",
        instance,
        action,
        reverse,
        pk_set,
        Permission,
        User,
        "user_permissions",
    )


@receiver(m2m_changed, sender=Team.members.through, dispatch_uid="audit-team-members")
def team_members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    _membership("team.members_changed", instance, action, reverse, pk_set, User, Team, "members")
