"""The kernel every practice builds on: the Record base, journal, links, attachments,
number sequences and the notification outbox."""

import os
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .workflow import Workflow


class NumberSequence(models.Model):
    """Counter for human record numbers on databases without native sequences (SQLite).

    PostgreSQL uses one native sequence per prefix instead (see ``numbering``)."""

    prefix = models.CharField(max_length=10, primary_key=True, verbose_name=_("prefix"))
    last_value = models.BigIntegerField(default=0, verbose_name=_("last value"))

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self):
        return f"{self.prefix}: {self.last_value}"


class TrackedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one place that decides who may see which rows of this type: the staff of
        the workspace see every row, narrowed by the data separation (``separated_for``),
        and anyone else what the type exposes to them (``for_end_user``: by default
        nothing; their own assets, their own tickets…)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_agent:
            return self.separated_for(user)
        return self.for_end_user(user)

    def for_end_user(self, user):
        """What this type shows someone outside the workspace (a type says so here)."""
        return self.none()

    def separated_for(self, user):
        """A staff member's rows under ``DATA_SEPARATION``: theirs (``separation_scope``)
        and whatever the type shows them as a person (what they requested…)."""
        from .scoping import separation

        narrowed = separation(user)
        scope = self.separation_scope(narrowed) if narrowed is not None else None
        if scope is None:
            return self
        return self.filter(scope) | self.for_end_user(user)

    def separation_scope(self, separation):
        """``Q`` of the rows a separated staff member sees, or None: every row (a type
        that is not separated: definitions, calendars…)."""
        return None


class Priority(models.IntegerChoices):
    """The one priority scale of every record type (incidents from impact and urgency,
    problems from risk, changes…), so that queues, SLAs and reports compare them."""

    CRITICAL = 1, _("1 - Critical")
    HIGH = 2, _("2 - High")
    MODERATE = 3, _("3 - Moderate")
    LOW = 4, _("4 - Low")
    PLANNING = 5, _("5 - Planning")


class Tracked(models.Model):
    """Abstract base of everything people edit: timestamps, a ``version`` counter for
    optimistic locking (the ETag and If-Match), one scoping rule (``visible_to``) and a
    journal (the record's timeline in ``JournalEntry``).

    Writes go through the kernel's write path (``itsm.core.writes``), which locks the row,
    refuses a stale version, and journals the difference of what it saved."""

    #: The field whose value names a row in its ETag (``"INC0001001-v3"``); empty: the
    #: primary key after ``ETAG_PREFIX`` (``"ci12-v3"``).
    ETAG_FIELD: str = ""
    ETAG_PREFIX: str = ""

    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("updated at")
    )
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))

    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def etag_key(self) -> str:
        if self.ETAG_FIELD:
            return str(getattr(self, self.ETAG_FIELD))
        return f"{self.ETAG_PREFIX or self._meta.model_name}{self.pk}"

    @property
    def etag(self) -> str:
        from .etag import format_etag

        return format_etag(self)

    @property
    def reference(self) -> str:
        """How people name this row in a message ("INC0001001", "AT-1", "mail-01")."""
        return str(getattr(self, self.ETAG_FIELD)) if self.ETAG_FIELD else str(self)


class RecordQuerySet(TrackedQuerySet):
    """Who may see which records of a type (``visible_to``): staff all, or under data
    separation theirs; anyone else the records they are the requester of, or none for a
    type that is nobody's request (``REQUESTER_FIELD = None``: problems, changes' tasks…)."""

    def requester_path(self) -> str | None:
        """The lookup of the person a record is for (a type whose requester is another
        record's says so)."""
        return self.model.REQUESTER_FIELD

    def for_end_user(self, user):
        path = self.requester_path()
        if path is None:
            return self.none()
        return self.filter(**{path: user})

    def separation_scope(self, separation):
        """Teams: assigned to one of their teams or to them, or requested by them.
        Organizations: a customer's record (its requester's organization) only if they
        serve that customer; an internal record (no requester, or an internal requester)
        as with teams."""
        user = separation.user
        theirs = models.Q(assigned_to=user) | models.Q(assignment_group__in=separation.team_ids)
        path = self.requester_path()
        if path is not None:
            theirs |= models.Q(**{path: user})
        if separation.mode != "organizations" or path is None:
            return theirs
        organization = f"{path}__organization"
        served = models.Q(**{f"{organization}__in": separation.served_organization_ids})
        customer = models.Q(**{f"{organization}__in": separation.customer_ids})
        return served | (~customer & theirs)


