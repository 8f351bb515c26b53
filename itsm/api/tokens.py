"""API tokens: made, checked and revoked here, and nowhere else.

A token reads ``itsm_<8 characters>_<secret>``: the first part is its public ``prefix``
(lists, logs and the admin name a token by it), the whole value is shown once, when it is
made, and only its SHA-256 hash is kept (a random 256-bit secret needs no slow hash).
Tokens converted from the former clear-text keys (40 hexadecimal characters) keep working:
their prefix is the key's first 8 characters.

Scopes: ``read`` and ``write`` for the whole API, ``<practice>:read`` and
``<practice>:write`` for one practice's endpoints (the practices are the apps of the
kernel's practice registry, named by their app label: ``incidents:write``). A write scope
implies read. The kernel's own endpoints (search, lookups, teams, attachments, tokens) need
``read`` or ``write``. Which practice a request is for is the app of the view it reaches.
"""

import hashlib
import hmac
import secrets
import string
from datetime import timedelta
from functools import cache as memoised

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from rest_framework.permissions import SAFE_METHODS

from itsm.audit.services import client_address, record

from .models import ApiToken, ServiceAccount

PREFIX = "itsm_"
PREFIX_LENGTH = len(PREFIX) + 8
LEGACY_PREFIX_LENGTH = 8
ALPHABET = string.ascii_letters + string.digits
#: last use is written at most this often per token (one conditional UPDATE)
USE_RECORDED_EVERY = timedelta(minutes=1)
GLOBAL_SCOPES = ("read", "write")


def default_days() -> int:
    return int(getattr(settings, "API_TOKEN_DEFAULT_DAYS", 90))


def max_days() -> int:
    return int(getattr(settings, "API_TOKEN_MAX_DAYS", 365))


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# Scopes ------------------------------------------------------------------------------------


@memoised
def practices() -> tuple[str, ...]:
    """The practices a scope can name: the app labels of the practice registry's apps
    that have an API."""
    from itsm.core.practices import registry

    return tuple(sorted({c.label for c in registry.configs if c.api_url_modules}))


def available_scopes() -> list[str]:
    return [*GLOBAL_SCOPES, *(f"{p}:{a}" for p in practices() for a in GLOBAL_SCOPES)]


def scope_choices() -> list[tuple[str, str]]:
    """(scope, label) for forms."""
    names = {config.label: str(config.verbose_name) for config in _practice_configs()}
    choices = [
        ("read", gettext("Read everything")),
        ("write", gettext("Read and write everything")),
    ]
    for practice in practices():
        values = {"practice": names.get(practice, practice)}
        choices.append((f"{practice}:read", gettext("%(practice)s: read") % values))
        choices.append((f"{practice}:write", gettext("%(practice)s: read and write") % values))
    return choices


def _practice_configs():
    from itsm.core.practices import registry

    return registry.configs


_view_practice: dict[type, str | None] = {}


def practice_of(view) -> str | None:
    """The practice (app label) whose endpoint ``view`` is, or None for the kernel's."""
    cls = type(view)
    if cls not in _view_practice:
        config = apps.get_containing_app_config(cls.__module__)
        label = getattr(config, "label", None)
        _view_practice[cls] = label if label in practices() else None
    return _view_practice[cls]


def missing_scope(scopes, method: str, practice: str | None) -> str | None:
    """The scope a request lacks (None: allowed). A write scope implies read."""
    granted = set(scopes)
    action = "read" if method in SAFE_METHODS else "write"
    accepted = {"write"} if action == "write" else {"read", "write"}
    if practice is not None:
        accepted |= {f"{practice}:{a}" for a in accepted}
    if granted & accepted:
        return None
    return f"{practice}:{action}" if practice else action


# Issuing and revoking -----------------------------------------------------------------------


def covers(granted, scope: str) -> bool:
    """Whether the scopes ``granted`` allow all that ``scope`` does."""
    practice, _, action = scope.rpartition(":")
    wider = {"write", scope} | ({"read"} if action == "read" else set())
    if practice:
        wider |= {f"{practice}:write"}
    return bool(set(granted) & wider)


def clean(user, name, scopes, days, made_with=None) -> tuple[str, list[str], int | None]:
    """The name, scopes and days of a new token of ``user``, or a ValidationError naming
    each bad field. A token made with a token (``made_with``) has no scope it lacks and
    does not outlive it (days None: until it expires)."""
    errors = {}
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = gettext(
            "A name is required (what the token is for: 'laptop', 'monitoring')."
        )
    elif len(name) > 100:
        errors["name"] = gettext("At most 100 characters.")
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        errors["name"] = gettext("No control characters (line breaks, tabs…).")
    elif ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        errors["name"] = gettext(
            "You already have a token with this name: revoke it or choose another."
        )
    known = available_scopes()
    if isinstance(scopes, str):
        scopes = [part for part in scopes.replace(",", " ").split() if part]
    if not isinstance(scopes, list | tuple) or not scopes:
        errors["scopes"] = gettext("At least one scope: %(known)s.") % {"known": ", ".join(known)}
    else:
        unknown = [s for s in scopes if not isinstance(s, str) or s not in known]
        if unknown:
            errors["scopes"] = gettext("Unknown scope: %(unknown)s. Known: %(known)s.") % {
                "unknown": ", ".join(map(str, unknown)),
                "known": ", ".join(known),
            }
    if made_with is not None and "scopes" not in errors:
        beyond = [s for s in scopes if not covers(made_with.scopes, s)]
        if beyond:
            errors["scopes"] = gettext(
                "A token made with a token has none of the scopes it lacks: %(scopes)s."
            ) % {"scopes": ", ".join(beyond)}
    asked = days not in (None, "")
    if not asked:
        days = default_days()
    try:
        days = int(days)
    except (TypeError, ValueError):
        errors["days"] = gettext("A whole number of days.")
    else:
        if not 1 <= days <= max_days():
            errors["days"] = gettext("Between 1 and %(max)s days.") % {"max": max_days()}
        elif made_with is not None:
            left = (made_with.expires_at - timezone.now()).days
            if not asked:
                days = None  # until the token it is made with expires
            elif days > left:
                errors["days"] = ngettext(
                    "A token made with a token does not outlive it: at most %(left)s day.",
                    "A token made with a token does not outlive it: at most %(left)s days.",
                    left,
                ) % {"left": left}
    if errors:
        raise ValidationError(errors)
    return name, sorted(set(scopes)), days


