"""The knowledge API: articles (staff write and move them through review; end users read
the published version of what they may see and say whether it helped) and categories."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.viewsets import IF_MATCH, RecordViewSet
from practices.knowledge import services
from practices.knowledge.filters import (
    ORDERING_FIELDS,
    READER_ORDERING_FIELDS,
    ArticleFilterSet,
    ReaderArticleFilterSet,
)
from practices.knowledge.models import Article, KnowledgeCategory

from .serializers import (
    ArticleSerializer,
    ArticleVersionSerializer,
    FeedbackSerializer,
    KnowledgeCategorySerializer,
    TransitionSerializer,
)

#: What an end user may do: read what they may see, download its public files, rate it.
READER_ACTIONS = frozenset({"list", "retrieve", "feedback", "attachments"})


def _transition_schema(summary: str):
    return extend_schema(
        summary=summary,
        request=TransitionSerializer,
        responses=ArticleSerializer,
        parameters=[IF_MATCH],
    )


@extend_schema_view(
    list=extend_schema(summary="List articles you may read"),
    create=extend_schema(summary="Write an article (a draft)"),
    retrieve=extend_schema(summary="Read an article"),
    partial_update=extend_schema(
        summary="Change an article's fields or state (state: draft revises a published one)"
    ),
)
class ArticleViewSet(RecordViewSet):
    queryset = Article.objects.select_related("owner", "published_by")
    serializer_class = ArticleSerializer
    ordering = ["-created_at"]
    lookup_value_regex = r"KB\d{7,}"
    record_services = services

    def _is_reader(self) -> bool:
        if getattr(self, "swagger_fake_view", False):
            return False  # the schema documents what staff may do
        user = getattr(getattr(self, "request", None), "user", None)
        return user is None or not user.is_agent

    @property
    def ordering_fields(self):
        """Readers sort only by what a revision in progress cannot change: the keyset
        cursor carries the last row's sort values."""
        return READER_ORDERING_FIELDS if self._is_reader() else ORDERING_FIELDS

    @property
    def filterset_class(self):
        """Readers filter only on published, public facts (never state, owner or team)."""
        return ReaderArticleFilterSet if self._is_reader() else ArticleFilterSet

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.is_agent and self.action not in READER_ACTIONS:
            raise PermissionDenied
        if not request.user.is_agent and self.action == "attachments" and request.method != "GET":
            raise PermissionDenied

    def _transition(self, request, operation):
        article = self.get_object()
        expected = self.expected_version(article)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = operation(
            article, request.user, expected, serializer.validated_data.get("note", "")
        )
        fresh = self.get_queryset().get(pk=article.pk)
        self._etag_record = fresh
        return Response(self.get_serializer(fresh).data)

    @_transition_schema("Submit a draft for review")
    @action(detail=True, methods=["post"])
    def submit(self, request, number=None):
        return self._transition(request, services.submit)

    @_transition_schema("Publish an article in review (reviewers)")
    @action(detail=True, methods=["post"])
    def publish(self, request, number=None):
        return self._transition(request, services.publish)

    @_transition_schema("Send an article in review back to draft (reviewers)")
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, number=None):
        return self._transition(request, services.send_back)

    @_transition_schema("Revise a published article: a new draft; readers keep the published")
    @action(detail=True, methods=["post"])
    def revise(self, request, number=None):
        return self._transition(request, services.revise)

    @_transition_schema("Retire an article (reviewers)")
    @action(detail=True, methods=["post"])
    def retire(self, request, number=None):
        return self._transition(request, services.retire)

    @extend_schema(summary="Every published version", responses=ArticleVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, number=None):
        article = self.get_object()
        versions = article.versions.select_related("published_by").order_by("number")
        return Response(ArticleVersionSerializer(versions, many=True).data)

    @extend_schema(summary="One published version", responses=ArticleVersionSerializer)
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<version_number>\d+)",
        pagination_class=None,
        filter_backends=[],
    )
    def version(self, request, number=None, version_number=None):
        article = self.get_object()
        version = (
            article.versions.select_related("published_by")
            .filter(number=int(version_number))
            .first()
        )
        if version is None:
            raise Http404
        return Response(ArticleVersionSerializer(version).data)

    @extend_schema(
        summary="Say whether the article helped (again: changes your answer)",
        request=FeedbackSerializer,
        responses={201: FeedbackSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def feedback(self, request, number=None):
        article = self.get_object()
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback = services.give_feedback(
            article,
            request.user,
            serializer.validated_data["helpful"],
            serializer.validated_data.get("comment", ""),
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class KnowledgeCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Knowledge categories (managed by administrators in the admin screens). End users see
    the active ones."""

    queryset = KnowledgeCategory.objects.all()
    serializer_class = KnowledgeCategorySerializer
    filterset_fields = ["active"]
    ordering_fields = ["order", "name", "id"]
    ordering = ["order", "name", "id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.user.is_agent:
            queryset = queryset.filter(active=True)
        return queryset
