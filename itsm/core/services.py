"""Operations every record type shares: journal, field changes with optimistic locking,
comments and work notes, attachments, links and notifications.

Practice apps call these from their own ``services.py``; views never write records directly.
"""

import logging
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from . import uploads
from .i18n import Said, in_language, said, user_language
from .models import Attachment, JournalEntry, Notification, Record, RecordLink
from .signals import record_changed

logger = logging.getLogger(__name__)


class StaleVersion(Exception):
    """The row changed since the caller read it (HTTP 412 / a conflict in the UI)."""

    def __init__(self, record):
        super().__init__(
            gettext("%(record)s was changed by someone else (now version %(version)s).")
            % {"record": record.reference, "version": record.version}
        )
        self.record = record


# Journal ----------------------------------------------------------------------------


def write_journal(record, kind, actor=None, body="", data=None, internal=False) -> JournalEntry:
    """One timeline line. A ``body`` the platform words (``said(...)``) is stored in English
    (what search and exports read) and read by each person in their language
    (``JournalEntry.text``); a person's own words are stored as they wrote them."""
    data = dict(data or {})
    if isinstance(body, Said):
        data["said"] = body.as_data()
        body = body.in_english()
    return JournalEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        kind=kind,
        actor=actor,
        body=str(body),
        data=data,
        internal=internal,
    )


def timeline(record, user):
    """The record's journal as this user may see it, oldest first."""
    return JournalEntry.objects.for_record(record).visible_to(user).select_related("actor")


# Locking and field changes ------------------------------------------------------------


def lock(record, expected_version: int | None = None):
    """Re-read a tracked row with a row lock; refuse if the caller's version is stale.
    The one lock of every tracked type (records, CIs, assets, contracts…)."""
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(locked)
    return locked


def display_value(record, name: str):
    field = record._meta.get_field(name)
    if field.many_to_many:
        return sorted(str(obj) for obj in getattr(record, name).all())
    if field.is_relation and getattr(record, field.attname) is None:
        return None  # no related object (even on a required relation being cleared)
    value = getattr(record, name)
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def set_fields(record: Record, changes: dict) -> dict:
    """Set plain fields on the record; returns {field: [old, new]} of what really changed."""
    diff = {}
    for name, new in changes.items():
        field = record._meta.get_field(name)
        if field.many_to_many:
            continue
        old_raw = getattr(record, field.attname)
        new_raw = new.pk if isinstance(new, models.Model) else new
        if old_raw == new_raw:
            continue
        old = display_value(record, name)
        setattr(record, name, new)
        diff[name] = [old, display_value(record, name)]
    return diff


def announce(record: Record, actor, changes: dict, created: bool = False) -> None:
    """Tell the practices that listen (service level management…) what changed."""
    record_changed.send(
        sender=type(record), record=record, actor=actor, changes=changes, created=created
    )


def save_record(record: Record, actor, diff: dict, extra_fields: Iterable[str] = ()) -> None:
    """Save changed fields, bump the version, write the changes to the journal and announce
    them."""
    fields = set(diff) | set(extra_fields)
    fields.discard("state")
    if not fields and "state" not in diff:
        return
    record.version += 1
    record.updated_at = timezone.now()
    update = {record._meta.get_field(n).attname for n in fields if not _is_m2m(record, n)}
    if "state" in diff:
        update.add("state")
    record.save(update_fields=[*sorted(update), "version", "updated_at"])
    field_changes = {k: v for k, v in diff.items() if k != "state"}
    if field_changes:
        write_journal(record, JournalEntry.Kind.FIELDS, actor, data=field_changes, internal=True)
    if "state" in diff:
        write_journal(
            record,
            JournalEntry.Kind.STATE,
            actor,
            data={"from": diff["state"][0], "to": diff["state"][1]},
        )
    announce(record, actor, diff)


def _is_m2m(record, name) -> bool:
    return record._meta.get_field(name).many_to_many


def set_m2m(record: Record, name: str, objects) -> list | None:
    """Replace a many-to-many field; returns [old, new] display values, or None if same."""
    manager = getattr(record, name)
    old = {obj.pk: str(obj) for obj in manager.all()}
    new = {obj.pk: str(obj) for obj in objects}
    if set(old) == set(new):
        return None
    manager.set(list(objects))
    return [sorted(old.values()), sorted(new.values())]