class Record(Tracked):
    """Abstract base of every ticket-like thing: incidents, requests, problems, changes…

    A concrete record names its number prefix, its workflow and the field that holds the
    person it is for (``REQUESTER_FIELD``), and adds its own fields."""

    NUMBER_PREFIX: str = ""
    #: The field holding the person the record is for (end users see their own); None for
    #: a type that is nobody's request.
    REQUESTER_FIELD: str | None = "requester"
    ETAG_FIELD = "number"
    workflow: Workflow

    number = models.CharField(max_length=20, unique=True, editable=False, verbose_name=_("number"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    state = models.CharField(max_length=30, db_index=True, verbose_name=_("state"))
    assignment_group = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_set",
        verbose_name=_("assignment group"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_assigned",
        verbose_name=_("assigned to"),
    )

    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.number} {self.title}"

    #: The workspace URL name of a record's page (its number is the argument).
    DETAIL_URL_NAME: str = ""
    #: What is loaded of a record shown at the other end of a link.
    LINK_FIELDS: tuple[str, ...] = ("pk", "number", "title", "state")

    def get_absolute_url(self) -> str:
        return self.url_for_number(self.number)

    @classmethod
    def url_for_number(cls, number: str) -> str:
        """The workspace page of the record with this number (no query for it)."""
        from django.urls import reverse

        return reverse(cls.DETAIL_URL_NAME or f"{cls._meta.app_label}:detail", args=[number])

    def title_for(self, user) -> str:
        """The title this user may read (an article's readers see the published one)."""
        return self.title

    def state_for(self, user) -> str:
        return self.state

    def attachments_readable_by(self, attachments, user):
        """This record's ``attachments`` (a queryset) narrowed to what ``user`` may open:
        staff all, others the public ones."""
        return attachments if user.is_agent else attachments.filter(internal=False)

    @property
    def state_label(self) -> str:
        return self.workflow.label(self.state)

    @property
    def requester(self):
        return getattr(self, self.REQUESTER_FIELD) if self.REQUESTER_FIELD else None

    @property
    def requester_id(self):
        return getattr(self, f"{self.REQUESTER_FIELD}_id") if self.REQUESTER_FIELD else None


class JournalQuerySet(models.QuerySet):
    def for_record(self, record):
        ct = ContentType.objects.get_for_model(record)
        return self.filter(content_type=ct, object_id=record.pk)

    def visible_to(self, user):
        if user.is_agent:
            return self
        return self.filter(internal=False)


class JournalEntry(models.Model):
    """One line of a record's timeline: a comment, a work note, a change, an event."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        COMMENT = "comment", _("Comment")
        WORK_NOTE = "work_note", _("Work note")
        STATE = "state", _("State change")
        FIELDS = "fields", _("Field change")
        LINK = "link", _("Link")
        ATTACHMENT = "attachment", _("Attachment")
        NOTIFICATION = "notification", _("Notification")
        SLA = "sla", _("SLA")
        APPROVAL = "approval", _("Approval")

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.BigIntegerField(verbose_name=_("object id"))
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    internal = models.BooleanField(
        default=False,
        help_text=_("Internal entries are never shown to end users."),
        verbose_name=_("internal"),
    )
    body = models.TextField(blank=True, verbose_name=_("body"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    objects = JournalQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]
        verbose_name_plural = _("journal entries")
        verbose_name = _("journal entry")

    def __str__(self):
        return gettext("%(kind)s by %(actor)s at %(at)s") % {
            "kind": self.get_kind_display(),
            "actor": self.actor,
            "at": f"{self.created_at:%Y-%m-%d %H:%M}",
        }

    @property
    def text(self) -> str:
        """The body as its reader should see it: a sentence the platform worded
        (``data["said"]``, see ``itsm.core.i18n.Said``) in the reader's language, and a
        moment the entry names (``data["at"]``, written ``{at}`` in ``data["text"]``) in the
        reader's time zone, with the zone."""
        from .i18n import Said

        worded = Said.from_data(self.data.get("said"))
        template, at = self.data.get("text"), self.data.get("at")
        if worded is not None and not isinstance(template, str):
            template = worded.render()
        moment = parse_datetime(at) if isinstance(at, str) else None
        if not isinstance(template, str):
            return self.body
        return template if moment is None else template.replace("{at}", local_moment(moment))


def local_moment(moment) -> str:
    """A moment in the active (the reader's) time zone, zone named: 2026-12-07 18:00 CET."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


class AbstractDeflection(models.Model):
    """An issue not reported: someone about to report one read something (an article, a
    known error's workaround) and it solved it. A concrete type adds what was read (its
    foreign key) and counts through ``record_once``."""

    #: one a person, thing read and window (a second click, a reload or a replayed form
    #: adds nothing)
    WINDOW = timedelta(days=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    query = models.CharField(
        max_length=200, blank=True, help_text=_("What they had typed."), verbose_name=_("query")
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @classmethod
    def record_once(cls, user, query: str = "", **read) -> tuple["AbstractDeflection", bool]:
        """The deflection of ``read`` (``article=…``) by ``user``: the one counted in the
        window already (False), or a new one (True). Call it with the thing read locked."""
        since = timezone.now() - cls.WINDOW
        earlier = cls.objects.filter(user=user, created_at__gte=since, **read).first()
        if earlier is not None:
            return earlier, False
        query = " ".join((query or "").replace("\x00", "").split())[:200]
        return cls.objects.create(user=user, query=query, **read), True


class RecordLink(models.Model):
    """A typed link between two records of any types (incident → problem, …)."""

    class Kind(models.TextChoices):
        RELATES_TO = "relates_to", _("Relates to")
        CAUSED_BY = "caused_by", _("Caused by")
        DUPLICATE_OF = "duplicate_of", _("Duplicate of")
        RESOLVED_BY = "resolved_by", _("Resolved by")

    source_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("source type")
    )
    source_id = models.BigIntegerField(verbose_name=_("source id"))
    source = GenericForeignKey("source_type", "source_id")
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("target type")
    )
    target_id = models.BigIntegerField(verbose_name=_("target id"))
    target = GenericForeignKey("target_type", "target_id")
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.RELATES_TO, verbose_name=_("kind")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "target_type", "target_id", "kind"],
                name="unique_record_link",
            )
        ]
        indexes = [
            models.Index(fields=["source_type", "source_id"]),
            models.Index(fields=["target_type", "target_id"]),
        ]
        verbose_name = _("record link")
        verbose_name_plural = _("record links")

    def __str__(self):
        return f"{self.source} {self.get_kind_display().lower()} {self.target}"


def attachment_path(instance, filename):
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{os.urandom(8).hex()}/{os.path.basename(filename)}"


class Attachment(models.Model):
    """A file on a record; served only to those who may see the record."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.BigIntegerField(verbose_name=_("object id"))
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(upload_to=attachment_path, verbose_name=_("file"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    mime_type = models.CharField(max_length=127, blank=True, verbose_name=_("mime type"))
    internal = models.BooleanField(default=False, verbose_name=_("internal"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.filename


class Notification(models.Model):
    """Outbox of messages to people. Written in the same transaction as the change that
    causes it and delivered after commit; a sweep retries anything not yet delivered, so a
    broker or mail failure loses nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    #: For people who are not users (named addresses of an escalation).
    address = models.EmailField(blank=True, verbose_name=_("address"))
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    body = models.TextField(verbose_name=_("body"))
    content_type = models.ForeignKey(
        ContentType, null=True, on_delete=models.SET_NULL, verbose_name=_("content type")
    )
    object_id = models.BigIntegerField(null=True, verbose_name=_("object id"))
    record = GenericForeignKey("content_type", "object_id")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return f"{self.subject} → {self.recipient or self.address}"

    @property
    def to(self) -> str:
        return self.recipient.email if self.recipient_id else self.address
