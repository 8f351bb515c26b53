"""Privacy: legal holds, retention rules per record type, and the erasures done.

A person's data is erased (pseudonymised) and exported by ``itsm.privacy.services``;
closed records are pseudonymised or removed by the retention rules below, except what a
legal hold keeps."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from itsm.accounts.models import User


class LegalHoldQuerySet(models.QuerySet):
    def active(self):
        return self.filter(released_at__isnull=True)

    def on_person(self, user):
        return self.active().filter(person=user)

    def on_record(self, record):
        ct = ContentType.objects.get_for_model(record)
        return self.active().filter(content_type=ct, object_id=record.pk)


class LegalHold(models.Model):
    """Data kept as it is for a legal reason (litigation, an investigation): a record, or
    everything about a person. Neither retention nor erasure touches what a hold keeps
    while it is in force (until it is released)."""

    content_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("record type"),
    )
    object_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("person"),
    )
    reason = models.TextField(
        help_text=_("Why the data is kept (a case reference)."), verbose_name=_("reason")
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("placed by"),
    )
    placed_at = models.DateTimeField(default=timezone.now, verbose_name=_("placed at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("released by"),
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="hold_record"),
        ]
        constraints = [
            models.CheckConstraint(
                name="hold_on_record_or_person",
                condition=(
                    models.Q(
                        person__isnull=True, content_type__isnull=False, object_id__isnull=False
                    )
                    | models.Q(
                        person__isnull=False, content_type__isnull=True, object_id__isnull=True
                    )
                ),
            )
        ]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self):
        what = (
            gettext("person #%(id)s") % {"id": self.person_id}
            if self.person_id
            else self.record_label
        )
        if self.released_at:
            return gettext("Legal hold on %(what)s (released)") % {"what": what}
        return gettext("Legal hold on %(what)s (in force)") % {"what": what}

    @property
    def record_label(self) -> str:
        record = self.record if self.content_type_id else None
        return getattr(record, "number", None) or f"{self.content_type} #{self.object_id}"

    @property
    def in_force(self) -> bool:
        return self.released_at is None

    def clean(self):
        if bool(self.person_id) == bool(self.content_type_id):
            raise ValidationError(_("A hold is on one record or on one person (not both)."))
        if self.content_type_id:
            if self.object_id is None:
                raise ValidationError({"object_id": _("Which record is held.")})
            model = self.content_type.model_class()
            if model is None or not model._default_manager.filter(pk=self.object_id).exists():
                raise ValidationError({"object_id": _("No such record.")})


class RetentionRule(models.Model):
    """Closed records of one type older than a number of years are pseudonymised (the
    people they name are replaced by a pseudonym) or removed with their timeline and
    files. ``manage.py apply_retention`` and a nightly task apply the active rules."""

    class Action(models.TextChoices):
        PSEUDONYMISE = "pseudonymise", _("Pseudonymise the people named")
        REMOVE = "remove", _("Remove the record")

    record_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("record type")
    )
    closed_for_years = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Records closed for more than this many years."),
        verbose_name=_("closed for years"),
    )
    action = models.CharField(max_length=15, choices=Action.choices, verbose_name=_("action"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    description = models.TextField(
        blank=True, help_text=_("Why (the policy it follows)."), verbose_name=_("description")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["record_type__app_label", "record_type__model", "closed_for_years"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "action"], name="one_retention_rule_per_type_and_action"
            )
        ]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")

    def __str__(self):
        return ngettext(
            "%(type)s: %(action)s after %(years)s year closed",
            "%(type)s: %(action)s after %(years)s years closed",
            self.closed_for_years,
        ) % {
            "type": self.record_type.name if self.record_type_id else "?",
            "action": self.get_action_display().lower(),
            "years": self.closed_for_years,
        }

    def clean(self):
        from .retention import closed_field, record_types

        if self.record_type_id:
            model = self.record_type.model_class()
            if model not in record_types():
                raise ValidationError({"record_type": _("Not a record type.")})
            if closed_field(model) is None:
                raise ValidationError(
                    {"record_type": _("This record type has no time it was closed.")}
                )


class Erasure(models.Model):
    """A person's data erased (pseudonymised): who, when, by whom. Only the pseudonymous
    account is named, never what was erased."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="erasure",
        verbose_name=_("person"),
    )
    erased_at = models.DateTimeField(default=timezone.now, verbose_name=_("erased at"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("erased by"),
    )
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))
    #: how many rows were rewritten, by model label
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self):
        return gettext("Erasure of %(person)s at %(at)s") % {
            "person": self.person,
            "at": f"{self.erased_at:%Y-%m-%d %H:%M}",
        }


class Person(User):
    """The people, as the privacy screens of the admin list them (export, erase)."""

    class Meta:
        proxy = True
        verbose_name = _("person's data")
        verbose_name_plural = _("people's data")