# Comments and work notes -----------------------------------------------------------------


def add_comment(record: Record, actor, body: str, internal: bool = False) -> JournalEntry:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if internal and not actor.is_agent:
        raise ValidationError({"internal": _("Only service desk staff can write work notes.")})
    kind = JournalEntry.Kind.WORK_NOTE if internal else JournalEntry.Kind.COMMENT
    return write_journal(record, kind, actor, body=body, internal=internal)


# Attachments -------------------------------------------------------------------------------


def add_attachment(record: Record, actor, uploaded_file, internal: bool = False) -> Attachment:
    if uploaded_file is None:
        raise ValidationError({"file": _("Choose a file to attach.")})
    limit = settings.ATTACHMENT_MAX_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            {
                "file": gettext("The file is %(size)s bytes; the limit is %(limit)s bytes.")
                % {"size": uploaded_file.size, "limit": limit}
            }
        )
    if internal and not actor.is_agent:
        raise ValidationError({"internal": _("Only service desk staff can add internal files.")})
    name = uploaded_file.name.rsplit("/", 1)[-1][:255] or "attachment"
    # What the file is by its content (not its name, nor what the client said), if allowed.
    mime = uploads.attachment_type(uploaded_file, name)
    attachment = Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        file=uploaded_file,
        filename=name,
        size=uploaded_file.size,
        mime_type=mime[:127],
        internal=internal,
        uploaded_by=actor,
    )
    write_journal(
        record,
        JournalEntry.Kind.ATTACHMENT,
        actor,
        body=name,
        data={"attachment": attachment.pk, "size": attachment.size},
        internal=internal,
    )
    return attachment


def attachments_of(record: Record, user):
    qs = Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("uploaded_by")
    return record.attachments_readable_by(qs, user)


def attachment_for_download(attachment_id: int, user) -> Attachment:
    """The attachment if this user may see its record and the record lets them open it
    (never an internal one to an end user, nor an article's file before it is published)."""
    attachment = Attachment.objects.select_related("content_type").get(pk=attachment_id)
    model = attachment.content_type.model_class()
    record = model.objects.visible_to(user).filter(pk=attachment.object_id).first()
    if record is None:
        raise Attachment.DoesNotExist
    readable = record.attachments_readable_by(Attachment.objects.filter(pk=attachment.pk), user)
    if not readable.exists():
        raise Attachment.DoesNotExist
    return attachment


# Links -------------------------------------------------------------------------------------


def record_models() -> list[type[Record]]:
    """Every concrete record type, longest number prefix first."""
    models_ = [m for m in apps.get_models() if issubclass(m, Record) and m.NUMBER_PREFIX]
    return sorted(models_, key=lambda m: -len(m.NUMBER_PREFIX))


def find_record(number: str, user) -> Record:
    """The record with this number, if this user may see it (any record type)."""
    number = (number or "").strip().upper()
    for model in record_models():
        if number.startswith(model.NUMBER_PREFIX) and number[len(model.NUMBER_PREFIX) :].isdigit():
            record = model.objects.visible_to(user).filter(number=number).first()
            if record is not None:
                return record
            break
    raise ValidationError(
        {
            "target": gettext("There is no record %(number)s you can see.")
            % {"number": number or gettext("(empty)")}
        }
    )


def _links_touching(record: Record):
    """Links with the record at either end."""
    ct = ContentType.objects.get_for_model(record)
    return RecordLink.objects.filter(
        models.Q(source_type=ct, source_id=record.pk)
        | models.Q(target_type=ct, target_id=record.pk)
    )


def links_of(record: Record, user) -> list[dict]:
    """Links from and to the record, each with the record at the other end, when this user
    may see that record."""
    ct = ContentType.objects.get_for_model(record)
    links = list(_links_touching(record).order_by("created_at", "pk"))
    ends: dict[int, set[int]] = {}
    for link in links:
        outgoing = link.source_type_id == ct.pk and link.source_id == record.pk
        other = (
            (link.target_type_id, link.target_id)
            if outgoing
            else (link.source_type_id, link.source_id)
        )
        ends.setdefault(other[0], set()).add(other[1])
    found = {}
    for type_id, ids in ends.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        visible = model.objects.visible_to(user).filter(pk__in=ids)
        for obj in visible.only(*model.LINK_FIELDS):
            found[(type_id, obj.pk)] = obj
    result = []
    for link in links:
        outgoing = link.source_type_id == ct.pk and link.source_id == record.pk
        key = (
            (link.target_type_id, link.target_id)
            if outgoing
            else (link.source_type_id, link.source_id)
        )
        other = found.get(key)
        if other is not None:
            result.append(
                {
                    "link": link,
                    "outgoing": outgoing,
                    "record": other,
                    "title": other.title_for(user),
                    "state": other.state_for(user),
                }
            )
    return result


