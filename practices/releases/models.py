"""Release management: releases (``RLS``) make new and changed services and features
available: a version, the CIs and software they change, the changes they carry, release
notes (Markdown, shown sanitised), planned and actual dates. Their deployments to each
environment are deployment management's (``practices.deployments``)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from itsm.core.models import Record, RecordQuerySet

from .workflows import OPEN, ReleaseState, release_workflow


class ReleaseType(models.TextChoices):
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")
    EMERGENCY = "emergency", _("Emergency")


class ReleaseQuerySet(RecordQuerySet):
    """Releases are staff work (nobody's request: the kernel's rule)."""

    def open(self):
        return self.filter(state__in=OPEN)


class Release(Record):
    NUMBER_PREFIX = "RLS"
    DETAIL_URL_NAME = "releases:detail"
    REQUESTER_FIELD = None
    workflow = release_workflow

    state = models.CharField(
        max_length=20,
        choices=ReleaseState.choices,
        default=ReleaseState.PLANNING,
        db_index=True,
        verbose_name=_("state"),
    )
    #: The release's version ("2.4.0"); ``version`` is the row's edit counter (ETags).
    release_version = models.CharField(_("version"), max_length=100, blank=True, db_index=True)
    release_type = models.CharField(
        max_length=10,
        choices=ReleaseType.choices,
        default=ReleaseType.MINOR,
        verbose_name=_("release type"),
    )
    release_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases_managed",
        verbose_name=_("release manager"),
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="releases",
        help_text=_("The CIs and software the release changes."),
        verbose_name=_("configuration items"),
    )
    changes = models.ManyToManyField(
        "changes.Change",
        blank=True,
        related_name="releases",
        help_text=_("The changes the release carries."),
        verbose_name=_("changes"),
    )
    release_notes = models.TextField(
        blank=True, help_text=_("Markdown; shown sanitised."), verbose_name=_("release notes")
    )
    planned_start = models.DateTimeField(null=True, blank=True, verbose_name=_("planned start"))
    planned_end = models.DateTimeField(null=True, blank=True, verbose_name=_("planned end"))
    actual_start = models.DateTimeField(null=True, blank=True, verbose_name=_("actual start"))
    actual_end = models.DateTimeField(null=True, blank=True, verbose_name=_("actual end"))
    closure_notes = models.TextField(blank=True, verbose_name=_("closure notes"))
    closed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("closed at")
    )

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="rls_created"),
            models.Index(fields=["state", "-created_at", "-id"], name="rls_state"),
        ]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN
