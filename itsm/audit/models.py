"""The audit log: security and configuration events in one append-only, hash-chained
table.

Each event carries the hash of the one before it (``prev_hash``) and its own ``hash``, a
SHA-256 over a canonical JSON of its facts, of ``prev_hash`` and of the digest of its
personal part (``personal_digest``: who acted, from where, what was shown of the target and
the before/after/details). A privacy erasure may pseudonymise the personal part (inside
``itsm.audit.db.rewriting``: the row is marked ``rewritten_at`` and keeps its digest), never
the facts, the digest or the chain; ``manage.py audit_verify`` recomputes all of it.

Appends are serialised on the one ``ChainHead`` row (a row lock on PostgreSQL, the write
lock on SQLite), so concurrent writers make one unbroken chain; the head also remembers the
last sequence, so removing the newest events is seen as well."""

import datetime
import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64

#: The columns a privacy erasure may pseudonymise (and the trigger lets it).
PERSONAL_FIELDS = (
    "actor_username",
    "client_address",
    "user_agent",
    "target_repr",
    "before",
    "after",
    "details",
)


class AuditError(Exception):
    """An update or deletion of the audit log was refused."""


class _Encoder(DjangoJSONEncoder):
    """Dates, decimals and UUIDs as Django writes them; anything else as its text."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def canonical(data) -> bytes:
    """One byte string for the same data, whichever order its keys came in."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=_Encoder
    ).encode()


def digest(data) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


class ChainHead(models.Model):
    """The one row appends are serialised on: the last event's sequence and hash."""

    sequence = models.BigIntegerField(default=0, verbose_name=_("sequence"))
    hash = models.CharField(max_length=64, default=GENESIS, verbose_name=_("hash"))

    class Meta:
        verbose_name = _("audit chain head")
        default_permissions = ()  # nobody's to grant: only record() moves it
        verbose_name_plural = _("audit chain heads")

    def __str__(self):
        return f"#{self.sequence} {self.hash}"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditError("Audit events are never changed.")

    def delete(self):
        raise AuditError("Audit events are never deleted.")


class AuditEvent(models.Model):
    sequence = models.BigIntegerField(unique=True, editable=False, verbose_name=_("sequence"))
    at = models.DateTimeField(
        default=timezone.now, db_index=True, editable=False, verbose_name=_("at")
    )
    action = models.CharField(
        max_length=100, db_index=True, editable=False, verbose_name=_("action")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(
        max_length=150, blank=True, editable=False, verbose_name=_("actor username")
    )
    client_address = models.GenericIPAddressField(
        null=True, blank=True, editable=False, verbose_name=_("client address")
    )
    user_agent = models.CharField(
        max_length=300, blank=True, editable=False, verbose_name=_("user agent")
    )
    #: ``app_label.model`` of what was acted on (text, so the trail outlives the type).
    target_type = models.CharField(
        max_length=100, blank=True, db_index=True, editable=False, verbose_name=_("target type")
    )
    target_id = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("target id")
    )
    target_repr = models.CharField(
        max_length=200, blank=True, editable=False, verbose_name=_("target repr")
    )
    before = models.JSONField(null=True, blank=True, editable=False, verbose_name=_("before"))
    after = models.JSONField(null=True, blank=True, editable=False, verbose_name=_("after"))
    details = models.JSONField(default=dict, blank=True, editable=False, verbose_name=_("details"))
    personal_digest = models.CharField(
        max_length=64, editable=False, verbose_name=_("personal digest")
    )
    prev_hash = models.CharField(max_length=64, editable=False, verbose_name=_("prev hash"))
    hash = models.CharField(max_length=64, editable=False, verbose_name=_("hash"))
    #: Set when a privacy erasure pseudonymised the personal part.
    rewritten_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("rewritten at")
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        # Reading is the only right there is to grant (no add, change or delete exists).
        default_permissions = ("view",)
        indexes = [models.Index(fields=["actor_username", "at"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return gettext("#%(sequence)s %(action)s by %(actor)s") % {
            "sequence": self.sequence,
            "action": self.action,
            "actor": self.actor_username or gettext("the platform"),
        }

    # -- append-only ---------------------------------------------------------------------
    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditError("Audit events are never deleted.")

    # -- the chain -----------------------------------------------------------------------
    def personal_part(self) -> dict:
        return {name: getattr(self, name) for name in PERSONAL_FIELDS}

    def compute_personal_digest(self) -> str:
        return digest(self.personal_part())

    def compute_hash(self) -> str:
        at = self.at.astimezone(datetime.UTC) if timezone.is_aware(self.at) else self.at
        return digest(
            {
                "sequence": self.sequence,
                "at": at.isoformat(timespec="microseconds"),
                "action": self.action,
                "target_type": self.target_type,
                "target_id": self.target_id,
                "personal_digest": self.personal_digest,
                "prev_hash": self.prev_hash,
            }
        )
