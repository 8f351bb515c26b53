"""A person's rights over their data: erasure (pseudonymisation) and access (export).

``erase`` replaces what names the person, everywhere the platform keeps text, by a
pseudonym, keeps every record, timeline entry, approval and SLA timer (the foreign keys
still point at the same, now pseudonymous, account), ends their sessions and tokens, and
audits itself with the account's id and pseudonym only. ``export`` streams one JSON
document of what the platform holds about them."""

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from itsm.accounts.models import Role, User
from itsm.api.tokens import revoke_all
from itsm.audit.db import rewriting
from itsm.audit.services import pseudonymise
from itsm.audit.services import record as audit
from itsm.core.approvals import AbstractApproval
from itsm.core.models import Attachment, JournalEntry, Notification, Record, Tracked

from . import scrub
from .models import Erasure, LegalHold
from .retention import record_types

#: Tables an UPDATE of which needs ``itsm.audit.db.rewriting`` (their trigger).
REWRITTEN = (JournalEntry, Attachment)


class ErasureRefused(ValidationError):
    """An erasure the rules do not allow (a superuser, the last administrator, a hold)."""


def is_administrator(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role == Role.ADMINISTRATOR)
    )


def pseudonym_username(user) -> str:
    return f"erased-{user.pk}"


def pseudonym_name(user) -> str:
    return f"Erased person {user.pk}"


def identifiers(user) -> list[str]:
    """What names the person in text: e-mail address, phone, full name (and "last, first"),
    username."""
    found = [user.email, user.phone, user.get_full_name(), user.username]
    if user.first_name and user.last_name:
        found.append(f"{user.last_name}, {user.first_name}")
    return [v for v in found if v]


def replacement_pairs(user, name: str, username: str) -> list[tuple[str, str]]:
    """(identifier, what replaces it): the username by ``username``, the e-mail address
    and phone by "[erased]", the names by ``name``."""
    pairs = []
    for value in identifiers(user):
        if value == user.username:
            pairs.append((value, username))
        elif value in (user.email, user.phone):
            pairs.append((value, "[erased]"))
        else:
            pairs.append((value, name))
    return pairs


def free_alias(user) -> str:
    """The pseudonymous username: ``erased-<id>``, or with a suffix when another account
    took that name (a name cannot block an erasure)."""
    alias = pseudonym_username(user)
    taken = User.objects.exclude(pk=user.pk)
    while taken.filter(username__iexact=alias).exists():
        alias = f"{pseudonym_username(user)}-{secrets.token_hex(3)}"
    return alias


def replacements_for(user, alias: str | None = None) -> scrub.Replacements:
    pairs = replacement_pairs(user, pseudonym_name(user), alias or pseudonym_username(user))
    return scrub.Replacements(pairs, protected=_others_holding(user))


def _others_holding(user, limit: int = 1000) -> list[str]:
    """Other people's usernames and addresses that hold the person's username or address
    (``annlee-2``, ``annlee@other.example``): left as they are."""
    holding = models.Q()
    for value in (user.username, user.email):
        if value and len(value) >= scrub.MIN_LENGTH:
            holding |= models.Q(username__icontains=value) | models.Q(email__icontains=value)
    if not holding:
        return []
    found = []
    for username, email in (
        User.objects.exclude(pk=user.pk).filter(holding).values_list("username", "email")[:limit]
    ):
        found += [username, email]
    return [v for v in found if v]


# Erasure ----------------------------------------------------------------------------------


@dataclass
class ErasureResult:
    person: User
    #: False: the person had been erased already (nothing changed)
    erased: bool = True
    counts: dict = field(default_factory=dict)
    #: records left as they were because a legal hold keeps them
    held_records: int = 0


def check_erasable(person, actor) -> None:
    """Raise ``PermissionDenied`` (not an administrator) or ``ErasureRefused`` (why not)."""
    if not is_administrator(actor):
        raise PermissionDenied(gettext("Only administrators erase a person's data."))
    if person.is_superuser:
        raise ErasureRefused(
            gettext("A superuser's data is not erased (take the superuser status first).")
        )
    if person.role == Role.ADMINISTRATOR or person.is_superuser:
        others = (
            User.objects.filter(is_active=True)
            .filter(models.Q(role=Role.ADMINISTRATOR) | models.Q(is_superuser=True))
            .exclude(pk=person.pk)
        )
        if not others.exists():
            raise ErasureRefused(gettext("The last administrator's data is not erased."))
    if LegalHold.objects.on_person(person).exists():
        raise ErasureRefused(gettext("A legal hold keeps this person's data; release it first."))