#: The journal lines of a link made, per kind: on its source, on its target (each read in
#: its reader's language).
LINKED = {
    RecordLink.Kind.RELATES_TO: (
        gettext_noop("relates to %(number)s"),
        gettext_noop("%(number)s relates to this"),
    ),
    RecordLink.Kind.CAUSED_BY: (
        gettext_noop("caused by %(number)s"),
        gettext_noop("%(number)s caused by this"),
    ),
    RecordLink.Kind.DUPLICATE_OF: (
        gettext_noop("duplicate of %(number)s"),
        gettext_noop("%(number)s duplicate of this"),
    ),
    RecordLink.Kind.RESOLVED_BY: (
        gettext_noop("resolved by %(number)s"),
        gettext_noop("%(number)s resolved by this"),
    ),
}
#: ... and of a link removed.
UNLINKED = {
    RecordLink.Kind.RELATES_TO: (
        gettext_noop("removed link: relates to %(number)s"),
        gettext_noop("removed link: %(number)s relates to this"),
    ),
    RecordLink.Kind.CAUSED_BY: (
        gettext_noop("removed link: caused by %(number)s"),
        gettext_noop("removed link: %(number)s caused by this"),
    ),
    RecordLink.Kind.DUPLICATE_OF: (
        gettext_noop("removed link: duplicate of %(number)s"),
        gettext_noop("removed link: %(number)s duplicate of this"),
    ),
    RecordLink.Kind.RESOLVED_BY: (
        gettext_noop("removed link: resolved by %(number)s"),
        gettext_noop("removed link: %(number)s resolved by this"),
    ),
}


@transaction.atomic
def unlink(record: Record, link_id: int, actor) -> None:
    if not actor.is_agent:
        raise PermissionDenied
    link = _links_touching(record).filter(pk=link_id).first()
    if link is None:
        raise RecordLink.DoesNotExist
    source, target = link.source, link.target
    link.delete()
    outgoing, incoming = UNLINKED[link.kind]
    for rec, text in (
        (source, said(outgoing, number=target.number if target is not None else "")),
        (target, said(incoming, number=source.number if source is not None else "")),
    ):
        if rec is not None:
            write_journal(rec, JournalEntry.Kind.LINK, actor, body=text, internal=True)


@transaction.atomic
def link_records(source: Record, target: Record, actor, kind=RecordLink.Kind.RELATES_TO):
    if not actor.is_agent:
        raise PermissionDenied
    if kind not in RecordLink.Kind.values:
        raise ValidationError(
            {"kind": gettext("One of: %(values)s.") % {"values": ", ".join(RecordLink.Kind.values)}}
        )
    if source == target:
        raise ValidationError({"target": _("A record cannot be linked to itself.")})
    if kind == RecordLink.Kind.RELATES_TO:
        reverse = RecordLink.objects.filter(
            source_type=ContentType.objects.get_for_model(target),
            source_id=target.pk,
            target_type=ContentType.objects.get_for_model(source),
            target_id=source.pk,
            kind=kind,
        ).first()
        if reverse is not None:  # "relates to" goes both ways: one link is enough
            return reverse
    link, created = RecordLink.objects.get_or_create(
        source_type=ContentType.objects.get_for_model(source),
        source_id=source.pk,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        kind=kind,
        defaults={"created_by": actor},
    )
    if created:
        outgoing, incoming = LINKED[kind]
        write_journal(
            source,
            JournalEntry.Kind.LINK,
            actor,
            body=said(outgoing, number=target.number),
            internal=True,
        )
        write_journal(
            target,
            JournalEntry.Kind.LINK,
            actor,
            body=said(incoming, number=source.number),
            internal=True,
        )
    return link


# Notifications -------------------------------------------------------------------------


