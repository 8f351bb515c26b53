"""What each person holds, kept on their row (``User.granted_permissions``).

Django's backend loads a person's permissions with two queries per request; the platform
checks a permission on every request (the workspace, data separation), so the set is
computed when it changes instead: a group's permissions, a person's groups or own
permissions, a group or permission removed. Each change recomputes the people concerned
in the same transaction, so a revoked right is gone on the very next request.
"""

from collections import defaultdict

from django.contrib.auth.models import Group, Permission


def _names(rows, into):
    for owner, app_label, codename in rows:
        into[owner].add(f"{app_label}.{codename}")


def refresh_granted_permissions(users) -> None:
    """Recompute ``granted_permissions`` of ``users`` (a queryset or iterable of users)."""
    from .models import User

    users = list(users)
    if not users:
        return
    ids = [u.pk for u in users]
    held = defaultdict(set)
    fields = ("content_type__app_label", "codename")
    _names(Permission.objects.filter(group__user__in=ids).values_list("group__user", *fields), held)
    _names(Permission.objects.filter(user__in=ids).values_list("user", *fields), held)
    # Compared with what is stored, not with the instances (which may be out of date).
    stored = dict(User.objects.filter(pk__in=ids).values_list("pk", "granted_permissions"))
    changed = []
    for user in users:
        names = sorted(held.get(user.pk, ()))
        user.granted_permissions = names
        if names != stored.get(user.pk):
            changed.append(user)
    User.objects.bulk_update(changed, ["granted_permissions"], batch_size=500)


def _members_of(group_ids):
    from .models import User

    return User.objects.filter(groups__in=group_ids).distinct()


def on_group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of ``Group.permissions`` (from either side)."""
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if reverse:  # permission.group_set.…: the groups named by pk_set (all of them on clear)
        groups = pk_set or set(Group.objects.filter(permissions=instance).values_list("pk"))
        if action == "pre_clear":
            instance._cleared_groups = groups
            return
        groups = groups or getattr(instance, "_cleared_groups", set())
        refresh_granted_permissions(_members_of(groups))
    elif action != "pre_clear":
        refresh_granted_permissions(_members_of([instance.pk]))


def on_user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of ``User.groups`` and ``User.user_permissions`` (from either side)."""
    from .models import User

    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        if action != "pre_clear":
            refresh_granted_permissions([instance])
        return
    if action == "pre_clear":  # group.user_set.clear(): remember who was in it
        instance._cleared_users = list(instance.user_set.all())
        return
    if action == "post_clear":
        users = getattr(instance, "_cleared_users", [])
    else:
        users = User.objects.filter(pk__in=pk_set or ())
    refresh_granted_permissions(users)


def on_group_deleted(sender, instance, **kwargs):
    """pre_delete of a group: remember its members (their memberships go with it)."""
    instance._former_members = list(instance.user_set.all())


def after_group_deleted(sender, instance, **kwargs):
    """post_delete of a group: its former members lose its permissions."""
    refresh_granted_permissions(getattr(instance, "_former_members", []))


def on_permission_deleted(sender, instance, **kwargs):
    """pre_delete of a permission: whoever held it no longer does."""
    from .models import User

    name = f"{instance.content_type.app_label}.{instance.codename}"
    holders = User.objects.filter(
        pk__in=set(instance.user_set.values_list("pk", flat=True))
        | set(User.objects.filter(groups__permissions=instance).values_list("pk", flat=True))
    )
    for user in holders:
        if name in user.granted_permissions:
            user.granted_permissions = [n for n in user.granted_permissions if n != name]
            user.save(update_fields=["granted_permissions"])
