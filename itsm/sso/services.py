"""Single sign-on's one path for every provider: find or create the person, refresh what
the provider says about them, apply the group mappings, audit."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from itsm.accounts.models import Role, Team
from itsm.audit.services import record

from .models import BreakGlassAccount, GroupMapping

logger = logging.getLogger("itsm.sso")

#: Roles from the least to the most rights: declaration order, administrator last.
ROLE_RANK = {
    role: rank
    for rank, role in enumerate(
        [r for r in Role.values if r != Role.ADMINISTRATOR] + [Role.ADMINISTRATOR]
    )
}


class SignInRefused(Exception):
    """The provider vouched for someone we do not sign in (a break-glass account, a
    deactivated account, no username)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_break_glass(user) -> bool:
    return user.pk is not None and BreakGlassAccount.objects.filter(user_id=user.pk).exists()


def refuse(source: str, reason: str, *, request=None, username: str = "", user=None) -> None:
    record(
        "sso.sign_in_refused",
        actor=None,
        target=user,
        request=request,
        source=source,
        reason=reason,
        username="".join(ch for ch in username if ch.isprintable())[:150],
    )
    raise SignInRefused(reason)


def check_may_sign_in(source: str, user, *, request=None) -> None:
    """An existing account single sign-on may not take: a break-glass account (local
    only: an identity provider's user of the same name never becomes it) or a
    deactivated one."""
    if user.pk is None:
        return
    if is_break_glass(user):
        refuse(source, "break_glass_account", request=request, username=user.username, user=user)
    if not user.is_active:
        refuse(source, "inactive", request=request, username=user.username, user=user)


def _field(value, model_field: str) -> str:
    """One printable value of at most the field's length."""
    limit = get_user_model()._meta.get_field(model_field).max_length
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    value = "".join(ch for ch in str(value or "") if ch.isprintable())
    return value.strip()[:limit]


def provision(
    source: str,
    *,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    groups=(),
    request=None,
):
    """The user the provider vouched for: found by username (any letter case) or created
    just in time with an unusable local password; name and email refreshed from the
    provider; roles and teams from the group mappings. Raises ``SignInRefused``."""
    User = get_user_model()
    if isinstance(username, (list, tuple)):
        username = username[0] if username else ""
    username = str(username or "").strip()
    if not username:
        refuse(source, "no_username", request=request)
    if len(username) > User._meta.get_field("username").max_length or any(
        not ch.isprintable() for ch in username
    ):
        # Never cut a name short: two long names would become one account.
        refuse(source, "unusable_username", request=request, username=username)
    email = _field(email, "email")
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    user = User.objects.filter(username__iexact=username).first()
    if user is not None:
        check_may_sign_in(source, user, request=request)
    created = user is None
    with transaction.atomic():
        if created:
            user = User(username=username)
            user.set_unusable_password()
        for name, value in (("email", email), ("first_name", first_name), ("last_name", last_name)):
            value = _field(value, name)
            if value:
                setattr(user, name, value)
        user.save()
        signed_in(source, user, groups=groups, created=created, request=request)
    return user


def signed_in(source: str, user, *, groups=(), created: bool = False, request=None) -> None:
    """After the provider vouched for ``user`` (saved): audit a new account, apply the
    group mappings, audit the sign-in."""
    if created:
        record("sso.user_created", actor=None, target=user, request=request, source=source)
    apply_mappings(source, user, groups, request=request)
    record(
        "sso.sign_in",
        actor=user,
        target=user,
        request=request,
        source=source,
        groups=sorted(normalise(groups))[:50],
    )


def normalise(groups) -> set[str]:
    if isinstance(groups, str):
        groups = [groups]
    names = ("".join(ch for ch in str(g) if ch.isprintable()).strip().lower() for g in groups or ())
    return {name[:255] for name in names if name}


@transaction.atomic
def apply_mappings(source: str, user, groups, *, request=None) -> None:
    """Role: the highest role mapped from the person's groups (end user when none is),
    once the source has any role mapping. Teams: those mapped from their groups are
    joined, the other teams this source's mappings name are left; unmapped teams are not
    touched."""
    mappings = list(GroupMapping.objects.filter(source=source))
    if not mappings:
        return
    names = normalise(groups)
    matched = [m for m in mappings if m.external_group.strip().lower() in names]

    role_mappings = [m for m in mappings if m.role]
    if role_mappings:
        roles = [m.role for m in matched if m.role]
        new_role = max(roles, key=lambda r: ROLE_RANK.get(r, 0)) if roles else Role.END_USER
        if user.role != new_role:
            before = user.role
            user.role = new_role
            user.save(update_fields=["role", "is_staff"])
            record(
                "sso.role_changed",
                actor=None,
                target=user,
                request=request,
                before={"role": before},
                after={"role": new_role},
                source=source,
            )

    managed = {m.team_id for m in mappings if m.team_id}
    if managed:
        wanted = {m.team_id for m in matched if m.team_id}
        current = set(user.teams.filter(pk__in=managed).values_list("pk", flat=True))
        joined, left = wanted - current, current - wanted
        if joined:
            user.teams.add(*joined)
        if left:
            user.teams.remove(*left)
        if joined or left:
            user.__dict__.pop("team_ids", None)
            names_by_id = dict(Team.objects.filter(pk__in=joined | left).values_list("pk", "name"))
            record(
                "sso.teams_changed",
                actor=None,
                target=user,
                request=request,
                source=source,
                joined=sorted(names_by_id[pk] for pk in joined),
                left=sorted(names_by_id[pk] for pk in left),
            )


def break_glass_signed_in(user, *, request=None) -> None:
    """A break-glass account signed in with its local password: loudly."""
    BreakGlassAccount.objects.filter(user_id=user.pk).update(last_used_at=timezone.now())
    logger.warning(
        "BREAK-GLASS sign-in: local account %r signed in with its password", user.username
    )
    record("auth.break_glass_sign_in", actor=user, target=user, request=request)