#: Headers of every message the platform sends: it is automatic (RFC 3834), so mail
#: servers and clients send no out-of-office or other automatic replies to it.
AUTOMATIC_MAIL_HEADERS = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "All",
}


def mail_subject(subject: str) -> str:
    """A subject as one header line: line breaks and runs of whitespace (a record title
    with a line break in it) become one space; at most 255 characters."""
    return " ".join(str(subject).split())[:255]


def _may_be_told(record, user) -> bool:
    """Staff are told about a record only if they may see it (data separation: an agent of
    one customer hears nothing of another's records). Others are told as their part in it
    says (the caller, an approver)."""
    from .scoping import may_see, separation

    if not user.is_agent or separation(user) is None:
        return True
    return may_see(record, user)


def notify(
    recipients, subject: str, body: str, record: Record | None = None, addresses=()
) -> list[Notification]:
    """Queue a message to each recipient (deduplicated, skipping those without e-mail) and to
    each plain e-mail address. The subject is made one line (``mail_subject``).

    ``subject`` and ``body`` are strings, lazy translations, ``said(...)`` sentences or
    functions of no arguments returning one: each recipient gets them in their language
    (``User.language``), a plain address in the site's.

    Rows are written in the caller's transaction; delivery is queued after commit."""
    worded: dict[str | None, tuple[str, str]] = {}

    def words(language):
        if language not in worded:
            worded[language] = (
                mail_subject(in_language(subject, language)),
                in_language(body, language),
            )
        return worded[language]

    seen = set()
    rows = []
    ct = ContentType.objects.get_for_model(record) if record else None
    for address in sorted({a.strip().lower() for a in addresses if a and a.strip()}):
        site_subject, site_body = words(None)
        rows.append(
            Notification(
                address=address,
                subject=site_subject,
                body=site_body,
                content_type=ct,
                object_id=record.pk if record else None,
            )
        )
    for user in recipients:
        if user is None or user.pk in seen or not user.email or not user.is_active:
            continue
        seen.add(user.pk)
        if record is not None and not _may_be_told(record, user):
            continue
        their_subject, their_body = words(user_language(user))
        rows.append(
            Notification(
                recipient=user,
                subject=their_subject,
                body=their_body,
                content_type=ct,
                object_id=record.pk if record else None,
            )
        )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk]
    if record is not None:
        write_journal(
            record,
            JournalEntry.Kind.NOTIFICATION,
            None,
            body=said(
                gettext_noop("Notified %(recipients)s: %(subject)s"),
                recipients=", ".join(sorted(str(n.recipient or n.address) for n in created)),
                subject=words(None)[0],
            ),
            internal=True,
        )
    if ids:
        transaction.on_commit(lambda: _enqueue_delivery(ids))
    return created


def _enqueue_delivery(ids: list[int]) -> None:
    from .tasks import deliver_notifications

    try:
        deliver_notifications.delay(ids)
    except Exception:  # the broker is down: the periodic sweep delivers them later
        logger.warning("Could not queue notifications %s; the sweep will retry", ids, exc_info=True)


def deliver(notification_ids: Iterable[int]) -> int:
    """Send pending notifications by mail, marked automatic (``AUTOMATIC_MAIL_HEADERS``),
    with a one-line subject (rows queued before subjects were made one line are sent
    too); returns how many were sent."""
    from django.core.mail import EmailMessage

    sent = 0
    for notification in Notification.objects.filter(
        pk__in=list(notification_ids), status=Notification.Status.PENDING
    ).select_related("recipient"):
        # Claim it first: the after-commit task and the sweep may both hold its id.
        claimed = Notification.objects.filter(
            pk=notification.pk, status=Notification.Status.PENDING
        ).update(status=Notification.Status.SENDING, claimed_at=timezone.now())
        if not claimed:
            continue
        try:
            EmailMessage(
                mail_subject(notification.subject),
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.to],
                headers=AUTOMATIC_MAIL_HEADERS,
            ).send()
        except Exception as exc:
            notification.attempts += 1
            notification.last_error = str(exc)[:2000]
            notification.status = (
                Notification.Status.FAILED
                if notification.attempts >= 10
                else Notification.Status.PENDING
            )
            notification.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("Mail to %s failed: %s", notification.to, exc)
            continue
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["status", "sent_at", "attempts"])
        sent += 1
    return sent
