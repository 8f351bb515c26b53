"""The audit log of security and configuration events: one call, ``record``, for every
practice and the kernel (sign-in, failures, lockouts, token use and changes, role and
permission changes, admin changes, erasures).

Events go to the append-only, hash-chained ``AuditEvent`` table (``itsm.audit.models``)
and, one line each, to the ``itsm.audit`` logger."""

import ipaddress
import json
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from .models import GENESIS, AuditEvent, ChainHead, canonical

logger = logging.getLogger("itsm.audit")

#: Field names whose values are never written to the log, only that they changed.
SECRET_MARKERS = frozenset({"password", "passwd", "secret", "token", "key", "otp", "recovery"})
MASK = "********"


def is_secret(name) -> bool:
    """``password``, ``password1``, ``api_key``, ``client_secret``, ``token_hash``… (a word
    of the name, so ``keywords`` is not one)."""
    return any(word in SECRET_MARKERS for word in re.split(r"[^a-z]+", str(name).lower()))


def masked(value):
    """``value`` (a dict, list or scalar) as plain JSON with secret fields' values hidden
    and NUL characters dropped (PostgreSQL keeps none)."""
    if isinstance(value, dict):
        return {
            str(key).replace("\x00", ""): (
                MASK if is_secret(key) and item not in (None, "") else masked(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [masked(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    plain = json.loads(canonical(value))
    return plain.replace("\x00", "") if isinstance(plain, str) else plain


def _text(value, limit: int) -> str:
    return str(value or "").replace("\x00", "")[:limit]


def client_address(request) -> str | None:
    """The client's address as the sign-in throttle reads it (``AXES_CLIENT_IP_CALLABLE``:
    forwarded headers only from the configured trusted proxies), else the connection's."""
    if request is None:
        return None
    raw = getattr(request, "axes_ip_address", None)
    reader = getattr(settings, "AXES_CLIENT_IP_CALLABLE", None)
    if not raw and isinstance(reader, str):
        try:
            raw = import_string(reader)(request)
        except Exception:  # an address is a detail: never lose the event for it
            logger.exception("The client address could not be read.")
    raw = raw or request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(str(raw).strip())) if raw else None
    except ValueError:
        return None


def _actor_of(actor, request):
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "pk", None):
        actor = None
    return actor


def _chain_head() -> ChainHead:
    """The head row, locked until the caller's transaction ends (created on first use:
    a flushed test database has none)."""
    for _attempt in range(2):
        # A row lock on PostgreSQL; SQLite's transactions take the write lock at BEGIN
        # (transaction_mode IMMEDIATE in the settings), which serialises them anyway.
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is not None:
            return head
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        try:
            with transaction.atomic():
                return ChainHead.objects.create(
                    pk=1,
                    sequence=last["sequence"] if last else 0,
                    hash=last["hash"] if last else GENESIS,
                )
        except IntegrityError:  # another writer made it first: lock theirs
            continue
    raise RuntimeError("The audit chain head could not be locked.")


def record(
    action: str,
    *,
    actor=None,
    target=None,
    request=None,
    before: dict | None = None,
    after: dict | None = None,
    **details,
) -> AuditEvent:
    """Record one security or configuration event, and return it.

    ``action`` is a dotted name (``"auth.sign_in"``, ``"auth.sign_in_failed"``,
    ``"auth.locked_out"``, ``"token.created"``, ``"token.revoked"``, ``"token.used"``,
    ``"role.changed"``, ``"admin.changed"``, ``"privacy.erased"``…); ``actor`` the user who
    acted (None: the signed-in user of ``request`` if any, else the platform or an
    anonymous client); ``target`` the object acted on; ``request`` gives the client address
    and user agent; ``before``/``after`` the changed values; ``details`` anything else worth
    keeping (JSON-serialisable). Values of fields named like a password, secret, token or
    key are masked.

    The event is written in the caller's transaction: if the change it describes rolls
    back, the event disappears with it (an event outside any transaction, such as a failed
    sign-in, is committed at once). Appends are serialised on the chain head's row lock,
    held until that transaction ends, so keep audited transactions short."""
    actor = _actor_of(actor, request)
    event = AuditEvent(
        at=timezone.now(),
        action=_text(action, 100),
        actor=actor,
        actor_username=_text(getattr(actor, "username", ""), 150),
        client_address=client_address(request),
        user_agent=_text(request.META.get("HTTP_USER_AGENT") if request else "", 300),
        before=masked(before) if before is not None else None,
        after=masked(after) if after is not None else None,
        details=masked(details),
    )
    if isinstance(target, str):  # a name only (an unknown account's, say)
        event.target_repr = _text(target, 200)
    elif target is not None:
        meta = getattr(target, "_meta", None)
        event.target_type = meta.label_lower if meta else type(target).__name__
        event.target_id = _text(getattr(target, "pk", ""), 64)
        # The log is written in English whatever the actor's language (a name a model
        # words, such as a legal hold's, is searched and exported as written).
        with translation.override("en"):
            event.target_repr = _text(target, 200)
    event.personal_digest = event.compute_personal_digest()
    # No savepoint of its own inside the caller's transaction (two queries fewer): a
    # failure here is the caller's failure.
    with transaction.atomic(savepoint=False):
        head = _chain_head()
        event.sequence = head.sequence + 1
        event.prev_hash = head.hash
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        ChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
    logger.info(
        "%s #%s actor=%s target=%s:%s",
        action,
        event.sequence,
        event.actor_username or "-",
        event.target_type,
        event.target_id,
    )
    return event


def _replaced(value, values: frozenset, alias: str):
    if isinstance(value, dict):
        return {key: _replaced(item, values, alias) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, values, alias) for item in value]
    if isinstance(value, str) and value.casefold() in values:
        return alias
    return value


def pseudonymise(user, alias: str, *, values=()) -> int:
    """Within ``itsm.audit.db.rewriting``: replace ``user``'s personal data in the audit
    log with ``alias``: as the actor (username; address and user agent dropped), as the
    target (what was shown of it), and any of ``values`` (the username, email address,
    names…) met as a whole value in before/after/details. The facts, digests and chain
    stay as they were, so ``audit_verify`` still passes. Returns how many events changed."""
    from django.db import models

    username = getattr(user, "username", user)
    pk = getattr(user, "pk", None)
    values = frozenset(str(v).casefold() for v in (username, *values) if v)
    query = models.Q(actor_username=username)
    if pk is not None:
        query |= models.Q(actor_id=pk) | models.Q(target_type="accounts.user", target_id=str(pk))
    # Events about something else that name the person in their data (a token's owner,
    # a team's new member…): found by their JSON text, replaced only as whole values.
    for value in values:
        for column in ("before", "after", "details"):
            query |= models.Q(**{f"{column}__icontains": value})
    changed = 0
    now = timezone.now()
    for event in AuditEvent.objects.filter(query).order_by("sequence"):
        data = {
            column: _replaced(getattr(event, column), values, alias)
            for column in ("before", "after", "details")
        }
        fields = {
            column: value for column, value in data.items() if value != getattr(event, column)
        }
        if event.actor_username == username or (pk is not None and event.actor_id == pk):
            fields.update(actor_username=alias, client_address=None, user_agent="")
        if event.target_type == "accounts.user" and event.target_id == str(pk):
            fields["target_repr"] = alias
        if not fields:
            continue  # the text held the value only as part of something else
        fields["rewritten_at"] = now
        # The queryset refuses updates; this is the one sanctioned path.
        models.QuerySet.update(AuditEvent.objects.filter(pk=event.pk), **fields)
        changed += 1
    return changed
