from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.accounts.models import Team
from itsm.api.serializers import AllowedStatesField, ModelSerializer, Serializer, UsernameField
from practices.knowledge import services
from practices.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    Audience,
    KnowledgeCategory,
)
from practices.knowledge.rendering import render_markdown


class KnowledgeCategorySerializer(ModelSerializer):
    class Meta:
        model = KnowledgeCategory
        fields = ["id", "name", "description", "order", "active"]


class PublishedSerializer(Serializer):
    """The version readers see."""

    version = serializers.IntegerField(source="published_number")
    title = serializers.CharField(source="published_title")
    summary = serializers.CharField(source="published_summary")
    keywords = serializers.CharField(source="published_keywords")
    body = serializers.CharField(source="published_body")
    published_at = serializers.DateTimeField()
    published_by = serializers.CharField(source="published_by.username", default=None)


#: What an end user's copy of an article holds (the published version's text only).
READER_FIELDS = (
    "number",
    "title",
    "summary",
    "keywords",
    "body",
    "body_html",
    "state",
    "audience",
    "category",
    "published",
    "created_at",
)


class ArticleSerializer(ModelSerializer):
    """Staff read and write the working copy (``title``, ``summary``, ``keywords``,
    ``body``) and see the published version under ``published``. End users get only the
    fields of ``READER_FIELDS``, with the published version's text in them."""

    owner = UsernameField(required=False, help_text=_("Username; you, if left out."))
    category = serializers.PrimaryKeyRelatedField(
        queryset=KnowledgeCategory.objects.filter(active=True), required=False, allow_null=True
    )
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The reviewing team (its members review and publish)."),
    )
    audience = serializers.ChoiceField(choices=Audience.choices, required=False)
    created_from = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_("On creation: the incident or problem number it is written from (linked)."),
    )
    body_html = serializers.SerializerMethodField(help_text=_("The body, rendered and sanitised."))
    allowed_states = AllowedStatesField(help_text=_("The states you may move this article to now."))
    published = serializers.SerializerMethodField(
        help_text=_("The version readers see (null until first published).")
    )

    class Meta:
        model = Article
        fields = [
            "number",
            "title",
            "summary",
            "keywords",
            "body",
            "body_html",
            "state",
            "allowed_states",
            "audience",
            "category",
            "owner",
            "assignment_group",
            "review_date",
            "created_from",
            "published",
            "views",
            "helpful_yes",
            "helpful_no",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "views",
            "helpful_yes",
            "helpful_no",
            "created_at",
            "updated_at",
            "version",
        ]

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    def _reader(self) -> bool:
        user = self._user()
        return user is None or not user.is_agent

    def get_body_html(self, article) -> str:
        return str(render_markdown(article.published_body if self._reader() else article.body))

    @extend_schema_field(PublishedSerializer(allow_null=True))
    def get_published(self, article):
        if not article.published_number:
            return None
        return PublishedSerializer(article).data

    def to_representation(self, article):
        data = super().to_representation(article)
        if not self._reader():
            return data
        reader = {name: data.get(name) for name in READER_FIELDS}
        reader.update(
            title=article.published_title,
            summary=article.published_summary,
            keywords=article.published_keywords,
            body=article.published_body,
            state="published",
        )
        return reader

    def validate(self, attrs):
        errors = {}
        if "number" in self.initial_data:
            errors["number"] = gettext("The number is given by the platform.")
        if self.instance is None and "state" in self.initial_data:
            errors["state"] = gettext("A new article starts as a draft.")
        if self.instance is not None and "created_from" in self.initial_data:
            errors["created_from"] = gettext("Set when the article is written.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        created_from = validated_data.pop("created_from", "")
        return services.create_article(
            self.context["request"].user, validated_data, created_from=created_from
        )

    def update(self, instance, validated_data):
        expected_version = validated_data.pop("expected_version", None)
        return services.update_article(
            instance, self.context["request"].user, validated_data, expected_version
        )


class ArticleVersionSerializer(ModelSerializer):
    published_by = serializers.CharField(source="published_by.username", default=None)

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "summary", "keywords", "body", "published_at", "published_by"]
        read_only_fields = fields


class TransitionSerializer(Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_COMMENT, help_text=_("Why.")
    )


class FeedbackSerializer(ModelSerializer):
    helpful = serializers.BooleanField(help_text=_("Was this article helpful?"))
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_COMMENT
    )

    class Meta:
        model = ArticleFeedback
        fields = ["helpful", "comment", "version", "created_at", "updated_at"]
        read_only_fields = ["version", "created_at", "updated_at"]