def _held_records() -> dict[int, set[int]]:
    held: dict[int, set[int]] = defaultdict(set)
    for ct_id, object_id in (
        LegalHold.objects.active()
        .filter(person__isnull=True)
        .values_list("content_type_id", "object_id")
    ):
        held[ct_id].add(object_id)
    return held


def _end_sessions(user) -> int:
    """Delete the person's sessions (database sessions; any other kind ends on the next
    request: the password hash they were signed in with is gone)."""
    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0
    from django.contrib.sessions.models import Session

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(1000):
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            ended.append(session.session_key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def _end_credentials(user, actor) -> int:
    """Revoke the person's API tokens and remove their second factors; returns how many
    tokens were revoked."""
    revoked = revoke_all(user, by=actor, reason="privacy erasure")
    if apps.is_installed("django_otp"):
        from django_otp import devices_for_user

        for device in devices_for_user(user, confirmed=None):
            device.delete()
    return revoked


def _scrub_everywhere(replacements: scrub.Replacements, held) -> tuple[dict, int]:
    """Rewrite every text column naming the person (records, their timelines and files,
    configuration, notifications…), except what a legal hold keeps. Returns the counts by
    model and how many held rows were left."""
    counts: dict[str, int] = {}
    left = 0
    moved: list[tuple] = []
    for model in scrub.scanned_models():
        ct = ContentType.objects.get_for_model(model)
        generic = model in REWRITTEN
        queryset = scrub.candidates(model._base_manager.all(), replacements)
        changed = 0
        for obj in queryset.iterator(500):
            if (held.get(ct.pk) and obj.pk in held[ct.pk]) or (
                generic and obj.object_id in held.get(obj.content_type_id, ())
            ):
                left += 1
                continue
            values = scrub.rewrite(obj, replacements)
            if not values:
                continue
            moved += scrub.move_files(obj, values)
            if issubclass(model, Tracked):
                values["version"] = models.F("version") + 1
            model._base_manager.filter(pk=obj.pk).update(**values)
            changed += 1
        if changed:
            counts[model._meta.label] = changed
    if moved:  # the copies under the old names go once the new names are committed
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in moved])
    return counts, left


def erase(person, actor, reason: str = "", request=None) -> ErasureResult:
    """Erase ``person``'s personal data (see the module). Idempotent: a person erased
    before is left as they are (``erased=False``)."""
    check_erasable(person, actor)
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        done = Erasure.objects.filter(person=person).first()
        if done is not None:
            return ErasureResult(person=person, erased=False, counts=done.counts)
        check_erasable(person, actor)
        alias = free_alias(person)
        replacements = replacements_for(person, alias)
        values = [*identifiers(person)]
        held = _held_records()
        with rewriting("privacy erasure", actor=actor):
            counts, left = _scrub_everywhere(replacements, held)
            rewritten = pseudonymise(person, alias, values=values)
            if rewritten:
                counts["audit.AuditEvent"] = rewritten
        person.username = alias
        person.first_name, person.last_name = "Erased person", str(person.pk)
        person.email = ""
        person.phone = ""
        person.location = None
        person.manager = None
        person.vip = False
        person.is_active = False
        person.set_unusable_password()
        person.save(
            update_fields=[
                "username",
                "first_name",
                "last_name",
                "email",
                "phone",
                "location",
                "manager",
                "vip",
                "is_active",
                "password",
            ]
        )
        counts["sessions"] = _end_sessions(person)
        counts["tokens"] = _end_credentials(person, actor)
        counts["pending_notifications"] = Notification.objects.filter(
            recipient=person,
            status__in=[Notification.Status.PENDING, Notification.Status.FAILED],
        ).delete()[0]
        reason = replacements.text(str(reason or "").replace("\x00", ""))[:300]
        Erasure.objects.create(person=person, erased_by=actor, reason=reason, counts=counts)
        audit(
            "privacy.erased",
            actor=actor,
            target=person,
            request=request,
            user_id=person.pk,
            pseudonym=person.username,
            reason=reason,
            held_records=left,
        )
    return ErasureResult(person=person, erased=True, counts=counts, held_records=left)


