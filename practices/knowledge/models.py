"""Knowledge management: articles (kernel records, so they have a journal, attachments and
links to incidents and problems), their published versions, readers' feedback and
deflections (an issue not reported because an article answered it)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.models import AbstractDeflection, Record, RecordQuerySet

from .workflows import ArticleState, article_workflow


class Audience(models.TextChoices):
    PORTAL = "portal", _("Employees and staff")
    INTERNAL = "internal", _("Staff only")


class KnowledgeCategory(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    description = models.CharField(max_length=300, blank=True, verbose_name=_("description"))
    order = models.PositiveSmallIntegerField(default=100, verbose_name=_("order"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")

    def __str__(self):
        return self.name


class ArticleQuerySet(RecordQuerySet):
    def visible_to(self, user):
        """The one place that decides who reads which article. Staff see every article
        (drafts and internal ones too); end users see articles that have a published
        version, for the portal audience, not retired, and only that version's text (the
        ``published_*`` columns)."""
        return super().visible_to(user)

    def for_end_user(self, user):
        return self.for_portal()

    def readable(self):
        """Articles with a published version that has not been retired."""
        return self.filter(published_number__isnull=False).exclude(state=ArticleState.RETIRED)

    def for_portal(self):
        return self.readable().filter(audience=Audience.PORTAL)


class Article(Record):
    NUMBER_PREFIX = "KB"
    REQUESTER_FIELD = "owner"
    workflow = article_workflow
    LINK_FIELDS = ("pk", "number", "title", "state", "published_title")

    def title_for(self, user) -> str:
        """Readers see the published title, never a revision's."""
        return self.title if user.is_agent else self.published_title

    def state_for(self, user) -> str:
        return self.state if user.is_agent else ArticleState.PUBLISHED

    def attachments_readable_by(self, attachments, user):
        """Readers get the public files of the published version: while a revision is in
        progress, none attached since it began."""
        if user.is_agent:
            return attachments
        if self.published_at is None:
            return attachments.none()
        public = attachments.filter(internal=False)
        if self.state == ArticleState.PUBLISHED:
            return public
        return public.filter(created_at__lt=self.revision_started_at or self.published_at)

    state = models.CharField(
        max_length=30,
        choices=ArticleState.choices,
        default=ArticleState.DRAFT,
        db_index=True,
        verbose_name=_("state"),
    )
    # The working copy (what editors change; readers never see it until it is published).
    summary = models.CharField(max_length=300, blank=True, verbose_name=_("summary"))
    body = models.TextField(blank=True, help_text=_("Markdown."), verbose_name=_("body"))
    keywords = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Words people search for."),
        verbose_name=_("keywords"),
    )
    # Metadata, changed in place.
    audience = models.CharField(
        max_length=10, choices=Audience.choices, default=Audience.PORTAL, verbose_name=_("audience")
    )
    category = models.ForeignKey(
        KnowledgeCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        verbose_name=_("category"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="knowledge_articles",
        verbose_name=_("owner"),
    )
    review_date = models.DateField(null=True, blank=True, verbose_name=_("review date"))
    created_from = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("The record number it was written from."),
        verbose_name=_("created from"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("submitted by"),
    )
    # What readers see: the last published version (copied here so that search indexes it
    # and never the working copy).
    published_number = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name=_("published number")
    )
    published_title = models.CharField(
        max_length=200, blank=True, editable=False, verbose_name=_("published title")
    )
    published_summary = models.CharField(
        max_length=300, blank=True, editable=False, verbose_name=_("published summary")
    )
    published_keywords = models.CharField(
        max_length=255, blank=True, editable=False, verbose_name=_("published keywords")
    )
    published_body = models.TextField(blank=True, editable=False, verbose_name=_("published body"))
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("published at")
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("published by"),
    )
    retired_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("retired at")
    )
    #: When the revision in progress began (files added since wait for its publication).
    revision_started_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("revision started at")
    )
    #: The review date the owner was last reminded of (one reminder per date).
    review_reminded_for = models.DateField(
        null=True, blank=True, editable=False, verbose_name=_("review reminded for")
    )
    views = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("views"))
    helpful_yes = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("helpful yes")
    )
    helpful_no = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("helpful no")
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-created_at", "-id"], name="kb_state"),
            models.Index(fields=["audience", "state"], name="kb_audience"),
            models.Index(fields=["category", "-views"], name="kb_category_views"),
            models.Index(fields=["review_date"], name="kb_review_date"),
            models.Index(fields=["-created_at", "-id"], name="kb_created"),
        ]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    @property
    def is_published(self) -> bool:
        """Readers have a version to read (the article may be under revision)."""
        return self.published_number is not None and self.state != ArticleState.RETIRED

    @property
    def has_unpublished_changes(self) -> bool:
        return self.state in (ArticleState.DRAFT, ArticleState.IN_REVIEW) and bool(
            self.published_number
        )

    @property
    def helpfulness(self) -> int | None:
        votes = self.helpful_yes + self.helpful_no
        return round(100 * self.helpful_yes / votes) if votes else None

    def review_due(self, today=None) -> bool:
        from .services import REVIEW_NOTICE

        today = today or timezone.localdate()
        return bool(self.review_date and self.review_date <= today + REVIEW_NOTICE)


class ArticleVersion(models.Model):
    """One publication of an article, kept for ever: number 1, 2…"""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="versions", verbose_name=_("article")
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    summary = models.CharField(max_length=300, blank=True, verbose_name=_("summary"))
    keywords = models.CharField(max_length=255, blank=True, verbose_name=_("keywords"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    published_at = models.DateTimeField(default=timezone.now, verbose_name=_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="unique_article_version")
        ]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")

    def __str__(self):
        return f"{self.article.number} v{self.number}"


class ArticleFeedback(models.Model):
    """A reader's "was this helpful?": one per reader and article (answering again changes
    it)."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("article")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    helpful = models.BooleanField(verbose_name=_("helpful"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    version = models.PositiveIntegerField(
        null=True, help_text=_("The version that was read."), verbose_name=_("version")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="unique_article_feedback")
        ]
        verbose_name_plural = _("article feedback")
        verbose_name = _("article feedback")

    def __str__(self):
        return f"{self.article.number}: {'yes' if self.helpful else 'no'} by {self.user}"


class Deflection(AbstractDeflection):
    """Someone about to report an issue read an article and did not need to report it."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="deflections", verbose_name=_("article")
    )

    class Meta(AbstractDeflection.Meta):
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")

    def __str__(self):
        return f"{self.article.number} deflected “{self.query}”"