def _new_prefix() -> str:
    for _attempt in range(10):
        prefix = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(8))
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return prefix
    raise RuntimeError("No free token prefix.")  # 62**8 prefixes: not in this universe


@transaction.atomic
def issue(user, *, name, scopes, days=None, created_by=None, request=None, made_with=None):
    """A new token of ``user``: ``(token, clear value)``; the clear value is never stored
    and cannot be shown again. ``made_with``: the token the request came with, if any (the
    new one gets no more scopes nor time than it has)."""
    name, scopes, days = clean(user, name, scopes, days, made_with)
    if days is None:
        expires_at = min(made_with.expires_at, timezone.now() + timedelta(days=default_days()))
    else:
        expires_at = timezone.now() + timedelta(days=days)
    prefix = _new_prefix()
    clear = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(clear),
        scopes=scopes,
        expires_at=expires_at,
        created_by=created_by,
    )
    record(
        "token.created",
        actor=created_by,
        target=token,
        request=request,
        name=name,
        prefix=prefix,
        scopes=scopes,
        expires_at=token.expires_at.isoformat(),
    )
    return token, clear


@transaction.atomic
def revoke(token, *, by=None, request=None, reason: str = "") -> bool:
    """Revoke ``token`` (False if it already was)."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    ):
        return False
    token.revoked_at, token.revoked_by = now, by
    record(
        "token.revoked",
        actor=by,
        target=token,
        request=request,
        prefix=token.prefix,
        name=token.name,
        reason=reason,
    )
    return True


def revoke_all(user, *, by=None, request=None, reason: str = "") -> int:
    """Revoke every token of ``user`` not yet revoked; returns how many."""
    return sum(
        revoke(token, by=by, request=request, reason=reason)
        for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    )


# Checking a presented token ------------------------------------------------------------------


class TokenRefused(Exception):
    """The presented token does not authenticate (the message says why)."""


def authenticate(clear: str, request=None) -> ApiToken:
    """The live token ``clear`` is, with its user (one query), or ``TokenRefused``."""
    if clear.startswith(PREFIX):
        prefixes = [clear[:PREFIX_LENGTH]]
    else:  # converted keys: 8 characters, a few more where two began alike
        prefixes = [clear[:n] for n in range(LEGACY_PREFIX_LENGTH, LEGACY_PREFIX_LENGTH + 5)]
    presented = hash_secret(clear)
    token = None
    for candidate in ApiToken.objects.select_related("user", "user__service_account").filter(
        prefix__in=prefixes
    ):
        if hmac.compare_digest(candidate.secret_hash, presented):
            token = candidate
    if token is None:
        raise TokenRefused(gettext("Invalid token."))
    if token.revoked or token.expired:
        why = "revoked" if token.revoked else "expired"
        # audited once a minute per token and process: a client retrying in a loop does
        # not flood the audit log
        if cache.add(f"api-token-refused:{token.pk}", 1, USE_RECORDED_EVERY.total_seconds()):
            record(
                "token.expired_use_refused",
                actor=token.user,
                target=token,
                request=request,
                prefix=token.prefix,
                reason=why,
            )
        raise TokenRefused(
            gettext("This token was revoked: make a new one.")
            if token.revoked
            else gettext("This token has expired: make a new one.")
        )
    account = getattr(token.user, "service_account", None)
    if not token.user.is_active or (account is not None and not account.active):
        raise TokenRefused(gettext("The token's account is inactive."))
    note_use(token, request)
    return token


def note_use(token, request=None) -> None:
    """Last use and its address, written at most once a minute per token (a conditional
    UPDATE: of concurrent requests, one writes), audited as ``token.used``."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORDED_EVERY:
        return
    address = client_address(request)
    written = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - USE_RECORDED_EVERY))
        .update(last_used_at=now, last_used_from=address)
    )
    token.last_used_at, token.last_used_from = now, address
    if written:
        record("token.used", actor=token.user, target=token, request=request, prefix=token.prefix)


# Service accounts ------------------------------------------------------------------------------


@transaction.atomic
def service_account(username: str, *, description: str = "", owner=None) -> ServiceAccount:
    """The service account ``username``, made when missing (a user with no usable
    password). A person's existing account is never turned into one."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": username, "is_active": True}
    )
    if not created and not ServiceAccount.objects.filter(user=user).exists():
        if user.has_usable_password() or user.is_agent:
            raise ValueError(f"{username} is a person's account, not a service account.")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    account, made = ServiceAccount.objects.get_or_create(
        user=user, defaults={"description": description, "owner": owner}
    )
    if made:
        record(
            "service_account.created",
            actor=owner,
            target=account,
            username=username,
            description=description,
        )
    return account