# Export -----------------------------------------------------------------------------------

#: Models whose rows are credentials or machinery, never exported (a token's hash, a
#: replayed answer…).
NOT_EXPORTED = frozenset(
    {
        "authtoken.token",
        "authtoken.tokenproxy",
        "api.idempotencykey",
        "api.apitoken",
        "admin.logentry",
        "sessions.session",
        "core.notification",
        "changes.calendarfeed",
    }
)
CHUNK = 500


def _user_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is User and not f.many_to_many
    ]


def _stamp(value):
    return value.isoformat() if value else None


def profile(person) -> dict:
    return {
        "id": person.pk,
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "role": person.get_role_display(),
        "organization": str(person.organization) if person.organization_id else None,
        "location": str(person.location) if person.location_id else None,
        "manager": person.manager.username if person.manager_id else None,
        "teams": sorted(person.teams.values_list("name", flat=True)),
        "date_joined": _stamp(person.date_joined),
        "last_login": _stamp(person.last_login),
        "active": person.is_active,
    }


def preferences(person) -> dict:
    return {
        "time_zone": person.time_zone,
        "theme": person.theme,
        "density": person.density,
        "date_format": person.date_format,
    }


def _own(person, viewer) -> bool:
    """Whether the export is the person's own, as an end user (what they may see of it)."""
    return viewer is not None and viewer.pk == person.pk and not viewer.is_agent


def _records(person, viewer):
    """(kind, row) of each record naming the person, in chunks, each with the person's
    own timeline entries on it."""
    own = _own(person, viewer)
    for model in record_types():
        fields = _user_fields(model)
        if not fields:
            continue
        naming = models.Q()
        for f in fields:
            naming |= models.Q(**{f.attname: person.pk})
        queryset = model._default_manager.filter(naming)
        if own:
            queryset = queryset.visible_to(viewer)
        ct = ContentType.objects.get_for_model(model)
        closed = next(
            (f.name for f in model._meta.concrete_fields if f.name in ("closed_at", "resolved_at")),
            None,
        )
        columns = ["pk", "number", "title", "state", "created_at", "updated_at"]
        columns += [f.attname for f in fields] + ([closed] if closed else [])
        last = 0
        while True:
            rows = list(queryset.filter(pk__gt=last).order_by("pk").values(*columns)[:CHUNK])
            if not rows:
                break
            last = rows[-1]["pk"]
            entries = JournalEntry.objects.filter(
                content_type=ct,
                object_id__in=[r["pk"] for r in rows],
                actor=person,
                kind__in=[JournalEntry.Kind.COMMENT, JournalEntry.Kind.WORK_NOTE],
            )
            if own:
                entries = entries.visible_to(viewer)
            comments = defaultdict(list)
            for e in entries.order_by("created_at", "pk").values(
                "object_id", "kind", "created_at", "body"
            ):
                comments[e["object_id"]].append(
                    {"kind": e["kind"], "at": _stamp(e["created_at"]), "body": e["body"]}
                )
            for r in rows:
                yield {
                    "type": model._meta.label,
                    "number": r["number"],
                    "title": r["title"],
                    "state": model.workflow.label(r["state"]),
                    "created_at": _stamp(r["created_at"]),
                    "updated_at": _stamp(r["updated_at"]),
                    "closed_at": _stamp(r[closed]) if closed else None,
                    "as": [f.name for f in fields if r[f.attname] == person.pk],
                    "comments": comments.get(r["pk"], []),
                }


def _numbers(ct_ids_and_pks: dict[int, set[int]]) -> dict[tuple[int, int], str]:
    found = {}
    for ct_id, pks in ct_ids_and_pks.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            continue
        label = "number" if issubclass(model, Record) else "pk"
        for pk, number in model._base_manager.filter(pk__in=pks).values_list("pk", label):
            found[(ct_id, pk)] = f"{model._meta.label} {number}"
    return found


def _by_chunks(queryset, shape, own_filter=None):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not rows:
            return
        last = rows[-1].pk
        wanted = defaultdict(set)
        for row in rows:
            wanted[row.content_type_id].add(row.object_id)
        names = _numbers(wanted)
        for row in rows:
            yield shape(row, names.get((row.content_type_id, row.object_id), ""))


def _journal(person, viewer):
    entries = JournalEntry.objects.filter(actor=person)
    if _own(person, viewer):
        entries = entries.visible_to(viewer)
    return _by_chunks(
        entries,
        lambda e, record: {
            "record": record,
            "kind": e.kind,
            "internal": e.internal,
            "at": _stamp(e.created_at),
            "body": e.body,
        },
    )


def _attachments(person, viewer):
    files = Attachment.objects.filter(uploaded_by=person)
    if _own(person, viewer):
        files = files.filter(internal=False)
    return _by_chunks(
        files,
        lambda a, record: {
            "record": record,
            "filename": a.filename,
            "size": a.size,
            "mime_type": a.mime_type,
            "at": _stamp(a.created_at),
        },
    )


def _approvals(person):
    for model in apps.get_models():
        if not issubclass(model, AbstractApproval):
            continue
        to_record = next(
            (
                f
                for f in model._meta.concrete_fields
                if f.is_relation and f.related_model and issubclass(f.related_model, Record)
            ),
            None,
        )
        queryset = model._default_manager.filter(approver=person)
        if to_record is not None:
            queryset = queryset.select_related(to_record.name)
        last = 0
        while True:
            rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
            if not rows:
                break
            last = rows[-1].pk
            for a in rows:
                yield {
                    "type": model._meta.label,
                    "record": getattr(getattr(a, to_record.name), "number", "")
                    if to_record
                    else "",
                    "level": a.level,
                    "decision": a.get_decision_display(),
                    "comment": a.comment,
                    "at": _stamp(a.created_at),
                    "decided_at": _stamp(a.decided_at),
                }


def _elsewhere(person) -> dict[str, int]:
    """How many rows of other kinds name the person (saved views, feedback, assets…)."""
    found = {}
    skipped = {m for m in apps.get_models() if issubclass(m, Record | AbstractApproval)}
    skipped |= {JournalEntry, Attachment, User}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model in skipped or model._meta.proxy or label in NOT_EXPORTED:
            continue
        if model._meta.app_label in ("audit", "privacy"):
            continue
        fields = _user_fields(model)
        if not fields:
            continue
        naming = models.Q()
        for f in fields:
            naming |= models.Q(**{f.attname: person.pk})
        count = model._base_manager.filter(naming).count()
        if count:
            found[model._meta.label] = count
    return found


def export(person, viewer=None):
    """One JSON document of ``person``'s data, as text chunks (streamed: a heavy agent's
    thousands of records are read a chunk at a time). ``viewer`` is the person themselves
    (what they may see of it), an administrator, or None (the platform: a management
    command), the last two everything."""
    if viewer is not None and viewer.pk != person.pk and not is_administrator(viewer):
        raise PermissionDenied(gettext("Only administrators export another person's data."))
    audit("privacy.exported", actor=viewer, target=person, user_id=person.pk)
    return _chunks(person, viewer)


def _chunks(person, viewer):
    encoder = DjangoJSONEncoder

    def dump(value) -> str:
        return json.dumps(value, cls=encoder, ensure_ascii=False)

    yield "{\n"
    yield f'"generated_at": {dump(timezone.now().isoformat())},\n'
    yield f'"profile": {dump(profile(person))},\n'
    yield f'"preferences": {dump(preferences(person))},\n'
    sections = [
        ("records", _records(person, viewer)),
        ("journal", _journal(person, viewer)),
        ("attachments", _attachments(person, viewer)),
        ("approvals", _approvals(person)),
    ]
    for name, rows in sections:
        yield f'"{name}": ['
        first = True
        for row in rows:
            yield ("\n" if first else ",\n") + dump(row)
            first = False
        yield "\n],\n"
    elsewhere = _elsewhere(person) if viewer is None or is_administrator(viewer) else {}
    yield f'"elsewhere": {dump(elsewhere)}\n'
    yield "}\n"


def export_filename(person) -> str:
    return f"personal-data-{person.pk}-{timezone.now():%Y%m%d}.json"
